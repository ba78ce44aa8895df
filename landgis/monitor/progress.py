"""The progress report (督查考评): per working group and street, from the case ledger.

Counted from :meth:`Ledger.cases <landgis.monitor.ledger.Ledger.cases>` (cases
merged into another, 已合并, are left out: they live on in that case):

- ``open`` (未办结): 待核实, 整改中 or 移交司法;
- ``overdue`` (逾期): open, with a deadline before ``as_of``;
- ``pending`` (待确认销号): gone from the latest survey, awaiting confirmation;
- ``closed`` (已办结): 已处置, 已销号 or 不予认定;
- ``disposed_round`` (本轮处置): moved to 待确认销号, 已处置 or 已销号 in the
  reported round — a round runs from its ``ledger update`` to the next one, so
  a status entered by hand after an update counts for that update's round;
- ``done_but_seen`` (处置后仍存在): 已处置 or 已销号 and seen by the latest
  survey — disposed of after it, awaiting the next survey's confirmation (a
  case found again after its disposal is reopened as 反弹);
- ``relapsed`` (反弹): cases ever reopened because what had been disposed of or
  closed was found again; ``relapsed_round`` (本轮反弹): reopened in the
  reported round — 长效管护 means keeping this at zero;
- the 违规用地面积 of the open, overdue and disposed cases in 亩: the area of
  the union of their land-use violation pieces (over-use, outside the red
  lines, use before lease, encroachment), as the audit's totals count it —
  land counts once, and parcel-level and money cases add no 亩;
- where the findings carry amounts (arrears, rent for over-used leased land):
  ``amount_owed`` (欠缴金额), what the latest round still finds owed, and
  ``amount_recovered`` (已追缴金额), per case the amount entered by hand
  (``ledger set --recovered``) or else what the owed amount fell by since the
  case opened (all of it once the finding is gone).

:class:`Progress` writes an HTML page (charts as inline SVG, every text
escaped, no network needed) and an Excel workbook (Chinese headers, numbers as
numbers, overdue rows highlighted).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from landgis.config import DEADLINE_BASES
from landgis.crs import to_mu
from landgis.io.atomic import atomic_path
from landgis.io.text_out import clean_text, counted
from landgis.monitor.ledger import (
    CLOSED_STATUSES,
    LEDGER_DATE_COLUMNS,
    LEDGER_HEADERS_ZH,
    MERGED,
    OPEN_STATUSES,
    PENDING,
    Ledger,
    LedgerError,
)
from landgis.present.excel import write_workbook
from landgis.present.units import fmt
from landgis.rules import CATEGORIES, GROUPS

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["PROGRESS_HEADERS_ZH", "Progress", "progress_report"]

#: Chinese headers of the progress tables.
PROGRESS_HEADERS_ZH = {
    "group": "责任工作组",
    "street": "街道",
    "cases": "案件数",
    "open": "未办结",
    "overdue": "逾期",
    "pending": "待确认销号",
    "closed": "已办结",
    "disposed_round": "本轮处置",
    "done_but_seen": "处置后仍存在",
    "relapsed": "反弹",
    "relapsed_round": "本轮反弹",
    "open_mu": "未办结违规用地面积（亩）",
    "overdue_mu": "逾期违规用地面积（亩）",
    "disposed_round_mu": "本轮处置违规用地面积（亩）",
    "amount_owed": "欠缴金额（元）",
    "amount_recovered": "已追缴金额（元）",
}
_COUNTS = (
    "cases",
    "open",
    "overdue",
    "pending",
    "closed",
    "disposed_round",
    "done_but_seen",
    "relapsed",
    "relapsed_round",
)
_AREAS = ("open_mu", "overdue_mu", "disposed_round_mu")
_AMOUNTS = ("amount_owed", "amount_recovered")
_DISPOSED = (PENDING, "已处置", "已销号")
_DONE = ("已处置", "已销号")
_TOTAL = "合计"
_NO_STREET = "（未定街道）"


@dataclass
class Progress:
    """A progress report of the case ledger.

    Attributes
    ----------
    as_of
        The day overdue is judged on.
    round
        The round whose disposals count as 本轮处置.
    table
        One row per working group and street, then a 合计 row (columns of
        :data:`PROGRESS_HEADERS_ZH`; amounts only when the ledger has some).
    by_group, by_street
        The same per working group and per street.
    cases
        Every case counted, with ``overdue`` (bool) and ``days_overdue``.
    title
        Heading of the page and workbook.
    """

    as_of: dt.date
    round: str
    table: pd.DataFrame
    by_group: pd.DataFrame
    by_street: pd.DataFrame
    cases: pd.DataFrame
    title: str = "土地资源核查处置 督查考评"

    @counted
    def to_html(self, path: str | Path) -> Path:
        """Write the page (self-contained: charts inline, no network) atomically."""
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(self.html(), encoding="utf-8")
        return path

    def to_xlsx(self, path: str | Path) -> Path:
        """Write the workbook: 进度汇总, 按工作组, 按街道, 案件明细 (overdue rows red)."""
        case_cols = [
            "case_id",
            "status",
            "overdue",
            "days_overdue",
            "relapsed",
            "category_label",
            "holder",
            "street",
            "village",
            "group",
            "person",
            "deadline",
            "deadline_basis",
            "area_mu",
            "amount_owed",
            "amount_recovered",
            "opened",
            "last_seen",
            "status_changed",
            "closed",
            "finding_id",
            "notes",
        ]
        cases = self.cases[case_cols].copy()
        cases["overdue"] = np.where(cases["overdue"], "是", "")
        cases["relapsed"] = np.where(cases["relapsed"], "是", "")
        cases["deadline_basis"] = cases["deadline_basis"].map(lambda b: DEADLINE_BASES.get(b, b))
        headers = {
            **LEDGER_HEADERS_ZH,
            "amount_owed": PROGRESS_HEADERS_ZH["amount_owed"],
            "amount_recovered": PROGRESS_HEADERS_ZH["amount_recovered"],
            "overdue": "是否逾期",
            "days_overdue": "逾期天数",
            "relapsed": "反弹",
        }
        sheets = {
            "进度汇总": self.table.rename(columns=PROGRESS_HEADERS_ZH),
            "按工作组": self.by_group.rename(columns=PROGRESS_HEADERS_ZH),
            "按街道": self.by_street.rename(columns=PROGRESS_HEADERS_ZH),
            "案件明细": cases.rename(columns=headers),
        }
        highlight = {
            "进度汇总": self.table["overdue"].to_numpy() > 0,
            "按工作组": self.by_group["overdue"].to_numpy() > 0,
            "按街道": self.by_street["overdue"].to_numpy() > 0,
            "案件明细": self.cases["overdue"].to_numpy(dtype=bool),
        }
        title = f"{self.title}（截至 {self.as_of.isoformat()}，本轮 {self.round}）"
        return write_workbook(
            path, sheets, highlight=highlight, dates=LEDGER_DATE_COLUMNS, title=title
        )

    def write(self, outdir: str | Path) -> dict[str, Path]:
        """Write ``progress.html`` and ``progress.xlsx`` to ``outdir``; return name → path."""
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        return {
            "progress.html": self.to_html(outdir / "progress.html"),
            "progress.xlsx": self.to_xlsx(outdir / "progress.xlsx"),
        }

    def html(self) -> str:
        """The report as one HTML page."""
        esc = _esc
        total = self.table.iloc[-1]
        cards = [
            ("案件数", f"{int(total['cases'])}", ""),
            ("未办结", f"{int(total['open'])}", f"违规用地 {fmt(total['open_mu'], 'mu')}"),
            ("逾期", f"{int(total['overdue'])}", f"违规用地 {fmt(total['overdue_mu'], 'mu')}"),
            ("待确认销号", f"{int(total['pending'])}", ""),
            (
                "本轮处置",
                f"{int(total['disposed_round'])}",
                f"违规用地 {fmt(total['disposed_round_mu'], 'mu')}",
            ),
            ("已办结", f"{int(total['closed'])}", ""),
            ("本轮反弹", f"{int(total['relapsed_round'])}", f"累计 {int(total['relapsed'])} 件"),
        ]
        if "amount_owed" in self.table:
            cards.append(
                (
                    "已追缴（元）",
                    f"{total['amount_recovered']:,.0f}",
                    f"尚欠 {total['amount_owed']:,.0f} 元",
                )
            )
        card_html = "".join(
            f'<div class="card{" bad" if label in ("逾期", "本轮反弹") and value != "0" else ""}">'
            f"<div class='n'>{esc(value)}</div><div>{esc(label)}</div>"
            f"<div class='s'>{esc(sub)}</div></div>"
            for label, value, sub in cards
        )
        overdue = self.cases[self.cases["overdue"]].sort_values("days_overdue", ascending=False)
        overdue_cols = {
            "case_id": "案件编号",
            "category_label": "问题类别",
            "holder": "权利人/使用人",
            "street": "街道",
            "group": "责任工作组",
            "person": "责任人",
            "status": "状态",
            "deadline": "完成时限",
            "days_overdue": "逾期天数",
            "area_mu": "面积（亩）",
        }
        parts = [
            "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>{esc(self.title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{esc(self.title)}</h1>",
            f"<p class='meta'>截至 {esc(self.as_of.isoformat())} · 本轮 {esc(self.round)} · "
            f"逾期按各类问题的完成时限计 · 已合并案件不计</p>",
            f"<div class='cards'>{card_html}</div>",
            "<h2>按责任工作组</h2>",
            _chart(self.by_group, "group", "各工作组案件办理情况"),
            _table(self.by_group),
            "<h2>按街道</h2>",
            _chart(self.by_street, "street", "各街道案件办理情况"),
            _table(self.by_street),
            "<h2>按工作组和街道</h2>",
            _table(self.table),
            f"<h2>逾期案件（{len(overdue)}）</h2>",
            _table(overdue[list(overdue_cols)].rename(columns=overdue_cols), mark_all=True)
            if len(overdue)
            else "<p>无逾期案件。</p>",
            f"<p class='meta'>landgis · 生成于 {esc(dt.datetime.now().strftime('%Y-%m-%d %H:%M'))}"
            "</p></body></html>",
        ]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return _table(self.table)


def progress_report(
    ledger: Ledger | str | Path,
    *,
    as_of: dt.date | str | None = None,
    round: str | None = None,
    title: str = "土地资源核查处置 督查考评",
) -> Progress:
    """Count the ledger's cases per working group and street.

    Parameters
    ----------
    ledger
        A :class:`~landgis.monitor.ledger.Ledger`, the path of its file or the URL
        of its PostgreSQL database.
    as_of
        The day overdue is judged on (default today): an open case whose
        deadline is before it is overdue.
    round
        The round whose disposals count as 本轮处置 (default the latest).
    title
        Heading of the page and workbook.

    Returns
    -------
    Progress

    Examples
    --------
    >>> import tempfile, pathlib, landgis
    >>> from landgis.monitor import Ledger
    >>> ledger = Ledger(pathlib.Path(tempfile.mkdtemp()) / "cases.sqlite")
    >>> _ = ledger.update(landgis.audit(landgis.get_path("parcels"),
    ...                   landgis.get_path("footprints")), date="2024-03-15")
    >>> report = progress_report(ledger, as_of="2024-07-01")
    >>> int(report.table.iloc[-1]["overdue"])  # area_mismatch and overlap_conflict: 06-30
    2
    """
    from landgis.monitor.ledger import _as_date

    if not isinstance(ledger, Ledger):
        ledger = Ledger(ledger, create=False, read_only=True)
    day = _as_date(as_of, "as_of") or dt.date.today()
    rounds = ledger.rounds()
    if round is None:
        round = rounds["round"].iloc[-1] if len(rounds) else ""
    elif round not in set(rounds["round"]):
        raise LedgerError(
            f"{ledger.location}: no round {round!r}; the rounds are {list(rounds['round'])}."
        )
    latest = rounds["round"].iloc[-1] if len(rounds) else ""
    every = ledger.cases()
    keep = (every["status"] != MERGED).to_numpy()
    geoms = np.asarray(every.geometry.values, dtype=object)[keep]
    cases = pd.DataFrame(every.drop(columns=every.geometry.name)).loc[keep].reset_index(drop=True)
    history = ledger.history()
    relapses = history[history["kind"] == "relapse"]
    cases["relapsed"] = cases["case_id"].isin(set(relapses["case_id"]))
    cases["relapsed_round"] = cases["case_id"].isin(
        set(relapses.loc[relapses["round"] == round, "case_id"])
    )
    cases["street"] = cases["street"].replace("", _NO_STREET)
    deadline = pd.to_datetime(cases["deadline"], errors="coerce").dt.date
    is_open = cases["status"].isin(OPEN_STATUSES)
    late = deadline.map(lambda d: d is not None and not pd.isna(d) and d < day).astype(bool)
    cases["overdue"] = (is_open & late).astype(bool)
    cases["days_overdue"] = [
        (day - d).days if o else 0 for d, o in zip(deadline, cases["overdue"], strict=True)
    ]
    cases["_open"] = is_open
    cases["_pending"] = cases["status"] == PENDING
    cases["_closed"] = cases["status"].isin(CLOSED_STATUSES)
    cases["_disposed"] = cases["status"].isin(_DISPOSED) & (cases["status_round"] == round)
    cases["_done_seen"] = cases["status"].isin(_DONE) & (cases["last_round"] == latest)
    seen = cases["last_round"] == latest
    cases["amount_owed"] = cases["amount_due"].where(seen | cases["amount_due"].isna(), 0.0)
    fell = (cases["opened_amount_due"] - cases["amount_owed"]).clip(lower=0)
    cases["amount_recovered"] = cases["amount_recovered"].where(
        cases["amount_recovered"].notna(), fell
    )
    amounts = bool(cases["amount_owed"].notna().any() or cases["amount_recovered"].notna().any())

    cases["_violation"] = cases["category"].map(
        lambda c: c in CATEGORIES and CATEGORIES[c].measure == "violation"
    ).astype(bool)
    table = _tally(cases, ["group", "street"], amounts, geoms)
    by_group = _tally(cases, ["group"], amounts, geoms)
    by_street = _tally(cases, ["street"], amounts, geoms)
    public = cases.drop(columns=[c for c in cases.columns if c.startswith("_")])
    return Progress(
        as_of=day,
        round=str(round),
        table=table,
        by_group=by_group,
        by_street=by_street,
        cases=public,
        title=title,
    )


def _tally(cases: pd.DataFrame, keys: list[str], amounts: bool, geoms) -> pd.DataFrame:
    """Counts and 违规用地面积 per ``keys``, in working-group (else pinyin) order, then a
    合计 row.  Areas are unions: the 合计 row counts land shared by two rows once."""
    from landgis.order import pinyin_key
    from landgis.present.summary import union_area

    parts = pd.DataFrame(
        {
            **{k: cases[k] for k in keys},
            "cases": 1,
            "open": cases["_open"].astype(int),
            "overdue": cases["overdue"].astype(int),
            "pending": cases["_pending"].astype(int),
            "closed": cases["_closed"].astype(int),
            "disposed_round": cases["_disposed"].astype(int),
            "done_but_seen": cases["_done_seen"].astype(int),
            "relapsed": cases["relapsed"].astype(int),
            "relapsed_round": cases["relapsed_round"].astype(int),
        }
    )
    if amounts:
        parts["amount_owed"] = cases["amount_owed"].fillna(0.0)
        parts["amount_recovered"] = cases["amount_recovered"].fillna(0.0)
    masks = {
        "open_mu": cases["_open"],
        "overdue_mu": cases["overdue"],
        "disposed_round_mu": cases["_disposed"],
    }

    def areas(rows: np.ndarray) -> dict[str, float]:
        violation = cases["_violation"].to_numpy(dtype=bool) & rows
        return {
            col: to_mu(union_area(geoms[violation & mask.to_numpy(dtype=bool)]))
            for col, mask in masks.items()
        }

    columns = [*keys, *_COUNTS, *_AREAS, *(_AMOUNTS if amounts else ())]
    if len(parts):
        out = parts.groupby(keys, sort=False, dropna=False).sum(numeric_only=True).reset_index()
        key_frame = cases[keys].astype(str)
        for col in _AREAS:
            out[col] = 0.0
        for i, row in out.iterrows():
            rows = np.ones(len(cases), dtype=bool)
            for k in keys:
                rows &= (key_frame[k] == str(row[k])).to_numpy()
            for col, value in areas(rows).items():
                out.loc[i, col] = value
    else:
        out = pd.DataFrame(columns=columns)
    order = {g: i for i, g in enumerate(GROUPS)}
    if len(out):
        sort = {}
        if "group" in keys:
            sort["_g"] = out["group"].map(lambda g: order.get(g, len(order)))
        for k in keys:
            if k != "group":
                sort[f"_{k}"] = out[k].map(lambda v: pinyin_key("" if v == _NO_STREET else v))
        out = out.assign(**sort).sort_values(list(sort), kind="stable").drop(columns=list(sort))
    total: dict[str, str | float] = {k: "" for k in keys}
    total[keys[0]] = _TOTAL
    for col in columns[len(keys) :]:
        total[col] = parts[col].sum() if col in parts and len(parts) else 0
    total.update(areas(np.ones(len(cases), dtype=bool)) if len(cases) else {})
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)[columns]
    for col in _COUNTS:
        out[col] = out[col].astype(int)
    for col in (*_AREAS, *(_AMOUNTS if amounts else ())):
        out[col] = out[col].astype(float).round(4)
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------- HTML

_CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","WenQuanYi Zen Hei",
sans-serif;margin:24px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
.meta{color:#666;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}
.card .n{font-size:24px;font-weight:bold}.card .s{color:#666;font-size:12px}
.card.bad{border-color:#c00;background:#fff0f0}.card.bad .n{color:#c00}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 8px}th{background:#f3f3f3}
td.num{text-align:right}tr.overdue td{background:#ffc7ce;color:#9c0006}
tr.total td{font-weight:bold;background:#f7f7f7}
svg{max-width:100%;height:auto}
"""

_CJK_FONTS = (
    "Microsoft YaHei",
    "PingFang SC",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "SimHei",
)


def _table(df: pd.DataFrame, *, mark_all: bool = False) -> str:
    """An HTML table, every cell escaped; rows with overdue cases marked."""
    esc = _esc
    headers = [PROGRESS_HEADERS_ZH.get(c, c) for c in df.columns]
    rows = []
    for _, row in df.iterrows():
        first = str(row.iloc[0])
        overdue = mark_all or ("overdue" in df and row["overdue"] > 0)
        cls = "total" if first == _TOTAL else ("overdue" if overdue else "")
        cells = []
        for col, value in row.items():
            if isinstance(value, float | np.floating):
                text, num = f"{value:,.2f}", True
            elif isinstance(value, int | np.integer):
                text, num = f"{value}", True
            else:
                text, num = "" if pd.isna(value) else str(value), False
            cells.append(f"<td{' class=num' if num else ''}>{esc(text)}</td>")
            del col
        rows.append(f"<tr class='{cls}'>{''.join(cells)}</tr>")
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _esc(text) -> str:
    """HTML text: escaped, characters no file holds written as U+FFFD (counted)."""
    return html.escape(clean_text(str(text), where="HTML"))


def _chart(df: pd.DataFrame, key: str, title: str) -> str:
    """Stacked horizontal bars (overdue, open in time, pending, closed) as inline SVG."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    data = df[df[key] != _TOTAL]
    if not len(data):
        return "<p>暂无案件。</p>"
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    rc: dict[RcKeyType, Any] = {
        "svg.fonttype": "none",  # text stays text: the browser draws it with its own fonts
        "text.parse_math": False,  # a "$" in a street name is not TeX
        "font.family": "sans-serif",
        "font.sans-serif": [*_CJK_FONTS, "DejaVu Sans"],
        "svg.hashsalt": "landgis",
    }
    labels = [clean_text(str(v), where="HTML") for v in data[key]][::-1]
    series = [
        ("逾期", (data["overdue"]).to_numpy()[::-1], "#c0392b"),
        ("未逾期", (data["open"] - data["overdue"]).to_numpy()[::-1], "#e67e22"),
        ("待确认销号", data["pending"].to_numpy()[::-1], "#f1c40f"),
        ("已办结", data["closed"].to_numpy()[::-1], "#27ae60"),
    ]
    with plt.rc_context(rc), warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"Glyph \d+ .* missing from", category=UserWarning
        )
        fig, ax = plt.subplots(figsize=(8, 0.5 * len(labels) + 1.6))
        left = np.zeros(len(labels))
        y = np.arange(len(labels))
        for name, values, color in series:
            ax.barh(y, values, left=left, color=color, label=name, height=0.6)
            left = left + values
        ax.set_yticks(y, labels)
        ax.set_title(f"{title}（件）")
        locator = ax.xaxis.get_major_locator()
        assert isinstance(locator, MaxNLocator)  # matplotlib's default AutoLocator is one
        locator.set_params(integer=True)
        ax.legend(
            loc="upper center", fontsize=8, ncols=4, bbox_to_anchor=(0.5, -0.08), frameon=False
        )
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
        plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]

