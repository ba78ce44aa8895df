"""Read back what an audit wrote, so maps and reports can be made again from it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from landgis.errors import InputFileError

__all__ = ["read_outputs"]

LAYERS = ("findings", "parcels", "footprints", "planning", "admin")
TABLES = ("holders", "parcel_use", "evaluation", "instalments")


def read_outputs(path: str | Path) -> dict[str, gpd.GeoDataFrame | None]:
    """The layers of an audit's ``findings.gpkg`` (``path`` is the file or its folder).

    Returns
    -------
    dict
        ``findings``, ``parcels``, ``footprints``, ``planning``, ``admin`` and
        the tables ``holders``, ``parcel_use``, ``evaluation`` (``None`` for
        what the audit did not have).
    """
    import pyogrio

    path = Path(path)
    if path.is_dir():
        path = path / "findings.gpkg"
    if not path.is_file():
        raise InputFileError(f"{path}: not found; run `landgis audit … -o {path.parent}` first.")
    try:
        present = {name for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:
        raise InputFileError(f"{path}: not a GeoPackage written by landgis ({exc}).") from exc
    if "findings" not in present:
        raise InputFileError(f"{path}: has no layer 'findings'; is it a landgis output?")
    out: dict[str, gpd.GeoDataFrame | None] = {}
    for name in LAYERS:
        out[name] = gpd.read_file(path, layer=name, engine="pyogrio") if name in present else None
    for name in TABLES:
        out[name] = pyogrio.read_dataframe(path, layer=name) if name in present else None
    findings = out["findings"]
    assert findings is not None  # "findings" is in present, checked above
    for column in (
        "holder",
        "parcel_id",
        "other_holder",
        "other_parcel_id",
        "street",
        "village",
        "departments",
        "deadline",
        "deadline_basis",
        "land_class",
    ):
        if column in findings:
            findings[column] = findings[column].fillna("").astype(object)
    return out
