"""QGIS styles inside the GeoPackage: the ``layer_styles`` table QGIS reads on open.

QGIS looks for a table ``layer_styles`` in a GeoPackage and applies the row
whose ``f_table_name`` and ``f_geometry_column`` match the layer (the default
style first).  Each row holds a QML document.  The styles written here repeat
the HTML map's look (:mod:`landgis.present.style`):

- ``findings``: categorized by ``category``, the colours of
  :data:`~landgis.present.style.CATEGORY_COLORS`, legend labels in Chinese
  (:data:`landgis.rules.CATEGORIES`), drawn in the map's order (parcel-sized
  findings below the smaller pieces) and labelled with holder and 亩;
- ``parcels``: red lines by ``tenure``, colour, width and dashes of
  :data:`~landgis.present.style.TENURE_STYLES`;
- ``footprints`` grey, ``planning`` and ``admin`` as on the map.

Every layer also gets Chinese field aliases, so the attribute table reads
编号, 问题类别, 权利人/使用人 … as in the CSV.  The QML is built with
:mod:`xml.etree.ElementTree`, which escapes every text and attribute value.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path

from landgis.errors import InputFileError
from landgis.io.text_out import clean_tree
from landgis.present.csv import HEADERS_ZH
from landgis.present.style import CONTEXT_STYLES, TENURE_STYLES, category_color
from landgis.rules import CATEGORIES, draw_order
from landgis.schema import TENURE_LABELS

__all__ = [
    "FIELD_ALIASES",
    "LAYER_STYLES_COLUMNS",
    "PX_MM",
    "layer_qml",
    "write_layer_styles",
]

#: Columns of QGIS' ``layer_styles`` table, in QGIS' order.
LAYER_STYLES_COLUMNS = (
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
)

#: Millimetres per screen pixel (96 dpi): Leaflet widths and dashes are in pixels,
#: QGIS styles here in millimetres so that they print alike.
PX_MM = 25.4 / 96

#: Chinese aliases of the columns of every layer (the CSV's headers for findings).
FIELD_ALIASES: dict[str, str] = {
    **HEADERS_ZH,
    "tenure": "取得方式",
    "holder_id": "统一社会信用代码",
    "parcel_name": "地块名称",
    "registered_area_m2": "登记面积（平方米）",
    "use": "用途",
    "footprint_id": "图斑编号",
    "user": "使用人",
    "survey_date": "调查日期",
    "user_source": "使用人来源",
    "class_code": "地类编码",
    "class_name": "地类名称",
    "czcsxm": "城镇村属性码",
    "owner_unit": "权属单位名称",
    "location_unit": "坐落单位名称",
    "survey_area_m2": "图斑面积（TBMJ，椭球）",
    "area_ellipsoid_m2": "椭球面积（平方米）",
    "zone": "规划分区",
}

_QGIS_VERSION = "3.22.0-Białowieża"
_FONT = "Microsoft YaHei"
_FALLBACK_COLOR = "#7f7f7f"
_GEOMETRY_POLYGON = "2"


def layer_qml(name: str, *, fields: Iterable[str] | None = None) -> str:
    """The QML document of one layer of the findings GeoPackage.

    Parameters
    ----------
    name
        ``"findings"``, ``"parcels"``, ``"footprints"``, ``"planning"`` or ``"admin"``.
    fields
        The layer's columns (for the Chinese aliases); every known column when omitted.

    Returns
    -------
    str
        A QML document (UTF-8 text) as QGIS saves it.

    Examples
    --------
    >>> qml = layer_qml("findings")
    >>> 'value="encroachment"' in qml and 'label="侵占他人用地"' in qml
    True
    """
    builders = {
        "findings": _findings_renderer,
        "parcels": _parcels_renderer,
        "footprints": lambda: _single_renderer(CONTEXT_STYLES["footprints"]),
        "planning": lambda: _single_renderer(CONTEXT_STYLES["planning"]),
        "admin": lambda: _single_renderer(CONTEXT_STYLES["admin"]),
    }
    if name not in builders:
        raise ValueError(f"no style for layer {name!r}; layers with styles: {sorted(builders)}")
    root = ET.Element(
        "qgis",
        {
            "version": _QGIS_VERSION,
            "styleCategories": "Symbology|Labeling|Fields",
            "labelsEnabled": "1" if name == "findings" else "0",
        },
    )
    root.append(builders[name]())
    if name == "findings":
        root.append(_findings_labeling())
    for tag, text in (("blendMode", "0"), ("featureBlendMode", "0"), ("layerOpacity", "1")):
        ET.SubElement(root, tag).text = text
    aliases = ET.SubElement(root, "aliases")
    columns = list(fields) if fields is not None else list(FIELD_ALIASES)
    for index, column in enumerate(columns):
        if column in FIELD_ALIASES:
            ET.SubElement(
                aliases,
                "alias",
                {"field": column, "index": str(index), "name": FIELD_ALIASES[column]},
            )
    ET.SubElement(root, "layerGeometryType").text = _GEOMETRY_POLYGON
    clean_tree(root, where="QML")
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def write_layer_styles(
    path: str | Path,
    *,
    layers: Iterable[str] | None = None,
    description: str = "",
) -> list[str]:
    """Add (or replace) the default QGIS style of each layer in a GeoPackage.

    Parameters
    ----------
    path
        An existing GeoPackage (written by :func:`landgis.present.gpkg.write_gpkg`).
    layers
        Layer names to style; every layer of the file that has a style when omitted.
    description
        Stored in the ``description`` column (e.g. the campaign's name).

    Returns
    -------
    list of str
        The layers styled.

    Notes
    -----
    The table is created as QGIS creates it (an attributes table registered in
    ``gpkg_contents``); rows of other layers and styles saved by users under
    other names are kept, landgis' own rows are replaced.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such GeoPackage; write the layers first.")
    styled = []
    with _connect(path) as db:
        geometry_columns = dict(
            db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
        )
        wanted = list(layers) if layers is not None else list(geometry_columns)
        _create_table(db)
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        for name in wanted:
            if name not in geometry_columns:
                raise InputFileError(
                    f"{path}: no layer {name!r} to style; layers: {sorted(geometry_columns)}"
                )
            try:
                fields = [c for c in _columns(db, name) if c != geometry_columns[name]]
                qml = layer_qml(name, fields=fields)
            except ValueError:
                if layers is not None:
                    raise
                continue  # a layer landgis has no style for
            db.execute(
                "DELETE FROM layer_styles WHERE f_table_name = ? AND styleName = ?",
                (name, name),
            )
            db.execute("UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ?", (name,))
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '', ?)",
                (name, geometry_columns[name], name, qml, description, now),
            )
            styled.append(name)
    return styled


# --------------------------------------------------------------------------- table


def _connect(path: Path) -> _Tx:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    return _Tx(db)


class _Tx:
    """A connection that commits on success, rolls back on error, and closes."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, kind, value, tb) -> None:
        try:
            self.db.execute("ROLLBACK" if kind else "COMMIT")
        finally:
            self.db.close()


def _create_table(db: sqlite3.Connection) -> None:
    """``layer_styles`` with the columns and types QGIS gives it, registered as attributes."""
    db.execute(
        """CREATE TABLE IF NOT EXISTS layer_styles (
            id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
            f_table_catalog TEXT(256),
            f_table_schema TEXT(256),
            f_table_name TEXT(256),
            f_geometry_column TEXT(256),
            styleName TEXT(30),
            styleQML TEXT,
            styleSLD TEXT,
            useAsDefault BOOLEAN,
            description TEXT,
            owner TEXT(30),
            ui TEXT(30),
            update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
        )"""
    )
    db.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, "
        "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', '', "
        "strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
    )
    has_ogr_contents = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_ogr_contents'"
    ).fetchone()
    if has_ogr_contents:
        # GDAL keeps feature counts here; NULL makes it count afresh.
        db.execute(
            "INSERT OR REPLACE INTO gpkg_ogr_contents (table_name, feature_count) "
            "VALUES ('layer_styles', NULL)"
        )


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    quoted = '"' + table.replace('"', '""') + '"'
    return [row[1] for row in db.execute(f"PRAGMA table_info({quoted})")]


# --------------------------------------------------------------------------- symbols


def _rgba(hex_color: str, alpha: float = 1.0) -> str:
    """``#rrggbb`` → QGIS' ``r,g,b,a`` (a in 0–255)."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _mm(px: float) -> str:
    return f"{px * PX_MM:.3g}"


def _symbol_layer(parent: ET.Element, cls: str, props: Mapping[str, str]) -> None:
    """A symbol layer with its properties both as ``Option`` map (QGIS ≥ 3.20 reads
    and writes it) and as ``prop`` elements (what QGIS 3.22–3.28 also write)."""
    layer = ET.SubElement(
        parent, "layer", {"class": cls, "enabled": "1", "pass": "0", "locked": "0"}
    )
    options = ET.SubElement(layer, "Option", {"type": "Map"})
    for key, value in props.items():
        ET.SubElement(options, "Option", {"type": "QString", "name": key, "value": value})
    for key, value in props.items():
        ET.SubElement(layer, "prop", {"k": key, "v": value})


def _fill(color: str, alpha: float) -> dict[str, str]:
    return {
        "color": _rgba(color, alpha),
        "style": "solid" if alpha > 0 else "no",
        "outline_style": "no",
        "outline_color": _rgba(color),
        "outline_width": "0",
        "outline_width_unit": "MM",
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_unit": "MM",
    }


def _outline(color: str, weight: float, dash: str | None) -> dict[str, str]:
    props = {
        "line_color": _rgba(color),
        "line_style": "solid",
        "line_width": _mm(weight),
        "line_width_unit": "MM",
        "capstyle": "flat" if dash else "square",
        "joinstyle": "bevel",
        "offset": "0",
        "offset_unit": "MM",
        "use_custom_dash": "0",
        "customdash": "5;2",
        "customdash_unit": "MM",
    }
    if dash:
        parts = [float(p) for p in dash.replace(",", " ").split()]
        props["use_custom_dash"] = "1"
        props["customdash"] = ";".join(_mm(p) for p in parts)
    return props


def _fill_symbol(
    name: str, *, fill: str, fill_alpha: float, line: str, weight: float, dash: str | None
) -> ET.Element:
    symbol = ET.Element(
        "symbol",
        {"type": "fill", "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    _symbol_layer(symbol, "SimpleFill", _fill(fill, fill_alpha))
    _symbol_layer(symbol, "SimpleLine", _outline(line, weight, dash))
    return symbol


def _style_symbol(name: str, style: Mapping) -> ET.Element:
    color = style["color"]
    return _fill_symbol(
        name,
        fill=style.get("fillColor") or color,
        fill_alpha=float(style.get("fillOpacity", 0.2)),
        line=color,
        weight=float(style.get("weight", 1)),
        dash=style.get("dashArray"),
    )


def _categorized(attr: str, rows: list[tuple[str, str, ET.Element]]) -> ET.Element:
    renderer = ET.Element(
        "renderer-v2",
        {
            "type": "categorizedSymbol",
            "attr": attr,
            "symbollevels": "0",
            "enableorderby": "0",
            "forceraster": "0",
            "referencescale": "-1",
        },
    )
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (value, label, symbol) in enumerate(rows):
        ET.SubElement(
            categories,
            "category",
            {"render": "true", "symbol": str(i), "value": value, "label": label},
        )
        symbol.set("name", str(i))
        symbols.append(symbol)
    source = ET.SubElement(renderer, "source-symbol")
    source.append(
        _fill_symbol("0", fill="#999999", fill_alpha=0.3, line="#666666", weight=1, dash=None)
    )
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")
    return renderer


def _category_order() -> list[str]:
    """Every category, in the map's drawing order."""
    return list(draw_order())


def _findings_renderer() -> ET.Element:
    rows = []
    order = _category_order()
    for code in order:
        color = category_color(code, _FALLBACK_COLOR)
        symbol = _fill_symbol("", fill=color, fill_alpha=0.45, line=color, weight=2, dash=None)
        rows.append((code, CATEGORIES[code].label, symbol))
    renderer = _categorized("category", rows)
    # Features drawn in the map's order: parcel-sized findings first, pieces on top.
    renderer.set("enableorderby", "1")
    order_by = ET.SubElement(renderer, "orderby")
    rank = " ".join(f"WHEN '{code}' THEN {i}" for i, code in enumerate(order))
    clause = ET.SubElement(order_by, "orderByClause", {"asc": "1", "nullsFirst": "0"})
    clause.text = f'CASE "category" {rank} ELSE {len(order)} END'
    return renderer


def _parcels_renderer() -> ET.Element:
    rows = []
    for code, label in TENURE_LABELS.items():
        style = TENURE_STYLES[code]
        rows.append((code, f"红线·{label}", _style_symbol("", style)))
    return _categorized("tenure", rows)


def _single_renderer(style: Mapping) -> ET.Element:
    renderer = ET.Element(
        "renderer-v2",
        {
            "type": "singleSymbol",
            "symbollevels": "0",
            "enableorderby": "0",
            "forceraster": "0",
            "referencescale": "-1",
        },
    )
    symbols = ET.SubElement(renderer, "symbols")
    symbols.append(_style_symbol("0", style))
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")
    return renderer


def _findings_labeling() -> ET.Element:
    """Labels: holder on the first line, area in 亩 on the second."""
    labeling = ET.Element("labeling", {"type": "simple"})
    settings = ET.SubElement(labeling, "settings", {"calloutType": "simple"})
    expression = "coalesce(\"holder\", '') || '\\n' || format_number(\"area_mu\", 2) || ' 亩'"
    style = ET.SubElement(
        settings,
        "text-style",
        {
            "fieldName": expression,
            "isExpression": "1",
            "fontFamily": _FONT,
            "fontSize": "9",
            "fontSizeUnit": "Point",
            "fontWeight": "50",
            "fontItalic": "0",
            "textColor": "30,30,30,255",
            "textOpacity": "1",
            "multilineHeight": "1",
        },
    )
    ET.SubElement(
        style,
        "text-buffer",
        {
            "bufferDraw": "1",
            "bufferSize": "0.8",
            "bufferSizeUnits": "MM",
            "bufferColor": "255,255,255,255",
            "bufferOpacity": "0.85",
            "bufferNoFill": "1",
            "bufferJoinStyle": "128",
        },
    )
    ET.SubElement(settings, "text-format", {"multilineAlign": "1", "wrapChar": ""})
    ET.SubElement(
        settings,
        "placement",
        {"placement": "1", "centroidInside": "1", "centroidWhole": "0", "fitInPolygonOnly": "0"},
    )
    ET.SubElement(
        settings,
        "rendering",
        {"obstacle": "1", "drawLabels": "1", "upsidedownLabels": "0", "displayAll": "0"},
    )
    return labeling
