"""Build the sample park in this folder (parcels, footprints, planning, admin).

A made-up park near Taizhou, Jiangsu (泰州), in CGCS2000 3° Gauss-Krüger zone 40
with the zone prefix (EPSG:4528).  All shapes are axis-aligned rectangles in
metres from a local origin, so every expected figure in README.md can be
checked by hand.  Field names are those of real Chinese registers (宗地代码,
权利人, 取得方式 …): the demo exercises the alias table too.

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
    registers_workbook(HERE / "registers.xlsx")
    print("wrote data/boundaries/registers.xlsx")


if __name__ == "__main__":
    import sys

    main(registers_only="--registers-only" in sys.argv)
