"""Convert between the formats land offices exchange and GIS formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from landgis.crs import parse_crs
from landgis.errors import InputFileError
from landgis.io.atomic import atomic_path
from landgis.io.vector import read_geodata
from landgis.schema import LAYERS, LayerSpec

__all__ = ["WRITABLE", "convert"]

#: Output suffix → what is written.
WRITABLE = {
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile (UTF-8, with .cpg)",
    ".geojson": "GeoJSON",
    ".txt": "boundary-point coordinate TXT (界址点坐标交换格式)",
}


#: The fields a boundary-point TXT holds per parcel, found in the source through the
#: aliases :func:`landgis.read_parcels` uses (宗地代码/ZDDM → parcel_id, 地块名称 → parcel_name …).
TXT_FIELDS = LayerSpec(
    name="boundary_txt",
    label="界址点坐标",
    required=(),
    optional=("parcel_id", "parcel_name", "use", "map_sheet", "land_class"),
    aliases={
        **{k: LAYERS["parcels"].aliases[k] for k in ("parcel_id", "parcel_name", "use")},
        "map_sheet": ("图幅号", "TFH", "图幅"),
        "land_class": ("地类编码", "DLBM", "地类代码"),
    },
)


def convert(
    source: str | Path,
    target: str | Path,
    *,
    layer: str | int | None = None,
    encoding: str | None = None,
    source_crs: Any = None,
    crs: Any = None,
    strict: bool = True,
    precision: int = 3,
    aliases: Any = None,
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
    precision
        TXT only: decimals of the coordinates (3 = millimetres).  The file is
        read back before it is written; a parcel that would not come back the
        same is refused, named (see :func:`landgis.write_boundary_txt`).
    aliases
        TXT only: more field names for the parcel id, name, use, map sheet and
        land class, as for :func:`landgis.read_parcels` (the defaults know
        宗地代码/ZDDM, 地块名称/DKMC, 用途/YT, 图幅号/TFH, 地类编码/DLBM …).

    Notes
    -----
    A TXT keeps each parcel's id and name: the source's fields are found as
    :func:`landgis.read_parcels` finds them.  A source without an id field
    gets 1, 2 … with a :class:`~landgis.errors.LandgisWarning`.

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
        from landgis.io.columns import rename_columns, user_aliases, warn

        found = rename_columns(frame, TXT_FIELDS, user_aliases(aliases, None, None), str(source))
        frame = found[[c for c in (*TXT_FIELDS.optional, found.geometry.name) if c in found]]
        if "parcel_id" not in frame:
            warn(
                frame,
                f"{source}: no parcel id field (宗地代码, ZDDM, 地块编号 … or one named with "
                f"--aliases); the parcels are numbered 1 to {len(frame)} in {target.name}.",
            )
        return write_boundary_txt(frame, target, precision=precision)
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
