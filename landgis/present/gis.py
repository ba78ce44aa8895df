"""Findings for ArcGIS: a File Geodatabase with Chinese aliases, and Shapefiles.

- :func:`write_gdb` writes ``findings.gdb`` (GDAL's OpenFileGDB driver, no
  ESRI library needed) with the layers of the GeoPackage.  Field names stay
  landgis' own except the words a geodatabase reserves (``group`` →
  ``group_``); every field carries its Chinese alias (编号, 问题类别 …), which
  ArcGIS shows as the column header.
- :func:`write_shapefiles` writes one Shapefile per layer into a folder, each
  with a ``.cpg`` that says UTF-8 (ArcGIS and QGIS then read the Chinese text
  right) and field names cut to the DBF's 10 bytes by a fixed, documented
  mapping (:data:`SHAPEFILE_FIELDS`), so ``category_label`` is ``CAT_LABEL`` in
  every delivery.  ``fields.csv`` beside the files lists, per layer, each
  field's landgis name, Shapefile name and Chinese alias.

Both replace their output as a whole once complete (a folder a crash leaves
behind is a hidden temporary one), and refuse to replace a folder that is not
an earlier output of theirs.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from landgis.errors import InputFileError, LandgisWarning

__all__ = [
    "GDB_RESERVED",
    "SHAPEFILE_FIELDS",
    "field_table",
    "gdb_field_names",
    "shapefile_field_names",
    "write_gdb",
    "write_shapefiles",
]

#: landgis column → Shapefile (DBF) field name, at most 10 ASCII bytes.
#: Columns not listed are upper-cased and cut to 10 bytes (see
#: :func:`shapefile_field_names`).
SHAPEFILE_FIELDS: dict[str, str] = {
    # findings
    "finding_id": "FINDING_ID",
    "category": "CATEGORY",
    "category_label": "CAT_LABEL",
    "holder": "HOLDER",
    "parcel_id": "PARCEL_ID",
    "other_holder": "OTH_HOLDER",
    "street": "STREET",
    "village": "VILLAGE",
    "area_m2": "AREA_M2",
    "area_mu": "AREA_MU",
    "action": "ACTION",
    "group": "WORK_GROUP",
    "deadline": "DEADLINE",
    "lon": "LON",
    "lat": "LAT",
    "other_parcel_id": "OTH_PARCEL",
    "use_ratio": "USE_RATIO",
    "registered_area_mu": "REG_MU",
    "departments": "DEPARTMENT",
    "amount_owed": "AMT_OWED",
    "annual_rent": "ANNUAL_RNT",
    "months_overdue": "MONTHS_DUE",
    "days_overdue": "DAYS_DUE",
    "deadline_basis": "DL_BASIS",
    "score": "SCORE",
    "land_class": "LAND_CLASS",
    # parcels
    "tenure": "TENURE",
    "holder_id": "HOLDER_ID",
    "parcel_name": "PARCEL_NM",
    "registered_area_m2": "REG_M2",
    "use": "LAND_USE",
    # footprints
    "footprint_id": "FOOTPRINT",
    "user": "USER_NAME",
    "survey_date": "SURVEY_DT",
    "user_source": "USER_SRC",
    "class_code": "DLBM",
    "class_name": "DLMC",
    "czcsxm": "CZCSXM",
    "survey_area_m2": "TBMJ",
    "area_ellipsoid_m2": "AREA_ELL",
    # planning
    "zone": "ZONE",
}

#: Words a File Geodatabase does not accept as field names (GDAL appends ``_``).
GDB_RESERVED = frozenset(
    [
        "ADD",
        "ALTER",
        "AND",
        "BETWEEN",
        "BY",
        "COLUMN",
        "CREATE",
        "DELETE",
        "DROP",
        "EXISTS",
        "FOR",
        "FROM",
        "GROUP",
        "IN",
        "INSERT",
        "INTO",
        "IS",
        "LIKE",
        "NOT",
        "NULL",
        "OR",
        "ORDER",
        "SELECT",
        "SET",
        "TABLE",
        "UPDATE",
        "VALUES",
        "WHERE",
        "OBJECTID",
        "SHAPE",
        "SHAPE_LENGTH",
        "SHAPE_AREA",
    ]
)

_DBF_BYTES = 10
_DBF_TEXT_BYTES = 254
_MARKER = "fields.csv"  # what makes a folder an earlier output of write_shapefiles


def shapefile_field_names(columns: Iterable[str]) -> dict[str, str]:
    """Map column names onto unique DBF field names of at most 10 ASCII bytes.

    Known columns take their name from :data:`SHAPEFILE_FIELDS`.  Others keep
    their ASCII letters, digits and ``_``, upper-cased and cut to 10 bytes
    (``FIELD`` when nothing is left, ``F_`` before a leading digit); a clash
    ends in ``_2``, ``_3`` … within the 10 bytes.

    Examples
    --------
    >>> shapefile_field_names(["category_label", "registered_area_mu", "宗地面积", "notes_of_the_survey"])
    {'category_label': 'CAT_LABEL', 'registered_area_mu': 'REG_MU', '宗地面积': 'FIELD', 'notes_of_the_survey': 'NOTES_OF_T'}
    """  # noqa: E501
    columns = [str(c) for c in columns]
    names: dict[str, str] = {}
    taken: set[str] = set()
    # Known names first, so that an unknown column never takes one of theirs.
    for column in sorted(columns, key=lambda c: c not in SHAPEFILE_FIELDS):
        base = SHAPEFILE_FIELDS.get(column) or _dbf_base(column)
        name, n = base, 2
        while name.upper() in taken:
            suffix = f"_{n}"
            name = base[: _DBF_BYTES - len(suffix)] + suffix
            n += 1
        taken.add(name.upper())
        names[column] = name
    return {c: names[c] for c in columns}


def _dbf_base(column: str) -> str:
    text = re.sub(r"[^A-Za-z0-9_]+", "_", column).strip("_").upper()
    if not text:
        text = "FIELD"
    if text[0].isdigit():
        text = "F_" + text
    return text[:_DBF_BYTES].rstrip("_") or "FIELD"


def gdb_field_names(columns: Iterable[str]) -> dict[str, str]:
    """Map column names onto File Geodatabase field names: landgis' own, reserved
    words (:data:`GDB_RESERVED`) with ``_`` appended.

    Examples
    --------
    >>> gdb_field_names(["finding_id", "group"])
    {'finding_id': 'finding_id', 'group': 'group_'}
    """
    return {str(c): f"{c}_" if str(c).upper() in GDB_RESERVED else str(c) for c in columns}


def field_table(layers: Mapping[str, gpd.GeoDataFrame | None]) -> pd.DataFrame:
    """Every field of every layer: landgis name, Shapefile name, geodatabase name, alias.

    Parameters
    ----------
    layers
        Layer name → frame (``None`` entries are skipped).

    Returns
    -------
    pandas.DataFrame
        Columns ``layer``, ``field``, ``shapefile``, ``gdb``, ``alias`` — the
        table written as ``fields.csv``.
    """
    from landgis.present.qgis import FIELD_ALIASES

    rows = []
    for layer, frame in layers.items():
        if frame is None:
            continue
        columns = [c for c in frame.columns if c != frame.geometry.name]
        shp = shapefile_field_names(columns)
        gdb = gdb_field_names(columns)
        for column in columns:
            rows.append(
                {
                    "layer": layer,
                    "field": column,
                    "shapefile": shp[column],
                    "gdb": gdb[column],
                    "alias": FIELD_ALIASES.get(column, column),
                }
            )
    return pd.DataFrame(rows, columns=["layer", "field", "shapefile", "gdb", "alias"])


def write_gdb(
    findings: gpd.GeoDataFrame,
    path: str | Path,
    *,
    layers: Mapping[str, gpd.GeoDataFrame | None] | None = None,
) -> Path:
    """Write ``findings`` and further ``layers`` to a File Geodatabase with Chinese aliases.

    Parameters
    ----------
    findings
        The findings GeoDataFrame (layer ``findings``).
    path
        The ``.gdb`` folder to write; an earlier geodatabase there is replaced
        once the new one is complete.
    layers
        Further layers, name → frame (``None`` skipped): typically ``parcels``,
        ``footprints``, ``planning``, ``admin``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputFileError
        ``path`` does not end in ``.gdb``, or is a folder that is not a geodatabase.
    """
    import pyarrow as pa
    import pyogrio

    from landgis.present.qgis import FIELD_ALIASES

    path = Path(path)
    if path.suffix.lower() != ".gdb":
        raise InputFileError(f"{path}: a File Geodatabase is a folder ending in .gdb.")
    if path.exists() and not (path / "gdb").is_file() and any(path.iterdir()):
        raise InputFileError(
            f"{path}: exists and is not a File Geodatabase; choose another name or remove it."
        )
    frames = {"findings": findings, **dict(layers or {})}
    with _replaced_folder(path, suffix=".gdb") as tmp:
        tmp.rmdir()  # GDAL creates the folder itself
        for name, frame in frames.items():
            if frame is None:
                continue
            plain = _plain(frame)
            geometry = plain.geometry.name
            names = gdb_field_names(c for c in plain.columns if c != geometry)
            table = pa.table(plain.rename(columns=names).to_arrow(geometry_encoding="WKB"))
            fields = []
            for field in table.schema:
                original = next((c for c, n in names.items() if n == field.name), None)
                if original is not None:
                    alias = FIELD_ALIASES.get(original, original)
                    # GDAL turns this Arrow field metadata into the field's alias.
                    meta = {**(field.metadata or {}), b"GDAL:OGR:alternative_name": alias.encode()}
                    field = field.with_metadata(meta)
                fields.append(field)
            table = table.cast(pa.schema(fields))
            pyogrio.write_arrow(
                table,
                tmp,
                layer=name,
                driver="OpenFileGDB",
                geometry_name=geometry,
                geometry_type="MultiPolygon",
                crs=frame.crs.to_wkt() if frame.crs is not None else None,
            )
    return path


def write_shapefiles(
    findings: gpd.GeoDataFrame,
    folder: str | Path,
    *,
    layers: Mapping[str, gpd.GeoDataFrame | None] | None = None,
) -> dict[str, Path]:
    """Write one Shapefile per layer (UTF-8 with ``.cpg``) and ``fields.csv`` into ``folder``.

    Parameters
    ----------
    findings
        The findings GeoDataFrame (``findings.shp``).
    folder
        Created, or replaced as a whole once complete when it holds an earlier
        output (it has a ``fields.csv``).
    layers
        Further layers, name → frame (``None`` skipped).

    Returns
    -------
    dict
        Layer name (and ``"fields.csv"``) → path.

    Raises
    ------
    InputFileError
        ``folder`` exists with other files in it (it is not an earlier output).

    Notes
    -----
    A DBF text field holds at most 254 bytes (84 Chinese characters); longer
    texts are cut, with a :class:`~landgis.LandgisWarning` naming the field.
    Dates are written as ISO text, as in the GeoPackage.
    """
    import pyogrio

    from landgis.present.csv import write_table

    folder = Path(folder)
    if folder.exists() and not (folder / _MARKER).is_file() and any(folder.iterdir()):
        raise InputFileError(
            f"{folder}: exists and holds other files; write the Shapefiles to a new or "
            "empty folder."
        )
    frames = {
        k: v for k, v in {"findings": findings, **dict(layers or {})}.items() if v is not None
    }
    written: dict[str, Path] = {}
    with _replaced_folder(folder) as tmp:
        for name, frame in frames.items():
            plain = _plain(frame)
            geometry = plain.geometry.name
            names = shapefile_field_names(c for c in plain.columns if c != geometry)
            stem = _layer_stem(name)
            _warn_long_texts(plain, names, f"{stem}.shp")
            with warnings.catch_warnings():
                # GDAL's own word on it (bytes called characters) repeats ours.
                warnings.filterwarnings(
                    "ignore", message=".*has been truncated", category=RuntimeWarning
                )
                pyogrio.write_dataframe(
                    plain.rename(columns=names),
                    tmp / f"{stem}.shp",
                    driver="ESRI Shapefile",
                    encoding="UTF-8",
                    promote_to_multi=True,
                    layer_options={"RESIZE": "YES"},
                )
            cpg = tmp / f"{stem}.cpg"
            if not cpg.exists():  # GDAL writes it for UTF-8; make sure
                cpg.write_text("UTF-8", encoding="ascii")
            written[name] = folder / f"{stem}.shp"
        write_table(field_table(frames), tmp / _MARKER)
        written[_MARKER] = folder / _MARKER
    return written


def _warn_long_texts(frame: gpd.GeoDataFrame, names: Mapping[str, str], label: str) -> None:
    """Warn about texts a DBF cuts (more than 254 UTF-8 bytes)."""
    for column, field in names.items():
        values = frame[column]
        if values.dtype.kind in "biufcmM":
            continue
        lengths = values.dropna().astype(str).map(lambda v: len(v.encode("utf-8")))
        too_long = int((lengths > _DBF_TEXT_BYTES).sum())
        if too_long:
            warnings.warn(
                f"{label}: {too_long} value(s) of {column} ({field}) are longer than "
                f"{_DBF_TEXT_BYTES} bytes and are cut in the Shapefile; the GeoPackage and the "
                "File Geodatabase keep them whole.",
                LandgisWarning,
                stacklevel=3,
            )


def _layer_stem(name: str) -> str:
    from landgis.io.paths import safe_filename

    return safe_filename(name)


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """As for the GeoPackage, with the geometry column named ``geometry``."""
    from landgis.present.gpkg import plain_frame

    out = plain_frame(frame)
    return out if out.geometry.name == "geometry" else out.rename_geometry("geometry")


@contextlib.contextmanager
def _replaced_folder(target: Path, *, suffix: str = "") -> Iterator[Path]:
    """Yield a hidden temporary folder beside ``target``; put it in ``target``'s place
    on success (the old folder is moved aside first, then removed), remove it on error.

    Nothing is created before the ``try``, and an interruption between the two
    renames puts the old folder back, so a signal never loses ``target``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target, suffix)
    token = secrets.token_hex(6)
    tmp = target.parent / f".{target.name}.{token}.tmp{suffix}"
    old = target.parent / f".{target.name}.{token}.old"
    try:
        tmp.mkdir()
        yield tmp
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
    finally:
        if old.exists() and not target.exists():
            os.replace(old, target)  # interrupted between the renames
        for leftover in (tmp, old):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)


def _remove_stale(target: Path, suffix: str, age: float = 60.0) -> None:
    """Temporary folders of ``target`` left by a killed run (older than ``age`` s)."""
    import glob
    import time

    now = time.time()
    for pattern in (
        f".{glob.escape(target.name)}.*.tmp{suffix}",
        f".{glob.escape(target.name)}.*.old",
    ):
        for leftover in target.parent.glob(pattern):
            with contextlib.suppress(OSError):
                if now - leftover.stat().st_mtime > age:
                    shutil.rmtree(leftover)
