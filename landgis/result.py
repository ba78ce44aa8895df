"""The result of an audit: :class:`Audit`, what a technician works with in Jupyter.

``.findings`` (GeoDataFrame), ``.holders`` and ``.parcel_use`` (tables),
``.summary()``, ``.totals()``, the writers (``.to_csv()``, ``.to_gpkg()``,
``.write()``, ``.map()``, ``.write_maps()``, ``.write_report()``,
``.write_fieldkit()`` …) — each a delegate to one presenter — and a rich HTML
repr.  :func:`landgis.audit` (:mod:`landgis.pipeline`) makes it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from landgis.config import Campaign
from landgis.errors import InputFileError
from landgis.io.atomic import atomic_path
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
from landgis.present.summary import labelled

__all__ = ["GIS_FORMATS", "Audit"]

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
    #: Summaries computed once per findings (unions are the costly part).
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def _once(self, key: str, compute):
        """``compute()``, remembered while ``findings`` and ``parcels`` stay the same objects."""
        stamp = (id(self.findings), len(self.findings), id(self.parcels))
        if self._memo.get(key, (None,))[0] != stamp:
            self._memo[key] = (stamp, compute())
        value = self._memo[key][1]
        return value.copy() if hasattr(value, "copy") else value

    @property
    def crs(self):
        return self.parcels.crs

    def summary(self, by: str = "category") -> pd.DataFrame:
        """Summaries: ``by="category"`` (count, area by its measure, amount per category and
        working group), ``"holder"`` (use split and totals per holder), or ``"street"``,
        ``"village"``, ``"group"`` (:meth:`totals` per street …, then a 合计 row)."""
        if by == "category":
            return self._once(by, lambda: category_summary(self.findings, parcels=self.parcels))
        if by == "holder":
            return self._once(
                by, lambda: holder_summary(self.findings, self.holders, parcels=self.parcels)
            )
        if by in ("street", "village", "group"):
            return self._once(by, lambda: totals_by(self.findings, by, parcels=self.parcels))
        raise ValueError(f"by={by!r}; use 'category', 'holder', 'street', 'village' or 'group'.")

    def totals(self) -> dict:
        """The headline totals (:func:`landgis.present.summary.totals`): the number of
        findings, 违规用地面积 and 涉及地块面积 (each the area of a union: land counts
        once) and the amount owed (元)."""
        return self._once("totals", lambda: totals(self.findings, parcels=self.parcels))

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
        self,
        outdir: str | Path,
        *,
        gcj02: bool = False,
        printlist: bool = True,
        ledger: Any = None,
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
        ledger
            The case ledger (a :class:`~landgis.monitor.Ledger`, its file or URL) this
            audit was entered into: the print list shows each finding's case number
            (案件编号), as the return sheets do.

        Returns
        -------
        dict
            File name → path of every file written.
        """
        from landgis.present.kml import write_fieldkit

        case_ids = None
        if ledger is not None:
            from landgis.monitor.ledger import Ledger

            if not isinstance(ledger, Ledger):
                ledger = Ledger(ledger, create=False, read_only=True)
            case_ids = ledger.case_numbers()

        return write_fieldkit(
            self.findings,
            outdir,
            parcels=self.parcels,
            footprints=self.footprints,
            title=self.campaign.name,
            gcj02=gcj02,
            printlist=printlist,
            case_ids=case_ids,
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
            or ``"城管局"`` (see :func:`landgis.rules.departments`).
        basemap, tianditu_key, orthophoto
            See :func:`landgis.present.webmap.build_map`; ``orthophoto`` is a
            GeoTIFF drawn under the findings and embedded in the page.
        """
        from landgis.present.webmap import build_map, map_selection

        findings, layers, suffix = map_selection(
            self.findings, self._context_layers(), street=street, department=department
        )
        return build_map(
            findings,
            **layers,
            title=self.campaign.name + suffix,
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
            (
                "summary.csv",
                summary_table(
                    self.findings,
                    parcels=self.parcels,
                    categories=self.summary("category"),
                    sums=self.totals(),
                ),
            ),
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
