"""Colours and line styles shared by every presenter (HTML map, PNG, QGIS styles).

Findings colours are a qualitative palette chosen so that neighbouring
categories differ in hue and lightness; red lines keep one hue per tenure,
dashed for the tenures that are not the zone's own grant.
"""

from __future__ import annotations

__all__ = ["CATEGORY_COLORS", "CONTEXT_STYLES", "DRAW_ORDER", "TENURE_STYLES", "category_color"]

#: Categories in drawing order: parcel-sized findings first, so that the smaller
#: pieces lie (and are clicked) on top.
DRAW_ORDER = (
    "use_removed",
    "leased_in_unused",
    "leased_in_idle",
    "leased_in_used",
    "area_mismatch",
    "idle_requisitioned",
    "idle_leased",
    "low_efficiency",
    "rent_arrears",
    "fee_arrears",
    "overlap_conflict",
    "overuse_requisitioned",
    "overuse_leased",
    "unleased_use",
    "outside_redline",
    "encroachment",
    "use_grown",
    "use_new",
)

CATEGORY_COLORS: dict[str, str] = {
    "encroachment": "#d62728",
    "outside_redline": "#7b1113",
    "overuse_requisitioned": "#ff7f0e",
    "overuse_leased": "#e6b800",
    "unleased_use": "#e377c2",
    "idle_requisitioned": "#8c564b",
    "idle_leased": "#b5b300",
    "leased_in_used": "#2ca02c",
    "leased_in_idle": "#17becf",
    "leased_in_unused": "#1f77b4",
    "overlap_conflict": "#9467bd",
    "area_mismatch": "#7f7f7f",
    "rent_arrears": "#393b79",
    "fee_arrears": "#637939",
    "low_efficiency": "#843c39",
    # change between surveys: vivid hues that stand out on an orthophoto
    "use_new": "#ff1493",
    "use_grown": "#ffa07a",
    "use_removed": "#00bfff",
}

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


def category_color(code: str) -> str:
    """The colour of a finding category."""
    return CATEGORY_COLORS[code]
