"""Colours and line styles shared by every presenter (HTML map, PNG, QGIS styles).

Findings take the colour of their category (:attr:`landgis.rules.Category.colour`,
a qualitative palette chosen so that neighbouring categories differ in hue and
lightness); red lines keep one hue per tenure, dashed for the tenures that are
not the zone's own grant.
"""

from __future__ import annotations

from landgis.rules import CATEGORIES, DRAW_ORDER

__all__ = ["CATEGORY_COLORS", "CONTEXT_STYLES", "DRAW_ORDER", "TENURE_STYLES", "category_color"]

#: Categories in drawing order, and their colours: from :mod:`landgis.rules`.
CATEGORY_COLORS: dict[str, str] = {code: cat.colour for code, cat in CATEGORIES.items()}

#: Leaflet path options per tenure code (also read by the PNG and QGIS styles).
TENURE_STYLES: dict[str, dict] = {
    "requisitioned": {"color": "#c0392b", "weight": 2, "dashArray": None, "fillOpacity": 0.04},
    "proxy_requisitioned": {
        "color": "#d35400",
        "weight": 2,
        "dashArray": "8 4",
        "fillOpacity": 0.04,
    },
    "leased_out": {"color": "#1f4e9c", "weight": 2, "dashArray": None, "fillOpacity": 0.04},
    "leased_in": {"color": "#1e8449", "weight": 2, "dashArray": "3 5", "fillOpacity": 0.04},
}

CONTEXT_STYLES: dict[str, dict] = {
    "footprints": {"color": "#4d4d4d", "weight": 0.8, "fillColor": "#9a9a9a", "fillOpacity": 0.45},
    "planning": {"color": "#7d3c98", "weight": 1.5, "dashArray": "10 6", "fillOpacity": 0.02},
    "admin": {"color": "#222222", "weight": 1, "dashArray": "2 4", "fillOpacity": 0.0},
}


def category_color(code: str, default: str = "#7f7f7f") -> str:
    """The colour of a finding category (``default`` for a code landgis does not know)."""
    cat = CATEGORIES.get(code)
    return cat.colour if cat is not None else default
