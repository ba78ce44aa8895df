"""Presenters: findings → CSV, GeoPackage, summaries (they read only the findings)."""

from landgis.present.csv import findings_table, write_csv
from landgis.present.excel import write_xlsx
from landgis.present.gpkg import write_gpkg
from landgis.present.summary import (
    category_summary,
    holder_summary,
    summary_table,
    totals,
    totals_by,
)

__all__ = [
    "category_summary",
    "findings_table",
    "holder_summary",
    "summary_table",
    "totals",
    "totals_by",
    "write_csv",
    "write_gpkg",
    "write_xlsx",
]
