"""Build the sample park in this folder (parcels, footprints, planning, admin, and
the land survey's 地类图斑 and 卫片 change patches).

A made-up park near Taizhou, Jiangsu (泰州), in CGCS2000 3° Gauss-Krüger zone 40
with the zone prefix (EPSG:4528).  All shapes are axis-aligned rectangles in
metres from a local origin, so every expected figure in README.md can be
checked by hand.  Field names are those of real Chinese registers (宗地代码,
权利人, 取得方式 …): the demo exercises the alias table too.

The land survey (``dltb.gpkg``, layers ``DLTB``, ``CJDCQ``, ``XZQ``) carries the
fields of TD/T 1057-2020 国土调查数据库标准 and the 三调 工作分类 codes; its ``TBMJ``
is the ellipsoidal area computed here with pyproj's ``Geod`` on the CGCS2000
ellipsoid (a real survey then adjusts it, 调平, to the village's control area).
``wpjc.gpkg`` holds 卫片 change patches (监测图斑) with the fields found in
practice (there is no national standard).

Run ``python data/boundaries/make_sample.py`` to rebuild the GeoPackages.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

HERE = Path(__file__).resolve().parent
CRS = "EPSG:4528"
X0, Y0 = 40_492_000.0, 3_596_000.0  # about 119.915°E, 32.49°N

HUADA = "泰州华达精密机械有限公司"
LVYUAN = "泰州绿源食品有限公司"
HONGYUAN = "泰州宏远物流有限公司"
JINDING = "泰州金鼎化工有限公司"
XINTAI = "泰州新泰电子科技有限公司"
HENGXIN = "泰州恒信置业有限公司"
RUIFENG = "泰州瑞丰纺织有限公司"
SHENGDA = "泰州盛达包装材料有限公司"
JIAHE = "泰州嘉禾农业发展有限公司"
ZHUZHUANG = "朱庄村股份经济合作社"
ZHOUZHUANG = "周庄村股份经济合作社"
YINGCHUN = "迎春社区股份经济合作社"

CHENGDONG, JINGTAI = "城东街道", "京泰路街道"


def rect(x1: float, y1: float, x2: float, y2: float):
    """A rectangle given in local metres."""
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


# 宗地代码, 地块名称, 权利人, 取得方式, 登记面积亩, 街道, 村社区, (x1, y1, x2, y2)
PARCELS = [
    ("321202001001", "华达机械厂区", HUADA, "征用", 15.0, CHENGDONG, "朱庄村", (0, 0, 100, 100)),
    (
        "321202001002",
        "朱庄租地一号",
        ZHUZHUANG,
        "租入",
        15.0,
        CHENGDONG,
        "朱庄村",
        (100, 0, 200, 100),
    ),
    ("321202001003", "绿源食品厂区", LVYUAN, "租出", 15.0, CHENGDONG, "朱庄村", (0, 120, 100, 220)),
    (
        "321202001004",
        "朱庄租地二号",
        ZHUZHUANG,
        "租入",
        30.0,
        CHENGDONG,
        "朱庄村",
        (0, 220, 200, 320),
    ),
    ("321202002001", "金鼎化工厂区", JINDING, "征用", 15.0, JINGTAI, "塘湾村", (300, 0, 400, 100)),
    ("321202002002", "新泰电子厂区", XINTAI, "征用", 16.2, JINGTAI, "塘湾村", (400, 0, 500, 100)),
    (
        "321202002003",
        "恒信置业地块",
        HENGXIN,
        "租出",
        15.0,
        JINGTAI,
        "迎春社区",
        (300, 150, 400, 250),
    ),
    ("321202002004", "迎春租地", YINGCHUN, "租入", 15.0, JINGTAI, "迎春社区", (300, 150, 400, 250)),
    (
        "321202002005",
        "瑞丰纺织厂区",
        RUIFENG,
        "征用",
        15.0,
        JINGTAI,
        "迎春社区",
        (500, 150, 600, 250),
    ),
    (
        "321202002006",
        "盛达包装厂区",
        SHENGDA,
        "租出",
        15.0,
        JINGTAI,
        "迎春社区",
        (580, 150, 680, 250),
    ),
    (
        "321202003001",
        "周庄租地",
        ZHOUZHUANG,
        "租入",
        15.0,
        CHENGDONG,
        "周庄村",
        (-200, 0, -100, 100),
    ),
    (
        "321202003002",
        "嘉禾农业基地",
        JIAHE,
        "代征",
        15.0,
        CHENGDONG,
        "周庄村",
        (-200, 150, -100, 250),
    ),
]

# 图斑编号, 使用人, 用途, (x1, y1, x2, y2)
FOOTPRINTS = [
    ("TB001", HUADA, "厂房及堆场", (0, 0, 120, 100)),
    ("TB002", HUADA, "仓库", (10, 10, 40, 40)),  # inside TB001: counted once
    ("TB003", LVYUAN, "厂房", (0, 120, 100, 235)),
    ("TB004", LVYUAN, "简易棚", (-30, 130, 0, 170)),
    ("TB005", HONGYUAN, "堆场", (150, 20, 190, 70)),
    ("TB006", JINDING, "办公楼", (300, 0, 330, 30)),
    ("TB007", XINTAI, "厂房", (380, 0, 500, 100)),
    ("TB008", HENGXIN, "售楼处", (300, 150, 320, 175)),
    ("TB009", RUIFENG, "厂房", (500, 150, 600, 250)),
    ("TB010", SHENGDA, "厂房", (580, 150, 680, 250)),
    ("TB011", JIAHE, "温室大棚", (-200, 150, -80, 250)),
]

PLANNING = [
    ("现代农业园", (-260, -40, -40, 300)),
    ("高新产业区", (280, -20, 700, 270)),
]

ADMIN = [
    (CHENGDONG, "周庄村", (-300, -100, -20, 400)),
    (CHENGDONG, "朱庄村", (-20, -100, 250, 400)),
    (JINGTAI, "塘湾村", (250, -100, 750, 130)),
    (JINGTAI, "迎春社区", (250, 130, 750, 400)),
]


# The registers (台账), as the office keeps them; figures worked out in README.md.
# 宗地代码, 承租方/出租方, 租赁方向, 租赁面积（亩）, 租金单价（元/亩/年）,
# 起租日期, 到期日期, 已缴租金, 缴款方式, 缴款日 (days after each period starts)
LEASES = [
    ("321202001003", LVYUAN, "租出", 15, 1200, "2023-01-01", "2032-12-31", 18000, "季付", 10),
    ("321202002003", HENGXIN, "租出", 15, 800, "2024-01-01", "2033-12-31", 0, "年付", 0),
    ("321202002006", SHENGDA, "租出", 15, 600, "2022-07-01", "2024-06-30", 18000, "半年付", 0),
    ("321202001002", ZHUZHUANG, "租入", 15, 600, "2020-01-01", "2034-12-31", None, "", None),
    ("321202001004", ZHUZHUANG, "租入", 30, 600, "2020-01-01", "2034-12-31", None, "", None),
    ("321202002004", YINGCHUN, "租入", 15, 700, "2021-01-01", "2035-12-31", None, "", None),
    ("321202003001", ZHOUZHUANG, "租入", 15, 500, "2021-01-01", "2035-12-31", None, "", None),
    ("321209999999", "泰州某某有限公司", "租出", 10, 900, "2023-01-01", "2027-12-31", 0, "年付", 0),
]
# 宗地代码, 权利人, 应缴费用（元）, 已缴费用（元）, 缴费期限
FEES = [
    ("321202001001", HUADA, 450000, 450000, "2022-12-31"),
    ("321202002001", JINDING, 300000, 200000, "2023-12-31"),
    ("321202003002", JIAHE, 150000, 0, "2025-12-31"),
]
# 企业名称, 年度, 税收（万元）, 营业收入（万元）, 工业增加值, 综合能耗（吨标煤）, 从业人员, 成立日期
ENTERPRISES = [
    (HUADA, 2023, 180, 3600, 900, 200, 60, "2010-05-01"),
    (JINDING, 2023, 6, 300, 60, 100, 30, "2012-03-01"),
    (XINTAI, 2023, 300, 4500, 1200, 150, 80, "2015-09-01"),
    (JIAHE, 2023, 20, 400, 80, 10, 25, "2023-05-01"),
]


def registers_workbook(path: Path) -> None:
    """The registers as one workbook, each sheet under a title row, as offices keep them."""
    from openpyxl import Workbook

    wb = Workbook()
    sheets = [
        (
            "租赁台账",
            "泰州示范园区土地租赁台账（截至2024年6月）",
            [
                "宗地代码",
                "承租方",
                "租赁方向",
                "租赁面积（亩）",
                "租金单价（元/亩/年）",
                "起租日期",
                "到期日期",
                "已缴租金",
                "缴款方式",
                "缴款日",
            ],
            LEASES,
        ),
        (
            "征用费用",
            "征用（代征）费用缴纳情况",
            ["宗地代码", "权利人", "应缴费用", "已缴费用", "缴费期限"],
            FEES,
        ),
        (
            "亩均效益",
            "2023年度企业亩均效益评价数据（金额：万元）",
            [
                "企业名称",
                "年度",
                "税收（万元）",
                "营业收入（万元）",
                "工业增加值",
                "综合能耗",
                "从业人员",
                "成立日期",
            ],
            ENTERPRISES,
        ),
    ]
    for i, (name, title, header, rows) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = name
        ws.append([title])
        ws.append(header)
        for row in rows:
            ws.append(["" if v is None else v for v in row])
    wb.save(path)


# The land survey (国土变更调查 2023): 坐落单位 (village) codes, 19 characters.
VILLAGE_CODES = {
    "周庄村": "3212020010010000000",
    "朱庄村": "3212020010020000000",
    "塘湾村": "3212020020010000000",
    "迎春社区": "3212020020020000000",
}
TOWNSHIPS = {CHENGDONG: "321202001", JINGTAI: "321202002"}
# 地类编码, 城镇村属性码, 坐落单位, 使用人 (an office's own field SYR), (x1, y1, x2, y2)
BUILT_TB = [
    ("0601", "201", "朱庄村", "", (0, 0, 120, 100)),  # 华达; 20 m on 朱庄's leased-in land
    ("0601", "201", "朱庄村", "", (0, 120, 100, 235)),  # 绿源; 15 m on leased-in land
    ("0508", "201", "朱庄村", HONGYUAN, (150, 20, 190, 70)),  # 宏远, named by the office
    ("0601", "201", "塘湾村", "", (300, 0, 330, 30)),  # 金鼎's only building
    ("0601", "201", "塘湾村", "", (380, 0, 500, 100)),  # 新泰's, 20 m on 金鼎's parcel
    ("05H1", "201", "迎春社区", "", (300, 150, 320, 175)),  # 恒信's sales office
    ("1201", "201", "迎春社区", "", None),  # the rest of 恒信's parcel: vacant
    ("0601", "201", "迎春社区", "", (500, 150, 585, 250)),  # 瑞丰
    ("0601", "201", "迎春社区", "", (585, 150, 680, 250)),  # 盛达
    ("1202", "", "周庄村", "", (-200, 150, -80, 250)),  # 嘉禾's greenhouses, 20 m outside
    ("0702", "203", "朱庄村", "", (120, 340, 160, 380)),  # a house in 朱庄村
    ("0601", "203A", "塘湾村", "", (600, 20, 650, 60)),  # a village's workshop
]
# The rest of each village is cultivated land: 地类编码 per village.
FARMLAND_TB = {"周庄村": "0101", "朱庄村": "0103", "塘湾村": "0103", "迎春社区": "0102"}
CLASS_NAMES = {
    "0101": "水田",
    "0102": "水浇地",
    "0103": "旱地",
    "0508": "物流仓储用地",
    "05H1": "商业服务业设施用地",
    "0601": "工业用地",
    "0702": "农村宅基地",
    "1201": "空闲地",
    "1202": "设施农用地",
}
# 卫片 change patches, 2023-10 → 2024-04: 监测编号, 前时相, 后时相, 变更前地类,
# 变更后地类, (x1, y1, x2, y2)
PATCHES = [
    ("WP2024001", "2023-10-12", "2024-04-15", "0103", "0601", (330, 0, 360, 30)),
    ("WP2024002", "2023-10-12", "2024-04-15", "0103", "0601", (210, 120, 240, 160)),
    ("WP2024003", "2023-10-12", "2024-04-15", "0601", "0103", (600, 20, 650, 60)),
]


def land_survey() -> dict[str, gpd.GeoDataFrame]:
    """The land survey's layers: ``DLTB`` (地类图斑), ``CJDCQ`` (村级调查区), ``XZQ`` (行政区)."""
    import numpy as np
    import shapely
    from pyproj import Geod, Transformer

    geod = Geod(a=6378137.0, rf=298.257222101)  # the CGCS2000 ellipsoid
    to_lonlat = Transformer.from_crs(CRS, "EPSG:4490", always_xy=True)

    def tbmj(geom) -> float:
        lonlat = shapely.transform(
            geom, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1]))
        )
        return round(abs(geod.geometry_area_perimeter(lonlat)[0]), 2)

    villages = {village: rect(*xy) for _, village, xy in ADMIN}
    hengxin = rect(300, 150, 400, 250).difference(rect(300, 150, 320, 175))
    tubans = [
        (code, czc, village, user, rect(*xy) if xy else hengxin)
        for code, czc, village, user, xy in BUILT_TB
    ]
    built = shapely.union_all([g for *_, g in tubans])
    for village, code in FARMLAND_TB.items():
        tubans.append((code, "", village, "", villages[village].difference(built)))
    rows = []
    numbers: dict[str, int] = {}
    for i, (code, czc, village, user, geom) in enumerate(tubans, start=1):
        numbers[village] = numbers.get(village, 0) + 1
        area = tbmj(geom)
        farmland = code.startswith("01")
        kcxs = 0.05 if farmland else 0.0  # 田坎系数 of 旱地/水田 on the plain (made up)
        kcmj = round(area * kcxs, 2)
        state = czc in ("201", "202")  # land of the city: state-owned (made up)
        rows.append(
            {
                "BSM": f"321202{i:012d}",
                "YSDM": "2001010100",
                "TBYBH": "",
                "TBBH": str(numbers[village]),
                "DLBM": code,
                "DLMC": CLASS_NAMES[code],
                "QSXZ": "10" if state else "30",  # 国有 / 集体 (made up)
                "QSDWDM": VILLAGE_CODES[village],
                "QSDWMC": village,
                "ZLDWDM": VILLAGE_CODES[village],
                "ZLDWMC": village,
                "TBMJ": area,
                "KCDLBM": "1203" if farmland else "",
                "KCXS": kcxs,
                "KCMJ": kcmj,
                "TBDLMJ": round(area - kcmj, 2),
                "GDLX": "PD" if farmland else "",
                "GDPDJB": "1" if farmland else "",
                "XZDWKD": 0.0,
                "TBXHDM": "",
                "TBXHMC": "",
                "ZZSXDM": "",
                "ZZSXMC": "",
                "GDDB": 6 if farmland else 0,
                "FRDBS": "0",
                "CZCSXM": czc,
                "SJNF": 2023,
                "MSSM": "00",
                "HDMC": "",
                "BZ": "",
                "SYR": user,  # 使用人: not in the standard; added by the office on site
                "geometry": geom,
            }
        )
    dltb = gpd.GeoDataFrame(rows, crs=CRS)
    cjdcq = gpd.GeoDataFrame(
        [
            {
                "BSM": f"321202{900 + i:012d}",
                "YSDM": "1000600000",
                "ZLDWDM": VILLAGE_CODES[village],
                "ZLDWMC": village,
                "DCMJ": tbmj(geom),
                "JSMJ": tbmj(geom),
                "geometry": geom,
            }
            for i, (village, geom) in enumerate(villages.items(), start=1)
        ],
        crs=CRS,
    )
    streets: dict[str, list] = {}
    for street, _village, xy in ADMIN:
        streets.setdefault(street, []).append(rect(*xy))
    xzq = gpd.GeoDataFrame(
        [
            {
                "BSM": f"321202{950 + i:012d}",
                "YSDM": "1000600100",
                "XZQDM": TOWNSHIPS[street],
                "XZQMC": street,
                "DCMJ": tbmj(shapely.union_all(parts)),
                "JSMJ": tbmj(shapely.union_all(parts)),
                "geometry": shapely.union_all(parts),
            }
            for i, (street, parts) in enumerate(streets.items(), start=1)
        ],
        crs=CRS,
    )
    return {"DLTB": dltb, "CJDCQ": cjdcq, "XZQ": xzq}


def patches() -> gpd.GeoDataFrame:
    """卫片 change patches (监测图斑) as the monitoring system delivers them."""
    return gpd.GeoDataFrame(
        [
            {
                "JCBH": jcbh,
                "XZQDM": "321202",
                "QSX": before,
                "HSX": after,
                "BGQDL": was,
                "BGHDL": now,
                "JCMJ": round(rect(*xy).area * 15 / 10000, 2),  # 监测面积（亩）
                "geometry": rect(*xy),
            }
            for jcbh, before, after, was, now, xy in PATCHES
        ],
        crs=CRS,
    )


def build() -> dict[str, gpd.GeoDataFrame]:
    """The four sample layers as GeoDataFrames."""
    parcels = gpd.GeoDataFrame(
        [
            dict(
                zip(
                    ("宗地代码", "地块名称", "权利人", "取得方式", "登记面积亩", "街道", "村社区"),
                    row[:7],
                    strict=True,
                )
            )
            | {"geometry": rect(*row[7])}
            for row in PARCELS
        ],
        crs=CRS,
    )
    footprints = gpd.GeoDataFrame(
        [
            {
                "图斑编号": fid,
                "使用人": user,
                "用途": use,
                "调查日期": "2024-03-15",
                "geometry": rect(*xy),
            }
            for fid, user, use, xy in FOOTPRINTS
        ],
        crs=CRS,
    )
    planning = gpd.GeoDataFrame(
        [{"规划分区": name, "geometry": rect(*xy)} for name, xy in PLANNING], crs=CRS
    )
    admin = gpd.GeoDataFrame(
        [
            {"街道": street, "村社区": village, "geometry": rect(*xy)}
            for street, village, xy in ADMIN
        ],
        crs=CRS,
    )
    return {"parcels": parcels, "footprints": footprints, "planning": planning, "admin": admin}


def main(*, registers_only: bool = False) -> None:
    for name, frame in ({} if registers_only else build()).items():
        path = HERE / f"{name}.gpkg"
        path.unlink(missing_ok=True)
        frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
        print(f"wrote {path.relative_to(HERE.parent.parent)} ({len(frame)} features)")
    if not registers_only:
        path = HERE / "dltb.gpkg"
        path.unlink(missing_ok=True)
        for layer, frame in land_survey().items():
            frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
            print(f"wrote {path.relative_to(HERE.parent.parent)}:{layer} ({len(frame)} features)")
        path = HERE / "wpjc.gpkg"
        path.unlink(missing_ok=True)
        patches().to_file(path, layer="JCTB", driver="GPKG", engine="pyogrio")
        print(f"wrote {path.relative_to(HERE.parent.parent)} ({len(PATCHES)} features)")
    registers_workbook(HERE / "registers.xlsx")
    print("wrote data/boundaries/registers.xlsx")


if __name__ == "__main__":
    import sys

    main(registers_only="--registers-only" in sys.argv)
