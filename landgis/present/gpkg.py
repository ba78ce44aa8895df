"""The GeoPackage: findings (layer ``findings``) plus the inputs as audited."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from landgis.io.atomic import atomic_path

__all__ = ["write_gpkg"]


def write_gpkg(
    findings: gpd.GeoDataFrame,
    path: str | Path,
    *,
    layers: Mapping[str, gpd.GeoDataFrame | None] | None = None,
    tables: Mapping[str, pd.DataFrame | None] | None = None,
    styles: bool = True,
) -> Path:
    """Write ``findings``, further ``layers`` and attribute ``tables`` to one GeoPackage.

    ``tables`` (name → DataFrame without geometry) become GeoPackage attribute
    tables, so an audit's per-holder figures travel with its findings.

    The file is assembled under a temporary name and renamed when complete.
    Dates become ISO text so every GIS reads them alike.  With ``styles`` (the
    default) the file carries QGIS styles (the ``layer_styles`` table, see
    :mod:`landgis.present.qgis`): opened in QGIS it looks like the HTML map.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, frame in {"findings": findings, **dict(layers or {})}.items():
            if frame is None:
                continue
            # Feature by feature: as fast here as through Arrow, and without
            # a second copy of every layer in memory.
            plain_frame(frame).to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
        for name, table in dict(tables or {}).items():
            if table is not None:
                pyogrio.write_dataframe(plain_frame(table), tmp, layer=name, driver="GPKG")
        if styles:
            from landgis.present.qgis import write_layer_styles

            write_layer_styles(tmp)
    return path


def plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy GDAL writes as is: no attrs, dates as ISO text, an input ``fid`` renamed."""
    out = frame.copy()
    out.attrs = {}
    # GeoPackage keeps its own integer key in "fid"; an input column of that
    # name (common in QGIS exports) would clash with it.
    out = out.rename(columns={c: f"{c}_original" for c in out.columns if str(c).lower() == "fid"})
    geometry = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geometry:
            continue
        if out[col].dtype == object:
            sample = out[col].dropna()
            if len(sample) and hasattr(sample.iloc[0], "isoformat"):
                out[col] = out[col].map(lambda d: d.isoformat() if pd.notna(d) else None)
    return out
