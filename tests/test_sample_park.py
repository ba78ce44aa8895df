"""The sample park's figures, each worked out by hand in data/boundaries/README.md."""

from __future__ import annotations

import pytest

import landgis

HUADA = "泰州华达精密机械有限公司"
LVYUAN = "泰州绿源食品有限公司"
HONGYUAN = "泰州宏远物流有限公司"
JINDING = "泰州金鼎化工有限公司"
XINTAI = "泰州新泰电子科技有限公司"
HENGXIN = "泰州恒信置业有限公司"
RUIFENG = "泰州瑞丰纺织有限公司"
SHENGDA = "泰州盛达包装材料有限公司"
JIAHE = "泰州嘉禾农业发展有限公司"


@pytest.fixture(scope="module")
def sample():
    return landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
    )


# (category, holder, parcel_id, area m², street, village, group)
EXPECTED = [
    ("overuse_requisitioned", HUADA, "321202001001", 2000, "城东街道", "朱庄村", "企业组"),
    ("overuse_leased", LVYUAN, "321202001003", 1500, "城东街道", "朱庄村", "资源管理组"),
    ("outside_redline", LVYUAN, "321202001003", 1200, "城东街道", "朱庄村", "企业组"),
    ("unleased_use", HONGYUAN, "", 2000, "城东街道", "朱庄村", "资源管理组"),
    ("encroachment", XINTAI, "321202002002", 2000, "京泰路街道", "塘湾村", "企业组"),
    ("idle_requisitioned", JINDING, "321202002001", 9100, "京泰路街道", "塘湾村", "企业组"),
    ("idle_leased", HENGXIN, "321202002003", 9500, "京泰路街道", "迎春社区", "资源管理组"),
    ("outside_redline", JIAHE, "321202003002", 2000, "城东街道", "周庄村", "现代农业园农业农村组"),
    (
        "leased_in_used",
        "朱庄村股份经济合作社",
        "321202001002",
        10000,
        "城东街道",
        "朱庄村",
        "农业农村组",
    ),
    (
        "leased_in_unused",
        "朱庄村股份经济合作社",
        "321202001004",
        20000,
        "城东街道",
        "朱庄村",
        "农业农村组",
    ),
    (
        "leased_in_idle",
        "迎春社区股份经济合作社",
        "321202002004",
        10000,
        "京泰路街道",
        "迎春社区",
        "农业农村组",
    ),
    (
        "leased_in_idle",
        "周庄村股份经济合作社",
        "321202003001",
        10000,
        "城东街道",
        "周庄村",
        "现代农业园农业农村组",
    ),
    ("overlap_conflict", RUIFENG, "321202002005", 2000, "京泰路街道", "迎春社区", "综合组"),
    ("area_mismatch", XINTAI, "321202002002", 10000, "京泰路街道", "塘湾村", "综合组"),
]


def test_every_expected_finding_and_nothing_else(sample):
    got = sorted(
        (r.category, r.holder, r.parcel_id, round(r.area_m2, 6), r.street, r.village, r.group)
        for r in sample.findings.itertuples()
    )
    assert got == sorted(EXPECTED)


def test_every_spatial_category_occurs(sample):
    spatial = {
        "leased_in_unused",
        "leased_in_used",
        "leased_in_idle",
        "overuse_leased",
        "unleased_use",
        "idle_leased",
        "overuse_requisitioned",
        "outside_redline",
        "encroachment",
        "idle_requisitioned",
        "area_mismatch",
        "overlap_conflict",
    }
    assert set(sample.findings["category"]) == spatial


def test_named_other_holders(sample):
    f = sample.findings.set_index("category")
    assert f.loc["encroachment", "other_holder"] == JINDING
    assert f.loc["encroachment", "other_parcel_id"] == "321202002001"
    assert f.loc["overlap_conflict", "other_holder"] == SHENGDA
    assert f.loc["unleased_use", "other_parcel_id"] == "321202001002"
    assert f.loc["area_mismatch", "registered_area_mu"] == pytest.approx(16.2)


def test_areas_in_mu(sample):
    f = sample.findings
    assert (f["area_mu"] * 10000 / 15 - f["area_m2"]).abs().max() < 1e-9
    idle = f.loc[f["category"] == "idle_requisitioned"].iloc[0]
    assert idle["area_mu"] == pytest.approx(13.65)
    assert idle["use_ratio"] == pytest.approx(0.09)


def test_holder_split_conserves_use(sample):
    h = sample.holders
    expected = {  # used, own, encroachment, outside, park over-use
        HUADA: (12000, 10000, 0, 0, 2000),
        LVYUAN: (12700, 10000, 0, 1200, 1500),
        HONGYUAN: (2000, 0, 0, 0, 2000),
        XINTAI: (12000, 10000, 2000, 0, 0),
        JIAHE: (12000, 10000, 0, 2000, 0),
        JINDING: (900, 900, 0, 0, 0),
        HENGXIN: (500, 500, 0, 0, 0),
        RUIFENG: (10000, 10000, 0, 0, 0),
        SHENGDA: (10000, 10000, 0, 0, 0),
    }
    cols = ["used_m2", "own_m2", "encroachment_m2", "outside_redline_m2", "park_overuse_m2"]
    for holder, figures in expected.items():
        assert h.loc[holder, cols].tolist() == pytest.approx(figures, abs=1e-6), holder


def test_deadlines_follow_the_campaign(sample):
    f = sample.findings.set_index("category")
    assert str(f.loc["area_mismatch", "deadline"]) == "2024-06-30"
    assert str(f.loc["encroachment", "deadline"]) == "2024-12-31"


def test_points_lie_in_taizhou(sample):
    f = sample.findings
    assert f["lon"].between(119.90, 119.93).all()
    assert f["lat"].between(32.48, 32.50).all()


def test_ids_are_stable_and_unique(sample):
    again = landgis.audit(
        landgis.get_path("parcels"),
        landgis.get_path("footprints"),
        planning=landgis.get_path("planning"),
        admin=landgis.get_path("admin"),
    )
    assert sample.findings["finding_id"].is_unique
    assert list(again.findings["finding_id"]) == list(sample.findings["finding_id"])


def test_registers_of_the_sample_park():
    """The money figures of data/boundaries/README.md, each worked out there."""
    folder = landgis.datasets.sample_dir()
    with pytest.warns(landgis.LandgisWarning, match="321209999999"):
        a = landgis.audit(landgis.get_path("parcels"), landgis.get_path("footprints"),
                          planning=landgis.get_path("planning"), admin=landgis.get_path("admin"),
                          registers=[folder / "registers.xlsx"], config=folder / "campaign.toml")
    f = a.findings
    rent = f[f["category"] == "rent_arrears"].set_index("holder")
    # 绿源: 18,000 a year from 2023-01-01, 季付, due 10 days into each quarter: six quarters
    # fell due by 2024-06-30 (the last on 2024-04-11) = 27,000; paid 18,000 → 9,000, open
    # since 2024-01-11 (20 + 29 + 31 + 30 + 31 + 30 = 171 days).  恒信: 12,000 年付 due
    # 2024-01-01, nothing paid → 12,000, 181 days.  盛达: 半年付 4,500 × 4 = 18,000, paid.
    assert rent["amount_owed"].to_dict() == {LVYUAN: 9_000, HENGXIN: 12_000}
    assert rent["days_overdue"].to_dict() == {LVYUAN: 171, HENGXIN: 181}
    assert rent["months_overdue"].to_dict() == {LVYUAN: 6, HENGXIN: 12}
    over = f[f["category"] == "overuse_leased"].iloc[0]
    assert over["amount_owed"] == pytest.approx(2.25 * 1200 * 108 / 365)
    fee = f[f["category"] == "fee_arrears"].iloc[0]
    assert (fee["holder"], fee["amount_owed"]) == (JINDING, 100_000)
    low = f[f["category"] == "low_efficiency"].iloc[0]
    assert low["holder"] == JINDING and low["score"] == pytest.approx(7.066667 / 80 * 100)
    classes = a.evaluation["efficiency_class"].to_dict()
    assert classes == {HUADA: "B", JINDING: "D", XINTAI: "A", JIAHE: "免评"}
    rents = f[f["category"].str.startswith("leased_in")].set_index("parcel_id")["annual_rent"]
    assert rents.to_dict() == {"321202001002": 9000, "321202001004": 18000,
                               "321202002004": 10500, "321202003001": 7500}
    assert [p["value"] for p in a.problems] == ["321209999999"]
