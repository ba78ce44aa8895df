"""The national land survey as actual use: 地类图斑 (DLTB), ellipsoidal areas, 卫片 patches.

The sample's figures are worked out by hand in data/boundaries/README.md
("The land survey"); ellipsoidal areas are checked against pyproj's Geod, an
independent method (geodesic polygon area on the CGCS2000 ellipsoid).
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Proj, Transformer
from shapely.geometry import box

import landgis
from landgis.change import use_change, use_change_from_patches
from landgis.cli import main
from landgis.errors import ConfigError, LandgisWarning, SchemaError
from landgis.io.land_survey import read_change_patches, read_dltb
from landgis.landclass import (
    BUILT_UP,
    DEFAULT_IN_USE,
    LAND_CLASSES,
    LandSurveySettings,
    class_label,
    matches,
    resolve_class,
)

DLTB = landgis.get_path("land_survey")
PATCHES = landgis.get_path("patches")
PARCELS = landgis.get_path("parcels")
X0, Y0 = 40_492_000.0, 3_596_000.0  # the sample's local origin (EPSG:4528)

HUADA = "泰州华达精密机械有限公司"
LVYUAN = "泰州绿源食品有限公司"
HONGYUAN = "泰州宏远物流有限公司"
JINDING = "泰州金鼎化工有限公司"
XINTAI = "泰州新泰电子科技有限公司"
HENGXIN = "泰州恒信置业有限公司"
RUIFENG = "泰州瑞丰纺织有限公司"
JIAHE = "泰州嘉禾农业发展有限公司"
UNKNOWN = "未知使用人"


def rect(x1, y1, x2, y2):
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def _audit(source=DLTB, **options):
    return landgis.audit(
        PARCELS,
        source,
        land_survey=True,
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
        **options,
    )


@pytest.fixture(scope="module")
def surveyed():
    return _audit()


# ------------------------------------------------------------------ classes


def test_class_table_follows_the_standard():
    assert len(LAND_CLASSES) == 56 + 13  # 56 工作分类 classes, 13 refined/adjustable ones
    assert LAND_CLASSES["0702"].category == "建设用地" and LAND_CLASSES["0702"].name == "农村宅基地"
    assert LAND_CLASSES["1202"].category == "农用地"  # 设施农用地 is farmland, not construction
    assert LAND_CLASSES["1201"].category == "建设用地"  # 空闲地 is construction land …
    assert "1201" in BUILT_UP and "1201" not in DEFAULT_IN_USE  # … but nobody uses it
    assert "1202" in DEFAULT_IN_USE and "1006" not in DEFAULT_IN_USE  # 农村道路 is 农用地
    assert LAND_CLASSES["0603"].group == "00 湿地" and LAND_CLASSES["0603"].category == "建设用地"
    assert LAND_CLASSES["1104A"].category == "农用地" and LAND_CLASSES["0810A"].name == "广场用地"
    assert matches("0103", ("01",)) and matches("1104K", ("1104",)) and not matches("09", ("0901",))
    assert class_label("05H1") == "05H1 商业服务业设施用地"
    assert resolve_class("水浇地") == "0102" and resolve_class(601) == "0601"
    with pytest.raises(ValueError, match="neither"):
        resolve_class("厂房")


def test_settings_are_checked():
    with pytest.raises(ConfigError, match=r"in_use.*not 三调 class codes"):
        LandSurveySettings(in_use=("工业",))
    with pytest.raises(ConfigError, match="城镇村属性码"):
        LandSurveySettings(village=("209",))
    with pytest.raises(ConfigError, match="unknown role"):
        LandSurveySettings(patch_fields={"befor_class": "QDL"})
    campaign = landgis.load_campaign({"land_survey": {"in_use": ["06", "1202"], "min_share": 0.6}})
    assert campaign.land_survey.in_use == ("06", "1202") and campaign.land_survey.min_share == 0.6
    with pytest.raises(ConfigError, match="unknown key"):
        landgis.load_campaign({"land_survey": {"built": ["06"]}})


# ---------------------------------------------------------- ellipsoidal areas


def _geod_area(polygon, crs=4528):
    """pyproj's geodesic area of a projected polygon on the CGCS2000 ellipsoid."""
    to_lonlat = Transformer.from_crs(crs, 4490, always_xy=True)
    lonlat = shapely.transform(
        polygon, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1]))
    )
    return abs(Geod(a=6378137.0, rf=298.257222101).geometry_area_perimeter(lonlat)[0])


@pytest.mark.parametrize(
    "polygon",
    [
        rect(0, 0, 100, 100),  # the sample park, 8 km west of the central meridian 120°E
        box(40_640_000, 3_596_000, 40_641_000, 3_597_000),  # 140 km east: near the zone edge
        rect(0, 0, 300, 200).difference(rect(100, 50, 200, 150)),  # a ring with a hole
        shapely.MultiPolygon([rect(0, 0, 50, 50), rect(100, 0, 130, 70)]),
        # Slanted edges of 300–400 m: the survey's edges (straight in latitude and
        # longitude) and Geod's (geodesics) part by 1e-6 unless they are cut short.
        shapely.segmentize(
            shapely.Polygon(
                [(X0, Y0), (X0 + 400, Y0 + 30), (X0 + 250, Y0 + 310), (X0 - 40, Y0 + 180)]
            ),
            10.0,
        ),
    ],
)
def test_ellipsoidal_area_against_geod(polygon):
    ours = landgis.ellipsoidal_area(polygon, 4528)
    assert ours == pytest.approx(_geod_area(polygon), rel=1e-8)
    # The plane area is larger by the projection's areal scale (k²), here from PROJ's
    # own factors at the polygon's centre: 1 + 1.6e-6 at 8 km from the central
    # meridian, 1 + 4.8e-4 at 140 km.
    lon, lat = Transformer.from_crs(4528, 4490, always_xy=True).transform(
        polygon.centroid.x, polygon.centroid.y
    )
    scale = Proj(4528).get_factors(lon, lat).areal_scale
    assert polygon.area / ours == pytest.approx(scale, rel=2e-6)


def test_ellipsoidal_area_of_frames_and_gaps():
    frame = gpd.GeoDataFrame(geometry=[rect(0, 0, 100, 100), None, shapely.Polygon()], crs=4528)
    got = landgis.ellipsoidal_area(frame)
    assert got[0] == pytest.approx(_geod_area(rect(0, 0, 100, 100)), rel=1e-8)
    assert np.isnan(got[1]) and got[2] == 0.0
    with pytest.raises(landgis.CRSError, match="no CRS"):
        landgis.ellipsoidal_area([rect(0, 0, 1, 1)])


def test_tbmj_is_the_ellipsoidal_area_and_the_plane_area_differs():
    dltb = read_dltb(DLTB)
    # make_sample.py computed TBMJ with pyproj's Geod, rounded to 0.01 m² (the farmland
    # 图斑, with edges of up to 1 km, differ by a few mm² more: see the test above).
    assert np.abs(dltb["survey_area_m2"] - dltb["area_ellipsoid_m2"]).max() <= 0.01
    # 华达's factory, 120 × 100 m: plane 12 000.00, TBMJ 11 999.98 (1.6e-6 smaller).
    huada = dltb.loc[dltb["survey_id"] == "321202000000000001"].iloc[0]
    assert huada["area_m2"] == pytest.approx(12000.0)
    assert huada["survey_area_m2"] == pytest.approx(11999.98)
    facts = dltb.attrs["landgis"]["land_survey"]
    assert facts["area_m2"] == pytest.approx(525000.0)  # the four villages, 1 050 × 500 m
    assert facts["survey_area_m2"] == pytest.approx(facts["area_ellipsoid_m2"], abs=0.1)


def test_findings_report_their_ellipsoidal_area_when_asked(tmp_path, surveyed):
    """audit(ellipsoidal_areas=True): each finding's area as the survey measures it."""
    assert "area_ellipsoid_m2" not in surveyed.findings  # not unless asked
    asked = _audit(ellipsoidal_areas=True)
    findings = asked.findings
    pd.testing.assert_frame_equal(
        findings.drop(columns="area_ellipsoid_m2"), surveyed.findings, check_like=True
    )
    placed = findings.loc[findings.geometry.notna()]
    geod = np.array([_geod_area(g) for g in placed.geometry])
    # Edges of a few hundred metres straight in latitude and longitude (the survey's)
    # and geodesics (Geod's) part by up to 1e-6: see test_ellipsoidal_area_against_geod.
    assert placed["area_ellipsoid_m2"].to_numpy() == pytest.approx(geod, rel=1e-6)
    # 8 km from the central meridian the plane is larger by (8/6371)² ≈ 1.6e-6 (the
    # park spans 7.6–8.7 km, and long edges add up to 1e-6 either way).
    ratio = placed["area_m2"] / placed["area_ellipsoid_m2"]
    assert ratio.to_numpy() == pytest.approx(1 + 1.6e-6, abs=5e-7)
    asked.write(tmp_path, lang="zh")
    table = pd.read_csv(tmp_path / "findings.csv", encoding="utf-8-sig")
    huada = table.loc[table["权利人/使用人"] == HUADA].iloc[0]  # 2 000 m² of over-use
    assert (huada["面积（平方米）"], huada["椭球面积（平方米）"]) == (2000.0, 2000.0)
    mismatch = table.loc[table["类别代码"] == "area_mismatch"].iloc[0]  # 新泰's 10 000 m²
    parcel = findings.loc[findings["category"] == "area_mismatch"].geometry.iloc[0]
    assert mismatch["面积（平方米）"] == 10000.0
    assert mismatch["椭球面积（平方米）"] == round(_geod_area(parcel), 2) == 9999.99
    gpkg = gpd.read_file(tmp_path / "findings.gpkg", layer="findings")
    assert gpkg["area_ellipsoid_m2"].sum() == pytest.approx(placed["area_ellipsoid_m2"].sum())


# ---------------------------------------------------------------- reading


def test_read_dltb_classes_every_tuban():
    dltb = read_dltb(DLTB)
    assert len(dltb) == 16  # 12 built or vacant 图斑 + the farmland of 4 villages
    wanted = {"class_code", "class_name", "land_class", "czcsxm", "owner_unit", "location_unit"}
    assert wanted <= set(dltb)
    homestead = dltb.loc[dltb["class_code"] == "0702"].iloc[0]
    assert (homestead["land_class"], homestead["czcsxm"], homestead["location_unit"]) == (
        "0702 农村宅基地", "203", "朱庄村"
    )  # fmt: skip


def test_read_land_survey_infers_users():
    fp = landgis.read_land_survey(DLTB, parcels=PARCELS)
    # 16 图斑 less 4 farmland and 1201 空闲地: 11 in use.
    assert len(fp) == 11
    by = fp.set_index("footprint_id")
    # 新泰's 图斑 380–500 × 0–100 lies 10 000 m² in 新泰's parcel, 2 000 in 金鼎's:
    # 新泰 holds 10 000 / 12 000 = 0.833 of it.
    split = by.loc["321202000000000005"]
    assert (split["user"], split["user_source"], split["parcel_id"]) == (
        XINTAI, "parcel", "321202002002"
    )  # fmt: skip
    assert split["user_share"] == pytest.approx(10000 / 12000, abs=1e-6)
    # 宏远's yard lies on leased-in land (which names no user): the office wrote 宏远 in SYR.
    assert by.loc["321202000000000003", ["user", "user_source"]].tolist() == [HONGYUAN, "attribute"]
    # The village house and workshop lie outside every red line: anonymous.
    assert by.loc["321202000000000011", ["user", "user_source"]].tolist() == [UNKNOWN, "unknown"]
    assert by.loc["321202000000000012", ["user", "use"]].tolist() == [UNKNOWN, "0601 工业用地"]
    assert fp.attrs["landgis"]["land_survey"]["user_source"] == {
        "attribute": 1, "parcel": 8, "unknown": 2
    }  # fmt: skip
    # Without red lines every 图斑 the layer does not name is anonymous.
    alone = landgis.read_land_survey(DLTB)
    assert (alone["user"] == UNKNOWN).sum() == 10


def test_built_up_and_user_field_options(tmp_path):
    only_industry = landgis.read_land_survey(DLTB, parcels=PARCELS, built_up=["0601"])
    assert set(only_industry["class_code"]) == {"0601"} and len(only_industry) == 7
    frame = gpd.read_file(DLTB, layer="DLTB").rename(columns={"SYR": "YDDWMC"})
    fp = landgis.read_land_survey(
        frame, parcels=PARCELS, config={"land_survey": {"user_field": "YDDWMC"}}
    )
    assert (fp["user_source"] == "attribute").sum() == 1


def test_bad_land_survey_layers_are_named(tmp_path):
    frame = gpd.read_file(DLTB, layer="DLTB")
    with pytest.raises(SchemaError, match=r"'class_code' not found.*DLBM"):
        read_dltb(frame.drop(columns=["DLBM"]))
    blank = frame.copy()
    blank.loc[[2, 5], "DLBM"] = " "
    with pytest.raises(SchemaError, match=r"DLBM.*empty in rows 3, 6"):
        read_dltb(blank)
    odd = frame.copy()
    odd.loc[0, "DLBM"] = "203"  # a 城镇村属性码 where the class should be
    odd.loc[1, "TBMJ"] = 5000.0  # the 图斑 was cut after the survey
    with pytest.warns(LandgisWarning) as caught:
        read_dltb(odd)
    text = " ".join(str(w.message) for w in caught)
    assert "城镇村属性码" in text and "TBMJ differs" in text and "row 2" in text


def test_file_geodatabase_and_shapefile_read_alike(tmp_path, surveyed):
    gdb = tmp_path / "TDDC.gdb"
    for layer in ("DLTB", "CJDCQ", "XZQ"):  # the 三调 layout: dataset TDDC
        frame = gpd.read_file(DLTB, layer=layer)
        pyogrio.write_dataframe(
            frame, gdb, layer=layer, driver="OpenFileGDB", layer_options={"FEATURE_DATASET": "TDDC"}
        )
    assert {"DLTB", "CJDCQ", "XZQ"} <= {name for name, _ in pyogrio.list_layers(gdb)}
    from_gdb = _audit(gdb, footprints_layer="DLTB")
    columns = ["category", "holder", "parcel_id", "area_m2", "land_class"]
    pd.testing.assert_frame_equal(from_gdb.findings[columns], surveyed.findings[columns])
    assert len(_audit(gdb).findings) == len(surveyed.findings)  # DLTB found by its name

    shp = tmp_path / "DLTB.shp"
    gpd.read_file(DLTB, layer="DLTB").to_file(shp, encoding="gbk")
    shp.with_suffix(".cpg").unlink()  # as delivered: GBK without a .cpg
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LandgisWarning)
        from_shp = _audit(shp)
    pd.testing.assert_frame_equal(from_shp.findings[columns], surveyed.findings[columns])


# -------------------------------------------------------------- the audit

# data/boundaries/README.md, "The land survey": (category, holder, parcel, m², land_class)
EXPECTED = [
    # 图斑 0601 0–120 × 0–100: 华达's parcel holds 10 000 of 12 000 → 华达; 20 × 100 on 朱庄's
    # leased-in land.
    ("overuse_requisitioned", HUADA, "321202001001", 2000, "0601 工业用地"),
    # 0601 0–100 × 120–235: 绿源 (10 000 / 11 500); 100 × 15 on leased-in land.
    ("overuse_leased", LVYUAN, "321202001003", 1500, "0601 工业用地"),
    # 0508 150–190 × 20–70 on leased-in land, named 宏远 by the office; 宏远 holds no parcel.
    ("unleased_use", HONGYUAN, "", 2000, "0508 物流仓储用地"),
    # The split 图斑 0601 380–500 × 0–100: 新泰's; 380–400 × 0–100 on 金鼎's parcel.
    ("encroachment", XINTAI, "321202002002", 2000, "0601 工业用地"),
    # 金鼎 uses 300–330 × 0–30 = 900: ratio 0.09; idle 10 000 − 900 = 9 100, of which
    # 7 100 is still 旱地 (the rest 新泰's 2 000 of 工业用地).
    ("idle_requisitioned", JINDING, "321202002001", 9100, "0103 旱地"),
    # 恒信: 05H1 300–320 × 150–175 = 500, ratio 0.05; the rest 1201 空闲地 (not use).
    ("idle_leased", HENGXIN, "321202002003", 9500, "1201 空闲地"),
    # 嘉禾's 1202 设施农用地 −200–−80 × 150–250: 10 000 in its parcel → 嘉禾; 20 × 100 outside.
    ("outside_redline", JIAHE, "321202003002", 2000, "1202 设施农用地"),
    # A village's workshop (0601, CZCSXM 203A) 600–650 × 20–60 outside every red line.
    ("outside_redline", UNKNOWN, "", 2000, "0601 工业用地"),
    # A house (0702, CZCSXM 203) 120–160 × 340–380 outside every red line: the village's.
    ("village_homestead", UNKNOWN, "", 1600, "0702 农村宅基地"),
    # Leased-in land: used 2 000 (华达) + 2 000 (宏远) = 0.4; 6 000 of it still 旱地.
    ("leased_in_used", "朱庄村股份经济合作社", "321202001002", 10000, "0103 旱地"),
    # Used 1 500 (绿源) = 0.075, neither allocated nor planned; 18 500 旱地.
    ("leased_in_unused", "朱庄村股份经济合作社", "321202001004", 20000, "0103 旱地"),
    # Used 500 = 0.05, allocated to 恒信; 9 500 空闲地.
    ("leased_in_idle", "迎春社区股份经济合作社", "321202002004", 10000, "1201 空闲地"),
    # Unused, in the 现代农业园; all 水田.
    ("leased_in_idle", "周庄村股份经济合作社", "321202003001", 10000, "0101 水田"),
    # 瑞丰 / 盛达 overlap 580–600 × 150–250: 瑞丰's 0601 to 585, 盛达's 0601 from 585.
    ("overlap_conflict", RUIFENG, "321202002005", 2000, "0601 工业用地"),
    # 新泰: registered 16.2 亩, measured 15.
    ("area_mismatch", XINTAI, "321202002002", 10000, "0601 工业用地"),
]


def test_sample_land_survey_audits_to_the_hand_worked_figures(surveyed):
    got = sorted(
        (r.category, r.holder, r.parcel_id, round(r.area_m2, 6), r.land_class)
        for r in surveyed.findings.itertuples()
    )
    assert got == sorted(EXPECTED)
    findings = surveyed.findings.set_index("category")
    home = findings.loc["village_homestead"]
    assert (home["category_label"], home["group"], home["street"], home["village"]) == (
        "村庄宅基地", "农业农村组", "城东街道", "朱庄村"
    )  # fmt: skip
    assert "乡镇" in home["action"]
    # 违规用地面积: 2 000 + 1 500 + 2 000 + 2 000 + 2 000 + 2 000 = 11 500 m² = 17.25 亩; the
    # house is the village's, not the zone's violation.  涉及地块面积 as without the survey.
    totals = surveyed.totals()
    assert totals["violation_m2"] == pytest.approx(11500) and totals["violation_mu"] == 17.25
    assert totals["parcel_m2"] == pytest.approx(88000) and totals["findings"] == 15
    summary = surveyed.summary().set_index("category")
    assert summary.loc["village_homestead", "measure"] == "village"
    assert summary.loc["village_homestead", "area_mu"] == pytest.approx(2.4)
    # Per holder the use splits exactly (the engine's figures): 未知使用人 2 000 + 1 600.
    unknown = surveyed.holders.loc[UNKNOWN]
    assert unknown["used_m2"] == pytest.approx(3600) and unknown["outside_redline_m2"] == 3600
    trail = surveyed.report["inputs"]["footprints"]["land_survey"]
    assert trail["footprints"] == 11 and trail["user_source"]["unknown"] == 2


def test_land_classes_under_ordinary_footprints():
    """The 2024 field survey's footprints over the 2023 land survey: 绿源's shed
    −30–0 × 130–170 outside every red line stands on 耕地 (400 m² 水田 of 周庄村,
    800 m² 旱地 of 朱庄村): construction on cultivated land, not plain red-line use."""
    audit = landgis.audit(
        PARCELS,
        landgis.get_path("footprints"),
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
        land_classes=DLTB,
        land_classes_layer="DLTB",
    )
    findings = audit.findings
    shed = findings.loc[findings["category"] == "farmland_construction"]
    assert shed[["holder", "area_m2", "land_class", "group"]].values.tolist() == [
        [LVYUAN, 1200.0, "0103 旱地", "综合组"]
    ]
    assert "自然资源和规划局" in shed["departments"].iloc[0] and "耕地" in shed["action"].iloc[0]
    # 嘉禾's strip outside stands on 1202 设施农用地, not 耕地: still outside_redline.
    outside = findings.loc[findings["category"] == "outside_redline"]
    assert outside[["holder", "land_class"]].values.tolist() == [[JIAHE, "1202 设施农用地"]]
    assert len(findings) == 14 and audit.totals()["violation_mu"] == pytest.approx(16.05)


def test_campaign_decides_what_is_use():
    """Without 1202 in use, 嘉禾's greenhouses are no use: its proxy-requisitioned
    parcel is idle (10 000 m², 设施农用地) and nothing of it lies outside."""
    in_use = [c for c in DEFAULT_IN_USE if c != "1202"]
    audit = _audit(config={"land_survey": {"in_use": in_use}})
    rows = audit.findings.loc[audit.findings["holder"] == JIAHE]
    assert rows[["category", "area_m2", "land_class"]].values.tolist() == [
        ["idle_requisitioned", 10000.0, "1202 设施农用地"]
    ]


def test_land_class_reaches_every_output(tmp_path, surveyed):
    written = surveyed.write(tmp_path)
    csv = written["findings.csv"].read_text(encoding="utf-8-sig")
    assert "地类（国土调查）" in csv and "0702 农村宅基地" in csv and "村庄宅基地" in csv
    gpkg = gpd.read_file(written["findings.gpkg"], layer="findings")
    assert "0103 旱地" in set(gpkg["land_class"])
    data = surveyed.map().get_root().landgis_data
    layer = next(s for s in data["layers"] if s["id"] == "finding-village_homestead")
    assert ["land_class", "地类"] in [list(f) for f in layer["fields"]]
    assert layer["props"]["land_class"] == ["0702 农村宅基地"]
    footprints = next(s for s in data["layers"] if s["props"].get("user_source"))
    assert "所在宗地（推定）" in footprints["props"]["user_source"]


# ---------------------------------------------------------- change patches


def test_patches_are_read_through_the_field_map(tmp_path):
    patches = read_change_patches(PATCHES)
    assert patches[["patch_id", "before_class", "after_class"]].values.tolist() == [
        ["WP2024001", "0103", "0601"],
        ["WP2024002", "0103", "0601"],
        ["WP2024003", "0601", "0103"],
    ]
    assert patches["built_after"].tolist() == [True, True, False]
    assert str(patches["after_date"].iloc[0]) == "2024-04-15"
    renamed = gpd.read_file(PATCHES).rename(columns={"BGQDL": "QDL", "BGHDL": "HDL"})
    renamed["QDL"] = ["旱地", "耕地", "工业用地"]  # names, as some deliveries write them
    with pytest.raises(SchemaError, match="before_class"):
        read_change_patches(renamed)
    config = {"land_survey": {"patch_fields": {"before_class": "QDL", "after_class": "HDL"}}}
    mapped = read_change_patches(renamed, config=config)
    assert mapped["before_class"].tolist() == ["0103", "01", "0601"]
    assert mapped["farmland_before"].tolist() == [True, True, False]
    renamed.loc[1, "HDL"] = "厂房"
    with pytest.raises(SchemaError, match=r"厂房 in row 2.*patch_fields"):
        read_change_patches(renamed, config=config)


def test_patches_give_the_findings_of_two_survey_rounds():
    """WP2024001 (金鼎 builds 330–360 × 0–30 on 旱地 beside its building), WP2024002 (a
    building 210–240 × 120–160 on 朱庄村's 旱地 outside every red line) and WP2024003 (the
    village workshop 600–650 × 20–60 pulled down, back to 旱地) against the 2023 survey,
    and the same as a second survey round drawn by hand."""
    before = landgis.read_land_survey(DLTB, parcels=PARCELS)
    via_patches = use_change_from_patches(read_change_patches(PATCHES), before=before,
                                          parcels=PARCELS)  # fmt: skip
    workshop = before["footprint_id"] == "321202000000000012"
    later = pd.concat(
        [
            before.loc[~workshop, ["user", "geometry"]],
            gpd.GeoDataFrame(
                {"user": [JINDING, UNKNOWN]},
                geometry=[rect(330, 0, 360, 30), rect(210, 120, 240, 160)],
                crs=before.crs,
            ),
        ],
        ignore_index=True,
    )
    two_rounds = use_change(
        before,
        gpd.GeoDataFrame(later, crs=before.crs),
        parcels=PARCELS,
        land_classes=read_dltb(DLTB),
    )
    columns = ["finding_id", "category", "holder", "parcel_id", "other_holder", "area_m2"]
    pd.testing.assert_frame_equal(via_patches[columns], two_rounds[columns])
    assert shapely.equals(
        np.asarray(via_patches.geometry.values), np.asarray(two_rounds.geometry.values)
    ).all()
    # By hand: 30 × 30 = 900 grown on 金鼎's parcel (it touches its building); 30 × 40 =
    # 1 200 new on 耕地 outside every red line; 50 × 40 = 2 000 removed.
    assert via_patches[["category", "holder", "area_m2"]].values.tolist() == [
        ["farmland_construction", UNKNOWN, 1200.0],
        ["use_grown", JINDING, 900.0],
        ["use_removed", UNKNOWN, 2000.0],
    ]
    assert via_patches["land_class"].tolist() == [
        "0103 旱地→0601 工业用地", "0103 旱地→0601 工业用地", "0601 工业用地→0103 旱地"
    ]  # fmt: skip
    assert two_rounds["land_class"].tolist() == ["0103 旱地", "0103 旱地", "0601 工业用地"]
    # Patches alone cannot tell an extension: 金鼎's 900 m² is new use.
    alone = use_change_from_patches(read_change_patches(PATCHES), parcels=PARCELS)
    assert sorted(alone["category"]) == ["farmland_construction", "use_new", "use_removed"]


def test_cli_land_survey_and_patches(tmp_path):
    runner = CliRunner()
    done = runner.invoke(
        main,
        ["audit", str(PARCELS), str(DLTB), "--footprints-layer", "DLTB", "--land-survey",
         "--admin", str(landgis.get_path("admin")), "--ellipsoidal-areas",
         "-o", str(tmp_path / "audit"), "-q"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    csv = (tmp_path / "audit" / "findings.csv").read_text(encoding="utf-8-sig")
    assert "村庄宅基地" in csv and "1202 设施农用地" in csv
    assert csv.splitlines()[0].endswith(",地类（国土调查）,椭球面积（平方米）")
    done = runner.invoke(
        main,
        ["change", str(DLTB), str(PATCHES), "--land-survey", "--patches", "--parcels",
         str(PARCELS), "-o", str(tmp_path / "change")],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "farmland_construction: 1 (1,200.0 m²)" in done.output
    assert "use_grown: 1 (900.0 m²)" in done.output
    done = runner.invoke(
        main,
        ["change", "-", str(PATCHES), "--patches", "--parcels", str(PARCELS),
         "-o", str(tmp_path / "alone")],
    )  # fmt: skip
    assert done.exit_code == 0 and "use_new: 1 (900.0 m²)" in done.output
    done = runner.invoke(
        main, ["audit", str(PARCELS), str(DLTB), "--land-survey", "--footprints-layer", "XZQ",
               "-o", str(tmp_path / "bad")],
    )  # fmt: skip
    assert done.exit_code == 2 and "class_code" in done.output


# ------------------------------------------------------------ property: no land lost

_CLASS_CODES = ["0103", "0702", "0601", "1202"]


@settings(max_examples=40, deadline=None)
@given(
    grid=st.lists(st.sampled_from(_CLASS_CODES), min_size=16, max_size=16),
    villages=st.lists(st.booleans(), min_size=16, max_size=16),
    piece=st.tuples(
        st.integers(0, 30), st.integers(0, 30), st.integers(5, 40), st.integers(5, 40)
    ),
)
def test_the_split_by_class_keeps_every_square_metre(grid, villages, piece):
    """A piece of use outside every red line over a 4 × 4 grid of 10 m 图斑 of random
    classes: its parts add up to it, the 耕地 part is farmland_construction, the
    homestead part (0702 or 城镇村属性码 203) village_homestead, the rest unchanged."""
    from landgis.survey import apply_land_classes

    cells = [box(10 * (i % 4), 10 * (i // 4), 10 * (i % 4) + 10, 10 * (i // 4) + 10)
             for i in range(16)]  # fmt: skip
    classes = gpd.GeoDataFrame(
        {
            "class_code": grid,
            "czcsxm": ["203" if v else "" for v in villages],
            "land_class": [class_label(c) for c in grid],
        },
        geometry=cells,
    )
    x, y, w, h = piece
    shape = box(x, y, x + w, y + h)
    raw = gpd.GeoDataFrame(
        {"category": ["outside_redline", "idle_requisitioned"], "area_m2": [shape.area, 100.0],
         "holder": ["甲", "乙"]},
        geometry=[shape, box(0, 0, 10, 10)],
    )  # fmt: skip
    out = apply_land_classes(raw, classes, outside=np.array([True, False]))
    mine = out.loc[out["holder"] == "甲"]
    assert mine["area_m2"].sum() == pytest.approx(shape.area, abs=1e-6)
    assert mine.geometry.area.to_numpy() == pytest.approx(mine["area_m2"].to_numpy())
    farmland = shapely.union_all([c for c, k in zip(cells, grid, strict=True) if k == "0103"])
    homes = shapely.union_all(
        [
            c
            for c, k, v in zip(cells, grid, villages, strict=True)
            if k != "0103" and (k == "0702" or v)
        ]
    )
    expected = {
        "farmland_construction": shapely.intersection(shape, farmland).area,
        "village_homestead": shapely.intersection(shape, homes).area,
    }
    for category, area in expected.items():
        got = mine.loc[mine["category"] == category, "area_m2"].sum()
        assert got == pytest.approx(area, abs=1e-6)
    other = out.loc[out["holder"] == "乙"]
    assert other[["category", "area_m2"]].values.tolist() == [["idle_requisitioned", 100.0]]
