"""Static PNG overviews (matplotlib) of the zone or a street, for printed reports."""

from __future__ import annotations

import logging
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from landgis.crs import to_mu
from landgis.io.atomic import atomic_path
from landgis.present.style import CONTEXT_STYLES, TENURE_STYLES, category_color
from landgis.rules import CATEGORIES, draw_order
from landgis.schema import TENURE_LABELS

if TYPE_CHECKING:
    from matplotlib.typing import LineStyleType, RcKeyType

__all__ = ["write_png"]

_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
)


@cache
def _cjk_font() -> str | None:
    """A font with Chinese glyphs, if the system has one."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in _CJK_FONTS if n in names), None)


def write_png(
    path: str | Path,
    findings: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame | None = None,
    footprints: gpd.GeoDataFrame | None = None,
    title: str = "土地资源核查处置",
    dpi: int = 150,
    totals_parcels: gpd.GeoDataFrame | None = None,
) -> Path:
    """Draw red lines, actual use and findings (coloured by category) to a PNG.

    Labels are Chinese when a Chinese font is installed (Noto Sans CJK,
    WenQuanYi, Microsoft YaHei …), English otherwise, with a warning.  Each
    category's legend entry gives what it adds to its total, as the HTML map's
    legend does (``totals_parcels``: the red lines 涉及地块面积 counts on,
    default ``parcels``).
    """
    import matplotlib

    from landgis.present.summary import measured_land, union_area

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    font = _cjk_font()
    if font is None:
        warnings.warn(
            "no Chinese font found for the PNG overview; labels are in English "
            "(install e.g. fonts-noto-cjk or fonts-wqy-zenhei).",
            stacklevel=2,
        )
    rc: dict[RcKeyType, Any] = (
        {"font.sans-serif": [font, "DejaVu Sans"], "font.family": "sans-serif"} if font else {}
    )
    rc["text.parse_math"] = False  # a "$" in a street name is text, not TeX
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # weight fallbacks
    frames = [f for f in (findings, parcels) if f is not None and len(f)]
    minx, miny, maxx, maxy = (
        pd.concat([f.geometry for f in frames]).total_bounds if frames else (0, 0, 1, 1)
    )
    aspect = max(0.3, min(3.0, (maxy - miny) / max(maxx - minx, 1e-9)))
    with plt.rc_context(rc), warnings.catch_warnings():
        # A name in a script the font lacks (CJK Extension B, U+FFFD) draws as a box;
        # matplotlib's warning per glyph would only fill the terminal.
        warnings.filterwarnings(
            "ignore", message=r"Glyph \d+ .* missing from", category=UserWarning
        )
        fig, ax = plt.subplots(figsize=(9, max(3.5, 9 * aspect)))
        handles = []
        if footprints is not None and len(footprints):
            style = CONTEXT_STYLES["footprints"]
            footprints.plot(
                ax=ax, color=style["fillColor"], edgecolor=style["color"], linewidth=0.3, alpha=0.6
            )
        for code in draw_order():
            sel = findings[findings["category"] == code]
            if not len(sel):
                continue
            color = category_color(code)
            sel.plot(ax=ax, color=color, edgecolor=color, linewidth=0.8, alpha=0.55)
            cat = CATEGORIES[code]
            label = cat.label if font else cat.label_en
            if cat.measure == "money":
                owed = float(pd.to_numeric(sel["amount_owed"], errors="coerce").sum())
                figure = f"{owed:,.2f} 元" if font else f"{owed:,.2f} yuan"
            else:
                counted = totals_parcels if totals_parcels is not None else parcels
                mu = to_mu(union_area(measured_land(sel, cat.measure, parcels=counted)))
                figure = f"{mu:,.2f} 亩" if font else f"{mu:,.2f} mu"
            handles.append(
                Patch(
                    facecolor=color,
                    edgecolor=color,
                    alpha=0.7,
                    label=f"{label}  {len(sel)}  {figure}",
                )
            )
        if parcels is not None and len(parcels):
            handles += draw_red_lines(ax, parcels, font=font is not None)
        ax.set_title(title if font else "landgis audit", fontsize=13)
        ax.set_aspect("equal")
        ax.ticklabel_format(useOffset=False, style="plain")
        ax.tick_params(labelsize=7)
        if handles:
            ax.legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                fontsize=8,
                frameon=False,
            )
        fig.tight_layout()
        path = Path(path)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight")
        plt.close(fig)
    return path


def draw_red_lines(ax, parcels, *, font: bool, linewidth: float = 1.0) -> list:
    """Draw the red lines by tenure as on the HTML map; the legend handles."""
    from matplotlib.lines import Line2D

    handles = []
    for code, label in TENURE_LABELS.items():
        sel = parcels[parcels["tenure"] == code]
        if not len(sel):
            continue
        style = TENURE_STYLES[code]
        dashes: LineStyleType = (0, (4, 2)) if style["dashArray"] else "solid"
        sel.boundary.plot(ax=ax, color=style["color"], linewidth=linewidth, linestyle=dashes)
        handles.append(
            Line2D(
                [],
                [],
                color=style["color"],
                linestyle=dashes,
                label=f"红线·{label}" if font else f"red line: {code}",
            )
        )
    return handles
