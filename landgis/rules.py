"""Finding categories: label, action, working group — DOMAIN.md's table, once.

A new category touches this table and one engine function.  Deadlines are not
here: they are campaign configuration (:mod:`landgis.config`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["CATEGORIES", "DEPARTMENTS", "GROUPS", "MEASURES", "Category"]


@dataclass(frozen=True)
class Category:
    """One finding category with its Chinese and English wording."""

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
    #: How the category counts in the totals (:data:`MEASURES`): its pieces of land in
    #: 违规用地面积, its parcels in 涉及地块面积, or its amount in 元.
    measure: str = "parcel"


#: The totals and what counts in each (总计口径).  An area total is the area of the
#: union of its land, so land under two findings counts once; money is in 元, never 亩.
MEASURES: dict[str, str] = {
    "violation": "违规用地面积",  # the pieces of land used beyond any grant
    "parcel": "涉及地块面积",  # the red lines that parcel-level cases concern
    "money": "金额",  # amounts owed (元)
    "change": "变化用地面积",  # use changed between two surveys (landgis change)
}

#: Working groups, Chinese name → English name.
GROUPS: dict[str, str] = {
    "农业农村组": "Agriculture and rural affairs group",
    "资源管理组": "Resource management group",
    "企业组": "Enterprise group",
    "综合组": "Coordination group",
    "现代农业园农业农村组": "Modern agricultural park group",
}

_ROWS = [
    Category(
        "leased_in_unused",
        "租而无用",
        "Leased in, not used",
        "加强沟通，及早退租解约",
        "Negotiate and terminate the lease early",
        "农业农村组",
        "plan",
    ),
    Category(
        "leased_in_used",
        "租而有用",
        "Leased in, in use",
        "综合财力情况适当办理征用或代征手续",
        "Requisition (or proxy-requisition) as finances allow",
        "农业农村组",
        "plan",
    ),
    Category(
        "leased_in_idle",
        "租而未用",
        "Leased in, idle but allocated or planned",
        "一处一策、分类盘活，针对性招商引资",
        "One plan per site; revitalize and attract investment",
        "农业农村组",
        "plan",
    ),
    Category(
        "overuse_leased",
        "少租多用",
        "Uses more than leased",
        "确认租赁面积，规范租金收缴",
        "Confirm the leased area and collect the rent",
        "资源管理组",
        "rectify",
        ("自然资源和规划局",),
    ),
    Category(
        "unleased_use",
        "未租先用",
        "Use before any lease",
        "督促归还或完善租赁协议",
        "Return the land or complete a lease",
        "资源管理组",
        "rectify",
        ("自然资源和规划局", "城管局"),
    ),
    Category(
        "rent_arrears",
        "欠缴租金",
        "Rent arrears",
        "依法律程序予以规范",
        "Recover through legal procedure",
        "资源管理组",
        "arrears",
    ),
    Category(
        "idle_leased",
        "租出未用",
        "Leased out, left idle",
        "一企一策，盘活或收回",
        "One plan per enterprise: put to use or take back",
        "资源管理组",
        "plan",
    ),
    Category(
        "overuse_requisitioned",
        "少征多用",
        "Uses more than requisitioned",
        "责令限期退出",
        "Order withdrawal within a time limit",
        "企业组",
        "rectify",
        ("自然资源和规划局",),
    ),
    Category(
        "outside_redline",
        "红线外违规用地",
        "Use outside every red line",
        "联合自规部门依法依规处理",
        "Handle with the natural-resources and planning bureau by law",
        "企业组",
        "rectify",
        ("自然资源和规划局", "城管局"),
    ),
    Category(
        "encroachment",
        "侵占他人用地",
        "Encroachment on another holder's land",
        "责令退还，核实权属",
        "Order the land returned; verify ownership",
        "企业组",
        "rectify",
        ("自然资源和规划局",),
    ),
    Category(
        "fee_arrears",
        "欠缴征用（代征）费用",
        "Requisition fee arrears",
        "依法追缴",
        "Recover by law",
        "企业组",
        "arrears",
    ),
    Category(
        "idle_requisitioned",
        "征而未用",
        "Requisitioned, left idle",
        "研究“腾笼换鸟”、转型升级",
        "Study replacement and upgrading (腾笼换鸟)",
        "企业组",
        "plan",
    ),
    Category(
        "low_efficiency",
        "低效用地",
        "Low-efficiency land",
        "研究“腾笼换鸟”、转型升级",
        "Study replacement and upgrading (腾笼换鸟)",
        "企业组",
        "plan",
    ),
    Category(
        "area_mismatch",
        "面积不符",
        "Registered area differs from red line",
        "核实确认面积",
        "Verify and confirm the area",
        "综合组",
        "verify",
    ),
    Category(
        "overlap_conflict",
        "红线重叠",
        "Red lines of different holders overlap",
        "核实权属，消除重叠",
        "Verify ownership and remove the overlap",
        "综合组",
        "verify",
        ("自然资源和规划局",),
    ),
    # Change between two surveys (landgis.raster.use_change): what the resurvey
    # of the long-term monitoring (长效管护) must verify on the ground.
    Category(
        "use_new",
        "新增用地",
        "New use since the previous survey",
        "实地核实新增用地的权属与用地手续，违法用地依法处置",
        "Verify the owner and permits of the new use on site; act on illegal use by law",
        "综合组",
        "monitor",
    ),
    Category(
        "use_grown",
        "扩建用地",
        "Use grown since the previous survey",
        "核实扩建部分是否在红线内、手续是否完备",
        "Verify that the extension lies within the red line and has its permits",
        "综合组",
        "monitor",
    ),
    Category(
        "use_removed",
        "用地减少",
        "Use gone since the previous survey",
        "核实拆除或停用情况，更新台账，研究盘活利用",
        "Verify the demolition or disuse, update the register, plan the land's reuse",
        "综合组",
        "monitor",
    ),
]

_MEASURE = {
    **dict.fromkeys(
        ("overuse_leased", "unleased_use", "overuse_requisitioned", "outside_redline"),
        "violation",
    ),
    "encroachment": "violation",
    "rent_arrears": "money",
    "fee_arrears": "money",
    **dict.fromkeys(("use_new", "use_grown", "use_removed"), "change"),
}

#: Category code → :class:`Category`, in DOMAIN.md's order.
CATEGORIES: dict[str, Category] = {
    row.code: replace(row, measure=_MEASURE.get(row.code, "parcel")) for row in _ROWS
}


#: Department → the categories it receives (its own map, its own list).
DEPARTMENTS: dict[str, tuple[str, ...]] = {
    department: tuple(code for code, cat in CATEGORIES.items() if department in cat.departments)
    for department in ("自然资源和规划局", "城管局")
}
