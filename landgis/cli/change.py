"""``landgis change``: what changed between two surveys (:func:`landgis.change.detect_change`)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from landgis.cli._common import handled, int_list, say

__all__ = ["change"]


@click.command()
@click.argument("before", type=click.Path(path_type=str))
@click.argument("after", type=click.Path(path_type=str))
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for change.csv, change.gpkg and change.html.",
)
@click.option(
    "--parcels",
    type=click.Path(path_type=str),
    help="Red lines: split every change by parcel and name its holder; for rasters, they "
    "also give each footprint its user (the holder of the parcel holding most of it).",
)
@click.option("--admin", type=click.Path(path_type=str), help="Street/village areas.")
@click.option(
    "--classes",
    callback=lambda ctx, param, value: int_list(value, "--classes"),
    metavar="V[,V…]",
    help="For two rasters (required): the pixel values that are actual use.",
)
@click.option(
    "--mask-from",
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    metavar="IMAGE",
    help="For rasters saved without georeference: take it from this image.",
)
@click.option(
    "--min-area",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    metavar="M2",
    help="Smallest change kept, m² (0 keeps every sliver).",
)
@click.option("--crs", metavar="EPSG", help="Analysis CRS (default as for `landgis audit`).")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Campaign TOML (deadlines, routing).",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="CSV language.",
)
@click.option(
    "--land-survey",
    is_flag=True,
    help="BEFORE (and AFTER, unless --patches) are the land survey's 地类图斑 layers (三调 / "
    "国土变更调查 DLTB): their 图斑 of the classes in use are the footprints, users from "
    "--parcels; BEFORE's classes label the changes, and new use outside every red line on "
    "耕地 is 占用耕地建设.",
)
@click.option(
    "--patches",
    is_flag=True,
    help="AFTER is a 卫片 change-patch layer (监测图斑: class before/after such as BGQDL/BGHDL, "
    "dates QSX/HSX; other field names through [land_survey.patch_fields] in --config): new "
    "construction is what changed from a class not in use to one in use.  BEFORE is the "
    "survey the patches are relative to, or - for none (then no change counts as grown).",
)
@click.option(
    "--land-classes",
    type=click.Path(path_type=str),
    metavar="DLTB",
    help="A land-survey layer whose classes label the changes of two footprint layers.",
)
@click.option("--before-layer", metavar="NAME", help="Layer of BEFORE (e.g. DLTB in a .gdb).")
@click.option("--after-layer", metavar="NAME", help="Layer of AFTER.")
@click.option("--land-classes-layer", metavar="NAME", help="Layer of --land-classes.")
@click.option("-q", "--quiet", is_flag=True, help="Do not print the summary.")
def change(
    before,
    after,
    outdir,
    parcels,
    admin,
    classes,
    mask_from,
    min_area,
    crs,
    config,
    lang,
    land_survey,
    patches,
    land_classes,
    before_layer,
    after_layer,
    land_classes_layer,
    quiet,
) -> None:
    """Changes of actual use between two surveys: BEFORE and AFTER.

    Both are footprint layers (with users, like `landgis audit`'s FOOTPRINTS),
    both classified rasters (with --classes), both land-survey layers
    (--land-survey), or AFTER is a 卫片 change-patch layer (--patches).  Writes
    change.csv (UTF-8 with BOM), change.gpkg (layer findings) and change.html,
    an offline map of the new (新增用地), grown (扩建用地) and removed (用地减少) use.
    """
    from landgis.change import detect_change

    with handled():
        change = detect_change(
            None if before == "-" else before,
            after,
            parcels=parcels,
            admin=admin,
            classes=classes,
            mask_from=mask_from,
            min_area=min_area,
            crs=crs,
            config=config,
            land_survey=land_survey,
            patches=patches,
            land_classes=land_classes,
            before_layer=before_layer,
            after_layer=after_layer,
            land_classes_layer=land_classes_layer,
        )
        written = list(change.write(outdir, lang=lang).values())
    found = change.findings
    if not quiet:
        out = Console()
        for code, group in found.groupby("category"):
            say(f"{code}: {len(group)} ({group['area_m2'].sum():,.1f} m²)", console=out)
        for path in written:
            say(f"wrote {path}", console=out)

