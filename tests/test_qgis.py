"""QGIS styles in the findings GeoPackage: the ``layer_styles`` table and its QML."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET

import pytest

import landgis
from landgis.present import qgis
from landgis.present.gpkg import write_gpkg
from landgis.present.qgis import LAYER_STYLES_COLUMNS, layer_qml, write_layer_styles
from landgis.present.style import CATEGORY_COLORS, TENURE_STYLES
from landgis.rules import CATEGORIES
from landgis.schema import TENURE_LABELS


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    audit = landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
    )
    out = tmp_path_factory.mktemp("qgis")
    written = audit.write(out)
    return audit, written["findings.gpkg"]


def _styles(path) -> dict[str, dict]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM layer_styles").fetchall()
    return {r["f_table_name"]: dict(r) for r in rows}


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return tuple(int(h[i : i + 2], 16) for i in (0, 2, 4))


def _props(layer: ET.Element) -> dict[str, str]:
    return {o.get("name"): o.get("value") for o in layer.find("Option").findall("Option")}


def _symbol_layers(root: ET.Element, category_value: str) -> list[ET.Element]:
    renderer = root.find("renderer-v2")
    cat = next(c for c in renderer.iter("category") if c.get("value") == category_value)
    symbol = next(s for s in renderer.find("symbols") if s.get("name") == cat.get("symbol"))
    return symbol.findall("layer")


def test_written_geopackage_has_the_table_qgis_reads(sample):
    _, gpkg = sample
    with sqlite3.connect(gpkg) as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(layer_styles)")]
        registered = db.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
        geometry_columns = dict(
            db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
        )
    assert columns == ["id", *LAYER_STYLES_COLUMNS]
    assert registered == ("attributes",)
    styles = _styles(gpkg)
    assert set(styles) == {"findings", "parcels", "footprints", "planning", "admin"}
    for name, row in styles.items():
        assert row["f_table_catalog"] == "" and row["f_table_schema"] == ""
        assert row["f_geometry_column"] == geometry_columns[name]
        assert row["useAsDefault"] == 1 and row["styleName"] == name
        ET.fromstring(row["styleQML"].split("\n", 1)[1])  # well-formed after the DOCTYPE


def test_findings_are_categorized_with_the_maps_colours_and_chinese_labels(sample):
    audit, gpkg = sample
    root = ET.fromstring(_styles(gpkg)["findings"]["styleQML"].split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "category"
    categories = {c.get("value"): c.get("label") for c in renderer.iter("category")}
    assert categories == {code: cat.label for code, cat in CATEGORIES.items()}
    # One category per finding class the sample park has, each in the map's colour.
    present = sorted(set(audit.findings["category"]))
    assert len(present) >= 10
    for code in present:
        fill, line = _symbol_layers(root, code)
        assert fill.get("class") == "SimpleFill" and line.get("class") == "SimpleLine"
        r, g, b, a = (int(v) for v in _props(fill)["color"].split(","))
        assert (r, g, b) == _rgb(CATEGORY_COLORS[code]) and 0 < a < 255
        assert (
            _props(line)["line_color"] == ",".join(map(str, _rgb(CATEGORY_COLORS[code]))) + ",255"
        )
        # the older <prop> form carries the same values
        assert {p.get("k"): p.get("v") for p in fill.findall("prop")} == _props(fill)
    assert renderer.get("enableorderby") == "1"
    assert root.get("labelsEnabled") == "1"
    text_style = root.find("labeling/settings/text-style")
    assert text_style.get("isExpression") == "1"
    assert '"holder"' in text_style.get("fieldName") and '"area_mu"' in text_style.get("fieldName")
    assert "亩" in text_style.get("fieldName")
    aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
    assert aliases["finding_id"] == "编号" and aliases["area_mu"] == "面积（亩）"
    assert "geom" not in aliases


def test_parcels_by_tenure_with_the_maps_colours_and_dashes(sample):
    _, gpkg = sample
    styles = _styles(gpkg)
    root = ET.fromstring(styles["parcels"]["styleQML"].split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("attr") == "tenure"
    for code, label in TENURE_LABELS.items():
        style = TENURE_STYLES[code]
        _, line = _symbol_layers(root, code)
        props = _props(line)
        assert props["line_color"].startswith(",".join(map(str, _rgb(style["color"]))))
        assert props["use_custom_dash"] == ("1" if style["dashArray"] else "0")
        if style["dashArray"]:
            dashes = [float(v) for v in props["customdash"].split(";")]
            expected = [float(v) * qgis.PX_MM for v in style["dashArray"].split()]
            assert dashes == pytest.approx(expected, rel=0.01)
        label_of = {c.get("value"): c.get("label") for c in renderer.iter("category")}
        assert label in label_of[code]
    footprints = ET.fromstring(styles["footprints"]["styleQML"].split("\n", 1)[1])
    fill = footprints.find("renderer-v2/symbols/symbol/layer")
    r, g, b, _ = (int(v) for v in _props(fill)["color"].split(","))
    assert r == g == b  # grey


def test_text_in_the_qml_is_escaped(monkeypatch):
    hostile = "<b>&\"侵占'</b>]]>"
    code = "encroachment"
    patched = dict(CATEGORIES)
    patched[code] = dataclasses.replace(CATEGORIES[code], label=hostile)
    monkeypatch.setattr(qgis, "CATEGORIES", patched)
    qml = layer_qml("findings")
    assert "<b>" not in qml
    root = ET.fromstring(qml.split("\n", 1)[1])
    labels = {c.get("value"): c.get("label") for c in root.iter("category")}
    assert labels[code] == hostile


def test_styles_can_be_left_out_and_rewritten(sample, tmp_path):
    audit, gpkg = sample
    plain = write_gpkg(audit.findings, tmp_path / "plain.gpkg", styles=False)
    with sqlite3.connect(plain) as db:
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'layer_styles'").fetchone()
    copy = tmp_path / "copy.gpkg"
    shutil.copy(gpkg, copy)
    with sqlite3.connect(copy) as db:  # a style a user saved in QGIS under another name
        db.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, useAsDefault) "
            "VALUES ('', '', 'findings', 'geom', 'mine', '<qgis/>', 1)"
        )
    assert write_layer_styles(copy, layers=["findings"]) == ["findings"]
    with sqlite3.connect(copy) as db:
        rows = db.execute(
            "SELECT styleName, useAsDefault FROM layer_styles WHERE f_table_name = 'findings' "
            "ORDER BY styleName"
        ).fetchall()
    assert rows == [("findings", 1), ("mine", 0)]
    with pytest.raises(landgis.InputFileError, match="no layer 'nope'"):
        write_layer_styles(copy, layers=["nope"])


_QGIS_CHECK = r"""
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in ("findings", "parcels"):
    layer = QgsVectorLayer(f"{sys.argv[1]}|layername={name}", name, "ogr")
    r = layer.renderer()
    out[name] = {
        "type": r.type(),
        "labels": layer.labelsEnabled(),
        "alias": layer.attributeAlias(layer.fields().indexOf("holder")),
        "categories": {c.value(): [c.label(), c.symbol().symbolLayer(0).color().name()]
                       for c in r.categories()} if r.type() == "categorizedSymbol" else {},
    }
print(json.dumps(out))
"""


def _system_qgis() -> bool:
    python = shutil.which("python3", path="/usr/bin")
    if python is None:
        return False
    done = subprocess.run([python, "-c", "import qgis.core"], capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(not _system_qgis(), reason="QGIS (Debian python3-qgis) not installed")
def test_qgis_itself_applies_the_styles(sample, tmp_path):
    """Where Debian's QGIS is installed, QGIS opens the file with the styles applied."""
    audit, gpkg = sample
    script = tmp_path / "check.py"
    script.write_text(_QGIS_CHECK, encoding="utf-8")
    done = subprocess.run(
        ["/usr/bin/python3", str(script), str(gpkg)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    findings = result["findings"]
    assert findings["type"] == "categorizedSymbol" and findings["labels"] is True
    assert findings["alias"] == "权利人/使用人"
    for code in set(audit.findings["category"]):
        label, color = findings["categories"][code]
        assert label == CATEGORIES[code].label and color == CATEGORY_COLORS[code]
    assert set(result["parcels"]["categories"]) == set(TENURE_LABELS)
