"""The printable list of a street's findings: an A4 HTML page for the site check.

One card per finding with its id, category, holder, parcel, place (street,
village, WGS84 coordinates), area in m² and 亩, action, working group and
deadline, a small map (the finding in its category colour on the red lines and
actual use around it) and blank lines for what the inspector finds.  The page
is self-contained — CSS inline, maps as PNG data URIs, no script, no fonts or
anything else fetched — so it opens and prints on an office PC without
internet (browser: Ctrl+P; ``@page`` sets A4 and the margins).  Every text
from the input files is HTML-escaped, control and non-characters written as U+FFFD
(:mod:`landgis.io.text_out`).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from landgis.io.atomic import atomic_path
from landgis.io.columns import cell_text
from landgis.io.text_out import clean_text, counted
from landgis.present.style import CONTEXT_STYLES, TENURE_STYLES, category_color
from landgis.rules import CATEGORIES

__all__ = ["finding_map_png", "printlist_html", "write_printlist"]

_CSS = """
@page { size: A4 portrait; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei",
       "SimHei", sans-serif; font-size: 10pt; color: #111; margin: 0; }
header { border-bottom: 2px solid #333; margin-bottom: 4mm; padding-bottom: 2mm; }
h1 { font-size: 15pt; margin: 0 0 1mm 0; }
.meta { color: #444; font-size: 9pt; }
.hint { color: #666; font-size: 8.5pt; }
table.index { border-collapse: collapse; width: 100%; margin-bottom: 5mm; font-size: 8.5pt; }
table.index th, table.index td { border: 0.3mm solid #999; padding: 0.8mm 1.5mm; text-align: left; }
table.index td.num { text-align: right; }
article { display: grid; grid-template-columns: 58mm 1fr; gap: 4mm; border: 0.35mm solid #777;
          border-left-width: 2.5mm; padding: 3mm; margin-bottom: 4mm;
          break-inside: avoid; page-break-inside: avoid; }
article img { width: 58mm; height: 58mm; border: 0.2mm solid #bbb; }
article h2 { font-size: 11.5pt; margin: 0 0 1.5mm 0; }
article h2 .id { font-family: Consolas, "DejaVu Sans Mono", monospace; }
dl { display: grid; grid-template-columns: 26mm 1fr; margin: 0; row-gap: 0.6mm; }
dt { color: #555; white-space: nowrap; } dd { margin: 0; }
.notes { margin-top: 2mm; font-size: 9pt; color: #333; }
.notes span { display: inline-block; border-bottom: 0.3mm solid #666; min-width: 30mm;
              height: 5mm; margin-right: 3mm; }
@media screen { body { max-width: 190mm; margin: 8mm auto; } }
@media print { .hint { display: none; } }
"""


def printlist_html(
    findings: gpd.GeoDataFrame,
    *,
    title: str = "土地资源核查处置",
    street: str = "",
    parcels: gpd.GeoDataFrame | None = None,
    footprints: gpd.GeoDataFrame | None = None,
    maps: bool = True,
    date: dt.date | None = None,
    case_ids: Mapping[str, str] | None = None,
) -> str:
    """The print view of ``findings`` as one self-contained HTML document.

    Parameters
    ----------
    findings
        The street's findings (projected CRS, as the audit gives them).
    title, street
        Shown in the page header.
    parcels, footprints
        Drawn around each finding in its small map (optional).
    maps
        Draw the small maps (PNG, matplotlib).
    date
        Date printed in the header (today by default).
    case_ids
        Finding id → case number (案件编号) of the case ledger
        (:meth:`Ledger.case_numbers <landgis.monitor.ledger.Ledger.case_numbers>`):
        printed with each finding, the same numbers as on the return sheets.

    Returns
    -------
    str
        The HTML text.
    """
    date = date or dt.date.today()

    def esc(text: str) -> str:
        return html.escape(clean_text(text, where="HTML"))

    heading = f"{title} · {street}" if street else title
    from landgis.present.summary import totals
    from landgis.present.units import headline

    # the totals as everywhere: each area a union (land once), money in 元
    summed = "，".join(
        f"{name} {text}" for name, text in headline(totals(findings, parcels=parcels))[1:]
    )
    index_rows = []
    cards = []
    context = _Context(parcels, footprints)
    for n, (row, geom) in enumerate(
        zip(findings.itertuples(index=False), findings.geometry.values, strict=True), start=1
    ):
        code = str(row.category)
        color = category_color(code, "#555555")
        label = cell_text(row.category_label) or (
            CATEGORIES[code].label if code in CATEGORIES else code
        )
        area_mu = _num(row.area_mu)
        place = "".join(cell_text(v) for v in (row.street, row.village)) or "—"
        case = (case_ids or {}).get(cell_text(row.finding_id), "")
        case_cell = f"<td>{esc(case)}</td>" if case_ids is not None else ""
        index_rows.append(
            f"<tr><td>{n}</td>{case_cell}<td>{esc(cell_text(row.finding_id))}</td><td>{esc(label)}</td>"
            f"<td>{esc(cell_text(row.holder))}</td><td>{esc(place)}</td>"
            f"<td class='num'>{area_mu:.2f}</td><td>{esc(cell_text(row.deadline))}</td></tr>"
        )
        image = ""
        if maps:
            png = finding_map_png(geom, code, context=context)
            if png:
                data = base64.b64encode(png).decode("ascii")
                alt = esc(cell_text(row.finding_id))
                image = f"<img alt='{alt}' src='data:image/png;base64,{data}'>"
        lon, lat = _num(getattr(row, "lon", np.nan)), _num(getattr(row, "lat", np.nan))
        coords = f"{lon:.6f}, {lat:.6f}" if np.isfinite(lon) and np.isfinite(lat) else "—"
        items = [
            ("案件编号", case),
            ("权利人/使用人", cell_text(row.holder)),
            ("宗地代码", cell_text(row.parcel_id)),
            ("相关权利人", cell_text(row.other_holder)),
            ("位置", place),
            ("经纬度", f"{coords}（WGS84）" if coords != "—" else coords),
            ("面积", f"{_num(row.area_m2):,.2f} 平方米 ＝ {area_mu:,.2f} 亩"),
            ("处置建议", cell_text(row.action)),
            ("责任工作组", cell_text(row.group)),
            ("完成时限", cell_text(row.deadline)),
        ]
        dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items if v)
        cards.append(
            f"<article style='border-left-color:{color}'>{image}<div>"
            f"<h2>{n}. <span class='id'>{esc(case + ' · ' if case else '')}"
            f"{esc(cell_text(row.finding_id))}</span> "
            f"<span style='color:{color}'>■</span> {esc(label)}</h2><dl>{dl}</dl>"
            "<div class='notes'>核查情况 <span style='min-width:60mm'></span><br>"
            "核查人 <span></span> 日期 <span></span></div></div></article>"
        )
    return (
        "<!DOCTYPE html>\n<html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{esc(heading)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{esc(heading)}</h1><div class='meta'>问题 {len(findings)} 处"
        f"{'，' + esc(summed) if summed else ''} · 打印日期 {date.isoformat()} · 坐标 WGS84</div>"
        "<div class='hint'>打印：Ctrl+P（A4 纵向）。小图中彩色为问题范围，细线为红线，"
        "灰色为实际使用。</div></header>"
        "<table class='index'><thead><tr><th>#</th>"
        f"{'<th>案件编号</th>' if case_ids is not None else ''}<th>编号</th><th>问题类别</th>"
        "<th>权利人/使用人</th><th>位置</th><th>亩</th><th>完成时限</th></tr></thead>"
        f"<tbody>{''.join(index_rows)}</tbody></table>"
        f"{''.join(cards)}</body></html>\n"
    )


@counted
def write_printlist(
    findings: gpd.GeoDataFrame,
    path: str | Path,
    *,
    title: str = "土地资源核查处置",
    street: str = "",
    parcels: gpd.GeoDataFrame | None = None,
    footprints: gpd.GeoDataFrame | None = None,
    maps: bool = True,
    case_ids: Mapping[str, str] | None = None,
) -> Path:
    """Write :func:`printlist_html` to ``path`` (UTF-8), atomically; return the path."""
    path = Path(path)
    text = printlist_html(
        findings,
        title=title,
        street=street,
        parcels=parcels,
        footprints=footprints,
        maps=maps,
        case_ids=case_ids,
    )
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


class _Context:
    """Red lines and actual use, indexed for the small maps."""

    def __init__(self, parcels, footprints):
        self.parcels = parcels if parcels is not None and len(parcels) else None
        self.footprints = footprints if footprints is not None and len(footprints) else None

    def around(self, frame, box):
        if frame is None:
            return frame
        return frame.iloc[frame.sindex.query(box, predicate="intersects")]


def finding_map_png(
    geom, category: str, *, context: _Context | None = None, size_mm: float = 58, dpi: int = 110
) -> bytes:
    """A small PNG map of one finding: the finding filled in its category colour on the
    red lines (by tenure) and actual use around it, with a scale bar.  No text but
    the scale, so no Chinese font is needed.  Empty bytes for an empty geometry."""
    if geom is None or geom.is_empty:
        return b""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    minx, miny, maxx, maxy = geom.bounds
    span = max(maxx - minx, maxy - miny, 1.0)
    pad = max(20.0, 0.35 * span)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = span / 2 + pad
    box = shapely.box(cx - half, cy - half, cx + half, cy + half)
    inch = size_mm / 25.4
    fig = Figure(figsize=(inch, inch), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal")
    context = context or _Context(None, None)
    fp = context.around(context.footprints, box)
    if fp is not None and len(fp):
        style = CONTEXT_STYLES["footprints"]
        fp.plot(ax=ax, color=style["fillColor"], edgecolor=style["color"], linewidth=0.3, alpha=0.5)
    parcels = context.around(context.parcels, box)
    if parcels is not None and len(parcels):
        for code, style in TENURE_STYLES.items():
            sel = parcels[parcels["tenure"] == code]
            if len(sel):
                dashes = (0, (3, 2)) if style["dashArray"] else "solid"
                sel.boundary.plot(ax=ax, color=style["color"], linewidth=0.8, linestyle=dashes)
    color = category_color(category, "#555555")
    gpd.GeoSeries([geom]).plot(ax=ax, color=color, alpha=0.55, edgecolor=color, linewidth=1.6)
    # GeoPandas rescales the axes to the data it draws: set the window last.
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_axis_off()
    _scale_bar(ax, cx - half, cy - half, 2 * half)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _scale_bar(ax, x0: float, y0: float, width: float) -> None:
    """A bar of a round length (1, 2 or 5 × 10ⁿ m) near a quarter of the map's width."""
    target = width / 4
    exp = 10 ** np.floor(np.log10(target))
    length = max(m * exp for m in (1, 2, 5) if m * exp <= target)
    x, y = x0 + 0.06 * width, y0 + 0.07 * width
    ax.plot([x, x + length], [y, y], color="black", linewidth=2.2, solid_capstyle="butt")
    text = f"{length:g} m" if length < 1000 else f"{length / 1000:g} km"
    ax.text(
        x + length / 2,
        y + 0.025 * width,
        text,
        ha="center",
        va="bottom",
        fontsize=6.5,
        bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 0.5},
    )


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
