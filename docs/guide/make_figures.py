"""Figures of the user guide, drawn from the sample park with matplotlib.

The guide's build (``docs/guide/hooks.py``) calls :func:`figures` and adds the
PNGs to the site, so nothing generated is committed and the pictures always
show what the current code finds.  To look at them without building the site::

    python docs/guide/make_figures.py /tmp/figures
"""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import landgis
from landgis.present.png import _cjk_font, draw_red_lines
from landgis.present.style import CATEGORY_COLORS, CONTEXT_STYLES, DRAW_ORDER
from landgis.rules import CATEGORIES

#: Figure name → (categories shown, title).
FIGURES: dict[str, tuple[tuple[str, ...], str]] = {
    "rule-excess.png": (
        (
            "encroachment",
            "outside_redline",
            "overuse_requisitioned",
            "overuse_leased",
            "unleased_use",
        ),
        "超范围用地：侵占、红线外、少征多用、少租多用、未租先用",
    ),
    "rule-idle.png": (
        ("idle_requisitioned", "idle_leased"),
        "闲置：征而未用、租出未用",
    ),
    "rule-leased-in.png": (
        ("leased_in_used", "leased_in_idle", "leased_in_unused"),
        "租入土地：租而有用、租而未用、租而无用",
    ),
    "rule-registers.png": (("overlap_conflict", "area_mismatch"), "红线重叠与面积不符"),
}


def sample_audit() -> landgis.Audit:
    """The sample park audited with the default settings."""
    return landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
    )


def figures(audit: landgis.Audit | None = None) -> dict[str, bytes]:
    """File name → PNG bytes of every figure of the guide."""
    audit = audit or sample_audit()
    out = {"overview.png": _draw(audit, tuple(CATEGORIES), "样例园区：红线、实际使用与问题")}
    for name, (categories, title) in FIGURES.items():
        out[name] = _draw(audit, categories, title)
    return out


def _draw(audit: landgis.Audit, categories: tuple[str, ...], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    font = _cjk_font()
    rc = {"font.sans-serif": [font, "DejaVu Sans"], "font.family": "sans-serif"} if font else {}
    findings = audit.findings[audit.findings["category"].isin(categories)]
    focus = findings if len(findings) else audit.parcels
    minx, miny, maxx, maxy = focus.total_bounds
    pad = 40.0
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(8, 4.6), dpi=90)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.01, 0.02, 0.62, 0.88))
        handles = []
        style = CONTEXT_STYLES["footprints"]
        audit.footprints.plot(
            ax=ax, color=style["fillColor"], edgecolor=style["color"], linewidth=0.4, alpha=0.5
        )
        handles.append(
            Patch(
                facecolor=style["fillColor"], alpha=0.5, label="实际使用" if font else "actual use"
            )
        )
        for code in DRAW_ORDER:
            sel = findings[findings["category"] == code]
            if not len(sel):
                continue
            color = CATEGORY_COLORS[code]
            sel.plot(ax=ax, color=color, edgecolor=color, linewidth=1.2, alpha=0.6)
            label = CATEGORIES[code].label if font else CATEGORIES[code].label_en
            handles.append(Patch(facecolor=color, alpha=0.7, label=f"{label}（{len(sel)}）"))
        handles += draw_red_lines(ax, audit.parcels, font=bool(font), linewidth=1.3)
        # A window of the axes' own shape around the findings: nothing cropped.
        box = (0.88 * 4.6) / (0.62 * 8)
        w, h = maxx - minx + 2 * pad, maxy - miny + 2 * pad
        w, h = max(w, h / box), max(h, w * box)
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        ax.set_xlim(cx - w / 2, cx + w / 2)
        ax.set_ylim(cy - h / 2, cy + h / 2)
        ax.set_aspect("equal")
        ax.set_axis_off()
        fig.suptitle(title if font else "landgis", fontsize=12, x=0.02, ha="left")
        fig.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(0.65, 0.9), fontsize=9, frameon=False
        )
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "figures")
    target.mkdir(parents=True, exist_ok=True)
    for name, data in figures().items():
        (target / name).write_bytes(data)
        print(target / name, len(data), "bytes")
