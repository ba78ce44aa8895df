"""Land classes of the national land survey (国土调查): codes, names and groups.

The third national land survey (第三次全国国土调查, 三调) and each year's land
change survey (国土变更调查) record every 图斑 of the layer 地类图斑 ``DLTB`` with
a class code ``DLBM`` of the survey's 工作分类 (TD/T 1055-2019 表A.2, built on GB/T
21010-2017) and, inside towns and villages, a 城镇村属性码 ``CZCSXM`` (表A.3).
This module holds those tables once, the 三大类 of each class (表A.4: 建设用地,
农用地, 未利用地) and :class:`LandSurveySettings`, which says which classes an
audit counts as actual use and how it reads them (the campaign file's
``[land_survey]``).

Sources: TD/T 1055-2019 《第三次全国国土调查技术规程》 appendix A; TD/T 1057-2020
《国土调查数据库标准》; the class and 三大类 lists as the public survey tools
apply them (``docs/guide/tutorials/land_survey.md`` lists them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from landgis.errors import ConfigError

__all__ = [
    "BUILT_UP",
    "CATEGORY_NAMES",
    "CZCSXM",
    "DEFAULT_IN_USE",
    "FACILITY",
    "FARMLAND",
    "HOMESTEAD",
    "LAND_CLASSES",
    "VILLAGE",
    "LandClass",
    "LandSurveySettings",
    "base_code",
    "class_label",
    "matches",
    "normalize_code",
    "resolve_class",
]


@dataclass(frozen=True)
class LandClass:
    """One class of the 三调 工作分类: code, name, 一级类 and 三大类."""

    code: str
    name: str
    #: 一级类, e.g. ``"06 工矿用地"``.
    group: str
    #: 三大类: ``"建设用地"``, ``"农用地"`` or ``"未利用地"``.
    category: str


_W = "00 湿地"
_ROWS = [
    # code, name, 一级类, 三大类 (农 农用地, 建 建设用地, 未 未利用地)
    ("0303", "红树林地", _W, "农"),
    ("0304", "森林沼泽", _W, "农"),
    ("0306", "灌丛沼泽", _W, "农"),
    ("0402", "沼泽草地", _W, "农"),
    ("0603", "盐田", _W, "建"),
    ("1105", "沿海滩涂", _W, "未"),
    ("1106", "内陆滩涂", _W, "未"),
    ("1108", "沼泽地", _W, "未"),
    ("0101", "水田", "01 耕地", "农"),
    ("0102", "水浇地", "01 耕地", "农"),
    ("0103", "旱地", "01 耕地", "农"),
    ("0201", "果园", "02 种植园用地", "农"),
    ("0202", "茶园", "02 种植园用地", "农"),
    ("0203", "橡胶园", "02 种植园用地", "农"),
    ("0204", "其他园地", "02 种植园用地", "农"),
    ("0301", "乔木林地", "03 林地", "农"),
    ("0302", "竹林地", "03 林地", "农"),
    ("0305", "灌木林地", "03 林地", "农"),
    ("0307", "其他林地", "03 林地", "农"),
    ("0401", "天然牧草地", "04 草地", "农"),
    ("0403", "人工牧草地", "04 草地", "农"),
    ("0404", "其他草地", "04 草地", "未"),
    ("05H1", "商业服务业设施用地", "05 商业服务业用地", "建"),
    ("0508", "物流仓储用地", "05 商业服务业用地", "建"),
    ("0601", "工业用地", "06 工矿用地", "建"),
    ("0602", "采矿用地", "06 工矿用地", "建"),
    ("0701", "城镇住宅用地", "07 住宅用地", "建"),
    ("0702", "农村宅基地", "07 住宅用地", "建"),
    ("08H1", "机关团体新闻出版用地", "08 公共管理与公共服务用地", "建"),
    ("08H2", "科教文卫用地", "08 公共管理与公共服务用地", "建"),
    ("0809", "公用设施用地", "08 公共管理与公共服务用地", "建"),
    ("0810", "公园与绿地", "08 公共管理与公共服务用地", "建"),
    ("09", "特殊用地", "09 特殊用地", "建"),
    ("1001", "铁路用地", "10 交通运输用地", "建"),
    ("1002", "轨道交通用地", "10 交通运输用地", "建"),
    ("1003", "公路用地", "10 交通运输用地", "建"),
    ("1004", "城镇村道路用地", "10 交通运输用地", "建"),
    ("1005", "交通服务场站用地", "10 交通运输用地", "建"),
    ("1006", "农村道路", "10 交通运输用地", "农"),
    ("1007", "机场用地", "10 交通运输用地", "建"),
    ("1008", "港口码头用地", "10 交通运输用地", "建"),
    ("1009", "管道运输用地", "10 交通运输用地", "建"),
    ("1101", "河流水面", "11 水域及水利设施用地", "未"),
    ("1102", "湖泊水面", "11 水域及水利设施用地", "未"),
    ("1103", "水库水面", "11 水域及水利设施用地", "农"),
    ("1104", "坑塘水面", "11 水域及水利设施用地", "农"),
    ("1107", "沟渠", "11 水域及水利设施用地", "农"),
    ("1109", "水工建筑用地", "11 水域及水利设施用地", "建"),
    ("1110", "冰川及永久积雪", "11 水域及水利设施用地", "未"),
    ("1201", "空闲地", "12 其他土地", "建"),
    ("1202", "设施农用地", "12 其他土地", "农"),
    ("1203", "田坎", "12 其他土地", "农"),
    ("1204", "盐碱地", "12 其他土地", "未"),
    ("1205", "沙地", "12 其他土地", "未"),
    ("1206", "裸土地", "12 其他土地", "未"),
    ("1207", "裸岩石砾地", "12 其他土地", "未"),
]
#: 三大类 (TD/T 1055 表A.4), short code → name.
CATEGORY_NAMES = {"建": "建设用地", "农": "农用地", "未": "未利用地"}

#: Refined (A, 细化) and adjustable (K, 可调整: former 耕地 that could be restored)
#: classes: they belong to the class of their base code.
_REFINED = {
    "0201K": "可调整果园",
    "0202K": "可调整茶园",
    "0203K": "可调整橡胶园",
    "0204K": "可调整其他园地",
    "0301K": "可调整乔木林地",
    "0302K": "可调整竹林地",
    "0307K": "可调整其他林地",
    "0403K": "可调整人工牧草地",
    "1104K": "可调整养殖坑塘",
    "1104A": "养殖坑塘",
    "1107A": "干渠",
    "0810A": "广场用地",
    "08H2A": "高教用地",
}

#: Code → :class:`LandClass`, the 三调 工作分类 in the standard's order, then the
#: refined and adjustable classes.
LAND_CLASSES: dict[str, LandClass] = {
    code: LandClass(code, name, group, CATEGORY_NAMES[cat]) for code, name, group, cat in _ROWS
}
for _code, _name in _REFINED.items():
    _base = LAND_CLASSES[_code[:-1]]
    LAND_CLASSES[_code] = LandClass(_code, _name, _base.group, _base.category)

#: 城镇村属性码 (TD/T 1055 表A.3): code → name.  Empty outside 城镇村及工矿用地.
CZCSXM: dict[str, str] = {
    "201": "城市",
    "201A": "城市独立工业用地",
    "202": "建制镇",
    "202A": "建制镇独立工业用地",
    "203": "村庄",
    "203A": "村庄独立工业用地",
    "204": "盐田及采矿用地",
    "205": "特殊用地",
}

#: The 建设用地 classes (三大类), by code.
BUILT_UP: tuple[str, ...] = tuple(code for code, _, _, cat in _ROWS if cat == "建")
#: 设施农用地: legally farmland (农用地), but built on and in use.
FACILITY: tuple[str, ...] = ("1202",)
#: The classes an audit counts as actual use by default: 建设用地 but 1201 空闲地
#: (vacant: construction land no one uses), and 设施农用地.
DEFAULT_IN_USE: tuple[str, ...] = (*(c for c in BUILT_UP if c != "1201"), *FACILITY)
#: 农村宅基地: a house in a village.
HOMESTEAD: tuple[str, ...] = ("0702",)
#: 城镇村属性码 of a village (村庄); 203A, stand-alone industry of a village, is not.
VILLAGE: tuple[str, ...] = ("203",)
#: 耕地: 水田, 水浇地, 旱地.
FARMLAND: tuple[str, ...] = ("01",)

_CODE = re.compile(r"^[0-9]{2}([0-9H]{2})?[A-Z]?$")
#: 一级类 code → its base classes (``"09"`` is a class of its own; 湿地 is ``"00"``).
_GROUP_CODES: dict[str, tuple[str, ...]] = {}
for _code, _name, _group, _ in _ROWS:
    _key = _group.split(" ", 1)[0]
    _GROUP_CODES[_key] = (*_GROUP_CODES.get(_key, ()), _code)
_GROUP_NAMES = dict(g.split(" ", 1) for g in {c.group for c in LAND_CLASSES.values()})
#: 一级类 name → code, class name → code.
_BY_NAME: dict[str, str] = {
    **{name: code for code, name in _GROUP_NAMES.items()},
    **{c.name: code for code, c in LAND_CLASSES.items()},
}
_CATEGORY_WORDS = frozenset(CATEGORY_NAMES.values())


def normalize_code(value) -> str:
    """A class code as the survey writes it: stripped, upper-case, ``""`` for none.

    Examples
    --------
    >>> normalize_code(" 05h1 "), normalize_code(601.0), normalize_code(None)
    ('05H1', '0601', '')
    """
    if value is None or value != value:  # None or NaN
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().upper()
    if isinstance(value, int) and len(text) in (1, 3):  # a code stored as a number
        text = "0" + text
    return text


def resolve_class(value) -> str:
    """A class as change patches write it → a code, a 一级类 code or a 三大类 name.

    Codes pass (normalized); class names (``旱地``) and 一级类 names (``耕地``) become
    their codes; 三大类 names (``建设用地``) stay as they are.  ``""`` for an empty
    cell.

    Raises
    ------
    ValueError
        For anything else.

    Examples
    --------
    >>> resolve_class(" 0601 "), resolve_class("旱地"), resolve_class("耕地")
    ('0601', '0103', '01')
    >>> resolve_class("建设用地")
    '建设用地'
    """
    code = normalize_code(value)
    if not code or _CODE.match(code):
        return code
    text = str(value).strip()
    if text in _CATEGORY_WORDS:
        return text
    if text in _BY_NAME:
        return _BY_NAME[text]
    raise ValueError(f"{text!r} is neither a land-class code nor a class name")


def base_code(code: str) -> str:
    """The class a refined or adjustable code belongs to (``0201K`` → ``0201``).

    >>> base_code("1104A"), base_code("0601"), base_code("09")
    ('1104', '0601', '09')
    """
    if len(code) == 5 and code[-1] in "KA":
        return code[:-1]
    return code


def matches(code: str, entries: Iterable[str]) -> bool:
    """Whether a class code is one of ``entries``: the code itself, its base
    (:func:`base_code`), or a two-digit 一级类 (``"01"`` is every 耕地 class).

    >>> matches("0103", ("01",)), matches("0201K", ("0201",)), matches("0601", ("0602",))
    (True, True, False)
    """
    base = base_code(code)
    for entry in entries:
        if code == entry or base == entry or (len(entry) == 2 and code.startswith(entry)):
            return True
    return False


def class_label(code: str, name: str = "") -> str:
    """``"0601 工业用地"``: the code and its name (``name``, else the table's; the code
    alone when unknown).

    >>> class_label("0702"), class_label("1104K"), class_label("9999"), class_label("01")
    ('0702 农村宅基地', '1104K 可调整养殖坑塘', '9999', '01 耕地')
    """
    if code in _CATEGORY_WORDS or not code:
        return code or name
    if not name:
        known = LAND_CLASSES.get(code)
        name = known.name if known else _GROUP_NAMES.get(code, "")
    return f"{code} {name}" if name else code


def _codes(value, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    try:
        codes = tuple(normalize_code(v) for v in value)
    except TypeError:
        raise ConfigError(
            f'land_survey.{key} = {value!r}; give a list of class codes, e.g. ["0601", "0602"].'
        ) from None
    bad = [c for c in codes if not _CODE.match(c)]
    if bad:
        raise ConfigError(
            f'land_survey.{key}: {bad} are not 三调 class codes; write them like "0601", '
            '"05H1", "09" or a 一级类 "01" (DLBM, TD/T 1055 表A.2).'
        )
    return codes


@dataclass(frozen=True, kw_only=True)
class LandSurveySettings:
    """How an audit reads the land survey (the campaign file's ``[land_survey]``).

    Attributes
    ----------
    in_use
        Classes (``DLBM``) whose 图斑 are actual use and become footprints:
        :data:`DEFAULT_IN_USE`, the 建设用地 classes but 1201 空闲地, and 1202
        设施农用地.  An entry matches its refined/adjustable codes too, and a
        two-digit entry a whole 一级类 (``"07"``: 0701 and 0702).
    homestead
        Classes of village homesteads (default 0702 农村宅基地): such land outside
        every red line is ``village_homestead``, not the zone's over-use.
    village
        城镇村属性码 of villages (default 203 村庄): use inside a village outside
        every red line is ``village_homestead`` whatever its class (203A, a
        village's stand-alone industry, is not a village in this sense).
    farmland
        Cultivated land (default ``"01"``: 0101 水田, 0102 水浇地, 0103 旱地):
        construction on it outside every red line is ``farmland_construction``.
    unknown_user
        User of the 图斑 that neither a survey attribute nor a red line names.
    min_share
        Smallest share of a 图斑 inside one authorized parcel that makes that
        parcel's holder its user.
    user_field
        A field of the layer naming the user (an office's own addition to
        DLTB); default: the usual names (使用人, 用地单位 …) when present.
    patch_fields
        Role → field name of a change-patch layer, for fields the defaults
        (``landgis.schema.LAYERS["patches"]``) miss, e.g. ``{"before_class": "QDL"}``.
    """

    in_use: tuple[str, ...] = DEFAULT_IN_USE
    homestead: tuple[str, ...] = HOMESTEAD
    village: tuple[str, ...] = VILLAGE
    farmland: tuple[str, ...] = FARMLAND
    unknown_user: str = "未知使用人"
    min_share: float = 0.5
    user_field: str | None = None
    patch_fields: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in ("in_use", "homestead", "farmland"):
            object.__setattr__(self, key, _codes(getattr(self, key), key))
        village = self.village
        village = (village,) if isinstance(village, str) else tuple(village)
        bad = [v for v in village if normalize_code(v) not in CZCSXM]
        if bad:
            raise ConfigError(
                f"land_survey.village: {bad} are not 城镇村属性码; use {list(CZCSXM)}."
            )
        object.__setattr__(self, "village", tuple(normalize_code(v) for v in village))
        if not 0 < self.min_share <= 1:
            raise ConfigError(
                f"land_survey.min_share = {self.min_share!r}; give a share in (0, 1]."
            )
        if not str(self.unknown_user).strip():
            raise ConfigError("land_survey.unknown_user is empty; name the anonymous user.")
        from landgis.schema import LAYERS

        spec = LAYERS["patches"]
        roles = (*spec.required, *spec.optional)
        unknown = set(self.patch_fields) - set(roles)
        if unknown:
            raise ConfigError(
                f"land_survey.patch_fields: unknown role(s) {sorted(unknown)}; use {list(roles)}."
            )

    def is_in_use(self, code: str) -> bool:
        """Whether 图斑 of this class are actual use.

        ``code`` may also be a 一级类 (``"06"``: in use when all its classes are)
        or a 三大类 name (``"建设用地"`` is in use), as change patches sometimes
        give them (:func:`resolve_class`).
        """
        if code in _CATEGORY_WORDS:
            return code == "建设用地"
        if len(code) == 2 and code in _GROUP_CODES:
            return all(matches(c, self.in_use) for c in _GROUP_CODES[code])
        return matches(code, self.in_use)

    def is_farmland(self, code: str) -> bool:
        """Whether this class is cultivated land (耕地)."""
        return code not in _CATEGORY_WORDS and matches(code, self.farmland)

    def is_village(self, code: str, czcsxm: str = "") -> bool:
        """Whether land of this class (and 城镇村属性码) is a village's homestead land."""
        return matches(code, self.homestead) or (bool(czcsxm) and czcsxm in self.village)
