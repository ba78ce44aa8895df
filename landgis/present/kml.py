"""The field kit: one KMZ per street for the phone on site (奥维互动地图, Google Earth).

Each finding is a placemark named by its id and category (``65CB376789A1
侵占他人用地``) whose geometry is the finding's polygon(s) *and* a point to walk
to (a ``MultiGeometry``), in one folder per category, coloured like the HTML
map.  The description lists category, holder, parcel, place, area in m² and 亩,
action, working group and deadline; the same values travel as
``ExtendedData`` for apps that show a table.  Every text from the input files
is escaped (it is data, never markup), and characters XML cannot hold (control
and non-characters) are written as U+FFFD and counted (:mod:`landgis.io.text_out`).

Coordinates are WGS84 longitude/latitude with 9 decimals (0.1 mm), as KML
requires; ``gcj02=True`` shifts them to GCJ-02 for apps that draw on Gaode or
other Chinese web basemaps without shifting imports themselves.

:func:`write_fieldkit` writes the KMZ and the printable A4 list
(:mod:`landgis.present.printlist`) of every street.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.polygon import orient

from landgis.crs import to_mu
from landgis.errors import CRSError
from landgis.gcj02 import wgs84_to_gcj02
from landgis.io.atomic import atomic_path
from landgis.io.columns import cell_text
from landgis.io.paths import safe_filename
from landgis.io.text_out import clean_text, clean_tree, counted
from landgis.present.style import category_color
from landgis.rules import CATEGORIES

__all__ = [
    "KML_NAMESPACE",
    "NO_STREET",
    "kml_color",
    "kml_document",
    "street_groups",
    "write_fieldkit",
    "write_kmz",
]

#: The KML 2.2 namespace (OGC 07-147r2).
KML_NAMESPACE = "http://www.opengis.net/kml/2.2"
#: Street name used for findings that lie in no known street.
NO_STREET = "未分街道"

_DIGITS = 9  # decimals of a degree: 1e-9° ≈ 0.1 mm
_FILL_ALPHA = 0x73  # 45 %, as the HTML map
_ICON = "files/point.png"


def kml_color(hex_color: str, alpha: int = 0xFF) -> str:
    """``#rrggbb`` → KML's ``aabbggrr``.

    Examples
    --------
    >>> kml_color("#d62728")
    'ff2827d6'
    >>> kml_color("#d62728", 0x73)
    '732827d6'
    """
    h = hex_color.lstrip("#").lower()
    return f"{alpha:02x}{h[4:6]}{h[2:4]}{h[0:2]}"


@counted
def kml_document(
    findings: gpd.GeoDataFrame,
    *,
    title: str = "土地资源核查处置",
    gcj02: bool = False,
    icon: str | None = _ICON,
) -> bytes:
    """The KML document (UTF-8 bytes) of ``findings``.

    Parameters
    ----------
    findings
        Findings GeoDataFrame in any CRS (reprojected to WGS84).
    title
        The document's name (shown as the top folder).
    gcj02
        Shift every coordinate from WGS84 to GCJ-02.
    icon
        ``href`` of the point icon (inside the KMZ); ``None`` uses the app's default pin.

    Returns
    -------
    bytes
        ``<?xml …?><kml xmlns="http://www.opengis.net/kml/2.2">…``
    """
    if findings.crs is None and len(findings):
        raise CRSError("the findings have no CRS; set one (findings.set_crs(...)) first.")
    wgs = findings.to_crs("EPSG:4326") if findings.crs is not None else findings
    ET.register_namespace("", KML_NAMESPACE)
    k = _K()
    root = ET.Element(k("kml"))
    doc = ET.SubElement(root, k("Document"))
    ET.SubElement(doc, k("name")).text = title
    ET.SubElement(doc, k("open")).text = "1"
    crs_note = "GCJ-02（火星坐标，适用于高德等底图）" if gcj02 else "WGS84（GPS 坐标）"
    ET.SubElement(
        doc, k("description")
    ).text = (
        f"{len(findings)} 处问题；坐标：{crs_note}；生成：landgis，{dt.date.today().isoformat()}"
    )
    codes = [c for c in CATEGORIES if c in set(findings["category"])]
    for code in codes:
        doc.append(_style(k, code, icon))
    for code in codes:
        sel = wgs[wgs["category"] == code]
        folder = ET.SubElement(doc, k("Folder"))
        ET.SubElement(folder, k("name")).text = f"{CATEGORIES[code].label}（{len(sel)} 处）"
        ET.SubElement(folder, k("open")).text = "0"
        for row, geom in zip(sel.itertuples(index=False), sel.geometry.values, strict=True):
            folder.append(_placemark(k, row, geom, gcj02=gcj02))
    ET.indent(root, space=" ")
    clean_tree(root, where="KML")  # XML holds no control or non-characters: U+FFFD, counted
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def write_kmz(
    findings: gpd.GeoDataFrame,
    path: str | Path,
    *,
    title: str = "土地资源核查处置",
    gcj02: bool = False,
) -> Path:
    """Write ``findings`` as a KMZ (zip with ``doc.kml`` and the point icon), atomically.

    Parameters
    ----------
    findings
        Findings GeoDataFrame in any CRS.
    path
        The ``.kmz`` to write.
    title, gcj02
        See :func:`kml_document`.
    """
    path = Path(path)
    kml = kml_document(findings, title=title, gcj02=gcj02)
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as kmz:
        kmz.writestr("doc.kml", kml)  # the first entry: what KMZ readers open
        kmz.writestr(_ICON, _icon_png())
    return path


@counted
def write_fieldkit(
    findings: gpd.GeoDataFrame,
    outdir: str | Path,
    *,
    parcels: gpd.GeoDataFrame | None = None,
    footprints: gpd.GeoDataFrame | None = None,
    title: str = "土地资源核查处置",
    gcj02: bool = False,
    printlist: bool = True,
    case_ids: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Per street: ``<street>.kmz`` and the printable list ``<street>.html``.

    Parameters
    ----------
    findings
        The audit's findings (every street).
    outdir
        Folder to write into (created).
    parcels, footprints
        Context for the small maps of the printed list.
    title
        Campaign name, shown in both.
    gcj02
        KMZ coordinates in GCJ-02 instead of WGS84 (the printed list always gives WGS84).
    printlist
        Also write the HTML print view.
    case_ids
        Finding id → case number of the case ledger, printed in the print view
        (the numbers of the return sheets).

    Returns
    -------
    dict
        File name → path of every file written.
    """
    from landgis.present.printlist import write_printlist

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    taken: set[str] = set()
    for street, sel in street_groups(findings).items():
        stem = safe_filename(street, taken=taken)
        name = f"{title} · {street}"
        written[f"{stem}.kmz"] = write_kmz(sel, outdir / f"{stem}.kmz", title=name, gcj02=gcj02)
        if printlist:
            written[f"{stem}.html"] = write_printlist(
                sel,
                outdir / f"{stem}.html",
                title=title,
                street=street,
                parcels=parcels,
                footprints=footprints,
                case_ids=case_ids,
            )
    return written


# --------------------------------------------------------------------------- parts


class _K:
    """Qualified KML tag names."""

    def __call__(self, tag: str) -> str:
        return f"{{{KML_NAMESPACE}}}{tag}"


def _style(k: _K, code: str, icon: str | None) -> ET.Element:
    color = category_color(code, "#7f7f7f")
    style = ET.Element(k("Style"), {"id": f"cat-{code}"})
    icon_style = ET.SubElement(style, k("IconStyle"))
    ET.SubElement(icon_style, k("color")).text = kml_color(color)
    ET.SubElement(icon_style, k("scale")).text = "0.9"
    if icon:
        ET.SubElement(ET.SubElement(icon_style, k("Icon")), k("href")).text = icon
    label = ET.SubElement(style, k("LabelStyle"))
    ET.SubElement(label, k("scale")).text = "0.8"
    line = ET.SubElement(style, k("LineStyle"))
    ET.SubElement(line, k("color")).text = kml_color(color)
    ET.SubElement(line, k("width")).text = "2"
    poly = ET.SubElement(style, k("PolyStyle"))
    ET.SubElement(poly, k("color")).text = kml_color(color, _FILL_ALPHA)
    ET.SubElement(poly, k("fill")).text = "1"
    ET.SubElement(poly, k("outline")).text = "1"
    return style


def _fields(row) -> list[tuple[str, str, str]]:
    """(name, Chinese label, text) of what the placemark tells; text XML can hold."""
    return [(name, label, clean_text(text, where="KML")) for name, label, text in _raw_fields(row)]


def _raw_fields(row) -> list[tuple[str, str, str]]:
    area_m2 = float(row.area_m2) if pd.notna(row.area_m2) else float("nan")
    area_mu = float(row.area_mu) if pd.notna(row.area_mu) else to_mu(area_m2)
    deadline = row.deadline
    deadline = cell_text(deadline)
    place = "".join(cell_text(v) for v in (row.street, row.village))
    return [
        ("finding_id", "编号", cell_text(row.finding_id)),
        ("category", "类别代码", cell_text(row.category)),
        ("category_label", "问题类别", cell_text(row.category_label)),
        ("holder", "权利人/使用人", cell_text(row.holder)),
        ("parcel_id", "宗地代码", cell_text(row.parcel_id)),
        ("other_holder", "相关权利人", cell_text(row.other_holder)),
        ("place", "位置", place),
        ("area_m2", "面积（平方米）", f"{area_m2:.2f}"),
        ("area_mu", "面积（亩）", f"{area_mu:.2f}"),
        ("action", "处置建议", cell_text(row.action)),
        ("group", "责任工作组", cell_text(row.group)),
        ("deadline", "完成时限", deadline),
    ]


def _placemark(k: _K, row, geom, *, gcj02: bool) -> ET.Element:
    fields = _fields(row)
    values = {name: text for name, _, text in fields}
    mark = ET.Element(k("Placemark"), {"id": f"f{safe_filename(values['finding_id'])}"})
    ET.SubElement(mark, k("name")).text = f"{values['finding_id']} {values['category_label']}"
    # HTML for the balloon: every value escaped for HTML here, the whole for XML
    # by ElementTree; a holder called "<img onerror=…>" shows as written.
    rows = "".join(
        f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(text)}</td></tr>"
        for name, label, text in fields
        if text and name not in ("finding_id", "category")
    )
    ET.SubElement(mark, k("description")).text = f"<table>{rows}</table>"
    ET.SubElement(mark, k("styleUrl")).text = f"#cat-{values['category']}"
    data = ET.SubElement(mark, k("ExtendedData"))
    for name, label, text in fields:
        item = ET.SubElement(data, k("Data"), {"name": name})
        ET.SubElement(item, k("displayName")).text = label
        ET.SubElement(item, k("value")).text = text
    multi = ET.SubElement(mark, k("MultiGeometry"))
    lon, lat = getattr(row, "lon", np.nan), getattr(row, "lat", np.nan)
    polygons = _polygons(geom)
    if not (pd.notna(lon) and pd.notna(lat)) and polygons:
        point = shapely.point_on_surface(shapely.MultiPolygon(polygons))
        lon, lat = point.x, point.y
    if pd.notna(lon) and pd.notna(lat):
        point = ET.SubElement(multi, k("Point"))
        ET.SubElement(point, k("coordinates")).text = _coords(
            np.array([[float(lon), float(lat)]]), gcj02
        )
    for polygon in polygons:
        multi.append(_polygon(k, polygon, gcj02))
    return mark


def _polygons(geom) -> list[shapely.Polygon]:
    if geom is None or geom.is_empty:
        return []
    parts = shapely.get_parts(geom)
    out = []
    for part in parts:
        if part.geom_type == "Polygon" and not part.is_empty:
            out.append(orient(part, 1.0))  # outer ring counter-clockwise
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out += _polygons(part)
    return out


def _polygon(k: _K, polygon: shapely.Polygon, gcj02: bool) -> ET.Element:
    element = ET.Element(k("Polygon"))
    ET.SubElement(element, k("tessellate")).text = "1"
    for tag, ring in [
        ("outerBoundaryIs", polygon.exterior),
        *(("innerBoundaryIs", r) for r in polygon.interiors),
    ]:
        boundary = ET.SubElement(element, k(tag))
        linear = ET.SubElement(boundary, k("LinearRing"))
        ET.SubElement(linear, k("coordinates")).text = _coords(shapely.get_coordinates(ring), gcj02)
    return element


def _coords(xy: np.ndarray, gcj02: bool) -> str:
    lon, lat = xy[:, 0], xy[:, 1]
    if gcj02:
        lon, lat = wgs84_to_gcj02(lon, lat)
    return " ".join(f"{x:.{_DIGITS}f},{y:.{_DIGITS}f}" for x, y in zip(lon, lat, strict=True))


@cache
def _icon_png() -> bytes:
    """A white dot with a dark rim (48 px); the style's colour tints it."""
    from PIL import Image, ImageDraw

    size = 48
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse(
        (3, 3, size - 4, size - 4), fill=(255, 255, 255, 255), outline=(40, 40, 40, 255), width=4
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def street_groups(findings: gpd.GeoDataFrame) -> Mapping[str, gpd.GeoDataFrame]:
    """Street → its findings (those in no street under :data:`NO_STREET`), by street name."""
    if "street" in findings:
        streets = findings["street"].fillna("").astype(str).replace("", NO_STREET)
    else:
        streets = pd.Series(NO_STREET, index=findings.index)
    return {s: findings[streets.to_numpy() == s] for s in sorted(set(streets))}
