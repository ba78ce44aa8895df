"""Long-term monitoring (长效管护): audit rounds compared, a case ledger, progress reports.

- :func:`diff_rounds`: two rounds' findings → new, persisting (with the area
  change) and resolved, matched by category, holder and tolerant overlap.
- :class:`Ledger`: the office's case ledger in one SQLite file; each round
  updates it without touching what people entered.
- :func:`progress_report`: open, overdue and disposed cases per working group
  and street, as an HTML page and an Excel workbook.

See ``docs/monitoring.md``.
"""

from landgis.errors import LedgerError
from landgis.monitor.diff import diff_rounds, diff_table, write_diff
from landgis.monitor.ledger import STATUSES, Ledger
from landgis.monitor.progress import Progress, progress_report

__all__ = [
    "STATUSES",
    "Ledger",
    "LedgerError",
    "Progress",
    "diff_rounds",
    "diff_table",
    "progress_report",
    "write_diff",
]
