"""Boundary-point coordinate TXT (界址点坐标交换格式): read and write parcels.

Land offices exchange red lines as plain-text files of boundary points::

    [属性描述]
    格式版本号=1.01版本
    坐标系=2000国家大地坐标系
    几度分带=3
    投影类型=高斯克吕格
    计量单位=米
    带号=40
    精度=0.001
    转换参数=,,,,,,
    [地块坐标]
    5,0.1502,P01,某地块,面,H50G010010,工业用地,0601,@
    J1,1,3597012.345,40493021.456
    …

A parcel header (point count, area, 地块编号, 地块名称, 点/线/面, 图幅号, 地块用途,
地类编码, ``@``) is followed by its points ``name,ring,X,Y`` where **X is the
northing and Y the easting**, the easting often carrying the zone prefix.
:func:`read_boundary_txt` returns one row per parcel with x = easting and
y = northing; :func:`write_boundary_txt` writes the standard layout back.

Variants met in the wild and accepted: GBK/GB18030, UTF-8 with or without BOM,
UTF-16 with BOM; CRLF, LF or CR; a ``[项目信息]`` section; blanks or a BOM
before ``[属性描述]``; ``分带=3度带`` instead of ``几度分带=3``; a blank 带号 when
the eastings carry the prefix; closing points repeated or not, counted or
not; ring numbers restarting per parcel or numbering parts and holes (holes
are decided by containment, never by number); several rings under one ring
number, separated by their repeated closing point; areas in hectares, in m²
or with a unit (``0.7655公顷``, ``7655平方米``); no ``@``; full-width commas.

CRS families (the EPSG code is ``base + zone``; names checked with pyproj):

=============  =====  ===================  ====================  ======
datum          zones  with zone prefix     without prefix (CM)   zones
=============  =====  ===================  ====================  ======
CGCS2000       3°     4488 (4513–4533)     4509 (4534–4554)      25–45
CGCS2000       6°     4478 (4491–4501)     4489 (4502–4512)      13–23
Xian 1980      3°     2324 (2349–2369)     2345 (2370–2390)      25–45
Xian 1980      6°     2314 (2327–2337)     2325 (2338–2348)      13–23
Beijing 1954   3°     2376 (2401–2421)     2397 (2422–2442)      25–45
Beijing 1954   6°     21400 (21413–21423)  21440 (21453–21463)   13–23
=============  =====  ===================  ====================  ======
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.errors import GEOSException

from landgis.crs import parse_crs
from landgis.errors import CRSError, GeometryError, InputFileError, LandgisWarning, SchemaError
from landgis.io.atomic import atomic_path
from landgis.io.text import decode_text

__all__ = ["parse_boundary_txt", "read_boundary_txt", "write_boundary_txt"]

#: ``(datum, zone width, zone prefix on the easting) → (EPSG base, zones)``;
#: EPSG = base + zone.  Every code was checked against ``pyproj.CRS.from_epsg``.
EPSG_FAMILIES: dict[tuple[str, int, bool], tuple[int, range]] = {
    ("CGCS2000", 3, True): (4488, range(25, 46)),
    ("CGCS2000", 3, False): (4509, range(25, 46)),
    ("CGCS2000", 6, True): (4478, range(13, 24)),
    ("CGCS2000", 6, False): (4489, range(13, 24)),
    ("Xian 1980", 3, True): (2324, range(25, 46)),
    ("Xian 1980", 3, False): (2345, range(25, 46)),
    ("Xian 1980", 6, True): (2314, range(13, 24)),
    ("Xian 1980", 6, False): (2325, range(13, 24)),
    ("Beijing 1954", 3, True): (2376, range(25, 46)),
    ("Beijing 1954", 3, False): (2397, range(25, 46)),
    ("Beijing 1954", 6, True): (21400, range(13, 24)),
    ("Beijing 1954", 6, False): (21440, range(13, 24)),
}

#: A header area differs from the polygon's when the gap exceeds the larger of
#: these: 0.5 m² is half the last digit of hectares written with 4 decimals
#: (the standard layout) or of whole m²; 0.1 % covers the gap between plane
#: Gauss-Krüger and ellipsoidal areas at the edge of a 3° zone (≤ 0.07 %).
AREA_TOLERANCE_M2 = 0.5
AREA_TOLERANCE_REL = 0.001

COLUMNS = (
    "parcel_id",
    "parcel_name",
    "geometry_kind",
    "map_sheet",
    "use",
    "land_class",
    "points",
    "header_area",
    "header_area_unit",
    "header_area_m2",
    "area_m2",
    "area_mismatch",
    "line",
)

_M2_PER_UNIT = {"ha": 10_000.0, "m2": 1.0, "mu": 10_000.0 / 15.0}
_UNIT_WORDS = {
    "公顷": "ha",
    "ha": "ha",
    "hm2": "ha",
    "hm²": "ha",
    "平方米": "m2",
    "m2": "m2",
    "m²": "m2",
    "㎡": "m2",
    "亩": "mu",
    "mu": "mu",
}
_AREA_RE = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*("
    + "|".join(re.escape(w) for w in sorted(_UNIT_WORDS, key=len, reverse=True))
    + r")?$",
    re.IGNORECASE,
)
# Header fields 3–8 as named in the format; a file that repeats the field code
# (DKMC …) instead of a value has no value there.
_HEADER_FIELDS = ("parcel_id", "parcel_name", "geometry_kind", "map_sheet", "use", "land_class")
_PLACEHOLDERS = {
    "parcel_id": {"dkbh", "地块编号"},
    "parcel_name": {"dkmc", "地块名称"},
    "geometry_kind": {"jhlx", "几何类型", "图形属性"},
    "map_sheet": {"tfh", "图幅号"},
    "use": {"dkyt", "地块用途"},
    "land_class": {"dlbm", "地类编码"},
}
_COORDS_SECTION = "地块坐标"
_ATTRS_SECTION = "属性描述"
_KEYS = {
    "zone": ("带号",),
    "width": ("几度分带", "分带", "分带方式", "分带类型"),
    "datum": ("坐标系", "坐标系统"),
    "projection": ("投影类型", "投影方式"),
    "unit": ("计量单位",),
    "area_unit": ("面积单位",),
    "meridian": ("中央子午线", "中央经线"),
}
_MAX_POINTS = 10**9
_PREFIX_MIN = 1_000_000.0  # an easting ≥ 1e6 m carries its zone number in front


# ----------------------------------------------------------------------- reading


def read_boundary_txt(
    path: str | Path, *, encoding: str | None = None, crs: Any = None, strict: bool = True
) -> gpd.GeoDataFrame:
    """Read a boundary-point coordinate TXT file (界址点坐标文件) into parcels.

    Parameters
    ----------
    path
        The ``.txt`` file.
    encoding
        The text encoding.  Without it: a BOM decides (UTF-8 or UTF-16), else
        UTF-8 when the bytes are valid UTF-8, else GB18030 (a superset of GBK).
    crs
        The CRS of the coordinates (EPSG code, ``"EPSG:4526"``, WKT …).  It wins
        over the file's 坐标系/带号/几度分带; without it the CRS is derived from
        them and from the zone prefix of the eastings (see the module notes).
    strict
        A parcel that announces more points than follow (a cut-off delivery),
        or whose header area differs from the area of its points beyond the
        tolerance (:data:`AREA_TOLERANCE_M2`, :data:`AREA_TOLERANCE_REL`, or half
        the last digit written, whichever is larger), is an error naming the
        file, parcel and line.  With ``strict=False`` it is skipped with a
        warning instead — never built from the points that happen to be there.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per 面 parcel, indexed 1, 2 … in file order, with the columns
        ``parcel_id`` (地块编号, else the parcel's ordinal as text),
        ``parcel_name``, ``geometry_kind``, ``map_sheet``, ``use``,
        ``land_class``, ``points`` (the header's count), ``header_area`` (as
        written), ``header_area_unit`` (``"ha"``, ``"m2"`` or ``"mu"``),
        ``header_area_m2``, ``area_m2`` (planar, from the geometry),
        ``area_mismatch`` (the gap exceeds ``max(0.5 m², 0.1 % of area_m2)``),
        ``line`` (the header's line number) and a Polygon or MultiPolygon
        geometry in metres (x = easting).  ``attrs["boundary_txt"]`` holds the
        [属性描述] keys and values as written, other sections (``项目信息``) as
        dicts, and ``source``, ``encoding``, ``crs``, ``crs_from``,
        ``repaired`` (self-intersecting parcels made valid), ``skipped``
        (点/线 parcels left out) and ``warnings``.

    Raises
    ------
    InputFileError
        The file is missing, unreadable or not text in the encoding.
    SchemaError
        A malformed line: the message names the file, the parcel and the line.
    CRSError
        The CRS cannot be told from the file; pass ``crs=``.

    Notes
    -----
    Rings are the runs of points with the same ring number; a run that comes
    back to its first point and goes on starts another ring.  A ring inside
    an even number of the parcel's other rings is an exterior (a part, or an
    island in a hole), inside an odd number a hole.  Self-intersecting rings
    are repaired with ``shapely.make_valid(method="structure")``.

    These are recorded in ``attrs["boundary_txt"]["warnings"]`` and issued as
    :class:`~landgis.errors.LandgisWarning`, not raised: a point count that
    differs from the listed points other than by the closing points (the
    listed points are used); an area without unit anywhere that fits the
    polygon in m² but not in hectares (read as m²); X holding prefixed
    eastings and Y northings (swapped back); 点/线 parcels (skipped);
    repeated parcel ids; a missing 坐标系 (CGCS2000 assumed).  Header fields
    that repeat their field code (``DKMC``, ``TFH``, ``DKYT``, ``DLBM`` …, as
    exports with an unfilled attribute line write) are read as blank.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "parcel.txt"
    >>> _ = path.write_text(
    ...     "[属性描述]\\n坐标系=2000国家大地坐标系\\n带号=40\\n[地块坐标]\\n"
    ...     "4,0.02,P01,样例,面,,,,@\\n"
    ...     "J1,1,3597000,40492000\\nJ2,1,3597000,40492200\\n"
    ...     "J3,1,3597001,40492200\\nJ4,1,3597001,40492000\\n",
    ...     encoding="gbk",
    ... )
    >>> parcels = read_boundary_txt(path)
    >>> parcels.crs.to_epsg(), parcels.loc[1, "parcel_id"], float(parcels.loc[1, "area_m2"])
    (4528, 'P01', 200.0)
    """
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "not found"
        raise InputFileError(f"{path}: file {what} (boundary-point coordinate TXT).")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read it ({exc}).") from exc
    text, used = decode_text(data, encoding=encoding, source=path)
    gdf = parse_boundary_txt(text, origin=str(path), crs=crs, strict=strict)
    gdf.attrs["boundary_txt"]["source"] = str(path)
    gdf.attrs["boundary_txt"]["encoding"] = used.name
    gdf.attrs["encoding"] = used.as_dict()
    return gdf


def parse_boundary_txt(
    text: str, *, origin: str = "<text>", crs: Any = None, strict: bool = True
) -> gpd.GeoDataFrame:
    """Parse the decoded text of a boundary-point file; the core of :func:`read_boundary_txt`.

    Parameters
    ----------
    text
        The whole file as a string.
    origin
        The name used in messages (a file path).
    crs, strict
        As in :func:`read_boundary_txt`.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`read_boundary_txt` describes.

    Raises
    ------
    SchemaError, CRSError
        Any malformed input raises one of these (both are
        :class:`~landgis.errors.LandgisError`), never another exception.

    Examples
    --------
    >>> text = (
    ...     "[属性描述]\\n坐标系=2000国家大地坐标系\\n带号=\\n[地块坐标]\\n"
    ...     "4,1公顷,,方地,面,,,,@\\n"
    ...     "J1,1,2586000,38378000\\nJ2,1,2586000,38378100\\nJ3,1,2586100,38378100\\n"
    ...     "J4,1,2586100,38378000\\n"
    ... )
    >>> gdf = parse_boundary_txt(text)
    >>> gdf.crs.to_epsg(), gdf.loc[1, "parcel_id"], float(gdf.loc[1, "header_area_m2"])
    (4526, '1', 10000.0)
    >>> bool(gdf.loc[1, "area_mismatch"])
    False
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_boundary_txt: expected str, got {type(text).__name__}")
    doc = _Document(origin=origin)
    _scan(text, doc)
    if not doc.parcels:
        raise SchemaError(
            f"{origin}: no parcel found. A boundary-point file needs a [地块坐标] section "
            "with a parcel header line 'count,area,id,name,面,sheet,use,class,@' followed "
            "by point lines 'J1,1,X,Y'."
        )
    kept = [p for p in doc.parcels if p.kind not in ("点", "线")]
    for p in doc.parcels:
        if p.kind in ("点", "线"):
            doc.warn(f"{origin}, line {p.line}: parcel {p.label} is a {p.kind}, not 面; skipped")
    for p in kept:
        if not p.rings:
            raise SchemaError(
                f"{origin}, line {p.line}: parcel {p.label} has no point lines after its "
                "header; add its points 'J1,1,X,Y' or remove the header."
            )
    _fix_swapped_axes(doc, kept)
    crs_obj, crs_from = _resolve_crs(doc, kept, crs)
    geoms, repaired, refused = [], 0, {}
    for i, p in enumerate(kept, start=1):
        geom, fixed = _parcel_geometry(p, origin)
        geoms.append(geom)
        repaired += fixed
        reason = _check_count(p, doc)
        if reason:
            refused[i] = reason
    gdf = _frame(doc, kept, geoms, crs_obj)
    for n in np.flatnonzero(gdf["area_mismatch"].to_numpy()) + 1:
        row, p = gdf.loc[n], kept[n - 1]
        refused.setdefault(
            int(n),
            f"{origin}, line {p.line}: parcel {p.label}'s header area "
            f"{p.area:g} {row['header_area_unit']} ({row['header_area_m2']:.2f} m²) differs "
            f"from the {row['area_m2']:.2f} m² its points (lines {p.rings[0].lines[0]}–"
            f"{p.rings[-1].lines[-1]}) enclose beyond the area's precision; a point is wrong or "
            "missing. Check the coordinates against the delivery",
        )
    if refused and strict:
        first = refused[min(refused)]
        more = f" ({len(refused) - 1} more parcel(s) likewise)" if len(refused) > 1 else ""
        raise SchemaError(f"{first}, or read with strict=False (CLI: --lenient) to skip it{more}.")
    for i in sorted(refused):
        doc.warn(f"{refused[i]}; parcel skipped (lenient reading).")
    if refused:
        gdf = gdf.drop(index=list(refused))
        if not len(gdf):
            raise SchemaError(f"{origin}: every parcel was skipped; nothing left to read.")
    gdf["area_mismatch"] = gdf["area_mismatch"].astype(bool)
    ids = gdf["parcel_id"]
    if ids.duplicated().any():
        doc.warn(f"{origin}: parcel ids repeat: {sorted(set(ids[ids.duplicated()]))[:8]}")
    meta: dict[str, Any] = {**doc.attrs, **doc.sections}
    if doc.placeholders:
        meta["placeholders_cleared"] = doc.placeholders
    meta.update(
        crs=crs_obj.to_string() if crs_obj is not None else None,
        crs_from=crs_from,
        parcels=len(gdf),
        repaired=repaired,
        skipped=len(doc.parcels) - len(kept) + len(refused),
        warnings=doc.warnings,
    )
    gdf.attrs["boundary_txt"] = meta
    return gdf


# ------------------------------------------------------------------ text → parts


@dataclass
class _Ring:
    label: str  # the ring number as written
    line: int  # line of its first point
    lines: list[int] = field(default_factory=list)
    coords: list[tuple[float, float]] = field(default_factory=list)  # (X north, Y east)
    closed: bool = False  # the first point was repeated at the end


@dataclass
class _Parcel:
    ordinal: int
    line: int
    fields: dict[str, str]
    count: int
    area: float
    area_unit: str | None
    area_step: float = 0.0  # the unit of the area's last written digit (0.4180 → 0.0001)
    rings: list[_Ring] = field(default_factory=list)

    @property
    def label(self) -> str:
        pid = self.fields["parcel_id"]
        return repr(pid) if pid else f"#{self.ordinal}"

    @property
    def kind(self) -> str:
        return self.fields["geometry_kind"]


@dataclass
class _Document:
    origin: str
    attrs: dict[str, str] = field(default_factory=dict)  # [属性描述]
    sections: dict[str, dict[str, str]] = field(default_factory=dict)  # [项目信息] …
    parcels: list[_Parcel] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    placeholders: int = 0

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        warnings.warn(message, LandgisWarning, stacklevel=3)

    def key(self, name: str) -> str | None:
        """The value of a [属性描述] key by any of its spellings (blank → None)."""
        for key in _KEYS[name]:
            value = self.attrs.get(key, "").strip()
            if value:
                return value
        return None


_BRACKETS = str.maketrans({"【": "[", "】": "]", "［": "[", "］": "]"})


def _scan(text: str, doc: _Document) -> None:
    """Walk the lines once: sections, key=value pairs, parcel headers, points."""
    origin = doc.origin
    section: str | None = None
    parcel: _Parcel | None = None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw in enumerate(lines, start=1):
        line = raw.replace("\ufeff", "").strip()
        if not line:
            continue
        bracketed = line.translate(_BRACKETS)
        if bracketed.startswith("[") and bracketed.endswith("]"):
            section = bracketed[1:-1].strip()
            if section not in (_COORDS_SECTION, _ATTRS_SECTION):
                doc.sections.setdefault(section, {})
            continue
        if section != _COORDS_SECTION:
            line = line.replace("＝", "=", 1) if "=" not in line else line
            if "=" not in line:
                if section is None:
                    raise SchemaError(
                        f"{origin}, line {number}: expected a section header such as "
                        f"[属性描述] or [地块坐标], got {_show(raw)}."
                    )
                doc.warn(f"{origin}, line {number}: not 'key=value' in [{section}]; ignored")
                continue
            key, value = (s.strip() for s in line.split("=", 1))
            target = doc.attrs if section in (None, _ATTRS_SECTION) else doc.sections[section]
            target[key] = value
            continue
        fields = [f.strip() for f in line.replace("，", ",").split(",")]
        kind = _line_kind(fields)
        if kind == "header":
            parcel = _header(fields, number, len(doc.parcels) + 1, doc)
            doc.parcels.append(parcel)
        elif parcel is None:
            raise SchemaError(
                f"{origin}, line {number}: expected a parcel header "
                f"'count,area,id,name,面,sheet,use,class,@', got {_show(raw)}."
            )
        elif kind == "point":
            _add_point(parcel, fields, number)
        else:
            raise SchemaError(
                f"{origin}, line {number} (parcel {parcel.label}): expected "
                f"'name,ring,X,Y' with numbers, got {_show(raw)}. Fix the line or remove it."
            )


def _line_kind(fields: list[str]) -> str:
    if fields[-1].endswith("@"):
        return "header"
    core = list(fields)
    while core and not core[-1]:
        core.pop()
    if len(core) == 4 and _number(core[2]) is not None and _number(core[3]) is not None:
        return "point"
    if len(core) >= 5 and _count(core[0]) is not None:
        return "header"  # a header without its closing '@'
    return "bad"


def _header(fields: list[str], number: int, ordinal: int, doc: _Document) -> _Parcel:
    origin = doc.origin
    fields = list(fields)
    fields[-1] = fields[-1].removesuffix("@").strip()
    if not fields[-1] and len(fields) > 8:
        fields.pop()
    fields += [""] * (8 - len(fields))
    values = dict(zip(_HEADER_FIELDS, fields[2:8], strict=True))
    for name, codes in _PLACEHOLDERS.items():
        if values[name].casefold() in codes:
            values[name] = ""
            doc.placeholders += 1
    values["geometry_kind"] = values["geometry_kind"] or "面"
    label = repr(values["parcel_id"]) if values["parcel_id"] else f"#{ordinal}"
    count = _count(fields[0])
    if count is None:
        raise SchemaError(
            f"{origin}, line {number} (parcel {label}): the point count (1st field of the "
            f"parcel header) must be a whole number, got {_show(fields[0])}."
        )
    area, unit = _area(fields[1])
    if area is None:
        raise SchemaError(
            f"{origin}, line {number} (parcel {label}): the area (2nd field of the parcel "
            f"header) must be a number, optionally with 公顷/平方米/亩, got {_show(fields[1])}."
        )
    return _Parcel(ordinal, number, values, count, area, unit, _last_digit(fields[1]))


def _add_point(parcel: _Parcel, fields: list[str], number: int) -> None:
    x, y = _number(fields[2]), _number(fields[3])
    assert x is not None and y is not None  # checked by _line_kind
    ring = parcel.rings[-1] if parcel.rings else None
    if ring is None or ring.label != fields[1] or ring.closed:
        ring = _Ring(label=fields[1], line=number)
        parcel.rings.append(ring)
    ring.coords.append((x, y))
    ring.lines.append(number)
    # Back at the ring's first point: the ring is complete; more points under
    # the same ring number start the next ring.
    ring.closed = len(ring.coords) >= 4 and ring.coords[-1] == ring.coords[0]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _count(text: str) -> int | None:
    if not text.isdecimal():
        return None
    try:
        value = int(text)
    except ValueError:  # more digits than Python converts
        return None
    return value if value < _MAX_POINTS else None


def _area(text: str) -> tuple[float | None, str | None]:
    if not text:
        return math.nan, None
    match = _AREA_RE.match(text.replace(" ", ""))
    if not match:
        return None, None
    unit = _UNIT_WORDS[match.group(2).lower()] if match.group(2) else None
    return float(match.group(1)), unit


def _last_digit(text: str) -> float:
    """The value of the last digit written: "0.4180" → 0.0001, "10000平方米" → 1."""
    number = re.match(r"[+-]?(\d*)\.?(\d*)", text.replace(" ", ""))
    if not number or "e" in text.lower():
        return 0.0
    return 10.0 ** -len(number.group(2)) if "." in text else 1.0


def _show(text: str, limit: int = 80) -> str:
    text = text.strip()
    return repr(text if len(text) <= limit else text[:limit] + "…")


# ---------------------------------------------------------------------- the CRS


def _fix_swapped_axes(doc: _Document, parcels: list[_Parcel]) -> None:
    """X holding prefixed eastings and Y northings: the columns were swapped."""
    xy = np.array([c for p in parcels for r in p.rings for c in r.coords], dtype=float)
    if len(xy) and (xy[:, 0] >= 1e7).all() and (xy[:, 1] < 1e7).all():
        for p in parcels:
            for r in p.rings:
                r.coords = [(y, x) for x, y in r.coords]
        doc.warn(
            f"{doc.origin}: X holds eastings with a zone prefix and Y northings; the format "
            "puts the northing first (X), so the two were swapped back."
        )


def _resolve_crs(doc: _Document, parcels: list[_Parcel], crs: Any) -> tuple[CRS | None, str]:
    """The CRS from ``crs=``, else from 坐标系, 几度分带, 带号 and the easting prefix."""
    if crs is not None:
        return parse_crs(crs), "crs="
    origin = doc.origin
    east = np.array([c[1] for p in parcels for r in p.rings for c in r.coords], dtype=float)
    where = [n for p in parcels for r in p.rings for n in r.lines]
    datum = _datum(doc)
    projection = doc.key("projection")
    if projection and not re.search(
        r"高斯|克吕格|克里格|gauss|kr[uü]ger|横轴墨卡托|transverse", projection, re.IGNORECASE
    ):
        raise CRSError(
            f"{origin}: 投影类型={projection!r} is not Gauss-Krüger (高斯克吕格); pass the CRS "
            "with crs=… (an EPSG code or WKT)."
        )
    width = _width(doc)
    zone_key = _int_key(doc, "zone")
    prefixed = east >= _PREFIX_MIN
    if prefixed.any() and not prefixed.all():
        i, j = int(np.argmax(prefixed)), int(np.argmin(prefixed))
        raise CRSError(
            f"{origin}: some eastings carry a zone prefix (line {where[i]}: {east[i]:.3f}) and "
            f"others do not (line {where[j]}: {east[j]:.3f}); write all eastings alike."
        )
    prefix = bool(len(east)) and bool(prefixed.all())
    zone, crs_from = zone_key, "带号"
    if prefix:
        zones = np.floor(east / 1e6)
        if (zones != zones[0]).any():
            j = int(np.argmax(zones != zones[0]))
            raise CRSError(
                f"{origin}: the eastings carry different zone prefixes ({zones[0]:.0f} at "
                f"line {where[0]}, {zones[j]:.0f} at line {where[j]}); one file holds one zone."
            )
        zone = int(zones[0])
        if zone_key is not None and zone_key != zone:
            raise CRSError(
                f"{origin}: 带号={zone_key} but the eastings carry the zone prefix {zone} "
                f"(line {where[0]}: {east[0]:.3f}); correct 带号 or pass crs=…"
            )
        crs_from = "带号 and easting prefix" if zone_key is not None else "easting prefix"
    if zone is None:
        zone = _zone_from_meridian(doc, width)
        crs_from = "中央子午线"
    if zone is None:
        if not len(east):
            return None, "unknown"
        raise CRSError(
            f"{origin}: the zone is unknown: 带号 is blank and the eastings carry no zone "
            "prefix. Pass crs=… (e.g. crs=4546 for CGCS2000 3° Gauss-Krüger CM 114°E without "
            "prefix) or fill in 带号."
        )
    if width is None:
        width = 6 if 13 <= zone <= 23 else 3
    base, known = EPSG_FAMILIES[(datum, width, prefix)]
    if zone not in known:
        raise CRSError(
            f"{origin}: zone {zone} is not a {width}° Gauss-Krüger zone of China "
            f"({known.start}–{known.stop - 1}); check 带号/几度分带 or pass crs=…"
        )
    return CRS.from_epsg(base + zone), crs_from


def _datum(doc: _Document) -> str:
    value = doc.key("datum")
    if value is None:
        doc.warn(f"{doc.origin}: 坐标系 is not given; assumed 2000国家大地坐标系 (CGCS2000)")
        return "CGCS2000"
    squeezed = value.replace(" ", "").upper()
    if "2000" in squeezed:
        return "CGCS2000"
    if "西安" in squeezed or "XIAN" in squeezed or re.search(r"(?<!\d)(19)?80(?!\d)", squeezed):
        return "Xian 1980"
    if "北京" in squeezed or "BEIJING" in squeezed or re.search(r"(?<!\d)(19)?54(?!\d)", squeezed):
        return "Beijing 1954"
    raise CRSError(
        f"{doc.origin}: 坐标系={value!r} is not one landgis knows (2000国家大地坐标系, "
        "西安80, 北京54); pass the CRS with crs=… (an EPSG code or WKT)."
    )


def _width(doc: _Document) -> int | None:
    value = doc.key("width")
    if value is None:
        return None
    match = re.search(r"\d+", value)
    if match and match.group() in ("3", "6"):
        return int(match.group())
    raise CRSError(
        f"{doc.origin}: 几度分带={value!r}; expected 3 or 6 (degree zones). Correct it or "
        "pass crs=…"
    )


def _int_key(doc: _Document, name: str) -> int | None:
    value = doc.key(name)
    if value is None:
        return None
    match = re.fullmatch(r"\D*?(\d{1,3})\D*", value)
    if not match:
        raise CRSError(
            f"{doc.origin}: {_KEYS[name][0]}={value!r} is not a zone number; correct it or "
            "pass crs=…"
        )
    return int(match.group(1))


def _zone_from_meridian(doc: _Document, width: int | None) -> int | None:
    value = doc.key("meridian")
    match = re.search(r"\d+(\.\d+)?", value or "")
    if not match:
        return None
    meridian = float(match.group())
    zone = meridian / 6 + 0.5 if width == 6 else meridian / 3
    return int(zone) if zone == int(zone) else None


# ----------------------------------------------------------------- geometry


def _parcel_geometry(parcel: _Parcel, origin: str):
    """Rings → (Multi)Polygon: holes by containment; returns (geometry, repaired 0/1)."""
    rings = []
    for ring in parcel.rings:
        xy = np.asarray(ring.coords, dtype=float)[:, ::-1]  # (X north, Y east) → (x, y)
        if len(np.unique(xy, axis=0)) < 3:
            raise SchemaError(
                f"{origin}, line {ring.line} (parcel {parcel.label}): ring {ring.label!r} has "
                f"fewer than 3 distinct points ({len(xy)} listed); a boundary needs at least 3."
            )
        if not (xy[0] == xy[-1]).all():
            xy = np.vstack([xy, xy[:1]])
        rings.append(xy)
    try:
        return _assemble(rings, parcel, origin)
    except GEOSException as exc:
        raise SchemaError(
            f"{origin}, line {parcel.line} (parcel {parcel.label}): the rings do not form a "
            f"usable polygon ({exc}); check the coordinates."
        ) from exc


def _assemble(rings: list[np.ndarray], parcel: _Parcel, origin: str):
    if len(rings) == 1:
        single = shapely.Polygon(rings[0])
        if single.is_valid:
            return single, 0
    alone = np.array([shapely.Polygon(r) for r in rings], dtype=object)
    valid = np.where(
        shapely.is_valid(alone),
        alone,
        shapely.make_valid(alone, method="structure", keep_collapsed=False),
    )
    empty = shapely.is_empty(valid)
    if empty.any():
        ring = parcel.rings[int(np.argmax(empty))]
        raise SchemaError(
            f"{origin}, line {ring.line} (parcel {parcel.label}): ring {ring.label!r} encloses "
            "no area (its points lie on one line); fix the coordinates."
        )
    # inside[i, j]: ring j lies within ring i.  A ring within an even number of
    # rings is an exterior (a part, or an island in a hole); within an odd
    # number, a hole of the deepest ring around it.
    area = shapely.area(valid)
    inside = shapely.covers(valid[:, None], valid[None, :]) & (area[:, None] > area[None, :])
    depth = inside.sum(axis=0)
    parent = np.where(
        inside.any(axis=0), np.argmax(np.where(inside, depth[:, None], -1), axis=0), -1
    )
    parts = [
        shapely.Polygon(
            rings[i], [rings[j] for j in np.flatnonzero((parent == i) & (depth % 2 == 1))]
        )
        for i in np.flatnonzero(depth % 2 == 0)
    ]
    geom = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    if geom.is_valid:
        return geom, 0
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    polys = [g for g in shapely.get_parts(fixed) if g.geom_type == "Polygon" and not g.is_empty]
    if not polys:
        raise SchemaError(
            f"{origin}, line {parcel.line} (parcel {parcel.label}): the boundary encloses no "
            "area after repairing its self-intersections; fix the coordinates."
        )
    return (polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)), 1


def _check_count(parcel: _Parcel, doc: _Document) -> str | None:
    """The header's point count may count each ring's closing point or not.

    More points announced than listed means a cut-off delivery: the reason to
    refuse the parcel is returned.  Fewer announced is a miscount: a warning.
    """
    listed = sum(len(r.coords) for r in parcel.rings)
    repeated = sum(r.closed for r in parcel.rings)
    distinct = listed - repeated
    if parcel.count in (listed, distinct, distinct + len(parcel.rings)):
        return None
    last = parcel.rings[-1].lines[-1]
    if parcel.count > distinct + len(parcel.rings):
        return (
            f"{doc.origin}, line {parcel.line}: parcel {parcel.label} announces "
            f"{parcel.count} points but only {listed} follow (the last on line {last}); the "
            "delivery looks cut off. Ask for the whole file"
        )
    doc.warn(
        f"{doc.origin}, line {parcel.line}: parcel {parcel.label} says {parcel.count} "
        f"points but lists {listed} ({distinct} without repeated closing points); the "
        "listed points are used."
    )
    return None


def _frame(doc: _Document, parcels: list[_Parcel], geoms: list, crs: CRS | None):
    geometry = np.array(geoms, dtype=object) if geoms else np.array([], dtype=object)
    area_m2 = shapely.area(geometry).astype(float) if len(geometry) else np.zeros(0)
    file_unit = _file_area_unit(doc)
    header = np.array([p.area for p in parcels], dtype=float)
    units = []
    for p, computed in zip(parcels, area_m2, strict=True):
        unit = p.area_unit or file_unit
        if unit is None:
            # No unit anywhere: hectares, unless only m² fits the polygon.
            as_m2 = not _mismatch(p.area, computed) and _mismatch(p.area * 1e4, computed)
            unit = "m2" if as_m2 else "ha"
            if as_m2:
                doc.warn(
                    f"{doc.origin}, line {p.line}: parcel {p.label}'s area {p.area:g} has no "
                    "unit and matches the polygon in m², not in hectares; read as m²"
                )
        units.append(unit)
    factor = np.array([_M2_PER_UNIT[u] for u in units], dtype=float)
    steps = np.array([p.area_step for p in parcels], dtype=float) * factor
    with np.errstate(over="ignore", invalid="ignore"):
        header_m2 = header * factor
        mismatch = np.array(
            [
                _mismatch(h, a, step)
                for h, a, step in zip(header_m2, area_m2, steps, strict=True)
            ],
            dtype=bool,
        )
    columns: dict[str, Any] = {name: [p.fields[name] for p in parcels] for name in _HEADER_FIELDS}
    columns["parcel_id"] = [p.fields["parcel_id"] or str(p.ordinal) for p in parcels]
    columns.update(
        points=np.array([p.count for p in parcels], dtype=np.int64),
        header_area=header,
        header_area_unit=units,
        header_area_m2=header_m2,
        area_m2=area_m2,
        area_mismatch=mismatch,
        line=np.array([p.line for p in parcels], dtype=np.int64),
    )
    index = pd.RangeIndex(1, len(parcels) + 1)
    frame = pd.DataFrame({c: columns[c] for c in COLUMNS}, index=index)
    frame = frame.astype({c: str for c in (*_HEADER_FIELDS, "header_area_unit")})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, index=index), crs=crs)


def _mismatch(header_m2: float, computed: float, step_m2: float = 0.0) -> bool:
    """True when a header area (m²) differs from the polygon's beyond the tolerance
    (or beyond half its last written digit, ``step_m2``, when that is coarser)."""
    if not math.isfinite(header_m2):
        return not math.isnan(header_m2)  # blank area: nothing to compare
    tolerance = max(AREA_TOLERANCE_M2, AREA_TOLERANCE_REL * computed, step_m2 / 2) + 1e-6
    return bool(abs(header_m2 - computed) > tolerance)


def _file_area_unit(doc: _Document) -> str | None:
    for key in ("area_unit", "unit"):
        value = (doc.key(key) or "").replace(" ", "").lower()
        for word, unit in sorted(_UNIT_WORDS.items(), key=lambda kv: -len(kv[0])):
            if word in value:
                return unit
    return None


# ----------------------------------------------------------------------- writing

_DERIVED_KEYS = ("坐标系", "几度分带", "投影类型", "计量单位", "带号", "精度")


def write_boundary_txt(
    gdf: gpd.GeoDataFrame,
    path: str | Path,
    *,
    encoding: str = "utf-8",
    zone: int | None = None,
    header: Mapping[str, str] | None = None,
    precision: int = 3,
) -> Path:
    """Write parcels as a boundary-point coordinate TXT file (standard layout, CRLF).

    Each row becomes a parcel ``count,area_ha,parcel_id,parcel_name,面,map_sheet,
    use,land_class,@`` followed by ``J1,ring,X,Y`` lines (X = northing, Y =
    easting with the zone prefix), each ring closed by repeating its first
    point, rings numbered 1, 2 … per parcel (each part's exterior, then its
    holes).  The area is the polygon's, in hectares with 4 decimals.

    Parameters
    ----------
    gdf
        Polygons or MultiPolygons.  The columns ``parcel_id`` (else 1, 2 …),
        ``parcel_name``, ``map_sheet``, ``use`` and ``land_class`` are written
        when present.  The CRS must be CGCS2000 3° Gauss-Krüger (EPSG 4513–4554)
        unless ``zone`` is given.
    path
        The file to write (replaced atomically).
    encoding
        ``"utf-8"`` (default) or ``"gbk"`` for older software.
    zone
        The 3° zone to write in (25–45): the frame is reprojected to
        ``EPSG:(4488 + zone)``; a frame without CRS is taken to be in that zone.
    header
        Extra [属性描述] lines, e.g. ``{"数据产生单位": "某国土所"}``.  坐标系,
        几度分带, 投影类型, 计量单位, 带号 and 精度 follow from the data.
    precision
        Decimals of the coordinates (3 = millimetres).  What is written is read
        back before the file is written: a parcel that would not come back the
        same (vertices closer than the precision, a ring that rounding makes
        cross itself) is refused, named, with the precision that is needed.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    CRSError
        The CRS is not CGCS2000 3° Gauss-Krüger and ``zone`` is not given.
    GeometryError
        Empty frame, missing or non-polygon geometries, coordinates that are
        NaN or infinite (the parcels are named).
    SchemaError
        A text value holds a comma or line break, ``header`` sets a derived
        key, the text does not fit ``encoding``, or a parcel does not read back
        the same at ``precision``.

    Examples
    --------
    >>> import pathlib, tempfile, geopandas as gpd
    >>> from shapely.geometry import box
    >>> gdf = gpd.GeoDataFrame(
    ...     {"parcel_id": ["P01"], "parcel_name": ["样例"]},
    ...     geometry=[box(40492000, 3597000, 40492100, 3597050)],
    ...     crs=4528,
    ... )
    >>> out = write_boundary_txt(gdf, pathlib.Path(tempfile.mkdtemp()) / "out.txt")
    >>> back = read_boundary_txt(out)
    >>> back.loc[1, "parcel_id"], float(back.loc[1, "header_area"]), float(back.loc[1, "area_m2"])
    ('P01', 0.5, 5000.0)
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"write_boundary_txt: expected a GeoDataFrame, got {type(gdf).__name__}")
    if not isinstance(precision, int) or not 0 <= precision <= 9:
        raise SchemaError(f"precision={precision!r}: give a whole number of decimals 0–9.")
    path = Path(path)
    gdf, zone, add_prefix = _writer_zone(gdf, zone, path)
    extra = dict(header or {})
    derived = [k for k in extra if k in _DERIVED_KEYS]
    if derived:
        raise SchemaError(
            f"{path}: header sets {derived}, which the writer derives from the data; "
            "leave them out (or reproject the frame / pass zone=)."
        )
    if len(gdf) == 0:
        raise GeometryError(f"{path}: the GeoDataFrame is empty; nothing to write.")
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    types = np.asarray(shapely.get_type_id(geoms))
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms) | ~np.isin(types, (3, 6))
    if bad.any():
        rows = [str(i) for i in np.flatnonzero(bad)[:8] + 1]
        raise GeometryError(
            f"{path}: rows {', '.join(rows)} have no polygon geometry; a boundary-point "
            "file holds areas only (Polygon or MultiPolygon)."
        )
    texts = {name: _writer_texts(gdf, name, path) for name in _WRITTEN_FIELDS}
    if "parcel_id" not in gdf:
        texts["parcel_id"] = [str(i) for i in range(1, len(gdf) + 1)]
    xy = shapely.get_coordinates(geoms)
    if not np.isfinite(xy).all():
        finite = np.array([np.isfinite(shapely.get_coordinates(g)).all() for g in geoms])
        broken = np.flatnonzero(~finite)
        named = ", ".join(f"{texts['parcel_id'][i] or i + 1} (row {i + 1})" for i in broken[:8])
        raise GeometryError(
            f"{path}: parcels {named} have coordinates that are not numbers (NaN or "
            "infinite); a boundary-point file cannot hold them. Fix or remove those vertices."
        )
    keys = {
        "格式版本号": "1.01版本",
        **{k: v for k, v in extra.items() if k in ("数据产生单位",)},
        "坐标系": "2000国家大地坐标系",
        "几度分带": "3",
        "投影类型": "高斯克吕格",
        "计量单位": "米",
        "带号": str(zone),
        "精度": f"{10.0**-precision:.{precision}f}" if precision else "1",
        "转换参数": ",,,,,,",
        **{k: v for k, v in extra.items() if k != "数据产生单位"},
    }
    for key, value in keys.items():
        if any(c in f"{key}{value}" for c in "\r\n"):
            raise SchemaError(f"{path}: header {key!r} holds a line break; remove it.")
    out = ["[属性描述]", *(f"{k}={v}" for k, v in keys.items()), "[地块坐标]"]
    offset = zone * 1e6 if add_prefix else 0.0
    for row, geom in enumerate(geoms):
        rings = [
            ring for poly in shapely.get_parts(geom) for ring in (poly.exterior, *poly.interiors)
        ]
        points = sum(len(r.coords) for r in rings)
        fields = [texts[name][row] for name in _WRITTEN_FIELDS]
        parcel_id, name, sheet, use, land_class = fields
        area_ha = shapely.area(geom) / 1e4
        out.append(f"{points},{area_ha:.4f},{parcel_id},{name},面,{sheet},{use},{land_class},@")
        n = 0
        for number, ring in enumerate(rings, start=1):
            xy = shapely.get_coordinates(ring)
            names = np.arange(n + 1, n + len(xy) + 1)
            names[-1] = n + 1  # the closing point is the first point again
            n += len(xy) - 1
            north = np.char.mod(f"%.{precision}f", xy[:, 1])
            east = np.char.mod(f"%.{precision}f", xy[:, 0] + offset)
            out += [f"J{j},{number},{x},{y}" for j, x, y in zip(names, north, east, strict=True)]
    text = "\r\n".join(out) + "\r\n"
    _check_round_trip(text, geoms, texts["parcel_id"], offset, precision, path)
    try:
        data = text.encode(encoding)
    except LookupError as exc:
        raise SchemaError(f"{path}: unknown encoding {encoding!r}; use 'utf-8' or 'gbk'.") from exc
    except UnicodeEncodeError as exc:
        raise SchemaError(
            f"{path}: {text[exc.start : exc.end]!r} cannot be written in {encoding}; use "
            "encoding='utf-8'."
        ) from exc
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


_WRITTEN_FIELDS = ("parcel_id", "parcel_name", "map_sheet", "use", "land_class")


def _check_round_trip(text: str, geoms, ids: list[str], offset: float, precision: int, path):
    """Read ``text`` back as :func:`read_boundary_txt` would: every parcel must come back
    with the same rings and its vertices within half a unit of ``precision``, else the
    parcel is named and nothing is written (points closer than the precision collapse,
    rounding can make a ring cross itself)."""
    unit = 10.0**-precision

    def refuse(row: int, why: str) -> SchemaError:
        return SchemaError(
            f"{path}: parcel {ids[row] or row + 1} (row {row + 1}) cannot be written with "
            f"{precision} decimals ({unit:g} m): {why}. Write more decimals (precision="
            f"{precision + 1}; CLI: --precision {precision + 1}), or fix the parcel."
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            back = parse_boundary_txt(text, origin=str(path))
        except SchemaError as exc:
            match = re.search(r", line (\d+)", str(exc))
            line = int(match.group(1)) if match else 0
            starts = [i + 1 for i, t in enumerate(text.split("\r\n")) if t.endswith(",@")]
            row = max(0, int(np.searchsorted(starts, line, side="right")) - 1)
            raise refuse(row, str(exc).split(": ", 1)[-1].rstrip(".")) from exc
    if len(back) != len(geoms):  # pragma: no cover - a parcel the reader skipped
        raise SchemaError(f"{path}: {len(geoms)} parcels written but {len(back)} read back.")
    for row, (geom, read) in enumerate(zip(geoms, back.geometry.values, strict=True)):
        want = shapely.get_coordinates(geom) + np.array([offset, 0.0])
        got = shapely.get_coordinates(read)
        # half a unit, plus the few ulps a decimal string of a large easting is off by
        tolerance = 0.5 * unit + 4 * float(np.spacing(np.abs(want).max(initial=1.0)))
        rings = shapely.get_num_interior_rings(shapely.get_parts(geom)).sum()
        rings_back = shapely.get_num_interior_rings(shapely.get_parts(read)).sum()
        if want.shape != got.shape or rings != rings_back:
            raise refuse(row, "its rings do not read back the same after rounding")
        gap = float(np.abs(want - got).max()) if len(want) else 0.0
        if gap > tolerance:
            raise refuse(row, f"a vertex reads back {gap:.3g} m away")


def _writer_texts(gdf: gpd.GeoDataFrame, name: str, path: Path) -> list[str]:
    if name not in gdf:
        return [""] * len(gdf)
    values = ["" if pd.api.types.is_scalar(v) and pd.isna(v) else str(v).strip() for v in gdf[name]]
    for row, value in enumerate(values, start=1):
        if re.search(r"[,，\r\n]", value) or value.endswith("@"):
            raise SchemaError(
                f"{path}: column {name!r} in row {row} holds {value!r}; commas, line breaks "
                "and a final '@' would break the file's fields. Replace them (e.g. with 、)."
            )
    return values


def _writer_zone(gdf: gpd.GeoDataFrame, zone: int | None, path: Path):
    """(frame in the zone, zone, whether eastings need the prefix added)."""
    if zone is not None:
        if not isinstance(zone, int) or not 25 <= zone <= 45:
            raise CRSError(f"zone={zone!r}: a CGCS2000 3° Gauss-Krüger zone is 25–45.")
        if gdf.crs is not None:
            gdf = gdf.to_crs(4488 + zone)
            return gdf, zone, False
        xs = shapely.get_coordinates(gdf.geometry.values)[:, 0]
        prefixed = len(xs) > 0 and bool((xs >= _PREFIX_MIN).all())
        if prefixed and not (np.floor(xs / 1e6) == zone).all():
            raise CRSError(
                f"{path}: zone={zone} but the eastings carry another zone prefix "
                f"({int(xs[0] // 1e6)}); pass the right zone."
            )
        return gdf, zone, not prefixed
    epsg = gdf.crs.to_epsg() if gdf.crs is not None else None
    if epsg is not None and 4513 <= epsg <= 4533:
        return gdf, epsg - 4488, False
    if epsg is not None and 4534 <= epsg <= 4554:
        return gdf, epsg - 4509, True
    shown = gdf.crs.to_string() if gdf.crs is not None else "no CRS"
    raise CRSError(
        f"{path}: the frame is in {shown}, not CGCS2000 3° Gauss-Krüger (EPSG 4513–4554); "
        "pass zone=… (25–45) to write it in that zone, e.g. zone=38 for 112.5°–115.5°E."
    )
