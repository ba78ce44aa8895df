"""CAD red-line drawings (红线图, DXF) → polygons.

Survey institutes deliver red lines as AutoCAD drawings: each parcel is a
polyline (or a chain of LINEs) on a layer such as ``红线`` or ``宗地``.  This
module reads such a drawing with GDAL (through pyogrio) and turns the outlines
on the chosen layers into valid polygons.

Three things about real drawings shape the code:

* **Text encoding.**  DXF files from AutoCAD 2007 on are UTF-8 whatever the
  header's ``$DWGCODEPAGE`` says, and GDAL trusts the header: a UTF-8 drawing
  whose header says ``ANSI_949`` (Korean) or ``ANSI_936`` (GBK) comes out as
  mojibake.  The bytes decide here: a file that is valid UTF-8 is read as UTF-8
  (GDAL's ``DXF_ENCODING`` configuration option, restored afterwards); any other
  file is read in the header's code page (GB18030 when there is none); an
  explicit ``encoding=`` wins.  ``\\U+XXXX`` and ``\\M+nXXXX`` escapes in layer
  names are decoded too.
* **Outlines are rarely flagged closed.**  A polyline whose ends lie within
  ``snap`` of each other is closed; LINEs and open polylines whose ends meet
  within ``snap`` are chained into rings.
* **No CRS, no units.**  A DXF carries no coordinate reference system and
  ``$INSUNITS`` is unreliable, so the caller names the CRS and the coordinates
  are taken as that CRS's units (metres for every Chinese survey CRS).
"""

from __future__ import annotations

import codecs
import math
import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.ops import substring

from landgis.crs import parse_crs
from landgis.errors import (
    CRSError,
    GeometryError,
    InputFileError,
    LandgisWarning,
    SchemaError,
)
from landgis.io.report import REPAIRS, ReadReport
from landgis.io.text import choose_encoding

__all__ = ["dxf_layers", "read_dxf_polygons"]

#: Entity types whose lines can make up an outline.
POLYLINE_TYPES = ("LWPOLYLINE", "POLYLINE")
CHAIN_TYPES = (*POLYLINE_TYPES, "LINE", "ARC")

# GDAL reports an entity's type only through its AutoCAD subclass markers
# (``SubClasses``, e.g. "AcDbEntity:AcDbPolyline"); the last one known names it.
_SUBCLASS_TYPES = {
    "AcDbPolyline": "LWPOLYLINE",
    "AcDb2dPolyline": "POLYLINE",
    "AcDb3dPolyline": "POLYLINE",
    "AcDbPolyFaceMesh": "POLYLINE",
    "AcDbPolygonMesh": "POLYLINE",
    "AcDbLine": "LINE",
    "AcDbArc": "ARC",
    "AcDbCircle": "CIRCLE",
    "AcDbEllipse": "ELLIPSE",
    "AcDbSpline": "SPLINE",
    "AcDbText": "TEXT",
    "AcDbMText": "MTEXT",
    "AcDbAttribute": "ATTRIB",
    "AcDbBlockReference": "INSERT",
    "AcDbPoint": "POINT",
    "AcDbHatch": "HATCH",
    "AcDbTrace": "SOLID",
    "AcDbFace": "3DFACE",
    "AcDbDimension": "DIMENSION",
    "AcDbLeader": "LEADER",
    "AcDbMLeader": "MULTILEADER",
    "AcDbRay": "RAY",
    "AcDbXline": "XLINE",
}

_INSUNITS = {
    0: "unitless",
    1: "inches",
    2: "feet",
    3: "miles",
    4: "millimetres",
    5: "centimetres",
    6: "metres",
    7: "kilometres",
    8: "microinches",
    9: "mils",
    10: "yards",
    14: "decimetres",
}

# \M+nXXXX: a double-byte character of code page n (AutoCAD R12–R2004 drawings).
_MBCS_CODEPAGES = {"1": "cp932", "2": "cp950", "3": "cp949", "4": "johab", "5": "gbk"}
_ESCAPE = re.compile(r"\\U\+([0-9A-Fa-f]{4})|\\M\+([1-5])([0-9A-Fa-f]{4})")

# Tolerance (CRS units) for "this chained line lies on that ring": chained lines
# keep their coordinates except for snapped end points.
_ON_RING = 1e-6


# ----------------------------------------------------------------------------- API


def read_dxf_polygons(
    path: str | Path,
    *,
    crs: Any,
    layers: str | Iterable[str] | None = None,
    snap: float = 0.01,
    encoding: str | None = None,
    min_area: float = 0.0,
) -> gpd.GeoDataFrame:
    """Read the closed outlines of a CAD drawing (DXF) as polygons.

    Polylines (LWPOLYLINE, POLYLINE) and chains of LINE, ARC and open-polyline
    pieces on the chosen layers become polygons:

    * a polyline whose two ends lie within ``snap`` of each other is closed
      (its last vertex is replaced by its first when they differ);
    * LINEs, ARCs and the remaining open polylines whose ends meet within
      ``snap`` are snapped end to end and joined into rings; a line that ends
      on another one (a T-junction, within ``snap``) splits it there, so
      neighbouring parcels drawn with shared LINEs both close; lines that
      merely cross are not split;
    * on one layer, a ring inside another ring is a hole in it (a ring inside a
      hole is a new polygon, and so on); identical rings count once;
    * every polygon is valid (``make_valid(method="structure")`` where needed,
      counted in the report).

    CIRCLEs, HATCHes, TEXT and block references (INSERT) are not outlines and
    are ignored, as are paper-space entities.

    Parameters
    ----------
    path
        The ``.dxf`` file (ASCII or binary DXF; DWG must be exported to DXF first).
    crs
        The coordinate reference system the drawing was made in, e.g. ``4528``
        (CGCS2000 3° Gauss-Krüger zone 40 with zone prefix) or ``"EPSG:4549"``.
        Required: a DXF carries no CRS.  It must be projected; the coordinates
        are taken as its units (metres for Gauss-Krüger, UTM …).
    layers
        The layer name(s) to read (AutoCAD's case-insensitive matching applies
        when no name matches exactly).  Default: every layer on which at least
        one closed outline forms.  :func:`dxf_layers` lists the layers.
    snap
        Largest gap in metres between two ends that still counts as closed
        or joined.  ``0`` joins only ends that coincide exactly.
    encoding
        Text encoding of layer names and texts (``"utf-8"``, ``"gbk"``,
        ``"cp949"``, ``"ANSI_936"`` …).  Default: detected (see the module notes).
    min_area
        Polygons smaller than this (m²) are dropped (and counted).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per polygon, in drawing order, with columns

        ``layer``
            the DXF layer name;
        ``entity``
            the handle(s) of the entities that form the outline and its holes,
            comma-separated (the entity type when the drawing has no handles);
        ``entity_type``
            their types, e.g. ``"LWPOLYLINE"`` or ``"LINE"``;
        ``closed_by_snap``
            ``True`` when an outline was closed or joined across a gap
            (0 < gap ≤ ``snap``); ends that coincide exactly are not a snap;
        ``area_m2``
            planar area in the CRS, in m²;
        ``geometry``
            a valid Polygon or MultiPolygon in ``crs``.

        ``attrs["landgis"]`` reports the encoding used, the layers read, and
        the counts of repaired, duplicate and dropped outlines.

    Raises
    ------
    InputFileError
        The file is missing, is not a DXF, or GDAL cannot read it.
    CRSError
        ``crs`` is missing, unknown or geographic, or the coordinates are
        obviously not in it (degrees in a projected CRS).
    SchemaError
        A requested layer does not exist (the message lists those that do), or
        ``snap``, ``min_area`` or ``encoding`` is not a usable value.
    GeometryError
        No closed outline was found on the layers looked at.

    Warns
    -----
    LandgisWarning
        ``$INSUNITS`` names a unit other than metres (it is ignored), polygons
        were repaired or duplicates dropped, characters could not be decoded,
        or the coordinates lie far outside the area of use of ``crs``.

    Notes
    -----
    The header's ``$INSUNITS`` is never applied: coordinates are taken as
    they are, in the units of ``crs``.  GDAL's ``DXF_ENCODING`` configuration
    option is set process-wide while the file is read and restored afterwards,
    so do not read DXF files from several threads at once.

    Examples
    --------
    A drawing from the survey institute, in CGCS2000 zone 40, red lines on the
    layer 红线::

        parcels = read_dxf_polygons("红线图.dxf", crs=4528, layers=["红线"])
        parcels[["layer", "entity", "area_m2"]]
    """
    path = _check_path(path)
    crs_obj, factor = _check_crs(crs, path)
    snap = _check_number(snap, "snap", "metres")
    min_area = _check_number(min_area, "min_area", "m²")
    wanted = _layer_list(layers)
    drawing = _Drawing.read(path, encoding)
    # The encoding is the drawing's own note (which code page and why), not a codec name.
    report = ReadReport(
        source=str(path),
        facts={"encoding": drawing.encoding_note, "snap": snap, "crs": crs_obj.to_string()},
    )
    _warn_units(drawing, path, crs_obj, report)

    present = drawing.layer_names()
    if wanted is None:
        looked_at = present
    else:
        looked_at = [_match_layer(name, present, path) for name in wanted]
    rows, counts = _outlines(drawing, looked_at, snap / factor)

    if wanted is not None:
        empty = [name for name in looked_at if not any(r["layer"] == name for r in rows)]
        if empty and len(empty) < len(looked_at):
            _warn(report, f"{path.name}: no closed outline on layer(s) {_names(empty)}", 3)
    if not rows:
        raise GeometryError(
            f"{path}: no closed polyline or closed chain of lines found on "
            f"{'the layers' if wanted is None else 'layer(s)'} {_names(looked_at) or '(none)'} "
            f"with snap={snap:g} m (ends farther apart than snap are not joined). "
            "Check the layer names with landgis.io.dxf.dxf_layers(), or raise snap=."
        )

    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs_obj)
    gdf["area_m2"] = gdf.geometry.area * factor**2
    small = gdf["area_m2"] < min_area
    if small.any():
        counts["dropped_small"] = int(small.sum())
        gdf = gdf.loc[~small].reset_index(drop=True)
        if gdf.empty:
            raise GeometryError(
                f"{path}: all {int(small.sum())} outlines found on {_names(looked_at)} are "
                f"smaller than min_area={min_area:g} m²."
            )
    gdf = gdf[["layer", "entity", "entity_type", "closed_by_snap", "area_m2", "geometry"]]
    _check_coordinates(gdf, crs_obj, path, report)

    if counts.get("repaired"):
        _warn(
            report,
            f"{path.name}: {counts['repaired']} self-intersecting outline(s) repaired "
            "with make_valid(method='structure')",
            3,
        )
    if counts.get("duplicates"):
        _warn(
            report,
            f"{path.name}: {counts['duplicates']} outline(s) drawn twice on the same layer "
            "were read once",
            3,
        )
    for key, n in counts.items():
        if key in REPAIRS:
            report.count(key, n)
        else:
            report[key] = n
    report["layers"] = list(dict.fromkeys(gdf["layer"]))
    report.rows = len(gdf)
    gdf.attrs["landgis"] = report
    return gdf


def dxf_layers(
    path: str | Path, *, encoding: str | None = None, snap: float = 0.01
) -> pd.DataFrame:
    """List the layers of a DXF drawing, to choose the red-line layer(s).

    Parameters
    ----------
    path
        The ``.dxf`` file.
    encoding
        Text encoding of names and texts; default detected as in
        :func:`read_dxf_polygons`.
    snap
        Gap (metres, drawing units) below which a polyline counts as nearly
        closed and ends are joined, as in :func:`read_dxf_polygons`.

    Returns
    -------
    pandas.DataFrame
        One row per layer that holds model-space entities, in drawing order:

        ``layer``
            the layer name;
        ``entities``
            the number of entities;
        ``LWPOLYLINE``, ``POLYLINE``, ``LINE`` and one column per other type found
            entity counts by type;
        ``closed``
            polylines of three or more corners whose ends coincide (flagged
            closed, or drawn back to the start);
        ``nearly_closed``
            polylines whose ends are apart by more than 0 and at most ``snap``;
        ``open``
            the other polylines;
        ``min_gap_m``
            the smallest gap between the two ends of a polyline not exactly closed;
        ``max_points``
            the most points in one polyline as GDAL returns it (a polyline
            flagged closed repeats its first point at the end);
        ``outlines``
            the polygons :func:`read_dxf_polygons` makes of the layer with this
            ``snap`` (closed and nearly closed polylines, closed chains, holes
            counted in their polygon);
        ``sample_text``
            up to three of the layer's TEXT/MTEXT strings.

        ``attrs["landgis"]`` records the encoding used.

    Raises
    ------
    InputFileError
        The file is missing, is not a DXF, or GDAL cannot read it.

    Examples
    --------
    Which layer holds the red lines? ::

        dxf_layers("红线图.dxf")[["layer", "LWPOLYLINE", "closed", "outlines"]]
    """
    path = _check_path(path)
    snap = _check_number(snap, "snap", "metres")
    drawing = _Drawing.read(path, encoding)
    ents = drawing.entities
    names = drawing.layer_names()
    rows, _ = _outlines(drawing, names, snap)
    outlines = pd.Series([r["layer"] for r in rows], dtype=object).value_counts()

    type_counts = pd.crosstab(ents["layer"], ents["type"]) if len(ents) else pd.DataFrame()
    others = [t for t in type_counts.sum().sort_values(ascending=False).index]
    type_columns = ["LWPOLYLINE", "POLYLINE", "LINE"]
    type_columns += [t for t in others if t not in type_columns]

    records = []
    for name in names:
        on_layer = ents[ents["layer"] == name]
        poly = on_layer[on_layer["type"].isin(POLYLINE_TYPES) & on_layer["is_line"]]
        gaps = poly["gap"].to_numpy(dtype=float)
        texts = on_layer["text"].dropna()
        texts = [t for t in dict.fromkeys(texts.astype(str).str.strip()) if t][:3]
        record: dict[str, Any] = {"layer": name, "entities": len(on_layer)}
        for t in type_columns:
            record[t] = int(type_counts.at[name, t]) if t in type_counts.columns else 0
        ring = poly["points"].to_numpy() >= 4  # a 2-point "closed" polyline is no ring
        record["closed"] = int((ring & (gaps == 0)).sum())
        record["nearly_closed"] = int((ring & (gaps > 0) & (gaps <= snap)).sum())
        record["open"] = len(gaps) - record["closed"] - record["nearly_closed"]
        not_closed = gaps[gaps > 0]
        record["min_gap_m"] = float(not_closed.min()) if len(not_closed) else math.nan
        record["max_points"] = int(poly["points"].max()) if len(poly) else 0
        record["outlines"] = int(outlines.get(name, 0))
        record["sample_text"] = " | ".join(texts)
        records.append(record)
    columns = [
        "layer",
        "entities",
        *type_columns,
        "closed",
        "nearly_closed",
        "open",
        "min_gap_m",
        "max_points",
        "outlines",
        "sample_text",
    ]
    table = pd.DataFrame(records, columns=columns)
    table.attrs["landgis"] = ReadReport(
        source=str(path), rows_read=len(table), facts={"encoding": drawing.encoding_note}
    )
    return table


# ------------------------------------------------------------------ reading the file


class _Drawing:
    """The model-space entities of one drawing, decoded, one row per GDAL feature."""

    def __init__(self, entities: pd.DataFrame, header: dict[str, str], encoding_note: str):
        self.entities = entities
        self.header = header
        self.encoding_note = encoding_note

    @classmethod
    def read(cls, path: Path, encoding: str | None) -> _Drawing:
        binary = _sniff_dxf(path)
        header = {} if binary else _read_header(path)
        gdal_encoding, note = _choose_encoding(path, encoding, header, binary)
        with _dxf_encoding(gdal_encoding), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                df = pyogrio.read_dataframe(path)
            except UnicodeDecodeError as exc:
                raise InputFileError(
                    f"{path}: its text cannot be decoded as {note}; pass another encoding= "
                    "(e.g. 'utf-8', 'gbk', 'gb18030')."
                ) from exc
            except Exception as exc:  # pyogrio's DataSourceError, GDAL errors
                raise InputFileError(
                    f"{path}: GDAL cannot read this DXF drawing ({exc}). Open it in CAD "
                    "and save it again as DXF (AutoCAD 2000 or later)."
                ) from exc
        for w in caught:
            if "converted" in str(w.message) or "Recode" in str(w.message):
                warnings.warn(
                    f"{path.name}: some characters could not be decoded as {note}; "
                    "layer names may be garbled — pass encoding= (e.g. 'gbk', 'utf-8').",
                    LandgisWarning,
                    stacklevel=3,
                )
            else:
                warnings.warn(w.message, w.category, stacklevel=3)
        return cls(_entity_frame(df), header, note)

    def layer_names(self) -> list[str]:
        return list(dict.fromkeys(self.entities["layer"]))


def _check_path(path) -> Path:
    if isinstance(path, gpd.GeoDataFrame | pd.DataFrame):
        raise InputFileError("read_dxf_polygons reads a .dxf file; give its path, not a frame.")
    p = Path(path).expanduser()
    if not p.exists():
        raise InputFileError(f"{p}: no such file.")
    if not p.is_file():
        raise InputFileError(f"{p}: is a folder, not a DXF file.")
    return p


def _sniff_dxf(path: Path) -> bool:
    """Raise unless ``path`` looks like a DXF; return True for a binary DXF."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror}).") from exc
    if head.startswith(b"AutoCAD Binary DXF"):
        return True
    if re.match(rb"AC10\d\d", head):
        raise InputFileError(
            f"{path}: is a DWG drawing, not a DXF. Export it to DXF first (AutoCAD: "
            "SAVEAS → DXF; or the free ODA File Converter)."
        )
    lines = head.lstrip(b"\xef\xbb\xbf").splitlines()
    pairs = [(c.strip(), v.strip()) for c, v in zip(lines[0::2], lines[1::2], strict=False)]
    while pairs and pairs[0][0] == b"999":  # comments
        pairs.pop(0)
    if not pairs or pairs[0] != (b"0", b"SECTION"):
        raise InputFileError(
            f"{path}: is not a DXF drawing (a DXF starts with '0 / SECTION'). "
            "Give the .dxf file the survey institute delivered."
        )
    return False


def _read_header(path: Path) -> dict[str, str]:
    """The header variables this module needs ($ACADVER, $DWGCODEPAGE, $INSUNITS)."""
    wanted = {"$ACADVER", "$DWGCODEPAGE", "$INSUNITS"}
    out: dict[str, str] = {}
    with path.open("rb") as f:
        head = f.read(4 << 20)
    end = head.find(b"ENDSEC")
    lines = [ln.strip().decode("latin-1") for ln in head[: end if end > 0 else None].splitlines()]
    for i in range(0, len(lines) - 3, 2):
        if lines[i] == "9" and lines[i + 1] in wanted:
            out[lines[i + 1]] = lines[i + 3]
    return out


def _gdal_encoding_name(encoding: str) -> str:
    """Python or DXF code page name → a name GDAL's recoder (iconv) knows."""
    raw = str(encoding).strip()
    m = re.fullmatch(r"(?i)ansi_(\d+)", raw)
    if m:
        raw = f"cp{m.group(1)}"
    try:
        name = codecs.lookup(raw).name
    except LookupError:
        raise SchemaError(
            f"encoding={encoding!r} is not a text encoding Python knows; use e.g. "
            "'utf-8', 'gbk', 'gb18030', 'cp949' or a DXF code page such as 'ANSI_936'."
        ) from None
    special = {"utf-8-sig": "UTF-8", "iso8859-1": "ISO-8859-1", "latin-1": "ISO-8859-1"}
    return special.get(name, name.upper().replace("_", "-"))


def _choose_encoding(
    path: Path, encoding: str | None, header: dict[str, str], binary: bool
) -> tuple[str | None, str]:
    """(value for GDAL's DXF_ENCODING or None to leave GDAL's choice, a note)."""
    codepage = header.get("$DWGCODEPAGE")
    if encoding is not None:
        name = _gdal_encoding_name(encoding)
        return name, f"{name} (encoding=)"
    if binary:
        return None, "the header's code page (binary DXF)"
    try:
        chosen = choose_encoding([path.read_bytes()], declared=codepage)
    except UnicodeDecodeError:
        return None, f"{codepage or 'GDAL default'} (the text is neither UTF-8 nor GBK)"
    note = f"{chosen.name.upper()} ({chosen.reason})"
    if chosen.reason == "the text is ASCII":
        return None, note
    return _gdal_encoding_name(chosen.name), note


@contextmanager
def _dxf_encoding(value: str | None) -> Iterator[None]:
    """Set GDAL's DXF_ENCODING for the duration of a read, then restore it."""
    if value is None:
        yield
        return
    old = pyogrio.get_gdal_config_option("DXF_ENCODING")
    pyogrio.set_gdal_config_options({"DXF_ENCODING": value})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"DXF_ENCODING": old})


def _unescape(text):
    """Decode AutoCAD's ``\\U+XXXX`` and ``\\M+nXXXX`` escapes."""
    if not isinstance(text, str) or "\\" not in text:
        return text

    def one(m: re.Match) -> str:
        if m.group(1):
            return chr(int(m.group(1), 16))
        try:
            return bytes.fromhex(m.group(3)).decode(_MBCS_CODEPAGES[m.group(2)])
        except (UnicodeDecodeError, LookupError):
            return m.group(0)

    return _ESCAPE.sub(one, text)


def _entity_type(subclasses, geom) -> str:
    if isinstance(subclasses, str) and subclasses:
        tokens = subclasses.split(":")
        for token in reversed(tokens):
            if token in _SUBCLASS_TYPES:
                return _SUBCLASS_TYPES[token]
        return tokens[-1]
    # R12 drawings carry no subclass markers: guess from the geometry.
    if geom is None or geom.is_empty:
        return "UNKNOWN"
    if geom.geom_type == "LineString":
        return "LINE" if shapely.get_num_coordinates(geom) == 2 else "POLYLINE"
    return geom.geom_type.upper()


def _entity_frame(df: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per model-space entity: layer, type, handle, text, 2-D geometry, gap."""
    n = len(df)

    def col(name):
        return df[name] if name in df.columns else pd.Series([None] * n, index=df.index)

    paper = np.array([v is True or v == 1 for v in col("PaperSpace")], dtype=bool)
    geoms = np.asarray(df.geometry.values, dtype=object) if n else np.empty(0, dtype=object)
    geoms = shapely.force_2d(geoms) if n else geoms
    out = pd.DataFrame(
        {
            "layer": [str(_unescape(v)) if isinstance(v, str) else "0" for v in col("Layer")],
            "type": [_entity_type(s, g) for s, g in zip(col("SubClasses"), geoms, strict=True)],
            "handle": [v if isinstance(v, str) and v else None for v in col("EntityHandle")],
            "text": [_unescape(v) for v in col("Text")],
            "geometry": geoms,
        }
    )
    out = out.loc[~paper].reset_index(drop=True)
    geoms = np.asarray(out["geometry"], dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(out) else np.zeros(0, bool)
    is_line = np.zeros(len(out), dtype=bool)
    is_line[ok] = shapely.get_type_id(geoms[ok]) == 1
    out["is_line"] = is_line
    points = np.zeros(len(out), dtype=int)
    gap = np.full(len(out), np.nan)
    if is_line.any():
        lines = geoms[is_line]
        points[is_line] = shapely.get_num_coordinates(lines)
        first = shapely.get_point(lines, 0)
        last = shapely.get_point(lines, -1)
        gap[is_line] = shapely.distance(first, last)
    out["points"] = points
    out["gap"] = gap
    return out


# --------------------------------------------------------------- outlines → polygons


def _outlines(
    drawing: _Drawing, layers: list[str], snap: float
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Polygons of ``layers`` (rows for the output frame) and what was repaired."""
    ents = drawing.entities
    usable = ents[ents["is_line"] & ents["type"].isin(CHAIN_TYPES)]
    counts = {"repaired": 0, "duplicates": 0}
    rows: list[dict[str, Any]] = []
    for layer in layers:
        pieces = usable[usable["layer"] == layer]
        if pieces.empty:
            continue
        shells = _shells(pieces, snap, counts)
        rows.extend(_nest(shells, layer))
    rows.sort(key=lambda r: r.pop("_order"))
    return rows, counts


def _shells(pieces: pd.DataFrame, snap: float, counts: dict[str, int]) -> list[dict[str, Any]]:
    """Closed rings of one layer as polygons (holes not yet assigned)."""
    shells: list[dict[str, Any]] = []
    open_pieces: list[tuple[np.ndarray, int]] = []
    kinds_in = pieces["type"].tolist()
    for order, coords in enumerate(_coordinate_lists(pieces["geometry"].to_numpy())):
        kind = kinds_in[order]
        if len(coords) < 2:
            continue
        gap = float(np.hypot(*(coords[0] - coords[-1])))
        if kind in POLYLINE_TYPES and gap <= snap and len(coords) >= 4:
            ring = coords.copy()
            ring[-1] = ring[0]
            shells.append(_shell(ring, [order], snapped=gap > 0))
        else:
            open_pieces.append((coords, order))
    shells.extend(_chains(open_pieces, snap))

    handles = pieces["handle"].tolist()
    kinds = pieces["type"].tolist()
    out: list[dict[str, Any]] = []
    seen: set[bytes] = set()
    for s in shells:
        geom = s["geometry"]
        if not geom.is_valid:
            geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
            counts["repaired"] += 1
        if geom.is_empty or geom.area <= 0:
            continue
        key = shapely.to_wkb(shapely.normalize(geom))
        if key in seen:
            counts["duplicates"] += 1
            continue
        seen.add(key)
        s["geometry"] = geom
        s["handles"] = [handles[i] or kinds[i] for i in s["members"]]
        s["types"] = [kinds[i] for i in s["members"]]
        s["order"] = int(pieces.index[s["order"]])  # drawing order across layers
        out.append(s)
    return out


def _coordinate_lists(geoms: np.ndarray) -> list[np.ndarray]:
    """Each line's coordinates, without consecutive repeated points."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(coords[1:] != coords[:-1], axis=1) | (index[1:] != index[:-1])
    coords, index = coords[keep], index[keep]
    starts = np.searchsorted(index, np.arange(len(geoms) + 1))
    return [coords[starts[i] : starts[i + 1]] for i in range(len(geoms))]


def _drop_repeats(coords: np.ndarray) -> np.ndarray:
    if len(coords) < 2:
        return coords
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(coords[1:] != coords[:-1], axis=1)
    return coords[keep]


def _linestrings(coords: list[np.ndarray]) -> np.ndarray:
    """Many LineStrings at once (each array of coordinates has two points or more)."""
    if not coords:
        return np.empty(0, dtype=object)
    sizes = [len(c) for c in coords]
    return shapely.linestrings(
        np.concatenate(coords), indices=np.repeat(np.arange(len(coords)), sizes)
    )


def _shell(ring: np.ndarray, members: list[int], *, snapped: bool) -> dict[str, Any]:
    return {
        "geometry": shapely.Polygon(ring),
        "members": members,
        "snapped": snapped,
        "order": min(members),
    }


def _chains(open_pieces: list[tuple[np.ndarray, int]], snap: float) -> list[dict[str, Any]]:
    """Rings formed by open pieces whose ends meet within ``snap``."""
    if not open_pieces:
        return []
    ends = np.array([(c[0], c[-1]) for c, _ in open_pieces]).reshape(-1, 2)
    points = shapely.points(ends)
    tree = shapely.STRtree(points)
    a, b = tree.query(points, predicate="dwithin", distance=snap)
    n = len(ends)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    first = np.full(label.max() + 1, n)
    np.minimum.at(first, label, np.arange(n))
    snapped_ends = ends[first[label]]
    moved = np.any(snapped_ends != ends, axis=1).reshape(-1, 2).any(axis=1)

    snapped_coords: list[tuple[np.ndarray, int]] = []
    for k, (coords, _) in enumerate(open_pieces):
        c = coords.copy()
        c[0], c[-1] = snapped_ends[2 * k], snapped_ends[2 * k + 1]
        c = _drop_repeats(c)
        if len(c) >= 2:
            snapped_coords.append((c, k))
    noded, t_moved = _split_at_ends(snapped_coords, snap)
    moved[t_moved] = True

    all_lines = _linestrings([c for c, _ in noded])
    keys = shapely.to_wkb(shapely.normalize(all_lines))
    # the same line drawn twice would stop polygonize: keep one
    _, unique = np.unique(keys, return_index=True)
    unique.sort()
    lines = list(all_lines[unique])
    members = [noded[i][1] for i in unique]
    if not lines:
        return []
    polygons = shapely.get_parts(shapely.polygonize(lines))
    if not len(polygons):
        return []
    lines_arr = np.array(lines, dtype=object)
    mids = shapely.line_interpolate_point(lines_arr, 0.5, normalized=True)
    mid_tree = shapely.STRtree(mids)
    out = []
    for poly in polygons:
        ring = shapely.get_exterior_ring(poly)
        on = mid_tree.query(ring, predicate="dwithin", distance=_ON_RING)
        ks = sorted({members[i] for i in on})
        if not ks:
            continue
        out.append(
            {
                "geometry": shapely.Polygon(ring),
                "members": [open_pieces[k][1] for k in ks],
                "snapped": bool(moved[ks].any()),
                "order": min(open_pieces[k][1] for k in ks),
            }
        )
    return out


def _split_at_ends(
    pieces: list[tuple[np.ndarray, int]], snap: float
) -> tuple[list[tuple[np.ndarray, int]], list[int]]:
    """Split lines where another line ends on them (T-junctions, within ``snap``).

    polygonize joins lines only at their ends; a parcel corner that lies on the
    middle of its neighbour's edge becomes a node here.  Lines that merely cross
    are left alone.  Returns the pieces and the indices of lines moved to do so.
    """
    if len(pieces) < 2:
        return pieces, []
    ends = np.unique(np.concatenate([[c[0], c[-1]] for c, _ in pieces]), axis=0)
    lines = _linestrings([c for c, _ in pieces])
    tree = shapely.STRtree(shapely.points(ends))
    li, pi = tree.query(lines, predicate="dwithin", distance=snap)
    if not len(li):
        return pieces, []
    firsts = np.array([c[0] for c, _ in pieces])
    lasts = np.array([c[-1] for c, _ in pieces])
    own = (ends[pi] == firsts[li]).all(axis=1) | (ends[pi] == lasts[li]).all(axis=1)
    out: list[tuple[np.ndarray, int]] = []
    moved: list[int] = []
    cuts_of: dict[int, list[int]] = {}
    for i, j in zip(li[~own].tolist(), pi[~own].tolist(), strict=True):
        cuts_of.setdefault(i, []).append(j)
    for i, (c, k) in enumerate(pieces):
        if i not in cuts_of:
            out.append((c, k))
            continue
        line = lines[i]
        qs = ends[cuts_of[i]]
        at = shapely.line_locate_point(line, shapely.points(qs))
        keep = (at > 0) & (at < line.length)
        if not keep.any():
            out.append((c, k))
            continue
        order = np.argsort(at[keep])
        at, qs = at[keep][order], qs[keep][order]
        if (shapely.distance(line, shapely.points(qs)) > _ON_RING).any():
            moved.append(k)
        bounds = [0.0, *at.tolist(), line.length]
        stops = [c[0], *qs, c[-1]]
        for n in range(len(bounds) - 1):
            if bounds[n + 1] <= bounds[n]:
                continue
            part = shapely.get_coordinates(substring(line, bounds[n], bounds[n + 1]))
            part[0], part[-1] = stops[n], stops[n + 1]
            part = _drop_repeats(part)
            if len(part) >= 2:
                out.append((part, k))
    return out, moved


def _nest(shells: list[dict[str, Any]], layer: str) -> list[dict[str, Any]]:
    """Rings inside rings: odd nesting depth → a hole in the smallest ring around it."""
    if not shells:
        return []
    geoms = np.array([s["geometry"] for s in shells], dtype=object)
    areas = shapely.area(geoms)
    tree = shapely.STRtree(geoms)
    outer, inner = tree.query(geoms, predicate="contains")
    keep = outer != inner
    outer, inner = outer[keep], inner[keep]
    depth = np.bincount(inner, minlength=len(shells))
    parent = np.full(len(shells), -1)
    for o, i in zip(outer, inner, strict=True):
        if parent[i] < 0 or areas[o] < areas[parent[i]]:
            parent[i] = o
    holes_of: dict[int, list[int]] = {}
    for j in np.flatnonzero(depth % 2):
        holes_of.setdefault(int(parent[j]), []).append(int(j))
    rows = []
    for i, s in enumerate(shells):
        if depth[i] % 2:
            continue
        holes = holes_of.get(i, [])
        geom = s["geometry"]
        members = list(s["handles"])
        types = list(s["types"])
        snapped = s["snapped"]
        if holes:
            geom = shapely.difference(geom, shapely.union_all(geoms[holes]))
            for hole in holes:
                members += shells[hole]["handles"]
                types += shells[hole]["types"]
                snapped = snapped or shells[hole]["snapped"]
        rows.append(
            {
                "layer": layer,
                "entity": ",".join(str(m) for m in members),
                "entity_type": "+".join(dict.fromkeys(types)),
                "closed_by_snap": bool(snapped),
                "geometry": geom,
                "_order": (s["order"], i),
            }
        )
    return rows


# ------------------------------------------------------------------------ checks


def _check_crs(crs, path: Path) -> tuple[CRS, float]:
    """The CRS object and its linear unit in metres."""
    if crs is None:
        raise CRSError(
            f"{path.name}: crs= is required — a DXF drawing carries no coordinate reference "
            "system. Name the CRS the survey used, e.g. crs=4528 (CGCS2000 3° Gauss-Krüger "
            "zone 40 with zone prefix) or crs=4549 (the same zone without prefix)."
        )
    crs_obj = parse_crs(crs)
    if not crs_obj.is_projected:
        raise CRSError(
            f"{path.name}: crs={crs_obj.to_string()} is not projected; DXF coordinates are "
            "taken as metres of a projected CRS. Give the survey's projected CRS, e.g. "
            "CGCS2000 3° Gauss-Krüger (EPSG 4513–4554)."
        )
    factor = crs_obj.axis_info[0].unit_conversion_factor or 1.0
    return crs_obj, float(factor)


def _check_number(value, name: str, unit: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not number >= 0 or math.isinf(number):  # also refuses NaN
        raise SchemaError(f"{name}={value!r} must be a number of {unit}, 0 or more.")
    return number


def _layer_list(layers) -> list[str] | None:
    if layers is None:
        return None
    if isinstance(layers, str):
        return [layers]
    out = [str(x) for x in layers]
    if not out:
        raise SchemaError("layers= is empty; leave it out to read every layer with outlines.")
    return out


def _match_layer(name: str, present: list[str], path: Path) -> str:
    if name in present:
        return name
    folded = [p for p in present if p.casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise SchemaError(
        f"{path.name}: layer {name!r} does not exist. Layers in this drawing: "
        f"{_names(present, limit=40)}."
    )


def _names(names, limit: int = 12) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" … ({len(names)} in all)" if len(names) > limit else "")


def _warn_units(drawing: _Drawing, path: Path, crs: CRS, report: ReadReport) -> None:
    raw = drawing.header.get("$INSUNITS")
    try:
        code = int(raw) if raw is not None else 0
    except ValueError:
        code = 0
    report["insunits"] = code
    if code not in (0, 6):
        unit = crs.axis_info[0].unit_name
        _warn(
            report,
            f"{path.name}: the drawing says its units are {_INSUNITS.get(code, code)} "
            f"($INSUNITS={code}); this is ignored and the coordinates are taken as "
            f"{unit}s of {crs.to_string()}.",
            4,
        )


def _check_coordinates(gdf: gpd.GeoDataFrame, crs: CRS, path: Path, report: ReadReport) -> None:
    minx, miny, maxx, maxy = gdf.total_bounds
    if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90 and maxx - minx < 10:
        raise CRSError(
            f"{path.name}: the coordinates look like degrees ({minx:.4f}, {miny:.4f} …), "
            f"but crs={crs.to_string()} is projected. Give the CRS the drawing was made in."
        )
    area = crs.area_of_use
    if area is None:
        return
    to_geo = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    with np.errstate(all="ignore"):
        lon, lat = to_geo.transform((minx + maxx) / 2, (miny + maxy) / 2, errcheck=False)
    margin = 5.0
    inside = (
        np.isfinite(lon)
        and np.isfinite(lat)
        and area.west - margin <= lon <= area.east + margin
        and area.south - margin <= lat <= area.north + margin
    )
    if not inside:
        hint = ""
        if 25e6 <= minx <= maxx < 46e6:
            zone = int(minx // 1e6)
            hint = f" They look like Gauss-Krüger zone {zone} with prefix: crs={4488 + zone}?"
        _warn(
            report,
            f"{path.name}: the coordinates ({minx:.0f}, {miny:.0f} …) lie far outside the "
            f"area of use of crs={crs.to_string()} ({area.name}); check crs=.{hint}",
            4,
        )


def _warn(report: ReadReport, message: str, stacklevel: int) -> None:
    report.warn(message, stacklevel=stacklevel + 1)
