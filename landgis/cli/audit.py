"""``landgis audit`` and ``landgis demo``: parse the options, run :func:`landgis.audit`,
write what was asked for, show the stages and the totals."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table

import landgis
from landgis.cli._common import STAGES, handled, int_list, say, stage_bar, warn
from landgis.errors import LandgisWarning
from landgis.io.text_out import replacements, terminal_text
from landgis.present.webmap import BASEMAPS
from landgis.result import GIS_FORMATS

__all__ = ["audit", "demo"]


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
        callback=lambda ctx, param, value: int_list(value, "--classes"),
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
        "--land-survey",
        is_flag=True,
        help="FOOTPRINTS is the land survey's 地类图斑 layer (三调 / 国土变更调查 DLTB, e.g. "
        "DLTB.gdb with --footprints-layer DLTB): its 图斑 of the classes the campaign counts as "
        "use ([land_survey] in_use; default 建设用地 but 1201 空闲地, and 1202 设施农用地) are "
        "the footprints, each used by the holder of the red line holding most of it (or "
        "未知使用人), and their classes go into the findings (land_class).",
    ),
    click.option(
        "--land-classes",
        type=click.Path(path_type=str),
        metavar="DLTB",
        help="A land-survey layer (地类图斑) whose classes label the findings of ordinary "
        "FOOTPRINTS (land_class); use outside every red line on 耕地 becomes 占用耕地建设, on a "
        "village's homestead land 村庄宅基地.",
    ),
    click.option(
        "--land-classes-layer",
        metavar="NAME",
        help="Layer of --land-classes in a multi-layer file (e.g. DLTB).",
    ),
    click.option(
        "--ellipsoidal-areas",
        is_flag=True,
        help="Also give each finding its area on the ellipsoid (椭球面积, as the land survey "
        "computes TBMJ) in an extra column area_ellipsoid_m2, to reconcile with the survey's "
        "statistics; every other figure stays the plane area of the analysis CRS.",
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


def audit_options(func):
    for option in reversed(_audit_options):
        func = option(func)
    return func


@click.command()
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


@click.command()
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
        handled(),
        stage_bar(quiet, stages=STAGES + maps + fieldkit) as step,
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
        warn(message)
    if not quiet:
        _print_summary(result, written)


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
    justify: JustifyMethod  # rich types the column alignments as literals
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
        say(f"repaired: {key} = {value}", console=out)
    for path in written.values():
        say(f"wrote {path}", console=out)

