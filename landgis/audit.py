"""``landgis.audit``: read, align CRSs, run the engine, build findings — one call.

The :class:`Audit` it returns is what a technician works with in Jupyter:
``.findings`` (GeoDataFrame), ``.holders`` and ``.parcel_use`` (tables),
``.summary()``, ``.to_csv()``, ``.to_gpkg()``, ``.write()``, and a rich HTML
repr.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from landgis.accounts import _survey_date, apply_registers
from landgis.config import Campaign, load_campaign
from landgis.crs import M2_PER_MU, analysis_crs
from landgis.engine import run
from landgis.errors import ConfigError, CRSError, InputFileError
from landgis.findings import build_findings
from landgis.io.atomic import atomic_path
from landgis.io.raster import RASTER_SUFFIXES, is_raster
from landgis.io.registers import read_registers
from landgis.io.report import REPAIRS, ReadReport, report_of
from landgis.io.vector import Source, read_admin, read_footprints, read_parcels, read_planning
from landgis.present import (
    category_summary,
    holder_summary,
    summary_table,
    totals,
    totals_by,
    write_csv,
    write_gpkg,
    write_xlsx,
)
from landgis.present.csv import write_table
from landgis.present.order import pinyin_order
from landgis.present.summary import labelled
from landgis.rules import codes
from landgis.schema import load_aliases

__all__ = ["GIS_FORMATS", "RASTER_SUFFIXES", "UNKNOWN_USER", "Audit", "audit"]

#: The user of raster footprints that no authorized parcel claims.
UNKNOWN_USER = "未知使用人"

#: GIS formats :meth:`Audit.write` adds to the GeoPackage, name → what is written.
GIS_FORMATS = {
    "gdb": "findings.gdb, a File Geodatabase for ArcGIS (Chinese field aliases)",
    "shp": "shp/, one Shapefile per layer (UTF-8 .cpg) and fields.csv",
}


@dataclass
class Audit:
    """The result of :func:`audit`.

    Attributes
    ----------
    findings
        One row per finding (see :data:`landgis.findings.COLUMNS`), geometry in
        :attr:`crs`.
    holders
        Per holder (every footprint user and every holder of authorized land):
        used, own, encroachment, outside-red-line and park over-use areas (m²,
        before ``min_area``), the last also split into its three categories;
        ``used_m2 = own_m2 + encroachment_m2 + outside_redline_m2 + park_overuse_m2``.
    parcel_use
        Per parcel: area, use and use ratio.
    parcels, footprints, planning, admin
        The input layers as audited (validated, in :attr:`crs`).
    crs
        The analysis CRS.
    campaign
        The settings used.
    report
        The audit trail: version, inputs with hashes, CRS, options, repairs and
        warnings, timings.
    evaluation
        The per-mu evaluation (亩均效益评价) per enterprise, when an enterprise
        register was given.
    problems
        Register rows set aside: ``source, row, column, value, problem``.
    instalments
        Every rent instalment due by the campaign's ``as_of`` under its lease's
        payment schedule, with what settled it and the days overdue
        (:func:`landgis.engine.money.rent_instalments`), when a lease register
        was given.
    """

    findings: gpd.GeoDataFrame
    holders: pd.DataFrame
    parcel_use: pd.DataFrame
    parcels: gpd.GeoDataFrame
    footprints: gpd.GeoDataFrame
    planning: gpd.GeoDataFrame | None
    admin: gpd.GeoDataFrame | None
    campaign: Campaign
    report: dict[str, Any] = field(default_factory=dict)
    evaluation: pd.DataFrame | None = None
    problems: list[dict] = field(default_factory=list)
    instalments: pd.DataFrame | None = None

    @property
    def crs(self):
        return self.parcels.crs

    def summary(self, by: str = "category") -> pd.DataFrame:
        """Summaries: ``by="category"`` (count, area by its measure, amount per category and
        working group), ``"holder"`` (use split and totals per holder), or ``"street"``,
        ``"village"``, ``"group"`` (:meth:`totals` per street …, then a 合计 row)."""
        if by == "category":
            return category_summary(self.findings, parcels=self.parcels)
        if by == "holder":
            return holder_summary(self.findings, self.holders, parcels=self.parcels)
        if by in ("street", "village", "group"):
            return totals_by(self.findings, by, parcels=self.parcels)
        raise ValueError(f"by={by!r}; use 'category', 'holder', 'street', 'village' or 'group'.")

    def totals(self) -> dict:
        """The headline totals (:func:`landgis.present.summary.totals`): the number of
        findings, 违规用地面积 and 涉及地块面积 (each the area of a union: land counts
        once) and the amount owed (元)."""
        return totals(self.findings, parcels=self.parcels)

    def to_csv(self, path: str | Path, *, lang: str = "zh") -> Path:
        """Write the enforcement CSV (UTF-8 with BOM, safe cells)."""
        return write_csv(self.findings, path, lang=lang)

    def to_xlsx(self, path: str | Path, *, lang: str = "zh") -> Path:
        """Write the enforcement table as an Excel workbook (ids kept as text)."""
        return write_xlsx(self.findings, path, lang=lang)

    def to_gpkg(self, path: str | Path) -> Path:
        """Write ``findings`` plus the audited inputs to one GeoPackage."""
        return write_gpkg(
            self.findings,
            path,
            layers=self._context_layers(),
            tables={
                "holders": self.holders.reset_index(),
                "parcel_use": self.parcel_use,
                "evaluation": None if self.evaluation is None else self.evaluation.reset_index(),
                "instalments": _dates_as_text(self.instalments),
            },
        )

    def _context_layers(self) -> dict[str, gpd.GeoDataFrame | None]:
        return {
            "parcels": self.parcels,
            "footprints": self.footprints,
            "planning": self.planning,
            "admin": self.admin,
        }

    def to_gdb(self, path: str | Path) -> Path:
        """Write ``findings`` plus the audited inputs to a File Geodatabase (ArcGIS).

        Same layers as the GeoPackage, with Chinese field aliases; see
        :func:`landgis.present.gis.write_gdb`.
        """
        from landgis.present.gis import write_gdb

        return write_gdb(self.findings, path, layers=self._context_layers())

    def to_shapefiles(self, folder: str | Path) -> dict[str, Path]:
        """Write one Shapefile per layer (UTF-8, ``.cpg``) and ``fields.csv`` into ``folder``.

        Field names are cut to the DBF's 10 bytes by a fixed mapping
        (:data:`landgis.present.gis.SHAPEFILE_FIELDS`), listed in ``fields.csv``.
        """
        from landgis.present.gis import write_shapefiles

        return write_shapefiles(self.findings, folder, layers=self._context_layers())

    def write_fieldkit(
        self, outdir: str | Path, *, gcj02: bool = False, printlist: bool = True
    ) -> dict[str, Path]:
        """Write the site-check kit per street: ``<street>.kmz`` and ``<street>.html``.

        Parameters
        ----------
        outdir
            Folder to write into (created).
        gcj02
            KMZ coordinates in GCJ-02 (for apps on Gaode basemaps) instead of WGS84.
        printlist
            Also write the A4 print list with a small map per finding.

        Returns
        -------
        dict
            File name → path of every file written.
        """
        from landgis.present.kml import write_fieldkit

        return write_fieldkit(
            self.findings,
            outdir,
            parcels=self.parcels,
            footprints=self.footprints,
            title=self.campaign.name,
            gcj02=gcj02,
            printlist=printlist,
        )

    def map(
        self,
        *,
        street: str | None = None,
        department: str | None = None,
        basemap: str = "osm",
        tianditu_key: str | None = None,
        orthophoto: str | Path | dict | None = None,
    ):
        """An interactive map of the findings (a ``folium.Map``; shows inline in Jupyter).

        Parameters
        ----------
        street
            Only this street's findings, with the context around them.
        department
            Only the categories this department acts on: ``"自然资源和规划局"``
            or ``"城管局"`` (see :data:`landgis.present.webmap.DEPARTMENT_CATEGORIES`).
        basemap, tianditu_key, orthophoto
            See :func:`landgis.present.webmap.build_map`; ``orthophoto`` is a
            GeoTIFF drawn under the findings and embedded in the page.
        """
        from landgis.present.webmap import DEPARTMENT_CATEGORIES, _around, build_map

        findings = self.findings
        layers = self._context_layers()
        title = self.campaign.name
        if street is not None:
            findings = findings[findings["street"] == street]
            if not len(findings):
                raise ValueError(
                    f"no findings in street {street!r}; streets: "
                    f"{[s for s in pinyin_order(self.findings['street']) if s]}"
                )
            layers = _around(findings, layers, street)
            title = f"{title} · {street}"
        if department is not None:
            if department not in DEPARTMENT_CATEGORIES:
                raise ValueError(
                    f"department={department!r}; choose from {list(DEPARTMENT_CATEGORIES)}"
                )
            findings = findings[findings["category"].isin(DEPARTMENT_CATEGORIES[department])]
            title = f"{title} · {department}"
        return build_map(
            findings,
            **layers,
            title=title,
            basemap=basemap,
            tianditu_key=tianditu_key,
            orthophoto=orthophoto,
            totals_parcels=self.parcels,
        )

    def write_maps(
        self,
        outdir: str | Path,
        *,
        basemap: str = "osm",
        tianditu_key: str | None = None,
        png: bool = True,
        orthophoto: str | Path | dict | None = None,
    ) -> dict[str, Path]:
        """Write ``map.html`` and ``maps/<street>.html`` (+ PNG overviews) to ``outdir``.

        See :func:`landgis.present.webmap.write_maps`.
        """
        from landgis.present.webmap import write_maps

        return write_maps(
            outdir,
            self.findings,
            parcels=self.parcels,
            footprints=self.footprints,
            planning=self.planning,
            admin=self.admin,
            basemap=basemap,
            tianditu_key=tianditu_key,
            png=png,
            title=self.campaign.name,
            orthophoto=orthophoto,
        )

    def write_report(self, outdir: str | Path) -> dict[str, Path]:
        """Write ``report.xlsx`` (coordination group) and ``dossiers/<enterprise>.xlsx``."""
        from landgis.present.report import write_dossiers, write_report

        outdir = Path(outdir)
        written = {
            "report.xlsx": write_report(
                outdir / "report.xlsx",
                self.findings,
                evaluation=self.evaluation,
                title=self.campaign.name,
                parcels=self.parcels,
                instalments=self.instalments,
            )
        }
        dossiers = write_dossiers(
            outdir / "dossiers",
            self.findings,
            parcels=self.parcels,
            holders=self.holders,
            parcel_use=self.parcel_use,
            evaluation=self.evaluation,
        )
        written.update({f"dossiers/{p.name}": p for p in dossiers.values()})
        return written

    def write(
        self,
        outdir: str | Path,
        *,
        lang: str = "zh",
        xlsx: bool = False,
        formats: Iterable[str] = (),
    ) -> dict[str, Path]:
        """Write ``findings.csv``, ``findings.gpkg`` and the summaries to ``outdir``.

        Parameters
        ----------
        outdir
            Created if missing; each file is replaced only once complete.
        lang
            ``"zh"`` or ``"en"`` for the CSV and summary tables.
        xlsx
            Also write ``findings.xlsx`` (the CSV's table as a workbook, where long
            parcel codes stay text); slower on large parks.
        formats
            Further GIS formats besides the GeoPackage: ``"gdb"`` writes
            ``findings.gdb`` (ArcGIS), ``"shp"`` the folder ``shp/``.

        Returns
        -------
        dict
            Name → path of every file written.
        """
        outdir = Path(outdir)
        formats = set(formats) - {"gpkg"}  # the GeoPackage is always written
        if formats - set(GIS_FORMATS):
            raise ValueError(f"formats={sorted(formats)}; choose from {list(GIS_FORMATS)}")
        self._refuse_overwriting_inputs(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        written = {
            "findings.csv": self.to_csv(outdir / "findings.csv", lang=lang),
            "findings.gpkg": self.to_gpkg(outdir / "findings.gpkg"),
        }
        if xlsx:
            written["findings.xlsx"] = self.to_xlsx(outdir / "findings.xlsx", lang=lang)
        if "gdb" in formats:
            written["findings.gdb"] = self.to_gdb(outdir / "findings.gdb")
        if "shp" in formats:
            written.update(
                {f"shp/{p.name}": p for p in self.to_shapefiles(outdir / "shp").values()}
            )
        for name, table in (
            ("summary.csv", summary_table(self.findings, parcels=self.parcels)),
            ("holders.csv", self.summary("holder").reset_index()),
        ):
            written[name] = write_table(labelled(table, lang=lang), outdir / name)
        if self.evaluation is not None:
            written["evaluation.csv"] = write_table(
                labelled(self.evaluation.reset_index(), lang=lang),
                outdir / "evaluation.csv",
                float_format="%.4f",
            )
        if self.problems:
            written["problems.csv"] = write_table(
                labelled(pd.DataFrame(self.problems), lang=lang), outdir / "problems.csv"
            )
        written["summary.json"] = self.write_trail(outdir)
        return written

    def write_trail(self, outdir: str | Path) -> Path:
        """Write (or rewrite) ``summary.json``, the audit trail (:meth:`trail`), atomically."""
        path = Path(outdir) / "summary.json"
        with atomic_path(path) as tmp:
            tmp.write_text(
                json.dumps(self.trail(), ensure_ascii=False, indent=2, default=str),
                encoding="utf-8",
            )
        return path

    def _refuse_overwriting_inputs(self, outdir: Path) -> None:
        """An output must never replace an input (e.g. ``-o`` the folder of the data)."""
        inputs = {
            Path(i["source"]).resolve()
            for i in self.report.get("inputs", {}).values()
            if Path(i["source"]).exists()
        }
        outputs = (
            "findings.csv",
            "findings.gpkg",
            "findings.xlsx",
            "findings.gdb",
            "shp",
            "summary.csv",
            "holders.csv",
            "summary.json",
        )
        # Folders (findings.gdb, shp/) are replaced whole: nothing inside may be an input.
        clash = [
            name
            for name in outputs
            for source in inputs
            if source == (outdir / name).resolve() or (outdir / name).resolve() in source.parents
        ]
        if clash:
            raise InputFileError(
                f"{outdir / clash[0]}: is one of the inputs; write the outputs to another "
                "folder (-o)."
            )

    def trail(self) -> dict[str, Any]:
        """The audit trail plus the category summary, as JSON-ready data."""
        summary = self.summary("category")
        return {
            **self.report,
            "register_problems": self.problems,
            "categories": _plain_records(summary),
            "totals": self.totals(),
            "findings": len(self.findings),
        }

    def __repr__(self) -> str:
        return (
            f"<landgis.Audit: {len(self.findings)} findings, {len(self.parcels)} parcels, "
            f"{len(self.footprints)} footprints, crs={self.crs.to_string()}>"
        )

    def _repr_html_(self) -> str:
        from landgis.present.units import fmt, headline

        table = self.summary("category")
        rows = "".join(
            f"<tr><td>{html.escape(r.category_label)}</td><td><code>{html.escape(r.category)}"
            f"</code></td><td>{html.escape(r.group)}</td>"
            f"<td style='text-align:right'>{r.count}</td>"
            f"<td style='text-align:right'>{fmt(r.area_m2, 'm2', suffix=False)}</td>"
            f"<td style='text-align:right'>{fmt(r.area_mu, 'mu', suffix=False)}</td>"
            f"<td style='text-align:right'>{fmt(r.amount_owed, 'yuan', suffix=False)}</td></tr>"
            for r in table.itertuples()
        )
        sums = " · ".join(f"{name} {text}" for name, text in headline(self.totals()))
        repairs = self.report.get("repairs", {})
        note = "".join(
            f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in repairs.items()
        )
        return (
            "<div><strong>landgis audit</strong> — "
            f"{len(self.findings)} findings · {len(self.parcels)} parcels · "
            f"{len(self.footprints)} footprints · CRS "
            f"{html.escape(self.crs.to_string())} · min_area {self.campaign.min_area} m²"
            f"<div><strong>{html.escape(sums)}</strong>（面积按土地去重，各类之和可大于合计）</div>"
            "<table><thead><tr><th>类别</th><th>code</th><th>责任工作组</th><th>数量</th>"
            "<th>面积 m²</th><th>亩</th><th>金额 元</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            + (f"<details><summary>repairs</summary><ul>{note}</ul></details>" if note else "")
            + "</div>"
        )


def _dates_as_text(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """A table for the GeoPackage: date cells as ISO text (empty when missing)."""
    if table is None or not len(table):
        return None
    table = table.copy()
    for column in ("period_start", "period_end", "due_date", "settled"):
        if column in table:
            table[column] = table[column].map(lambda d: "" if d is None or d != d else str(d)[:10])
    return table


def _plain_records(table: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts (NaN as null)."""
    return [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in table.to_dict(orient="records")
    ]


def audit(
    parcels: Source,
    footprints: Source,
    *,
    planning: Source | None = None,
    admin: Source | None = None,
    crs: Any = None,
    source_crs: Any = None,
    parcels_layer: str | int | None = None,
    footprints_layer: str | int | None = None,
    planning_layer: str | int | None = None,
    admin_layer: str | int | None = None,
    min_area: float | None = None,
    idle_ratio: float | None = None,
    grid_size: float | None = None,
    config: Campaign | Mapping[str, Any] | str | Path | None = None,
    aliases: Mapping[str, Any] | str | Path | None = None,
    encoding: str | None = None,
    strict: bool = True,
    registers: Mapping[str, Any] | Sequence[Any] | str | Path | None = None,
    threads: int | None = None,
    raster: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    engine: str = "local",
    client: Any = None,
    tile_size: float | None = None,
    halo: float | None = None,
    memory_budget: float | None = None,
    on_partition: Callable[[Any], None] | None = None,
) -> Audit:
    """Audit red lines against actual use and return the findings.

    Parameters
    ----------
    parcels
        Red lines: a path (GeoPackage, Shapefile, GeoJSON …) or a GeoDataFrame;
        see :func:`landgis.read_parcels`.
    footprints
        Actual use, likewise; see :func:`landgis.read_footprints`.  Or a
        classified raster (``.tif``, ``.tiff``, ``.img``, ``.vrt``, ``.jp2``):
        its pixels of ``raster["classes"]`` become footprints, see ``raster``.
    planning
        Optional planning zones (column ``zone``): leased-in land inside one
        is *idle*, not *unused*; zones named in the campaign's
        ``agricultural_park_zones`` route their findings to the agricultural
        park group.
    admin
        Optional street/village areas; they give each finding its street and
        village (otherwise taken from its parcel).
    crs
        Analysis CRS (projected, metres).  Default: the parcels' CRS when it is
        a metric projection that keeps areas (not Web Mercator), else the
        CGCS2000 3° Gauss-Krüger zone of the data.
    source_crs
        The CRS the input coordinates are really in, for files that have none
        or a wrong one; layers without a CRS are otherwise taken to be in ``crs``.
    parcels_layer, footprints_layer, planning_layer, admin_layer
        Layer names (or indexes) in multi-layer files (GeoPackage, File
        Geodatabase).
    min_area
        Smallest finding kept, m² (default from the campaign, 1 m²); ``0``
        keeps every sliver.
    idle_ratio
        Use share below which a parcel is idle (default 0.1).
    grid_size
        Snap-rounding grid of the set algebra, m (default 1e-6).
    config
        Campaign configuration: a :class:`~landgis.Campaign`, a dict or a TOML
        file; the options above override it.
    aliases
        Extra column and tenure aliases (dict or TOML/YAML file).
    encoding
        Attribute encoding of the input files (e.g. ``"gbk"``).
    strict
        Boundary-point TXT red lines that announce more points than they list, or
        whose header area their points do not bear out, stop the audit (default);
        with ``strict=False`` those parcels are skipped with a warning.
    registers
        Lease, payment, fee and enterprise registers (.xlsx/.csv): a mapping
        ``{"leases": path, …}`` or a list of files whose kind (and each sheet's)
        is recognised from its header.  They add ``rent_arrears``,
        ``fee_arrears``, ``low_efficiency``, the rent owed for over-use of
        leased land and the rent paid for leased-in land; rows that cannot be
        used are listed in :attr:`Audit.problems` and the rest still count.
    threads
        Threads for the geometry work (default: every core); results do not
        depend on it.
    raster
        Options of :func:`landgis.footprints_from_raster` when ``footprints``
        is a raster: ``classes`` (required: the pixel values that are actual
        use), ``mask_from``, ``sieve``, ``connectivity``, ``min_area``,
        ``min_share`` and ``unknown_user`` (default ``"未知使用人"``: footprints
        not mostly inside one authorized parcel are audited as one anonymous
        occupant).  Each footprint's user is the holder of the authorized
        parcel holding most of it.  Because that is a guess, a parcel is idle
        only when both its holder's use and its built-up share measured on the
        raster (:func:`landgis.io.raster.coverage`, edge pixels weighted exactly)
        are below ``idle_ratio``.
    progress
        Called with the name of each stage.
    engine, client, tile_size, halo, memory_budget, on_partition
        Partitioned audit (see :mod:`landgis.scale`): ``engine="dask"``
        runs tiles as tasks on ``client`` (a ``distributed.Client``, a scheduler
        address, or ``None`` for a local cluster); ``tile_size``/``halo`` (m)
        cut the zone into tiles; ``memory_budget`` (GB) streams the footprints
        from a GeoParquet or GeoPackage tile by tile.  Any of them partitions
        the audit; the findings are the same as without.  ``on_partition`` is
        called after each tile (e.g. ``landgis.scale.TqdmProgress()``).

    Returns
    -------
    Audit

    Examples
    --------
    >>> import landgis
    >>> a = landgis.audit(landgis.get_path("parcels"), landgis.get_path("footprints"),
    ...                   planning=landgis.get_path("planning"))
    >>> "encroachment" in set(a.findings["category"])
    True
    """
    say = progress or (lambda stage: None)
    started = time.perf_counter()
    campaign = load_campaign(config).with_options(
        min_area=min_area, idle_ratio=idle_ratio, grid_size=grid_size
    )
    user_aliases = load_aliases(aliases)

    say("reading layers")
    common = {"crs": crs, "source_crs": source_crs, "aliases": user_aliases, "encoding": encoding}
    parcel_frame = read_parcels(parcels, layer=parcels_layer, strict=strict, **common)
    target = analysis_crs(parcel_frame.crs, parcel_frame.total_bounds, crs=crs)
    raster_source = footprints if is_raster(footprints) else None
    partitioned = engine != "local" or tile_size is not None or memory_budget is not None
    streamed = partitioned and _streamable(footprints, raster_source, engine, memory_budget)
    source = None
    if raster_source is not None:
        footprint_frame = _raster_footprints(
            raster_source, raster, parcels=parcel_frame, crs=target, source_crs=source_crs
        )
    elif streamed:
        # The footprints are read tile by tile (by the workers, on Dask); no frame holds
        # them whole, so Audit.footprints stays empty and the report says so.
        from landgis.io.stream import open_footprints

        source = open_footprints(
            footprints, crs=target, layer=footprints_layer, source_crs=source_crs,
            aliases=user_aliases,
        )  # fmt: skip
        footprint_frame = gpd.GeoDataFrame(
            {"footprint_id": [], "user": []}, geometry=gpd.GeoSeries([], crs=target)
        )
        footprint_frame.attrs["landgis"] = ReadReport(
            source=str(footprints), facts={"streamed": True}
        )
    else:
        if raster is not None:
            raise ConfigError(
                f"raster= options given, but the footprints ({footprints!r}) are not a raster "
                f"({', '.join(RASTER_SUFFIXES)})."
            )
        footprint_frame = read_footprints(footprints, layer=footprints_layer, **common)
    layers = {"parcels": parcel_frame, "footprints": footprint_frame}
    if planning is not None:
        layers["planning"] = read_planning(planning, layer=planning_layer, **common)
    if admin is not None:
        layers["admin"] = read_admin(admin, layer=admin_layer, **common)
    reprojected = {}
    for name, frame in layers.items():
        if frame.crs is None:  # pragma: no cover - readers refuse this
            raise CRSError(f"the {name} layer has no CRS; pass crs=.")
        if not frame.crs.equals(target):
            reprojected[name] = frame.crs.to_string()
            attrs = frame.attrs
            layers[name] = frame.to_crs(target)
            layers[name].attrs = attrs
    layers["parcels"] = _check_registered_unit(layers["parcels"])
    read_done = time.perf_counter()

    stats: dict = {}
    if partitioned:
        from landgis.scale import run_partitioned

        result = run_partitioned(
            layers["parcels"],
            source if streamed else layers["footprints"],
            layers.get("planning"),
            engine=engine,
            client=client,
            tile_size=tile_size,
            halo=halo,
            memory_budget=memory_budget,
            threads=threads,
            progress=say,
            on_partition=on_partition,
            stats=stats,
            tolerances=campaign.tolerances,
        )
    else:
        result = run(
            layers["parcels"],
            layers["footprints"],
            layers.get("planning"),
            tolerances=campaign.tolerances,
            threads=threads,
            progress=say,
        )
    if streamed:  # what the tiles' readers repaired and warned about
        streamed_report = report_of(layers["footprints"])
        for key, n in stats["repairs"].items():
            streamed_report.count(key, n)
        for message in stats["warnings"]:
            streamed_report.warn(message, stacklevel=2)
    raw, evaluation, problems, instalments = result.raw, None, [], None
    if raster_source is not None:
        raw = _built_up_is_not_idle(
            raw, layers["parcels"], raster_source, raster or {}, campaign.idle_ratio
        )
    if registers is not None:
        say("reading registers")
        tables = read_registers(registers, aliases=user_aliases, encoding=encoding)
        for table in tables.values():  # the registers' warnings join the trail's
            for message in report_of(table).warnings:
                report_of(layers["parcels"]).note(message)
        used = layers["footprints"]
        if streamed:
            enterprises = tables.get("enterprises")
            if enterprises is not None and len(enterprises):
                raise ConfigError(
                    "the per-mu evaluation (enterprise register) needs every footprint in "
                    "memory; run it without memory_budget / engine='dask' (--memory-budget)."
                )
            if stats.get("survey_date") is not None:  # the rent of over-use runs from it
                used = gpd.GeoDataFrame(
                    {"user": [""], "survey_date": [stats["survey_date"]]},
                    geometry=gpd.GeoSeries([None], crs=target),
                )
        accounts = apply_registers(
            raw,
            registers=tables,
            parcels=layers["parcels"],
            footprints=used,
            holders=result.holders,
            parcel_use=result.parcels,
            campaign=campaign,
        )
        raw, evaluation, problems = accounts.raw, accounts.evaluation, accounts.problems
        instalments = accounts.instalments
        if problems:
            rows = ", ".join(
                f"{p['source']} row {p['row']}"
                + (f" [{p['key']}]" if p.get("key") else "")
                + f" ({p['column']} = {p['value']!r}: {p['problem']})"
                for p in problems[:3]
            )
            message = (
                f"{len(problems)} register row(s) set aside, the rest counted: {rows}"
                + (" …" if len(problems) > 3 else "")
                + "; all of them in problems.csv"
            )
            report_of(layers["parcels"]).warn(message, stacklevel=2)
    say("building findings")
    found = (
        campaign.round_date
        or _survey_date(layers["footprints"])
        or (pd.Timestamp(stats["survey_date"]).date() if stats.get("survey_date") else None)
        or campaign.as_of
    )
    findings = build_findings(
        raw,
        parcels=layers["parcels"],
        campaign=campaign,
        planning=layers.get("planning"),
        admin=layers.get("admin"),
        found=found,
    )
    done = time.perf_counter()

    report = _trail(
        layers,
        sources={
            "parcels": parcels,
            "footprints": footprints,
            "planning": planning,
            "admin": admin,
        },
        crs=target,
        reprojected=reprojected,
        campaign=campaign,
        timings={"read_s": read_done - started, "audit_s": done - read_done},
    )
    if registers is not None:
        report["registers"] = {}
        for kind, table in tables.items():
            read = report_of(table)
            entry = {"source": read.source, "rows": read.rows}
            if read.facts.get("encodings"):
                entry["encoding"] = read.facts["encodings"]
            report["registers"][kind] = entry
    report["found"] = found.isoformat() if found else None
    if streamed:
        report["inputs"]["footprints"]["rows"] = stats["footprints"]
        report["inputs"]["footprints"]["streamed"] = True
    if partitioned:
        report["partitions"] = {
            "engine": engine,
            **{k: stats[k] for k in ("tiles", "tile_size", "halo", "retries")},
            "resolved_after_merge": stats["resolved_after_merge"],
            "footprints_loaded": stats["footprints_loaded"],
        }
    return Audit(
        findings=findings,
        holders=result.holders,
        parcel_use=result.parcels,
        parcels=layers["parcels"],
        footprints=layers["footprints"],
        planning=layers.get("planning"),
        admin=layers.get("admin"),
        campaign=campaign,
        report=report,
        evaluation=evaluation,
        problems=problems,
        instalments=instalments,
    )



#: Options of ``audit(raster=…)``, passed on to :func:`landgis.footprints_from_raster`.
_RASTER_OPTIONS = {
    "classes",
    "mask_from",
    "band",
    "sieve",
    "connectivity",
    "min_area",
    "min_share",
    "unknown_user",
    "window_size",
    "simplify",
}


def _streamable(footprints, raster_source, engine: str, memory_budget) -> bool:
    """Whether a partitioned audit reads the footprints tile by tile from their file."""
    from landgis.io.stream import STREAMED_SUFFIXES

    return (
        raster_source is None
        and (memory_budget is not None or engine == "dask")
        and isinstance(footprints, str | Path)
        and Path(footprints).suffix.lower() in STREAMED_SUFFIXES
    )


def _raster_footprints(source, options, *, parcels, crs, source_crs) -> gpd.GeoDataFrame:
    """The footprints of a classified raster, with users from the parcels."""
    from landgis.io.raster import footprints_from_raster

    options = dict(options or {})
    unknown = set(options) - _RASTER_OPTIONS
    if unknown:
        raise ConfigError(
            f"raster= has unknown option(s) {sorted(unknown)}; use {sorted(_RASTER_OPTIONS)}."
        )
    if options.get("classes") is None:
        raise ConfigError(
            f"{source}: the footprints are a raster; name the pixel values that are actual use, "
            "e.g. raster={'classes': 50} (--classes 50) for ESA WorldCover built-up or 255 for "
            "a 0/255 building mask."
        )
    options.setdefault("unknown_user", UNKNOWN_USER)
    frame = footprints_from_raster(
        source, parcels=parcels, crs=crs, source_crs=source_crs, **options
    )
    raster_facts = report_of(frame).facts
    frame = read_footprints(frame)
    report_of(frame).update(raster_facts)
    return frame


def _built_up_is_not_idle(raw, parcels, source, options, idle_ratio: float):
    """Drop idle findings on parcels the raster shows built up (by whoever)."""
    from landgis.io.raster import coverage

    idle = raw["category"].isin(codes(family="idle"))
    if not idle.any():
        return raw
    ids = raw.loc[idle, "parcel_id"].unique()
    share = coverage(
        parcels.set_index("parcel_id").loc[ids].geometry,
        source,
        classes=options["classes"],
        band=options.get("band", 1),
        mask_from=options.get("mask_from"),
    )
    built = set(share.index[share.fillna(0) >= idle_ratio])
    return raw.loc[~(idle & raw["parcel_id"].isin(built))].reset_index(drop=True)


def _check_registered_unit(parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A registered-area column in the other unit (亩 vs m², 666.7× apart) is renamed
    to the unit it is in, with a warning; a plain 面积/MJ column is read as m² otherwise."""
    measured = parcels.geometry.area.to_numpy()
    for column, other, factor in (
        ("registered_area_m2", "registered_area_mu", M2_PER_MU),
        ("registered_area_mu", "registered_area_m2", 1 / M2_PER_MU),
    ):
        if column not in parcels or other in parcels:
            continue
        values = parcels[column].to_numpy(dtype=float)
        ok = np.isfinite(values) & (values > 0) & (measured > 0)
        if ok.sum() < 3:
            continue
        ratio = np.median(values[ok] * factor / measured[ok])
        if 0.8 < ratio < 1.25:  # the values are in the other unit
            read = report_of(parcels)
            parcels = parcels.rename(columns={column: other})
            parcels.attrs = {"landgis": read}
            read.warn(
                f"{read.source or 'parcels'}: the registered areas read as {column} look like "
                f"{other.split('_')[-1]} (median ratio to the red lines' area {ratio:.3f}); "
                "they are used as such.",
                stacklevel=3,
            )
    return parcels


def _trail(layers, *, sources, crs, reprojected, campaign: Campaign, timings) -> dict:
    from landgis import __version__

    inputs = {}
    repairs = {}
    notes = []
    for name, frame in layers.items():
        read = report_of(frame)
        src = sources[name]
        entry: dict[str, Any] = {"source": read.source or name, "rows": len(frame)}
        if isinstance(src, str | Path) and Path(src).is_file():
            entry["sha256"] = _sha256(Path(src))
        if name in reprojected:
            entry["reprojected_from"] = reprojected[name]
        if "raster" in read.facts:
            entry["raster"] = read.facts["raster"]
        if read.encoding:
            entry["encoding"] = read.encoding
        inputs[name] = entry
        for key in REPAIRS:
            if read.repairs.get(key):
                repairs[f"{name}.{key}"] = read.repairs[key]
        notes += read.warnings
    options = dataclasses.asdict(campaign.tolerances)
    return {
        "landgis_version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "campaign": campaign.name,
        "crs": crs.to_string(),
        "inputs": inputs,
        "options": options,
        "deadlines": {k: v.isoformat() for k, v in campaign.deadlines.items()},
        "deadline_days": dict(campaign.deadline_days),
        "repairs": repairs,
        "warnings": notes,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
