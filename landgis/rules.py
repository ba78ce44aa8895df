"""Finding categories — DOMAIN.md's table, once, and every fact derived from it.

Each :class:`Category` row holds everything landgis knows about a category:
its wording (Chinese and English), the action and working group, the campaign
stage whose deadline applies, the departments that also receive it, what kind
of finding it is, the family it belongs to, its colour and its place in the
drawing order.  Every other list in the package — the categories of a total,
the map's draw order and colours, the QGIS style, the KMZ folders, the engine's
use categories, the ledger's families — is derived here.  A new category is
one row in this table and the engine function that finds it.

Deadlines are not here: they are campaign configuration (:mod:`landgis.config`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CATEGORIES",
    "DEPARTMENTS",
    "DEPARTMENTS_EN",
    "DRAW_ORDER",
    "EXCESS_PARTS",
    "FAMILIES",
    "GROUPS",
    "KINDS",
    "MEASURES",
    "PARK_OVERUSE",
    "Category",
    "codes",
    "departments",
    "draw_order",
    "park_overuse",
]

#: What a finding is: a connected piece of land found by the set algebra (the
#: smallest ones, below ``min_area``, are survey noise), a whole parcel, an amount
#: of money, or a change between two surveys.
KINDS = ("piece", "parcel", "money", "change")

#: Families of categories, and the total (:data:`MEASURES`) each counts in.
FAMILIES: dict[str, str] = {
    "beyond_grant": "violation",  # use beyond the holder's own grant (DOMAIN.md, X_h)
    "idle": "parcel",  # authorized land its holder leaves unused
    "leased_in": "parcel",  # land the zone leases in, by how it is used
    "red_line": "parcel",  # the red lines themselves disagree
    "efficiency": "parcel",  # the per-mu evaluation
    "money": "money",  # amounts owed
    "monitoring": "change",  # change between two surveys
    "village": "village",  # a village's own land, as the land survey classes it
}

#: The totals and what counts in each (总计口径).  An area total is the area of the
#: union of its land, so land under two findings counts once; money is in 元, never 亩.
MEASURES: dict[str, str] = {
    "violation": "违规用地面积",  # the pieces of land used beyond any grant
    "parcel": "涉及地块面积",  # the red lines that parcel-level cases concern
    "money": "金额",  # amounts owed (元)
    "change": "变化用地面积",  # use changed between two surveys (landgis change)
    "village": "村庄用地面积",  # village homesteads outside the red lines: not the zone's violation
}

#: Departments that receive cases besides the working groups, Chinese → English.
DEPARTMENTS_EN: dict[str, str] = {
    "自然资源和规划局": "Natural resources and planning bureau",
    "城管局": "Urban management bureau",
}

#: Working groups, Chinese name → English name.
GROUPS: dict[str, str] = {
    "农业农村组": "Agriculture and rural affairs group",
    "资源管理组": "Resource management group",
    "企业组": "Enterprise group",
    "综合组": "Coordination group",
    "现代农业园农业农村组": "Modern agricultural park group",
}


@dataclass(frozen=True, kw_only=True)
class Category:
    """One finding category: its wording, routing, kind, family and style."""

    code: str
    label: str
    label_en: str
    action: str
    action_en: str
    group: str
    #: Stage of the campaign whose deadline applies (see ``Campaign.deadlines``).
    stage: str
    #: Departments that receive the case besides the working group: the
    #: natural-resources and planning bureau takes every red-line case, urban
    #: management what stands outside every red line or without a lease.
    departments: tuple[str, ...] = ()
    #: One of :data:`KINDS`.
    kind: str
    #: One of :data:`FAMILIES`.
    family: str
    #: Fill colour on every map, PNG, QGIS style and KMZ.
    colour: str
    #: Drawing order: parcel-sized findings first, so that the smaller pieces lie
    #: (and are clicked) on top.
    draw: int

    @property
    def measure(self) -> str:
        """The total the category counts in (:data:`MEASURES`)."""
        return FAMILIES[self.family]


_ROWS = [
    Category(
        code="leased_in_unused",
        label="租而无用",
        label_en="Leased in, not used",
        action="加强沟通，及早退租解约",
        action_en="Negotiate and terminate the lease early",
        group="农业农村组",
        stage="plan",
        kind="parcel",
        family="leased_in",
        colour="#1f77b4",
        draw=2,
    ),
    Category(
        code="leased_in_used",
        label="租而有用",
        label_en="Leased in, in use",
        action="综合财力情况适当办理征用或代征手续",
        action_en="Requisition (or proxy-requisition) as finances allow",
        group="农业农村组",
        stage="plan",
        kind="parcel",
        family="leased_in",
        colour="#2ca02c",
        draw=4,
    ),
    Category(
        code="leased_in_idle",
        label="租而未用",
        label_en="Leased in, idle but allocated or planned",
        action="一处一策、分类盘活，针对性招商引资",
        action_en="One plan per site; revitalize and attract investment",
        group="农业农村组",
        stage="plan",
        kind="parcel",
        family="leased_in",
        colour="#17becf",
        draw=3,
    ),
    Category(
        code="overuse_leased",
        label="少租多用",
        label_en="Uses more than leased",
        action="确认租赁面积，规范租金收缴",
        action_en="Confirm the leased area and collect the rent",
        group="资源管理组",
        stage="rectify",
        departments=("自然资源和规划局",),
        kind="piece",
        family="beyond_grant",
        colour="#e6b800",
        draw=13,
    ),
    Category(
        code="unleased_use",
        label="未租先用",
        label_en="Use before any lease",
        action="督促归还或完善租赁协议",
        action_en="Return the land or complete a lease",
        group="资源管理组",
        stage="rectify",
        departments=("自然资源和规划局", "城管局"),
        kind="piece",
        family="beyond_grant",
        colour="#e377c2",
        draw=14,
    ),
    Category(
        code="rent_arrears",
        label="欠缴租金",
        label_en="Rent arrears",
        action="依法律程序予以规范",
        action_en="Recover through legal procedure",
        group="资源管理组",
        stage="arrears",
        kind="money",
        family="money",
        colour="#393b79",
        draw=9,
    ),
    Category(
        code="idle_leased",
        label="租出未用",
        label_en="Leased out, left idle",
        action="一企一策，盘活或收回",
        action_en="One plan per enterprise: put to use or take back",
        group="资源管理组",
        stage="plan",
        kind="piece",
        family="idle",
        colour="#b5b300",
        draw=7,
    ),
    Category(
        code="overuse_requisitioned",
        label="少征多用",
        label_en="Uses more than requisitioned",
        action="责令限期退出",
        action_en="Order withdrawal within a time limit",
        group="企业组",
        stage="rectify",
        departments=("自然资源和规划局",),
        kind="piece",
        family="beyond_grant",
        colour="#ff7f0e",
        draw=12,
    ),
    Category(
        code="outside_redline",
        label="红线外违规用地",
        label_en="Use outside every red line",
        action="联合自规部门依法依规处理",
        action_en="Handle with the natural-resources and planning bureau by law",
        group="企业组",
        stage="rectify",
        departments=("自然资源和规划局", "城管局"),
        kind="piece",
        family="beyond_grant",
        colour="#7b1113",
        draw=15,
    ),
    Category(
        code="encroachment",
        label="侵占他人用地",
        label_en="Encroachment on another holder's land",
        action="责令退还，核实权属",
        action_en="Order the land returned; verify ownership",
        group="企业组",
        stage="rectify",
        departments=("自然资源和规划局",),
        kind="piece",
        family="beyond_grant",
        colour="#d62728",
        draw=16,
    ),
    Category(
        code="fee_arrears",
        label="欠缴征用（代征）费用",
        label_en="Requisition fee arrears",
        action="依法追缴",
        action_en="Recover by law",
        group="企业组",
        stage="arrears",
        kind="money",
        family="money",
        colour="#637939",
        draw=10,
    ),
    Category(
        code="idle_requisitioned",
        label="征而未用",
        label_en="Requisitioned, left idle",
        action="研究“腾笼换鸟”、转型升级",
        action_en="Study replacement and upgrading (腾笼换鸟)",
        group="企业组",
        stage="plan",
        kind="piece",
        family="idle",
        colour="#8c564b",
        draw=6,
    ),
    Category(
        code="low_efficiency",
        label="低效用地",
        label_en="Low-efficiency land",
        action="研究“腾笼换鸟”、转型升级",
        action_en="Study replacement and upgrading (腾笼换鸟)",
        group="企业组",
        stage="plan",
        kind="parcel",
        family="efficiency",
        colour="#843c39",
        draw=8,
    ),
    Category(
        code="area_mismatch",
        label="面积不符",
        label_en="Registered area differs from red line",
        action="核实确认面积",
        action_en="Verify and confirm the area",
        group="综合组",
        stage="verify",
        kind="parcel",
        family="red_line",
        colour="#7f7f7f",
        draw=5,
    ),
    Category(
        code="overlap_conflict",
        label="红线重叠",
        label_en="Red lines of different holders overlap",
        action="核实权属，消除重叠",
        action_en="Verify ownership and remove the overlap",
        group="综合组",
        stage="verify",
        departments=("自然资源和规划局",),
        kind="piece",
        family="red_line",
        colour="#9467bd",
        draw=11,
    ),
    # From the land survey's classes (landgis.survey): use outside every red line
    # that the survey says is a village's homestead, or construction on 耕地.
    Category(
        code="farmland_construction",
        label="占用耕地建设",
        label_en="Construction on cultivated land outside every red line",
        action="联合自然资源和规划局依法查处占用耕地建设，限期拆除、恢复耕种条件",
        action_en="With the natural-resources and planning bureau, act on the construction on "
        "cultivated land by law: remove it and restore the land for farming",
        group="综合组",
        stage="rectify",
        departments=("自然资源和规划局", "城管局"),
        kind="piece",
        family="beyond_grant",
        colour="#556b2f",
        draw=20,
    ),
    Category(
        code="village_homestead",
        label="村庄宅基地",
        label_en="Village homestead outside every red line",
        action="会同所在乡镇（街道）核实宅基地审批与权属，不计入园区违规用地",
        action_en="Verify the homestead's approval and ownership with the township "
        "(street office); not the zone's violation",
        group="农业农村组",
        stage="verify",
        kind="piece",
        family="village",
        colour="#c49c94",
        draw=19,
    ),
    # Change between two surveys (landgis.change.use_change): what the resurvey
    # of the long-term monitoring (长效管护) must verify on the ground.
    Category(
        code="use_new",
        label="新增用地",
        label_en="New use since the previous survey",
        action="实地核实新增用地的权属与用地手续，违法用地依法处置",
        action_en="Verify the owner and permits of the new use on site; act on illegal use by law",
        group="综合组",
        stage="monitor",
        kind="change",
        family="monitoring",
        colour="#ff1493",
        draw=18,
    ),
    Category(
        code="use_grown",
        label="扩建用地",
        label_en="Use grown since the previous survey",
        action="核实扩建部分是否在红线内、手续是否完备",
        action_en="Verify that the extension lies within the red line and has its permits",
        group="综合组",
        stage="monitor",
        kind="change",
        family="monitoring",
        colour="#ffa07a",
        draw=17,
    ),
    Category(
        code="use_removed",
        label="用地减少",
        label_en="Use gone since the previous survey",
        action="核实拆除或停用情况，更新台账，研究盘活利用",
        action_en="Verify the demolition or disuse, update the register, plan the land's reuse",
        group="综合组",
        stage="monitor",
        kind="change",
        family="monitoring",
        colour="#00bfff",
        draw=1,
    ),
]

#: Category code → :class:`Category`, in DOMAIN.md's order.
CATEGORIES: dict[str, Category] = {row.code: row for row in _ROWS}


def codes(*, kind: str | None = None, family: str | None = None, measure=None) -> tuple[str, ...]:
    """The category codes of a kind, family or measure, in DOMAIN.md's order.

    Examples
    --------
    >>> codes(family="leased_in")
    ('leased_in_unused', 'leased_in_used', 'leased_in_idle')
    >>> codes(family="money") == codes(measure="money")
    True
    """
    return tuple(
        code
        for code, cat in CATEGORIES.items()
        if (kind is None or cat.kind == kind)
        and (family is None or cat.family == family)
        and (measure is None or cat.measure == measure)
    )


def draw_order() -> tuple[str, ...]:
    """Category codes in drawing order (see :attr:`Category.draw`)."""
    return tuple(sorted(CATEGORIES, key=lambda c: CATEGORIES[c].draw))


def departments() -> dict[str, tuple[str, ...]]:
    """Department → the categories it receives (its own map, its own list)."""
    return {
        department: tuple(code for code, cat in CATEGORIES.items() if department in cat.departments)
        for department in DEPARTMENTS_EN
    }


#: Categories in drawing order, as the package was imported (see :func:`draw_order`).
DRAW_ORDER: tuple[str, ...] = draw_order()
#: Department → its categories, as the package was imported (see :func:`departments`).
DEPARTMENTS: dict[str, tuple[str, ...]] = departments()

#: Park over-use (land of the zone granted to no one) by the tenure of the
#: holder's nearest own parcel: DOMAIN.md's classification of each excess piece.
_PARK_OVERUSE = {
    "requisitioned": "overuse_requisitioned",
    "proxy_requisitioned": "overuse_requisitioned",
    "leased_out": "overuse_leased",
    "": "unleased_use",  # the holder has no authorized parcel at all
}
#: The park over-use categories (a subset of the beyond-the-grant family).
PARK_OVERUSE: tuple[str, ...] = tuple(dict.fromkeys(_PARK_OVERUSE.values()))

#: The parts the excess ``X_h`` of a holder's use is split into, in DOMAIN.md's
#: order: encroachment, outside every red line, park over-use (the beyond-the-grant
#: family, but ``farmland_construction``, which the land survey's classes split off
#: the use outside every red line after the set algebra: :mod:`landgis.survey`).
EXCESS_PARTS: tuple[str, ...] = ("encroachment", "outside_redline", *PARK_OVERUSE)
assert set(EXCESS_PARTS) == set(codes(family="beyond_grant")) - {"farmland_construction"}


def park_overuse(nearest_tenure):
    """The park over-use category of each piece, from the tenure of its holder's
    nearest own authorized parcel (``""``: the holder has none).

    >>> park_overuse(["leased_out", "", "proxy_requisitioned"]).tolist()
    ['overuse_leased', 'unleased_use', 'overuse_requisitioned']
    """
    import numpy as np

    return np.asarray([_PARK_OVERUSE[t] for t in nearest_tenure], dtype=object)
