"""``landgis map``, ``landgis report`` and ``landgis fieldkit``: the outputs of an
earlier audit, drawn again from its folder."""

from __future__ import annotations

from pathlib import Path

import click

from landgis.cli._common import handled, say
from landgis.present.webmap import BASEMAPS

__all__ = ["fieldkit", "map_command", "report"]


@click.command(name="map")
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

    with handled():
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
            say(f"wrote {path}")


@click.command()
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

    with handled():
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
        holders, parcel_use = layers.get("holders"), layers.get("parcel_use")
        if holders is not None and parcel_use is not None:
            written += write_dossiers(
                outdir / "dossiers",
                findings,
                parcels=layers["parcels"],
                holders=holders.set_index("holder"),
                parcel_use=parcel_use,
                evaluation=evaluation,
            ).values()
    if not quiet:
        for path in written:
            say(f"wrote {path}")


@click.command()
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
@click.option(
    "--ledger",
    "ledger_path",
    metavar="LEDGER",
    help="The case ledger (file or postgresql://…) this audit was entered into: the print "
    "lists show each finding's case number (案件编号), as the return sheets do.",
)
@click.option("-q", "--quiet", is_flag=True, help="Do not list the files written.")
def fieldkit(
    outdir: Path,
    kitdir: Path | None,
    gcj02: bool,
    no_print: bool,
    ledger_path: str | None,
    quiet: bool,
) -> None:
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

    with handled():
        case_ids = None
        if ledger_path is not None:
            from landgis.monitor.ledger import Ledger

            case_ids = Ledger(ledger_path, create=False, read_only=True).case_numbers()
        layers = read_outputs(outdir)
        written = write_fieldkit(
            layers["findings"],
            kitdir if kitdir is not None else outdir / "fieldkit",
            parcels=layers["parcels"],
            footprints=layers["footprints"],
            gcj02=gcj02,
            printlist=not no_print,
            case_ids=case_ids,
        )
    if not quiet:
        for path in written.values():
            say(f"wrote {path}")
