"""Convert between the formats land offices exchange and GIS formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from landgis.crs import parse_crs
from landgis.errors import InputFileError
from landgis.io.atomic import atomic_path
from landgis.io.vector import read_geodata

__all__ = ["WRITABLE", "convert"]

#: Output suffix → what is written.
WRITABLE = {
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile (UTF-8, with .cpg)",
    ".geojson": "GeoJSON",
    ".txt": "boundary-point coordinate TXT (界址点坐标交换格式)",
}


def convert(
    source: str | Path,
    target: str | Path,
    *,
    layer: str | int | None = None,
    encoding: str | None = None,
    source_crs: Any = None,
    crs: Any = None,
    strict: bool = True,
) -> Path:
    """Read ``source`` (any format landgis reads) and write ``target`` by its suffix.

    Parameters
    ----------
    source
        GeoPackage, Shapefile, GeoJSON, File Geodatabase, boundary-point TXT, DXF …
    target
        ``.gpkg``, ``.shp``, ``.geojson`` or ``.txt`` (see :data:`WRITABLE`).
    layer, encoding, source_crs
        As for :func:`landgis.read_parcels` (a DXF needs ``source_crs``).
    crs
        Reproject to this CRS before writing (a TXT needs a CGCS2000 Gauss-Krüger
        zone).
    strict
        As for :func:`landgis.read_boundary_txt`: ``False`` skips the parcels of a
        TXT source that are cut off or whose header area does not fit, with a warning.

    Returns
    -------
    pathlib.Path
        The file written (atomically: an interrupted run leaves no partial file).
    """
    source, target = Path(source), Path(target)
    suffix = target.suffix.lower()
    if suffix not in WRITABLE:
        raise InputFileError(
            f"{target}: cannot write {suffix or 'files without suffix'}; choose "
            + ", ".join(f"{k} ({v})" for k, v in WRITABLE.items())
            + "."
        )
    if source.exists() and target.exists() and source.resolve() == target.resolve():
        raise InputFileError(f"{target}: is the input itself; write to another file.")
    frame = read_geodata(
        source, layer=layer, encoding=encoding, source_crs=source_crs, strict=strict
    )
    frame.attrs = {}
    if crs is not None:
        frame = frame.to_crs(parse_crs(crs))
    if suffix == ".txt":
        from landgis.io.boundary_txt import write_boundary_txt

        return write_boundary_txt(frame, target)
    with atomic_path(target) as tmp:
        if suffix == ".shp":
            frame.to_file(tmp, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
            # The side files were written beside the temporary name; move them too.
            for part in tmp.parent.glob(tmp.stem + ".*"):
                if part != tmp:
                    part.replace(target.with_suffix(part.suffix))
        elif suffix == ".geojson":
            frame.to_file(tmp, driver="GeoJSON", engine="pyogrio")
        else:
            frame.to_file(tmp, layer=source.stem, driver="GPKG", engine="pyogrio")
    return target
