"""CSV, GeoPackage and summaries: Excel-safe cells, BOM, languages, atomic writes."""

from __future__ import annotations

import csv

import geopandas as gpd
import pytest

import landgis
from landgis.errors import LandgisWarning
from landgis.present.csv import findings_table, neutralize
from tests.conftest import footprints_frame, parcels_frame, rect

HOSTILE = [
    '=HYPERLINK("http://evil","x")',
    "+1+2",
    "-3+4",
    "@SUM(A1)",
    "\tTab",
    "\rCR",
    "<script>alert(1)</script>",
]


@pytest.fixture(scope="module")
def hostile_audit():
    """Every holder name is something a spreadsheet would evaluate."""
    parcels = parcels_frame(
        [
            (f"P{i}", "requisitioned", name, rect(200 * i, 0, 200 * i + 100, 100))
            for i, name in enumerate(HOSTILE)
        ]
    )
    footprints = footprints_frame(
        [(f"F{i}", name, rect(200 * i, 0, 200 * i + 130, 100)) for i, name in enumerate(HOSTILE)]
    )
    return landgis.audit(parcels, footprints)


def test_no_csv_cell_starts_like_a_formula(hostile_audit, tmp_path):
    path = hostile_audit.to_csv(tmp_path / "f.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = [c for row in rows[1:] for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    holders = {row[3] for row in rows[1:]}
    # Names stay readable: only the apostrophe is added.
    assert '\'=HYPERLINK("http://evil","x")' in holders
    assert "'+1+2" in holders and "<script>alert(1)</script>" in holders


def test_neutralize_leaves_numbers_and_plain_text():
    assert neutralize(-5.0) == -5.0
    assert neutralize("华达") == "华达"
    assert neutralize("-x") == "'-x"


def test_csv_languages(hostile_audit):
    zh = findings_table(hostile_audit.findings)
    en = findings_table(hostile_audit.findings, lang="en")
    assert "面积（亩）" in zh.columns and "area_mu" in en.columns
    assert set(zh["问题类别"]) == {"红线外违规用地"}
    assert set(en["category_label"]) == {"Use outside every red line"}
    with pytest.raises(ValueError, match="lang="):
        findings_table(hostile_audit.findings, lang="fr")


def test_csv_column_order_is_the_issue_order(hostile_audit):
    en = findings_table(hostile_audit.findings, lang="en")
    assert list(en.columns[:15]) == [
        "finding_id",
        "category",
        "category_label",
        "holder",
        "parcel_id",
        "other_holder",
        "street",
        "village",
        "area_m2",
        "area_mu",
        "action",
        "group",
        "deadline",
        "lon",
        "lat",
    ]


def test_gpkg_round_trip(hostile_audit, tmp_path):
    path = hostile_audit.to_gpkg(tmp_path / "f.gpkg")
    back = gpd.read_file(path, layer="findings")
    assert sorted(back["holder"]) == sorted(hostile_audit.findings["holder"])
    assert back.crs.to_epsg() == 4528
    assert back.geometry.area.sum() == pytest.approx(hostile_audit.findings.area.sum())
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_failed_write_keeps_previous_file(hostile_audit, tmp_path, monkeypatch):
    path = hostile_audit.to_csv(tmp_path / "f.csv")
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("pandas.DataFrame.to_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        hostile_audit.to_csv(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["f.csv"]


def test_summary_tables(hostile_audit):
    table = hostile_audit.summary()
    assert table.loc[0, "category"] == "outside_redline"
    assert table.loc[0, "count"] == len(HOSTILE)
    assert table.loc[0, "area_m2"] == pytest.approx(len(HOSTILE) * 3000)
    by_holder = hostile_audit.summary("holder")
    assert (by_holder["findings"] == 1).all()
    html = hostile_audit._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" not in html  # names are not in the repr
    assert "红线外违规用地" in html


def test_xlsx_keeps_ids_as_text_and_runs_no_formula(hostile_audit, tmp_path):
    from openpyxl import load_workbook

    parcels = parcels_frame([("321202001004", "requisitioned", "=1+1\x1a", rect(0, 0, 100, 100))])
    footprints = footprints_frame([("F", "=1+1\x1a", rect(0, 0, 150, 100))])
    with pytest.warns(LandgisWarning, match=r"U\+001A ×\d+\) were written as .\ufffd."):
        path = landgis.audit(parcels, footprints).to_xlsx(tmp_path / "f.xlsx")
    ws = load_workbook(path).active
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2], strict=True)}
    assert row["宗地代码"].value == "321202001004" and row["宗地代码"].data_type == "s"
    # Typed as text, so shown as written: no formula, no apostrophe, the control
    # character XML cannot hold replaced visibly (and counted in the warning).
    assert row["权利人/使用人"].value == "=1+1\ufffd" and row["权利人/使用人"].data_type == "s"
    assert row["面积（平方米）"].value == pytest.approx(5000.0)
    formulas = [c for r in ws.iter_rows() for c in r if c.data_type == "f"]
    assert not formulas
    assert not list(tmp_path.glob(".*"))


def test_every_csv_is_safe_and_speaks_the_chosen_language(hostile_audit, tmp_path):
    hostile_audit.write(tmp_path / "zh")
    hostile_audit.write(tmp_path / "en", lang="en")
    for name in ("findings.csv", "summary.csv", "holders.csv"):
        for lang in ("zh", "en"):
            with (tmp_path / lang / name).open(encoding="utf-8-sig", newline="") as fh:
                cells = [c for row in csv.reader(fh) for c in row]
            assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], (lang, name)
    with (tmp_path / "en" / "summary.csv").open(encoding="utf-8-sig") as fh:
        text = fh.read()
    assert "Use outside every red line" in text and "Enterprise group" in text
    assert "红线外" not in text


def test_an_input_column_named_fid_does_not_break_the_geopackage(tmp_path):
    parcels = parcels_frame([("P", "requisitioned", "a", rect(0, 0, 100, 100))])
    parcels["fid"] = ["x"]
    footprints = footprints_frame([("F", "a", rect(0, 0, 150, 100))])
    footprints["FID"] = [1]
    path = landgis.audit(parcels, footprints).to_gpkg(tmp_path / "f.gpkg")
    back = gpd.read_file(path, layer="parcels")
    assert back["fid_original"].tolist() == ["x"]
