"""``landgis convert``: between the formats land offices exchange (:func:`landgis.convert`)."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from landgis.cli._common import handled, say, warn
from landgis.errors import LandgisWarning

__all__ = ["convert"]


@click.command()
@click.argument("source", type=click.Path(path_type=str))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--layer",
    metavar="NAME",
    help="Layer to read from a multi-layer source "
    "(GeoPackage, .gdb, or the DXF layer of the red lines).",
)
@click.option(
    "--source-crs",
    metavar="EPSG",
    help="CRS of the source coordinates, for files "
    "without one (DXF always, TXT without 带号, Shapefile without .prj).",
)
@click.option("--crs", metavar="EPSG", help="Reproject to this CRS before writing.")
@click.option(
    "--encoding",
    metavar="ENC",
    help="Text encoding of the source (default: detected; UTF-8 or GBK).",
)
@click.option(
    "--lenient",
    is_flag=True,
    help="A boundary-point TXT source: skip (with a warning) a parcel that lists fewer points "
    "than its header announces or whose header area its points do not bear out, instead of "
    "stopping.",
)
@click.option(
    "--precision",
    type=click.IntRange(0, 9),
    default=3,
    show_default=True,
    metavar="N",
    help="TXT TARGET: decimals of the coordinates (3 = millimetres).  A parcel that would "
    "not read back the same at N decimals is refused, named.",
)
@click.option(
    "--aliases",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TXT TARGET: TOML/YAML with [columns] naming the source fields of the parcel id, "
    "name, use … when landgis does not know them (as for `landgis audit`).",
)
def convert(
    source: str, target: Path, layer, source_crs, crs, encoding, lenient, precision, aliases
) -> None:
    """Convert SOURCE to TARGET by TARGET's suffix: .gpkg, .shp, .geojson or .txt.

    SOURCE may be anything landgis reads: GeoPackage, Shapefile (GBK or UTF-8),
    GeoJSON, File Geodatabase, a boundary-point coordinate TXT (界址点坐标交换格式)
    or a DXF red-line drawing.  A .txt TARGET is written in the standard layout
    with the zone prefix on the eastings, each parcel with its id and name
    (宗地代码, 地块名称 … found as `landgis audit` finds them), and is read back
    before it is written: a parcel that would not come back the same is refused.
    """
    from landgis.io.convert import convert as run_convert

    with handled(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LandgisWarning)
        written = run_convert(
            source,
            target,
            layer=layer,
            encoding=encoding,
            source_crs=source_crs,
            crs=crs,
            strict=not lenient,
            precision=precision,
            aliases=aliases,
        )
    for warning in caught:
        if issubclass(warning.category, LandgisWarning):
            warn(str(warning.message))
    say(f"wrote {written}")

