"""The ``landgis`` command: thin commands over the Python API.

Exit codes: 0 success, 2 bad input or usage (the message names the file and
the fix; no traceback), 1 an unexpected internal error.
"""

from __future__ import annotations

import signal
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import landgis
from landgis.errors import LandgisError, LandgisWarning
from landgis.io.text_out import counting, replacements, terminal_text
from landgis.present.webmap import BASEMAPS
from landgis.result import GIS_FORMATS

_STAGES = 8  # reading, 5 engine stages, building findings, writing

err = Console(stderr=True)

#: The stage a running audit is in (set from its progress calls, which may come
#: from the engine's worker thread); named when the run is interrupted.
_stage: dict[str, str | None] = {"now": None}


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(landgis.__version__, prog_name="landgis")
def main() -> None:
    """landgis — land-resource verification and red-line violation detection (土地资源核查处置).

    Overlay the red lines of requisitioned and leased parcels on surveyed actual
    use, and write the findings for enforcement (CSV), GIS (GeoPackage) and the
    coordination group (summaries).  Run `landgis demo` to see it on the sample park.
    """


_audit_options = [
    click.option(
        "-o",
        "--output",
        "outdir",
        type=click.Path(file_okay=False, path_type=Path),
        required=True,
        help="Folder for findings.csv, findings.gpkg and summaries "
        "(created if missing; existing files are replaced only when complete).",
    ),
    click.option(
        "--planning",
        type=click.Path(path_type=str),
        help="Planning zones (column zone/规划分区). Leased-in land inside one is "
        "'idle' (租而未用) rather than 'unused'; the agricultural park zone routes "
        "its findings to 现代农业园农业农村组.",
    ),
    click.option(
        "--admin",
        type=click.Path(path_type=str),
        help="Street/village areas (columns street/街道, village/村社区) that give "
        "every finding its street and village; otherwise the parcel's are used.",
    ),
    click.option(
        "--crs",
        metavar="EPSG",
        help="Analysis CRS, e.g. 4528 (CGCS2000 3° GK zone 40). Default: the "
        "parcels' CRS when it is a metric projection that keeps areas, else the GK zone "
        "of the data. Layers without a CRS are taken to be in it.",
    ),
    click.option(
        "--source-crs",
        metavar="EPSG",
        help="The CRS the input coordinates are really in, for files with none (no .prj) "
        "or a wrong one (a GeoJSON without crs member is read as degrees), e.g. 4490.",
    ),
    *[
        click.option(
            f"--{name}-layer",
            f"{name}_layer",
            metavar="NAME",
            help=f"Layer of the {name} in a multi-layer file (GeoPackage, .gdb).",
        )
        for name in ("parcels", "footprints", "planning", "admin")
    ],
    click.option(
        "--min-area",
        type=click.FloatRange(min=0),
        metavar="M2",
        help="Smallest finding kept, in m² (default 1; 0 keeps every sliver).",
    ),
    click.option(
        "--idle-ratio",
        type=click.FloatRange(0, 1),
        metavar="R",
        help="Use share below which a parcel counts as idle (default 0.1).",
    ),
    click.option(
        "--grid-size",
        type=click.FloatRange(min=0, min_open=True),
        metavar="M",
        help="Snap-rounding grid of the overlays in metres (default 1e-6): closes "
        "the invisible gaps where digitized neighbours meet.",
    ),
    click.option(
        "--lang",
        type=click.Choice(["zh", "en"]),
        default="zh",
        show_default=True,
        help="CSV and summary language: Chinese headers and labels, or English.",
    ),
    click.option(
        "--config",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Campaign TOML: deadlines, tolerances, routing (see docs/campaign.toml).",
    ),
    click.option(
        "--aliases",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="TOML/YAML with [columns] (field → landgis column) and [tenure] "
        "(word → tenure code) for files whose field names landgis does not know.",
    ),
    click.option(
        "--encoding",
        metavar="ENC",
        help="Attribute encoding of the input files, e.g. gbk for an old Shapefile without .cpg.",
    ),
    click.option(
        "--lenient",
        is_flag=True,
        help="Boundary-point TXT red lines: skip (with a warning) a parcel that lists fewer "
        "points than its header announces or whose header area its points do not bear out, "
        "instead of stopping. Such a parcel is never built from the points that are there.",
    ),
    click.option(
        "--threads",
        type=click.IntRange(min=1),
        metavar="N",
        help="Threads for the geometry work (default: every core). Results do not depend on it.",
    ),
    click.option(
        "--engine",
        type=click.Choice(["local", "dask"]),
        default="local",
        show_default=True,
        help="Where the tiles of a partitioned audit run: in this process, or on a Dask "
        "cluster (--scheduler; needs pip install 'landgis[dask]').  Findings are the same.",
    ),
    click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="With --engine dask: the scheduler, e.g. tcp://10.0.0.5:8786 (default: start a "
        "local cluster of 2 worker processes).",
    ),
    click.option(
        "--tile-size",
        type=click.FloatRange(min=0, min_open=True),
        metavar="M",
        help="Cut the zone into square tiles of M metres and audit them one by one "
        "(default with --engine dask or --memory-budget: chosen from the data).",
    ),
    click.option(
        "--halo",
        type=click.FloatRange(min=0),
        metavar="M",
        help="Margin each tile reads around itself, metres (default chosen from the data; "
        "tiles whose pieces reach it are rerun larger, so results never depend on it).",
    ),
    click.option(
        "--memory-budget",
        type=click.FloatRange(min=0, min_open=True),
        metavar="GB",
        help="Stream the footprints tile by tile from a GeoParquet or GeoPackage instead of "
        "loading them all, aiming to stay within GB gigabytes (a province on one machine).",
    ),
    click.option(
        "--map",
        "maps",
        is_flag=True,
        help="Also write the HTML maps: map.html (whole zone), maps/<street>.html, "
        "maps/<department>.html, and PNG overviews; they work offline.",
    ),
    click.option(
        "--basemap",
        type=click.Choice(BASEMAPS),
        default="osm",
        show_default=True,
        help="Basemap of the HTML maps: OpenStreetMap, Tianditu vector/imagery "
        "(needs a key), Gaode/AMap (layers shifted to GCJ-02), or none.",
    ),
    click.option(
        "--tianditu-key",
        envvar="TIANDITU_KEY",
        metavar="KEY",
        help="Your Tianditu (天地图) key; or set TIANDITU_KEY.",
    ),
    click.option(
        "--registers",
        multiple=True,
        type=click.Path(path_type=str),
        help="A lease, payment, fee or enterprise register (.xlsx or .csv); repeat for several. "
        "Each sheet's kind is recognised from its header. Adds rent and fee arrears, the rent "
        "owed for over-use of leased land, the rent paid for leased-in land and the per-mu "
        "evaluation (class D: low_efficiency).",
    ),
    click.option(
        "--report",
        is_flag=True,
        help="Also write report.xlsx for the coordination group (summary, all findings, one "
        "sheet per working group, the evaluation) and dossiers/<enterprise>.xlsx (一企一策).",
    ),
    click.option(
        "--xlsx",
        is_flag=True,
        help="Also write findings.xlsx: the CSV's table as an "
        "Excel workbook, where long parcel codes stay text (Excel turns a 12-digit "
        "宗地代码 in a CSV into 3.21202E+11).",
    ),
    click.option(
        "--classes",
        callback=lambda ctx, param, value: _int_list(value, "--classes"),
        metavar="V[,V…]",
        help="For FOOTPRINTS that are a classified raster (.tif, .img, .vrt, .jp2): the pixel "
        "values that are actual use, e.g. 50 (ESA WorldCover built-up) or 255 (a 0/255 "
        "building mask).  Each connected region becomes a footprint whose user is the holder of "
        "the authorized parcel holding most of it.",
    ),
    click.option(
        "--mask-from",
        type=click.Path(exists=True, dir_okay=False, path_type=str),
        metavar="IMAGE",
        help="Raster FOOTPRINTS: take the georeference (transform, CRS) from this image, for "
        "masks saved without one (same size, pixel for pixel).",
    ),
    click.option(
        "--sieve",
        type=click.IntRange(min=0),
        metavar="PX",
        help="Raster FOOTPRINTS: remove specks and fill holes smaller than PX pixels (default 0).",
    ),
    click.option(
        "--connectivity",
        type=click.Choice(["4", "8"]),
        help="Raster FOOTPRINTS: pixels touching only at a corner are one region (8, default) "
        "or not (4).",
    ),
    click.option(
        "--unknown-user",
        metavar="NAME",
        help="Raster FOOTPRINTS: the user of footprints not mostly inside one authorized "
        "parcel (default 未知使用人).",
    ),
    click.option(
        "--orthophoto",
        type=click.Path(exists=True, dir_okay=False, path_type=str),
        metavar="TIF",
        help="With --map: draw this GeoTIFF (drone orthophoto, imagery) under the findings, "
        "embedded in each page so it shows offline.",
    ),
    click.option(
        "--fieldkit",
        is_flag=True,
        help="Also write the site-check kit fieldkit/<street>.kmz (for 奥维互动地图 or Google "
        "Earth, WGS84) and fieldkit/<street>.html (A4 print list); see `landgis fieldkit`.",
    ),
    click.option(
        "--format",
        "formats",
        multiple=True,
        type=click.Choice(["gpkg", *GIS_FORMATS]),
        help="GIS format besides findings.gpkg (always written, with QGIS styles); repeat "
        "for several. gdb: findings.gdb, a File Geodatabase for ArcGIS with Chinese field "
        "aliases; shp: shp/, one Shapefile per layer (UTF-8 .cpg, 10-byte field names "
        "listed in shp/fields.csv).",
    ),
    click.option("-q", "--quiet", is_flag=True, help="No progress display or summary table."),
]


_RASTER_OPTIONS = ("classes", "mask_from", "sieve", "connectivity", "unknown_user")


def _int_list(value: str | None, option: str) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: give whole pixel values separated by commas, e.g. 50 or 1,2",
            param_hint=option,
        ) from None


def audit_options(func):
    for option in reversed(_audit_options):
        func = option(func)
    return func


@main.command()
@click.argument("parcels", type=click.Path(path_type=str))
@click.argument("footprints", type=click.Path(path_type=str))
@audit_options
def audit(parcels: Path, footprints: Path, **options) -> None:
    """Audit PARCELS (red lines, 红线) against FOOTPRINTS (actual use, 实际使用).

    Both are vector files GDAL reads (GeoPackage, Shapefile, GeoJSON …) with
    polygons.  PARCELS needs a parcel id, a tenure (征用/代征/租出/租入) and a
    holder; FOOTPRINTS needs the user (使用人).  Common Chinese field names
    (宗地代码, 权利人, 取得方式, 使用人 …) are recognised; see --aliases.
    """
    _run_audit(parcels, footprints, **options)


@main.command()
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("landgis-demo"),
    show_default=True,
    help="Folder for the outputs.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="CSV and summary language.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress display or summary table.")
def demo(outdir: Path, lang: str, quiet: bool) -> None:
    """Audit the bundled sample park (data/boundaries/) and write its findings and maps."""
    _run_audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        outdir=outdir,
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
        lang=lang,
        quiet=quiet,
        xlsx=True,  # small: show the workbook, the maps, the registers and the report too
        maps=True,
        report=True,
        fieldkit=True,
        registers=[landgis.datasets.sample_dir() / "registers.xlsx"],
        config=landgis.datasets.sample_dir() / "campaign.toml",
    )


@main.command(name="map")
@click.argument("outdir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--basemap",
    type=click.Choice(BASEMAPS),
    default="osm",
    show_default=True,
    help="OpenStreetMap, Tianditu vector/imagery (needs a key), Gaode/AMap (layers "
    "shifted to GCJ-02), or none.",
)
@click.option(
    "--tianditu-key",
    envvar="TIANDITU_KEY",
    metavar="KEY",
    help="Your Tianditu (天地图) key; or set TIANDITU_KEY.",
)
@click.option(
    "--orthophoto",
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    metavar="TIF",
    help="Draw this GeoTIFF (drone orthophoto, imagery) under the findings, embedded in "
    "each page so it shows offline.",
)
@click.option("--no-png", is_flag=True, help="Skip the PNG overviews.")
@click.option("-q", "--quiet", is_flag=True, help="Do not list the files written.")
def map_command(
    outdir: Path,
    basemap: str,
    tianditu_key: str | None,
    orthophoto: str | None,
    no_png: bool,
    quiet: bool,
) -> None:
    """Draw the maps of an earlier audit from OUTDIR/findings.gpkg.

    Writes OUTDIR/map.html (whole zone), OUTDIR/maps/<street>.html (one per
    street, with only that street's findings), OUTDIR/maps/<department>.html
    (自然资源和规划局, 城管局) and PNG overviews.  The pages open offline.
    """
    from landgis.io.outputs import read_outputs
    from landgis.present.webmap import write_maps

    with _handled():
        layers = read_outputs(outdir)
        written = write_maps(
            outdir,
            layers["findings"],
            **{k: layers[k] for k in ("parcels", "footprints", "planning", "admin")},
            basemap=basemap,
            tianditu_key=tianditu_key,
            png=not no_png,
            orthophoto=orthophoto,
        )
    if not quiet:
        for path in written.values():
            _say(f"wrote {path}")


@main.command()
@click.argument("outdir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Do not list the files written.")
def report(outdir: Path, quiet: bool) -> None:
    """Write OUTDIR/report.xlsx and OUTDIR/dossiers/ from an earlier audit's findings.gpkg.

    report.xlsx is for the coordination group (综合组): the totals (违规用地面积,
    涉及地块面积 — land counted once — and 欠缴金额 in 元) and the same per
    category, working group and street, every finding, one sheet per working
    group, the per-mu evaluation and the rent instalments.  dossiers/<enterprise>.xlsx is
    one page per enterprise (一企一策): parcels, use, findings, amounts, class.
    """
    from landgis.io.outputs import read_outputs
    from landgis.present.report import write_dossiers, write_report

    with _handled():
        layers = read_outputs(outdir)
        findings = layers["findings"]
        evaluation = layers.get("evaluation")
        if evaluation is not None:
            evaluation = evaluation.set_index("holder")
        written = [
            write_report(
                outdir / "report.xlsx",
                findings,
                evaluation=evaluation,
                parcels=layers["parcels"],
                instalments=layers.get("instalments"),
            )
        ]
        if layers.get("holders") is not None and layers.get("parcel_use") is not None:
            written += write_dossiers(
                outdir / "dossiers",
                findings,
                parcels=layers["parcels"],
                holders=layers["holders"].set_index("holder"),
                parcel_use=layers["parcel_use"],
                evaluation=evaluation,
            ).values()
    if not quiet:
        for path in written:
            _say(f"wrote {path}")


@main.command()
@click.argument("outdir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "kitdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the kit.  [default: OUTDIR/fieldkit]",
)
@click.option(
    "--gcj02",
    is_flag=True,
    help="KMZ coordinates in GCJ-02, for apps that draw Gaode/AMap basemaps and do not "
    "shift WGS84 themselves (奥维互动地图 and Google Earth take the default WGS84).",
)
@click.option("--no-print", is_flag=True, help="Skip the A4 print lists (<street>.html).")
@click.option("-q", "--quiet", is_flag=True, help="Do not list the files written.")
def fieldkit(outdir: Path, kitdir: Path | None, gcj02: bool, no_print: bool, quiet: bool) -> None:
    """Write the site-check kit (外业核查包) of an earlier audit in OUTDIR, per street.

    <street>.kmz holds one placemark per finding (id and category as its name;
    holder, parcel, 亩, action, working group and deadline in its balloon; the
    polygon and a point inside it), in folders by category with the map's
    colours, for 奥维互动地图 or Google Earth.  <street>.html is the A4 print
    list: an index, then one card per finding with a small map and room for
    the inspector's notes; it needs no network.
    """
    from landgis.io.outputs import read_outputs
    from landgis.present.kml import write_fieldkit

    with _handled():
        layers = read_outputs(outdir)
        written = write_fieldkit(
            layers["findings"],
            kitdir if kitdir is not None else outdir / "fieldkit",
            parcels=layers["parcels"],
            footprints=layers["footprints"],
            gcj02=gcj02,
            printlist=not no_print,
        )
    if not quiet:
        for path in written.values():
            _say(f"wrote {path}")


@main.command()
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
    callback=lambda ctx, param, value: _int_list(value, "--classes"),
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
@click.option("-q", "--quiet", is_flag=True, help="Do not print the summary.")
def change(
    before, after, outdir, parcels, admin, classes, mask_from, min_area, crs, config, lang, quiet
) -> None:
    """Changes of actual use between two surveys: BEFORE and AFTER.

    Both are footprint layers (with users, like `landgis audit`'s FOOTPRINTS)
    or both classified rasters (with --classes).  Writes change.csv (UTF-8 with
    BOM), change.gpkg (layer findings) and change.html, an offline map of the
    new (新增用地), grown (扩建用地) and removed (用地减少) use.
    """
    from landgis.change import detect_change

    with _handled():
        change = detect_change(
            before,
            after,
            parcels=parcels,
            admin=admin,
            classes=classes,
            mask_from=mask_from,
            min_area=min_area,
            crs=crs,
            config=config,
        )
        written = list(change.write(outdir, lang=lang).values())
    found = change.findings
    if not quiet:
        out = Console()
        for code, group in found.groupby("category"):
            _say(f"{code}: {len(group)} ({group['area_m2'].sum():,.1f} m²)", console=out)
        for path in written:
            _say(f"wrote {path}", console=out)


@main.command()
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

    with _handled(), warnings.catch_warnings(record=True) as caught:
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
            _warn(str(warning.message))
    _say(f"wrote {written}")


def _run_audit(
    parcels,
    footprints,
    *,
    outdir: Path,
    lang: str = "zh",
    quiet: bool = False,
    xlsx: bool = False,
    maps: bool = False,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    report: bool = False,
    registers=(),
    formats=(),
    fieldkit: bool = False,
    orthophoto: str | None = None,
    scheduler: str | None = None,
    **options,
) -> None:
    if maps and basemap.startswith("tianditu") and not tianditu_key:
        raise click.UsageError("--basemap tianditu needs --tianditu-key KEY (or TIANDITU_KEY).")
    if orthophoto is not None and not maps:
        raise click.UsageError("--orthophoto draws under the maps: add --map.")
    if scheduler is not None:
        if options.get("engine") != "dask":
            raise click.UsageError("--scheduler is for --engine dask.")
        options["client"] = scheduler
    options["strict"] = not options.pop("lenient", False)
    raster = {k: v for k in _RASTER_OPTIONS if (v := options.pop(k, None)) is not None}
    if "connectivity" in raster:
        raster["connectivity"] = int(raster["connectivity"])
    if raster:
        from landgis.io.raster import RASTER_SUFFIXES

        if not str(footprints).lower().endswith(RASTER_SUFFIXES):
            raise click.UsageError(
                f"--{next(iter(raster)).replace('_', '-')} is for raster footprints "
                f"({', '.join(RASTER_SUFFIXES)}); {footprints} is not one."
            )
        options["raster"] = raster
    with (
        _handled(),
        _progress(quiet, stages=_STAGES + maps + fieldkit) as step,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", LandgisWarning)  # listed below, from the report
        result = landgis.audit(
            parcels,
            footprints,
            progress=step,
            on_partition=step.partition,
            registers=list(registers) or None,
            **options,
        )
        step("writing outputs")
        written = result.write(outdir, lang=lang, xlsx=xlsx, formats=formats)
        if report:
            written.update(result.write_report(outdir))
        if maps:
            step("drawing maps")
            written.update(
                result.write_maps(
                    outdir, basemap=basemap, tianditu_key=tianditu_key, orthophoto=orthophoto
                )
            )
        if fieldkit:
            step("writing the field kit")
            kit = result.write_fieldkit(outdir / "fieldkit")
            written.update({f"fieldkit/{name}": path for name, path in kit.items()})
        tally = replacements()
        if tally:  # characters the outputs could not hold: in the trail, and shown below
            result.report["replaced_characters"] = tally.as_dict()
            result.report.setdefault("warnings", []).extend(tally.take())
            written["summary.json"] = result.write_trail(outdir)
    for message in result.report.get("warnings", []):  # shown even when quiet
        _warn(message)
    if not quiet:
        _print_summary(result, written)


@contextmanager
def _progress(quiet: bool, stages: int = _STAGES):
    if quiet:

        def silent(stage: str) -> None:
            _stage["now"] = stage

        silent.partition = lambda event: None
        yield silent
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=stages)

        def step(stage: str) -> None:
            if stage.startswith("Dask dashboard"):
                bar.console.print(stage, highlight=False, markup=False)  # a link to keep
                return
            _stage["now"] = stage
            bar.update(task, description=stage, advance=0 if stage == "reading layers" else 1)

        tiles = None

        def partition(event) -> None:
            """One bar for the tiles of a partitioned audit (landgis.scale)."""
            nonlocal tiles
            if tiles is None:
                tiles = bar.add_task("tiles", total=event.total)
            bar.update(
                tiles,
                completed=event.done,
                description=f"tile {event.tile} · {event.footprints:,} footprints · "
                f"{escape(str(event.worker))}",
            )

        step.partition = partition
        yield step
        bar.update(task, completed=stages)


@contextmanager
def _handled():
    """Errors a user can act on, as a message and an exit code, never a traceback.

    landgis' own errors and files that cannot be read or written exit with 2;
    Ctrl-C or SIGTERM with 130, after the writer in progress has removed its
    temporary file (every output is either the previous one or complete);
    running out of memory with 1.
    """
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
    _stage["now"] = None
    try:
        with counting() as tally:
            yield
        for message in tally.take():  # characters an output could not hold
            _warn(message)
    except (LandgisError, OSError) as exc:
        err.print(
            f"[bold red]error:[/] {escape(terminal_text(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(2)
    except KeyboardInterrupt:
        # The engine runs on a worker thread (landgis.engine.ops.abandonable), so
        # this arrives at once even in a long GEOS call; the worker dies with us.
        where = f" while {_stage['now']}" if _stage["now"] else ""
        err.print(
            f"[bold red]interrupted{escape(where)}:[/] every output file is either the "
            "previous one or complete; none is half-written.",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(130)
    except MemoryError:
        err.print(
            "[bold red]error:[/] not enough memory for these layers; run with "
            "--threads 1, or audit the zone street by street.",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _warn(message: str) -> None:
    """A warning on stderr: data in it is text (no markup, no terminal controls)."""
    err.print(
        f"[yellow]warning:[/] {escape(terminal_text(message))}", highlight=False, soft_wrap=True
    )


def _say(text, *, console: Console | None = None) -> None:
    """A line on stdout, as text: no markup, no terminal controls from the data."""
    (console or Console()).print(terminal_text(text), highlight=False, markup=False)


def _interrupt(signum, frame):
    """SIGTERM as Ctrl-C, so that writers clean up on the way out."""
    raise KeyboardInterrupt


def _print_summary(result: landgis.Audit, written: dict[str, Path]) -> None:
    from landgis.present.units import fmt, headline

    out = Console()
    sums = result.totals()
    table = Table(
        title=escape(
            f"landgis audit — {len(result.findings)} findings (CRS {result.crs.to_string()})"
        ),
        title_justify="left",
        caption="面积按土地去重：同一块地属多个问题只计一次；欠费以元计。"
        " Land under several findings counts once; money is in yuan.",
        caption_justify="left",
    )
    for name, justify in (
        ("类别", "left"),
        ("code", "left"),
        ("责任工作组", "left"),
        ("数量", "right"),
        ("面积（亩）", "right"),
        ("金额（元）", "right"),
    ):
        table.add_column(name, justify=justify)
    for row in result.summary().itertuples():
        table.add_row(
            escape(terminal_text(row.category_label)),
            escape(terminal_text(row.category)),
            escape(terminal_text(row.group)),
            str(row.count),
            fmt(row.area_mu, "mu", suffix=False),
            fmt(row.amount_owed, "yuan", suffix=False),
        )
    table.add_section()
    table.add_row("合计：问题总数", "", "", str(sums["findings"]), "", "")
    table.add_row(
        "合计：违规用地面积", "violation", "", "", fmt(sums["violation_mu"], "mu", suffix=False), ""
    )
    table.add_row(
        "合计：涉及地块面积", "parcel", "", "", fmt(sums["parcel_mu"], "mu", suffix=False), ""
    )
    if sums["amount_owed"]:
        table.add_row(
            "合计：欠缴金额", "money", "", "", "", fmt(sums["amount_owed"], "yuan", suffix=False)
        )
    out.print(table)
    out.print(" · ".join(f"{name} {text}" for name, text in headline(sums)), highlight=False)
    for key, value in result.report.get("repairs", {}).items():
        _say(f"repaired: {key} = {value}", console=out)
    for path in written.values():
        _say(f"wrote {path}", console=out)


# Long-term monitoring (landgis.monitor): rounds, case ledger, progress.
from landgis.monitor.cli import diff, ledger, progress  # noqa: E402

main.add_command(diff)
main.add_command(ledger)
main.add_command(progress)

if __name__ == "__main__":  # pragma: no cover
    main()
