"""The HTML map: a folium map that works offline and never runs text from the data.

Two rules shape this module:

* **Offline.**  Leaflet's JavaScript and CSS (from the installed
  ``xstatic-leaflet`` package, images inlined) and landgis' own small script
  travel inside the page; folium's CDN links are dropped.  Without network the
  basemap stays blank and everything else draws.
* **Text is data.**  folium renders every element through Jinja twice (branca's
  ``MacroElement`` output is parsed as a template again), and its popups insert
  values as HTML.  So no input text goes into folium: the layers travel as one
  JSON block that is put into the page *after* folium has rendered it (see
  :class:`_DataFigure`), escaped so it cannot close its ``<script>``, and
  ``landgis-map.js`` sets every name with ``textContent``.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from landgis.config import DEADLINE_BASES
from landgis.crs import to_mu
from landgis.errors import ConfigError
from landgis.gcj02 import wgs84_to_gcj02
from landgis.io.land_survey import USER_SOURCES
from landgis.io.text_out import clean_text, counted
from landgis.order import pinyin_order
from landgis.present.style import CONTEXT_STYLES, TENURE_STYLES, category_color
from landgis.present.summary import measured_land, totals, union_area
from landgis.present.units import fmt, headline
from landgis.rules import CATEGORIES, DEPARTMENTS, draw_order
from landgis.rules import departments as rules_departments
from landgis.schema import TENURE_LABELS

__all__ = ["BASEMAPS", "DEPARTMENT_CATEGORIES", "build_map", "map_html", "map_selection"]

#: Basemap choices.  Gaode/AMap tiles are in GCJ-02: the data is shifted onto them.
BASEMAPS = ("osm", "tianditu", "tianditu-img", "gaode", "gaode-img", "none")

#: The departments that get a map of their own, and the categories on it.
DEPARTMENT_CATEGORIES = DEPARTMENTS  # as imported; maps ask rules.departments() each time

TIANDITU_ENV = "TIANDITU_KEY"
_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
    "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
)
_GAODE = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
    "&style={style}&x={x}&y={y}&z={z}"
)
_OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_SVG_LIMIT = 4000  # above this many shapes the map draws on a canvas (much faster)

_FINDING_FIELDS = [
    ("finding_id", "编号"),
    ("category_label", "问题类别"),
    ("holder", "权利人/使用人"),
    ("parcel_id", "宗地代码"),
    ("other_holder", "相关权利人"),
    ("other_parcel_id", "相关宗地"),
    ("place", "街道/村"),
    ("area", "面积"),
    ("land_class", "地类"),
    ("use", "使用率"),
    ("registered", "登记面积"),
    ("action", "处置建议"),
    ("group", "责任工作组"),
    ("departments", "协办部门"),
    ("deadline", "完成时限"),
]
_PARCEL_FIELDS = [
    ("parcel_id", "宗地代码"),
    ("name", "地块名称"),
    ("tenure", "取得方式"),
    ("holder", "权利人"),
    ("place", "街道/村"),
    ("area", "面积"),
]
_FOOTPRINT_FIELDS = [
    ("footprint_id", "图斑编号"),
    ("user", "使用人"),
    ("user_source", "使用人来源"),
    ("use", "用途"),
    ("area", "面积"),
]


def build_map(
    findings: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame | None = None,
    footprints: gpd.GeoDataFrame | None = None,
    planning: gpd.GeoDataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
    title: str = "土地资源核查处置",
    subtitle: str | None = None,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    simplify: float = 0.5,
    orthophoto: str | Path | dict | None = None,
    changes: gpd.GeoDataFrame | None = None,
    totals_parcels: gpd.GeoDataFrame | None = None,
):
    """A folium map of the findings over red lines, actual use and zones.

    Parameters
    ----------
    findings
        The findings to show (all of them are drawn with full detail).
    parcels, footprints, planning, admin
        Context layers, simplified by ``simplify`` metres for display.
    title, subtitle
        Shown in the map's corner (as text).
    basemap
        One of :data:`BASEMAPS`: ``"osm"`` (default, no key),
        ``"tianditu"``/``"tianditu-img"`` (天地图 vector/imagery; needs
        ``tianditu_key`` or the ``TIANDITU_KEY`` environment variable),
        ``"gaode"``/``"gaode-img"`` (高德; every layer shifted to GCJ-02), or
        ``"none"``.  The other keyless basemaps are offered in the layer switcher.
    tianditu_key
        The user's Tianditu key.
    simplify
        Display tolerance of the context layers, metres.
    orthophoto
        Optional GeoTIFF drawn under the vector layers (listed in the layer
        switcher), embedded in the page as a PNG so it shows offline; or the
        dict :func:`landgis.present.orthophoto.orthophoto_overlay` returns (to choose its
        size, or to reuse one image in several maps).
    changes
        A round's changes (:func:`landgis.monitor.diff_rounds`): its new and
        its resolved findings are drawn as two more layers on top, outlined
        (new: thick dashed red; resolved: dotted black, with the earlier geometry).
    totals_parcels
        The red lines the totals of the title and legend count 涉及地块面积 on
        (:func:`landgis.present.summary.totals`); default ``parcels``.  Give all
        of them when ``parcels`` holds only the context around the findings.

    Returns
    -------
    folium.Map
        Displays inline in Jupyter; ``.save("map.html")`` writes a page that
        works offline.
    """
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ImportError("maps need folium: pip install folium") from exc
    if basemap not in BASEMAPS:
        raise ConfigError(f"basemap={basemap!r}; choose one of {', '.join(BASEMAPS)}.")
    key = tianditu_key or os.environ.get(TIANDITU_ENV) or None
    if basemap.startswith("tianditu") and not key:
        raise ConfigError(
            "the Tianditu basemap needs a key: pass tianditu_key=… (--tianditu-key) or set "
            f"the {TIANDITU_ENV} environment variable; get one at console.tianditu.gov.cn."
        )
    gcj = basemap.startswith("gaode")

    layers = _layers(findings, parcels, footprints, planning, admin, simplify=simplify, gcj=gcj)
    if changes is not None:
        layers += _change_layers(changes, gcj=gcj)
    bounds = _bounds([f for f in (findings, parcels) if f is not None and len(f)], gcj=gcj)
    images = []
    if orthophoto is not None:
        from landgis.present.orthophoto import orthophoto_overlay

        images.append(
            orthophoto if isinstance(orthophoto, dict) else orthophoto_overlay(orthophoto, gcj=gcj)
        )
        bounds = bounds or images[0]["bounds"]
    figure = _data_figure_class()()
    m = folium.Map(
        location=_centre(bounds),
        zoom_start=15,
        tiles=None,
        control_scale=False,
        prefer_canvas=False,
    )
    m.default_js, m.default_css = [], []  # no CDN: Leaflet travels inline
    figure.add_child(m)
    bases = _basemaps(folium, m, basemap, key)
    n_shapes = sum(len(spec["shapes"]["rings"]) for spec in layers)
    sums = totals(findings, parcels=totals_parcels if totals_parcels is not None else parcels)
    figure.landgis_data = {
        "map": m.get_name(),
        "title": clean_text(title, where="HTML"),
        "subtitle": clean_text(
            subtitle if subtitle is not None else _default_subtitle(sums), where="HTML"
        ),
        "layers": layers,
        "images": images,
        "bases": bases,
        "bounds": bounds,
        "canvas": n_shapes > _SVG_LIMIT,
        "legend": _legend(findings, parcels, changes, sums=sums, totals_parcels=totals_parcels),
    }
    return m


def map_html(m) -> str:
    """The complete HTML page of a map made by :func:`build_map`."""
    return m.get_root().render()


# ----------------------------------------------------------------- the figure


@cache
def _data_figure_class():
    """Built on first use, so importing landgis does not import branca."""
    from branca.element import Figure

    class DataFigure(Figure):
        """A branca Figure that adds the landgis assets and data after rendering.

        Everything branca renders goes through Jinja (twice); what this class
        adds afterwards does not, so text in it is never evaluated.
        """

        landgis_data: dict[str, Any] | None = None

        def render(self, **kwargs) -> str:
            html = super().render(**kwargs)
            if self.landgis_data is None:
                return html
            head = (
                f"<style>{_leaflet_css()}</style>\n<script>{_asset('leaflet.js')}</script>\n"
                f"<style>{_asset('landgis-map.css')}</style>\n"
            )
            tail = (
                f'<script type="application/json" id="landgis-data">'
                f"{_json_for_script(self.landgis_data)}</script>\n"
                f"<script>{_asset('landgis-map.js')}</script>\n"
            )
            html = html.replace("<head>", "<head>\n" + head, 1)
            cut = html.rfind("</html>")
            return html[:cut] + tail + html[cut:] if cut >= 0 else html + tail

    return DataFigure


def _json_for_script(data) -> str:
    """JSON that cannot end its ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


@cache
def _asset(name: str) -> str:
    if name.startswith("leaflet"):
        from xstatic.pkg import leaflet

        return (Path(leaflet.BASE_DIR) / name).read_text(encoding="utf-8")
    return files("landgis.present").joinpath("static", name).read_text(encoding="utf-8")


@cache
def _leaflet_css() -> str:
    """leaflet.css with its images inlined as data URIs (offline layer switcher icon)."""
    from xstatic.pkg import leaflet

    images = Path(leaflet.BASE_DIR) / "images"

    def inline(match: re.Match) -> str:
        path = images / match.group(1)
        if not path.is_file():
            return match.group(0)
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\(images/([\w.-]+\.png)\)", inline, _asset("leaflet.css"))


# ----------------------------------------------------------------- basemaps


def _basemaps(folium, m, basemap: str, key: str | None) -> list[dict]:
    """Tile layers (added to the folium map, hidden) and the switcher's entries."""

    def tiles(url: str, attr: str, label: str, **options) -> str:
        layer = folium.TileLayer(
            tiles=url,
            attr=attr,
            name=label,
            overlay=False,
            control=False,
            show=False,
            max_zoom=20,
            **options,
        )
        layer.add_to(m)
        return layer.get_name()

    if basemap == "none":
        return []
    if basemap.startswith("gaode"):
        vec = {
            "label": "高德地图",
            "layers": [
                tiles(_GAODE.replace("{style}", "8"), "高德地图", "高德地图", subdomains="1234")
            ],
        }
        img = {
            "label": "高德影像",
            "layers": [
                tiles(_GAODE.replace("{style}", "6"), "高德地图", "高德影像", subdomains="1234")
            ],
        }
        return [img, vec] if basemap == "gaode-img" else [vec, img]
    entries = []
    osm = {
        "label": "OpenStreetMap",
        "layers": [
            tiles(_OSM, "&copy; OpenStreetMap contributors", "OpenStreetMap", max_native_zoom=19)
        ],
    }
    if key:
        tdt = "&copy; 天地图"
        vec = {
            "label": "天地图矢量",
            "layers": [
                tiles(
                    _TIANDITU.format(layer="vec", key=key, s="{s}", x="{x}", y="{y}", z="{z}"),
                    tdt,
                    "天地图矢量",
                    subdomains="01234567",
                ),
                tiles(
                    _TIANDITU.format(layer="cva", key=key, s="{s}", x="{x}", y="{y}", z="{z}"),
                    tdt,
                    "天地图注记",
                    subdomains="01234567",
                ),
            ],
        }
        img = {
            "label": "天地图影像",
            "layers": [
                tiles(
                    _TIANDITU.format(layer="img", key=key, s="{s}", x="{x}", y="{y}", z="{z}"),
                    tdt,
                    "天地图影像",
                    subdomains="01234567",
                ),
                tiles(
                    _TIANDITU.format(layer="cia", key=key, s="{s}", x="{x}", y="{y}", z="{z}"),
                    tdt,
                    "天地图影像注记",
                    subdomains="01234567",
                ),
            ],
        }
        entries = {"tianditu": [vec, img, osm], "tianditu-img": [img, vec, osm]}.get(
            basemap, [osm, vec, img]
        )
    else:
        entries = [osm]
    return entries


# ----------------------------------------------------------------- layers


def _layers(findings, parcels, footprints, planning, admin, *, simplify: float, gcj: bool):
    specs: list[dict] = []
    if admin is not None and len(admin):
        specs.append(
            _context_layer(
                "admin",
                "街道/村界",
                admin,
                CONTEXT_STYLES["admin"],
                simplify,
                gcj,
                fields=[("place", "街道/村")],
                props=lambda df: {"place": _place(df)},
                tooltip=["place"],
                show=True,
            )
        )
    if planning is not None and len(planning):
        specs.append(
            _context_layer(
                "planning",
                "规划分区",
                planning,
                CONTEXT_STYLES["planning"],
                simplify,
                gcj,
                fields=[("zone", "规划分区")],
                props=lambda df: {"zone": _text_column(df, "zone")},
                tooltip=["zone"],
                show=True,
            )
        )
    if footprints is not None and len(footprints):
        specs.append(
            _context_layer(
                "footprints",
                "实际使用",
                footprints,
                CONTEXT_STYLES["footprints"],
                simplify,
                gcj,
                fields=_FOOTPRINT_FIELDS,
                props=_footprint_props,
                tooltip=["user"],
                show=True,
                css="lg-footprint",
            )
        )
    if parcels is not None and len(parcels):
        for code, label in TENURE_LABELS.items():
            sel = parcels[parcels["tenure"] == code]
            if len(sel):
                style = {k: v for k, v in TENURE_STYLES[code].items() if v is not None}
                specs.append(
                    _context_layer(
                        f"redline-{code}",
                        f"红线·{label}（{len(sel)}）",
                        sel,
                        style,
                        simplify,
                        gcj,
                        fields=_PARCEL_FIELDS,
                        props=_parcel_props,
                        tooltip=["parcel_id", "holder"],
                        show=True,
                        css=f"lg-redline lg-tenure-{code}",
                    )
                )
    placed = ~(findings.geometry.isna() | findings.geometry.is_empty)  # money without land
    for code in draw_order():
        sel = findings[(findings["category"] == code) & placed]
        if not len(sel):
            continue
        color = category_color(code)
        style = {
            "color": color,
            "weight": 2,
            "fillColor": color,
            "fillOpacity": 0.45,
            "className": f"lg-finding lg-cat-{code}",
        }
        specs.append(
            {
                "id": f"finding-{code}",
                "label": f"问题·{CATEGORIES[code].label}（{len(sel)}）",
                "style": style,
                "fields": _FINDING_FIELDS,
                "tooltip": ["category_label", "holder", "area_mu"],
                "show": True,
                "shapes": _shapes(sel, simplify=0.0, gcj=gcj),
                "props": _finding_props(sel),
            }
        )
    return specs


#: Layers of a round's changes (see ``build_map(changes=…)``): status → label, style.
CHANGE_LAYERS = {
    "new": ("本轮新增", {"color": "#d7191c", "weight": 4, "dashArray": "8 4", "fill": False}),
    "resolved": (
        "本轮已消除",
        {"color": "#1a9641", "weight": 3, "dashArray": "2 4", "fill": False},
    ),
}
_CHANGE_FIELDS = [
    ("status", "变化"),
    ("category", "问题类别"),
    ("holder", "权利人/使用人"),
    ("ids", "编号（上轮 → 本轮）"),
    ("area", "面积"),
]


def _change_layers(changes: gpd.GeoDataFrame, *, gcj: bool) -> list[dict]:
    specs = []
    for status, (label, style) in CHANGE_LAYERS.items():
        sel = changes[changes["status"] == status]
        if not len(sel):
            continue
        area = sel["new_area_m2"] if status == "new" else sel["old_area_m2"]
        specs.append(
            _context_layer(
                f"change-{status}",
                f"{label}（{len(sel)}）",
                sel,
                style,
                0.0,
                gcj,
                fields=_CHANGE_FIELDS,
                props=lambda df, area=area: {
                    "status": _text_column(df, "status_label"),
                    "category": _text_column(df, "category_label"),
                    "holder": _text_column(df, "holder"),
                    "ids": [
                        f"{o or '—'} → {n or '—'}"
                        for o, n in zip(
                            _text_column(df, "old_id"), _text_column(df, "new_id"), strict=True
                        )
                    ],
                    "area": _area(area),
                },
                tooltip=["status", "category", "holder"],
                show=True,
                css=f"lg-change lg-change-{status}",
            )
        )
    return specs


def _context_layer(
    layer_id, label, frame, style, simplify, gcj, *, fields, props, tooltip, show, css=None
):
    style = dict(style)
    if css:
        style["className"] = css
    return {
        "id": layer_id,
        "label": label,
        "style": style,
        "fields": fields,
        "tooltip": tooltip,
        "show": show,
        "shapes": _shapes(frame, simplify=simplify, gcj=gcj),
        "props": props(frame),
    }


#: Coordinates travel as integers of this many degrees (1e-7° ≈ 1 cm).
QUANTUM = 1e-7


def _shapes(frame: gpd.GeoDataFrame, *, simplify: float, gcj: bool) -> dict:
    """Geometries in WGS84 (or GCJ-02), compact: quantized, delta-coded integer rings.

    ``rings[i]`` is the list of polygons of feature *i*, each a list of rings,
    each a flat ``[x0, y0, dx1, dy1, …]`` in units of :data:`QUANTUM` degrees
    from ``origin``; ``landgis-map.js`` decodes it.  About a third of the size
    of GeoJSON at the same precision.
    """
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if simplify > 0:
        geoms = shapely.simplify(geoms, simplify, preserve_topology=True)
    geoms = np.asarray(gpd.GeoSeries(geoms, crs=frame.crs).to_crs(4326).values, dtype=object)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    parts, owner = parts[keep], owner[keep]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    if gcj and len(coords):
        coords = np.column_stack(wgs84_to_gcj02(coords[:, 0], coords[:, 1]))
    origin = np.floor(coords.min(axis=0) * 100) / 100 if len(coords) else np.zeros(2)
    q = np.round((coords - origin) / QUANTUM).astype(np.int64)
    starts = np.r_[True, coord_ring[1:] != coord_ring[:-1]] if len(q) else np.zeros(0, bool)
    delta = q.copy()
    delta[1:] -= q[:-1]
    delta[starts] = q[starts]  # each ring starts absolute
    flat = delta.ravel().tolist()
    bounds = np.searchsorted(coord_ring, np.arange(len(rings) + 1)) * 2
    encoded_rings = [flat[a:b] for a, b in itertools.pairwise(bounds)]
    features: list[list[list[list[int]]]] = [[] for _ in range(len(geoms))]
    part_rings: list[list[list[int]]] = [[] for _ in range(len(parts))]
    for ring, part in zip(encoded_rings, ring_part.tolist(), strict=True):
        part_rings[part].append(ring)
    for rings_of_part, feature in zip(part_rings, owner.tolist(), strict=True):
        features[feature].append(rings_of_part)
    return {"origin": [float(origin[0]), float(origin[1])], "quantum": QUANTUM, "rings": features}


def _text_column(frame, name) -> list[str]:
    if name not in frame:
        return [""] * len(frame)
    return [
        "" if v is None or v != v else clean_text(str(v), where="HTML")
        for v in frame[name].tolist()
    ]


def _place(frame) -> list[str]:
    streets, villages = _text_column(frame, "street"), _text_column(frame, "village")
    return [" ".join(x for x in (s, v) if x) for s, v in zip(streets, villages, strict=True)]


def _area(area_m2) -> list[float]:
    """Areas in m² to the cm²; the page formats them as "x 平方米（y 亩）"."""
    return np.round(np.asarray(area_m2, dtype=float), 2).tolist()


def _parcel_props(df) -> dict:
    return {
        "parcel_id": _text_column(df, "parcel_id"),
        "name": _text_column(df, "parcel_name"),
        "tenure": [TENURE_LABELS.get(t, t) for t in df["tenure"]],
        "holder": _text_column(df, "holder"),
        "place": _place(df),
        "area": _area(df.geometry.area),
    }


def _footprint_props(df) -> dict:
    return {
        "footprint_id": _text_column(df, "footprint_id"),
        "user": _text_column(df, "user"),
        "user_source": [USER_SOURCES.get(s, s) for s in _text_column(df, "user_source")],
        "use": _text_column(df, "use"),
        "area": _area(df.geometry.area),
    }


def _finding_props(df) -> dict:
    use = df["use_ratio"].to_numpy(dtype=float) if "use_ratio" in df else np.full(len(df), np.nan)
    reg = (
        df["registered_area_mu"].to_numpy(dtype=float)
        if "registered_area_mu" in df
        else np.full(len(df), np.nan)
    )
    return {
        "finding_id": _text_column(df, "finding_id"),
        "category_label": _text_column(df, "category_label"),
        "holder": _text_column(df, "holder"),
        "parcel_id": _text_column(df, "parcel_id"),
        "other_holder": _text_column(df, "other_holder"),
        "other_parcel_id": _text_column(df, "other_parcel_id"),
        "place": _place(df),
        "area": _area(df["area_m2"]),
        "area_mu": [f"{to_mu(a):,.2f} 亩" for a in df["area_m2"].to_numpy(dtype=float)],
        "land_class": _text_column(df, "land_class"),
        "use": ["" if u != u else f"{u:.1%}" for u in use],
        "registered": ["" if r != r else f"{r:,.2f} 亩" for r in reg],
        "action": _text_column(df, "action"),
        "group": _text_column(df, "group"),
        "departments": _text_column(df, "departments"),
        "deadline": _deadlines(df),
    }


def _deadlines(df) -> list[str]:
    """Deadlines as shown: a deadline counted from the round that found the finding says so."""
    basis = _text_column(df, "deadline_basis")
    return [
        f"{d}（{DEADLINE_BASES['round']}）" if d and b == "round" else d
        for d, b in zip(_text_column(df, "deadline"), basis, strict=True)
    ]


def _legend(findings, parcels, changes=None, *, sums=None, totals_parcels=None) -> dict:
    """The legend: the headline totals, then count and measure per category.

    A category's figure is what it adds to its total (see
    :func:`landgis.present.summary.category_summary`): the union of its pieces or
    parcels in 亩, or its amount in 元 for money categories.
    """
    counted_on = totals_parcels if totals_parcels is not None else parcels
    sums = sums if sums is not None else totals(findings, parcels=counted_on)
    rows = []
    if changes is not None:
        for status, (label, style) in CHANGE_LAYERS.items():
            sel = changes["status"] == status
            if sel.any():
                area = changes.loc[sel, "new_area_m2" if status == "new" else "old_area_m2"]
                rows.append(
                    {
                        "code": f"change-{status}",
                        "label": label,
                        "kind": "line",
                        "color": style["color"],
                        "dash": True,
                        "count": int(sel.sum()),
                        "mu": fmt(to_mu(float(area.sum())), "mu"),
                    }
                )
    for code, cat in CATEGORIES.items():
        sel = findings[findings["category"] == code]
        if not len(sel):
            continue
        if cat.measure == "money":
            figure = fmt(float(np.nansum(sel["amount_owed"].to_numpy(dtype=float))), "yuan")
        else:
            area = union_area(measured_land(sel, cat.measure, parcels=counted_on))
            figure = fmt(to_mu(area), "mu")
        rows.append(
            {
                "code": code,
                "label": cat.label,
                "kind": "fill",
                "color": category_color(code),
                "count": len(sel),
                "mu": figure,
            }
        )
    if parcels is not None and len(parcels):
        for code, label in TENURE_LABELS.items():
            n = int((parcels["tenure"] == code).sum())
            if n:
                style = TENURE_STYLES[code]
                rows.append(
                    {
                        "code": f"tenure-{code}",
                        "label": f"红线·{label}",
                        "kind": "line",
                        "color": style["color"],
                        "dash": bool(style["dashArray"]),
                        "count": n,
                        "mu": "",
                    }
                )
    headline_rows = [
        {"code": "violation", "label": "违规用地面积", "value": sums["violation_mu"], "unit": "mu"},
        {"code": "parcel", "label": "涉及地块面积", "value": sums["parcel_mu"], "unit": "mu"},
    ]
    if sums["amount_owed"]:
        headline_rows.append(
            {"code": "money", "label": "欠缴金额", "value": sums["amount_owed"], "unit": "yuan"}
        )
    for row in headline_rows:
        row["text"] = fmt(row["value"], row["unit"])
        row["value"] = round(float(row["value"]), 2)
    return {
        "title": f"问题图例（共 {len(findings)} 处）",
        "count": len(findings),
        "totals": headline_rows,
        "columns": ["", "类别", "数量", "面积/金额"],
        "rows": rows,
        "note": "面积按土地去重：一块地只计一次，各类之和可大于合计；欠费计元，不计面积。"
        "点击图斑看详情，右上角切换图层。",
    }


def _default_subtitle(sums: dict) -> str:
    return " · ".join(f"{name} {text}" for name, text in headline(sums))


def _bounds(frames, *, gcj: bool) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the frames, in the map's coordinates."""
    if not frames:
        return None
    boxes = np.array([f.to_crs(4326).total_bounds for f in frames])
    west, south = boxes[:, 0].min(), boxes[:, 1].min()
    east, north = boxes[:, 2].max(), boxes[:, 3].max()
    if gcj:
        (west, east), (south, north) = wgs84_to_gcj02([west, east], [south, north])
    return [[float(south), float(west)], [float(north), float(east)]]


def _centre(bounds) -> list[float]:
    if not bounds:
        return [32.49, 119.92]
    return [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]


# ----------------------------------------------------------------- the set of maps


@counted
def write_maps(
    outdir: str | Path,
    findings: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame | None = None,
    footprints: gpd.GeoDataFrame | None = None,
    planning: gpd.GeoDataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    png: bool = True,
    title: str = "土地资源核查处置",
    orthophoto: str | Path | dict | None = None,
) -> dict[str, Path]:
    """Write ``map.html`` (whole zone), ``maps/<street>.html`` and one per department.

    Each street map holds that street's findings and the context around them;
    each department map the categories it acts on (:data:`DEPARTMENT_CATEGORIES`).
    With ``png``, a ``.png`` overview is written beside each street and zone map.
    An ``orthophoto`` (see :func:`build_map`) is drawn under every map; it is
    read once and embedded whole in each page.

    Returns
    -------
    dict
        Name (relative to ``outdir``) → path of every file written.
    """
    from landgis.io.atomic import atomic_path
    from landgis.io.paths import safe_filename
    from landgis.present.png import write_png

    outdir = Path(outdir)
    (outdir / "maps").mkdir(parents=True, exist_ok=True)
    context = {"parcels": parcels, "footprints": footprints, "planning": planning, "admin": admin}
    written: dict[str, Path] = {}
    if orthophoto is not None and not isinstance(orthophoto, dict):
        from landgis.present.orthophoto import orthophoto_overlay

        orthophoto = orthophoto_overlay(orthophoto, gcj=basemap.startswith("gaode"))

    def save(name: str, subset, layers: dict, heading: str, *, overview: bool) -> None:
        heading = clean_text(heading, where="HTML")  # the PNG's title too
        m = build_map(
            subset,
            **layers,
            title=heading,
            basemap=basemap,
            tianditu_key=tianditu_key,
            orthophoto=orthophoto,
            totals_parcels=parcels,
        )
        with atomic_path(outdir / f"{name}.html") as tmp:
            tmp.write_text(map_html(m), encoding="utf-8")
        written[f"{name}.html"] = outdir / f"{name}.html"
        if png and overview:
            written[f"{name}.png"] = write_png(
                outdir / f"{name}.png",
                subset,
                parcels=layers["parcels"],
                footprints=layers["footprints"],
                title=heading,
                totals_parcels=parcels,
            )

    save("map", findings, context, title, overview=True)
    # The department maps have documented names (maps/城管局.html …): reserved
    # first, so a street of the same name takes the suffix, never a department.
    routed = rules_departments()
    departments = {d: safe_filename(d) for d in routed}
    taken: set[str] = set(departments.values())
    for street in (s for s in pinyin_order(findings["street"]) if s):
        subset, near, suffix = map_selection(findings, context, street=street)
        save(f"maps/{safe_filename(street, taken=taken)}", subset, near, title + suffix,
             overview=True)  # fmt: skip
    for department, stem in departments.items():
        subset, near, suffix = map_selection(findings, context, department=department)
        save(f"maps/{stem}", subset, near, title + suffix, overview=False)
    return written


def map_selection(
    findings: gpd.GeoDataFrame,
    context: dict,
    *,
    street: str | None = None,
    department: str | None = None,
) -> tuple[gpd.GeoDataFrame, dict, str]:
    """What one street's or one department's map shows: its findings, the context
    layers around them, and the title's suffix (``" · 城东街道"``).

    Raises
    ------
    ValueError
        No finding lies in ``street``, or ``department`` is not one of
        :func:`landgis.rules.departments`.
    """
    suffix = ""
    if street is not None:
        selected = findings[findings["street"] == street]
        if not len(selected):
            raise ValueError(
                f"no findings in street {street!r}; streets: "
                f"{[s for s in pinyin_order(findings['street']) if s]}"
            )
        findings, context, suffix = selected, _around(selected, context, street), f" · {street}"
    if department is not None:
        routed = rules_departments()
        if department not in routed:
            raise ValueError(f"department={department!r}; choose from {list(routed)}")
        findings = findings[findings["category"].isin(routed[department])]
        suffix += f" · {department}"
    return findings, context, suffix


def _around(findings, context: dict, street: str, margin: float = 100.0) -> dict:
    """The context layers near one street: its red lines and what lies near its findings."""
    frames = [findings]
    parcels = context["parcels"]
    if parcels is not None and "street" in parcels:
        frames.append(parcels[parcels["street"] == street])
    admin = context["admin"]
    if admin is not None:
        frames.append(admin[admin["street"] == street])
    boxes = np.array([f.total_bounds for f in frames if len(f)])
    area = shapely.box(
        boxes[:, 0].min() - margin,
        boxes[:, 1].min() - margin,
        boxes[:, 2].max() + margin,
        boxes[:, 3].max() + margin,
    )
    near: dict[str, gpd.GeoDataFrame | None] = {}
    for name, frame in context.items():
        if frame is None:
            near[name] = None
            continue
        idx = frame.sindex.query(area, predicate="intersects")
        near[name] = frame.iloc[np.sort(idx)]
    if near["admin"] is not None:
        near["admin"] = near["admin"][near["admin"]["street"] == street]
    return near
