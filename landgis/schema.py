"""One vocabulary: column names, tenure codes and the default alias tables.

Real files never use landgis' column names.  The alias tables below map the
field names Chinese land offices use (宗地代码/ZDDM, 权利人/QLR, 使用人 …) and
the Chinese tenure words (征用, 代征, 租出, 租入 …) onto them.  Users extend or
override them with a dict or a TOML/YAML file (see :func:`load_aliases`);
``docs/reference.md`` lists them for people.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from landgis.errors import ConfigError

__all__ = [
    "AUTHORIZED_TENURES",
    "LAYERS",
    "REGISTERS",
    "RENT_BASES",
    "SCHEDULES",
    "SCHEDULE_LABELS",
    "TENURES",
    "TENURE_LABELS",
    "Aliases",
    "LayerSpec",
    "load_aliases",
    "match_key",
    "parse_schedule",
]

#: Tenure codes and their Chinese labels.
TENURE_LABELS: dict[str, str] = {
    "requisitioned": "征用",
    "proxy_requisitioned": "代征",
    "leased_out": "租出",
    "leased_in": "租入",
}
TENURES = tuple(TENURE_LABELS)
#: Tenures that grant land to the parcel's holder.
AUTHORIZED_TENURES = ("requisitioned", "proxy_requisitioned", "leased_out")

#: Words found in real registers for each tenure (case-insensitive for Latin).
DEFAULT_TENURE_ALIASES: dict[str, str] = {
    **{code: code for code in TENURES},
    "征用": "requisitioned",
    "征收": "requisitioned",
    "征地": "requisitioned",
    "requisition": "requisitioned",
    "代征": "proxy_requisitioned",
    "代征地": "proxy_requisitioned",
    "proxy": "proxy_requisitioned",
    "租出": "leased_out",
    "出租": "leased_out",
    "lease_out": "leased_out",
    "租入": "leased_in",
    "租用": "leased_in",  # the campaign's word for the zone leasing from villages
    "lease_in": "leased_in",
}


@dataclass(frozen=True)
class LayerSpec:
    """What a layer must and may carry.

    ``required`` columns raise a :class:`~landgis.errors.SchemaError` when
    absent; ``optional`` ones are renamed when found; ``aliases`` maps each
    canonical name to the field names seen in real files.
    """

    name: str
    label: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: A survey may find no use at all; a register without red lines is an error.
    may_be_empty: bool = False


_STREET = ("街道", "街道办", "乡镇街道", "乡镇", "镇街", "所属街道", "JD", "XZJD")
_VILLAGE = ("村", "村社区", "村（社区）", "村(社区)", "社区", "行政村", "所属村", "CUN", "XZC")

#: The layers landgis reads, with their default aliases.
LAYERS: dict[str, LayerSpec] = {
    "parcels": LayerSpec(
        name="parcels",
        label="红线（宗地）",
        required=("parcel_id", "tenure", "holder"),
        optional=(
            "holder_id",
            "parcel_name",
            "registered_area_mu",
            "registered_area_m2",
            "use",
            "street",
            "village",
        ),
        aliases={
            "parcel_id": (
                "宗地代码",
                "宗地编号",
                "ZDDM",
                "ZDBH",
                "地块编号",
                "地块代码",
                "DKBH",
                "DKDM",
                "红线编号",
                "HXBH",
            ),
            "tenure": (
                "取得方式",
                "QDFS",
                "用地方式",
                "YDFS",
                "土地来源",
                "来源",
                "权属类型",
                "用地类型",
            ),
            "holder": (
                "权利人",
                "QLR",
                "权利人名称",
                "QLRMC",
                "用地单位",
                "YDDW",
                "单位名称",
                "企业名称",
            ),
            "holder_id": ("统一社会信用代码", "TYSHXYDM", "信用代码", "QLRZJH"),
            "parcel_name": ("地块名称", "DKMC", "宗地名称", "ZDMC"),
            "registered_area_mu": (
                "登记面积亩",
                "登记面积（亩）",
                "登记面积(亩)",
                "面积亩",
                "亩数",
                "MJM",
                "MJ_MU",
            ),
            "registered_area_m2": (
                "面积",
                "MJ",
                "宗地面积",
                "ZDMJ",
                "登记面积",
                "登记面积（平方米）",
                "登记面积(平方米)",
            ),
            "use": ("用途", "YT", "土地用途", "TDYT"),
            "street": _STREET,
            "village": _VILLAGE,
        },
    ),
    "footprints": LayerSpec(
        name="footprints",
        label="实际使用",
        required=("user",),
        optional=("footprint_id", "use", "survey_date", "street", "village"),
        aliases={
            "footprint_id": ("图斑编号", "TBBH", "图斑号", "编号", "BH", "BSM", "标识码"),
            "user": ("使用人", "SYR", "实际使用人", "使用单位", "SYDW", "使用权人"),
            "use": ("用途", "YT", "实际用途", "SJYT", "地类名称", "DLMC"),
            "survey_date": ("调查日期", "DCRQ", "核查日期", "HCRQ", "测量日期"),
            "street": _STREET,
            "village": _VILLAGE,
        },
        may_be_empty=True,
    ),
    "planning": LayerSpec(
        name="planning",
        label="规划分区",
        required=("zone",),
        optional=(),
        aliases={
            "zone": ("规划分区", "分区名称", "园区", "区域名称", "GHFQ", "FQMC", "名称", "MC"),
        },
    ),
    "admin": LayerSpec(
        name="admin",
        label="行政区（街道、村）",
        required=("street",),
        optional=("village",),
        aliases={"street": _STREET, "village": _VILLAGE},
    ),
    # The national land survey's 地类图斑 layer (TD/T 1057-2020 国土调查数据库标准);
    # XXTBKD/GDZZSXDM are the 2018 draft's spellings, still in some deliveries.
    "land_survey": LayerSpec(
        name="land_survey",
        label="地类图斑（国土调查 DLTB）",
        required=("class_code",),
        optional=(
            "class_name",
            "survey_id",
            "survey_number",
            "owner_unit",
            "location_unit",
            "location_code",
            "survey_area_m2",
            "deducted_area_m2",
            "class_area_m2",
            "czcsxm",
            "survey_year",
            "user",
        ),
        aliases={
            "class_code": ("DLBM", "地类编码", "地类代码", "BGHDLBM"),
            "class_name": ("DLMC", "地类名称", "BGHDLMC"),
            "survey_id": ("BSM", "标识码"),
            "survey_number": ("TBBH", "图斑编号"),
            "owner_unit": ("QSDWMC", "权属单位名称"),
            "location_unit": ("ZLDWMC", "坐落单位名称", "座落单位名称"),
            "location_code": ("ZLDWDM", "坐落单位代码", "座落单位代码"),
            "survey_area_m2": ("TBMJ", "图斑面积"),
            "deducted_area_m2": ("KCMJ", "扣除地类面积"),
            "class_area_m2": ("TBDLMJ", "图斑地类面积"),
            "czcsxm": ("CZCSXM", "城镇村属性码"),
            "survey_year": ("SJNF", "数据年份"),
            "user": ("使用人", "SYR", "实际使用人", "使用单位", "SYDW", "用地单位", "YDDW"),
        },
        may_be_empty=True,
    ),
    # 卫片执法 / 遥感监测 change patches: no one national standard, the names vary by
    # year and province ([land_survey.patch_fields] in the campaign file names others).
    "patches": LayerSpec(
        name="patches",
        label="卫片监测图斑",
        required=("before_class", "after_class"),
        optional=("patch_id", "before_date", "after_date", "user"),
        aliases={
            "patch_id": ("JCBH", "JCTBBH", "TBBH", "BSM", "监测编号", "监测图斑编号", "图斑编号"),
            "before_class": (
                "BGQDL",
                "BGQDLBM",
                "QSXDL",
                "QSXDLBM",
                "QDLBM",
                "YDLBM",
                "DLBM",
                "变更前地类",
                "变更前地类编码",
                "前时相地类",
                "原地类",
                "原地类编码",
                "地类编码",
            ),
            "after_class": (
                "BGHDL",
                "BGHDLBM",
                "HSXDL",
                "HSXDLBM",
                "HDLBM",
                "XZDLBM",
                "JCDL",
                "变更后地类",
                "变更后地类编码",
                "后时相地类",
                "现状地类",
                "现状地类编码",
                "监测地类",
            ),
            "before_date": ("QSX", "QSXSJ", "前时相", "前时相时间"),
            "after_date": ("HSX", "HSXSJ", "后时相", "后时相时间", "JCSJ", "监测时间"),
            "user": ("使用人", "SYR", "实际使用人", "使用单位", "SYDW", "用地单位", "YDDW"),
        },
        may_be_empty=True,
    ),
}


_PARCEL_ID = ("宗地代码", "宗地编号", "ZDDM", "ZDBH", "地块编号", "地块代码", "DKBH", "DKDM")
_PARTY = (
    "权利人",
    "企业名称",
    "单位名称",
    "承租方",
    "承租人",
    "承租单位",
    "出租方",
    "出租人",
    "对方单位",
    "纳税人名称",
    "QLR",
    "QYMC",
    "DWMC",
)

#: The registers (tables, no geometry) landgis reads, with their default aliases.
REGISTERS: dict[str, LayerSpec] = {
    "leases": LayerSpec(
        name="leases",
        label="租赁台账",
        required=("parcel_id", "start_date", "end_date"),
        optional=(
            "lease_id",
            "party",
            "direction",
            "contracted_area_mu",
            "rent_per_mu_year",
            "annual_rent",
            "paid",
            "payment_schedule",
            "due_day",
        ),
        aliases={
            "lease_id": ("合同编号", "合同号", "租赁合同编号", "HTBH"),
            "payment_schedule": ("缴款方式", "付款方式", "缴费方式", "支付方式", "租金支付方式"),
            "due_day": (
                "缴款日",
                "缴款期限（天）",
                "缴款期限(天)",
                "缴款期限天数",
                "付款期限（天）",
                "付款期限(天)",
                "缴款宽限天数",
            ),
            "parcel_id": _PARCEL_ID,
            "party": _PARTY,
            "direction": ("租赁方向", "租入租出", "租赁类型", "类型", "取得方式"),
            "contracted_area_mu": (
                "租赁面积亩",
                "租赁面积（亩）",
                "租赁面积(亩)",
                "合同面积亩",
                "合同面积（亩）",
                "租赁面积",
                "合同面积",
                "面积亩",
                "亩数",
            ),
            "rent_per_mu_year": (
                "租金单价",
                "每亩租金",
                "亩均租金",
                "租金标准",
                "单价",
                "租金单价（元/亩/年）",
                "租金单价(元/亩/年)",
                "元/亩/年",
            ),
            "annual_rent": ("年租金", "年租金（元）", "年租金(元)", "租金（元/年）", "租金(元/年)"),
            "start_date": (
                "起租日期",
                "租赁起始日期",
                "起始日期",
                "开始日期",
                "合同开始日期",
                "租期起",
                "起租时间",
            ),
            "end_date": (
                "到期日期",
                "租赁终止日期",
                "终止日期",
                "结束日期",
                "合同到期日期",
                "合同到期日",
                "租期止",
                "到期时间",
            ),
            "paid": ("已缴租金", "已付租金", "累计已缴", "累计缴纳", "实缴租金", "已缴金额"),
        },
        may_be_empty=True,
    ),
    "payments": LayerSpec(
        name="payments",
        label="缴费记录",
        required=("date", "amount"),
        optional=("lease_id", "parcel_id", "party", "kind"),
        aliases={
            "lease_id": ("合同编号", "合同号", "HTBH"),
            "parcel_id": _PARCEL_ID,
            "party": _PARTY,
            "date": ("缴费日期", "付款日期", "缴款日期", "到账日期", "日期"),
            "amount": (
                "金额",
                "缴费金额",
                "付款金额",
                "缴纳金额",
                "实缴金额",
                "金额（元）",
                "金额(元)",
            ),
            "kind": ("费用类型", "款项类型", "类别"),
        },
        may_be_empty=True,
    ),
    "fees": LayerSpec(
        name="fees",
        label="征用（代征）费用台账",
        required=("fee_due",),
        optional=("parcel_id", "party", "fee_paid", "due_date"),
        aliases={
            "parcel_id": _PARCEL_ID,
            "party": _PARTY,
            "fee_due": (
                "应缴费用",
                "应缴金额",
                "应缴",
                "征用费",
                "代征费",
                "应缴征用费",
                "应缴代征费",
                "费用总额",
            ),
            "fee_paid": ("已缴费用", "已缴金额", "实缴金额", "已缴", "实缴"),
            "due_date": ("应缴日期", "缴费期限", "截止日期", "到期日期"),
        },
        may_be_empty=True,
    ),
    "enterprises": LayerSpec(
        name="enterprises",
        label="企业经济数据",
        required=("party",),
        optional=(
            "holder_id",
            "year",
            "tax",
            "revenue",
            "value_added",
            "energy",
            "employees",
            "rd",
            "established",
            "exempt",
        ),
        aliases={
            "party": _PARTY,
            "holder_id": ("统一社会信用代码", "TYSHXYDM", "信用代码"),
            "year": ("年度", "年份", "统计年度"),
            "tax": (
                "税收",
                "实缴税金",
                "税收总额",
                "纳税总额",
                "实缴税收",
                "税收（万元）",
                "税收(万元)",
            ),
            "revenue": (
                "营业收入",
                "销售收入",
                "主营业务收入",
                "营收",
                "营业收入（万元）",
                "营业收入(万元)",
            ),
            "value_added": ("工业增加值", "增加值"),
            "energy": ("综合能耗", "能耗", "综合能源消费量"),
            "employees": ("从业人员", "职工人数", "年末从业人员", "从业人数"),
            "rd": ("研发经费", "研发投入", "R&D经费", "研发费用"),
            "established": ("成立日期", "投产日期", "注册日期", "设立日期"),
            "exempt": ("是否豁免", "豁免", "保护期", "新建保护期"),
        },
        may_be_empty=True,
    ),
}


@dataclass(frozen=True)
class Aliases:
    """User additions to the alias tables.

    Parameters
    ----------
    columns
        Source field name → canonical column name (``{"DKBH": "parcel_id"}``);
        these win over the defaults.
    tenure
        Source tenure word → tenure code (``{"划拨": "requisitioned"}``).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    tenure: Mapping[str, str] = field(default_factory=dict)

    def merged(self, other: Aliases) -> Aliases:
        """Return these aliases with ``other``'s entries taking precedence."""
        return Aliases(
            columns={**self.columns, **other.columns},
            tenure={**self.tenure, **other.tenure},
        )

    def tenure_table(self) -> dict[str, str]:
        """The full tenure lookup (defaults plus user words), keys normalized."""
        table = {_norm(k): v for k, v in DEFAULT_TENURE_ALIASES.items()}
        table.update({_norm(k): v for k, v in self.tenure.items()})
        return table


def _norm(text: str) -> str:
    return str(text).strip().casefold()


def load_aliases(source: Aliases | Mapping[str, Any] | str | Path | None) -> Aliases:
    """Read user aliases from a dict, a TOML or YAML file, or pass them through.

    The file (or dict) has two optional tables::

        [columns]            # source field → canonical column
        "宗地编号" = "parcel_id"
        DWMC = "holder"

        [tenure]             # source word → tenure code
        "划拨" = "requisitioned"

    Parameters
    ----------
    source
        ``None`` (no additions), an :class:`Aliases`, a mapping with the keys
        ``columns`` and/or ``tenure``, or the path of a ``.toml``/``.yaml`` file.

    Returns
    -------
    Aliases

    Raises
    ------
    ConfigError
        When the file cannot be parsed, has unknown tables, or maps onto a
        column or tenure code landgis does not know.
    """
    if source is None:
        return Aliases()
    if isinstance(source, Aliases):
        return source
    origin = "the aliases dict"
    if isinstance(source, str | Path):
        path = Path(source)
        origin = str(path)
        data = _read_mapping_file(path)
    else:
        data = dict(source)
    unknown = set(data) - {"columns", "tenure"}
    if unknown:
        raise ConfigError(
            f"{origin}: unknown table(s) {sorted(unknown)}; an alias file has only "
            "[columns] (field → column) and [tenure] (word → tenure code)."
        )
    columns = {str(k): str(v) for k, v in (data.get("columns") or {}).items()}
    tenure = {str(k): str(v) for k, v in (data.get("tenure") or {}).items()}
    known_columns = {
        c
        for spec in (*LAYERS.values(), *REGISTERS.values())
        for c in (*spec.required, *spec.optional)
    }
    for src, dst in columns.items():
        if dst not in known_columns:
            raise ConfigError(
                f"{origin}: [columns] maps {src!r} to {dst!r}, which is not a landgis "
                f"column; use one of {sorted(known_columns)}."
            )
    for src, dst in tenure.items():
        if dst not in TENURES:
            raise ConfigError(
                f"{origin}: [tenure] maps {src!r} to {dst!r}, which is not a tenure "
                f"code; use one of {list(TENURES)}."
            )
    return Aliases(columns=columns, tenure=tenure)


def _read_mapping_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: file not found.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            with path.open("rb") as fh:
                return tomllib.load(fh)
        if suffix in (".yaml", ".yml"):
            import yaml

            with path.open(encoding="utf-8-sig") as fh:
                data = yaml.safe_load(fh) or {}
            if not isinstance(data, dict):
                raise ConfigError(f"{path}: expected a mapping at the top level.")
            return data
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot parse ({exc}); save it as UTF-8 TOML.") from exc
    except ImportError as exc:  # pragma: no cover - pyyaml is a dependency
        raise ConfigError(f"{path}: reading YAML needs PyYAML (pip install pyyaml).") from exc
    except Exception as exc:
        if exc.__class__.__module__.startswith("yaml"):
            raise ConfigError(f"{path}: cannot parse YAML ({exc}).") from exc
        raise
    raise ConfigError(f"{path}: unknown alias file type {suffix!r}; use .toml or .yaml.")


def match_key(name: str) -> str:
    """The key that decides whether a holder and a user are the same party.

    Registers and surveys spell one enterprise with full- or half-width
    brackets, digits and letters, and stray blanks (``华达（泰州）`` vs
    ``华达(泰州)``): Unicode NFKC folding and dropping whitespace makes them one.

    Examples
    --------
    >>> match_key("华达机械（泰州） 有限公司") == match_key("华达机械(泰州)有限公司")
    True
    """
    return "".join(unicodedata.normalize("NFKC", str(name)).split())


# ------------------------------------------------------------ payment schedules

#: Payment schedules: code → months per instalment.
SCHEDULES: dict[str, int] = {"annual": 12, "half_yearly": 6, "quarterly": 3, "monthly": 1}
#: Payment schedules: code → the register's word (缴款方式).
SCHEDULE_LABELS: dict[str, str] = {
    "annual": "年付",
    "half_yearly": "半年付",
    "quarterly": "季付",
    "monthly": "月付",
}
_SCHEDULE_WORDS: dict[str, str] = {
    **{code: code for code in SCHEDULES},
    **{label: code for code, label in SCHEDULE_LABELS.items()},
    "按年": "annual",
    "按年付": "annual",
    "按年缴纳": "annual",
    "每年": "annual",
    "一年一付": "annual",
    "年缴": "annual",
    "yearly": "annual",
    "按半年": "half_yearly",
    "半年一付": "half_yearly",
    "半年缴": "half_yearly",
    "每半年": "half_yearly",
    "half-yearly": "half_yearly",
    "semiannual": "half_yearly",
    "semi-annual": "half_yearly",
    "按季": "quarterly",
    "按季度": "quarterly",
    "季度付": "quarterly",
    "季缴": "quarterly",
    "每季": "quarterly",
    "每季度": "quarterly",
    "按月": "monthly",
    "月缴": "monthly",
    "每月": "monthly",
}
#: How arrears are counted: ``schedule`` (what fell due under the contract's
#: payment schedule, the default) or ``accrual`` (rent earned day by day).
RENT_BASES = ("schedule", "accrual")


def parse_schedule(value) -> str | None:
    """The schedule code of a register's word, ``None`` when it is not one.

    Examples
    --------
    >>> parse_schedule("季付"), parse_schedule("按年"), parse_schedule("monthly")
    ('quarterly', 'annual', 'monthly')
    >>> parse_schedule("随便") is None
    True
    """
    text = str(value).strip().replace(" ", "")
    return _SCHEDULE_WORDS.get(text, _SCHEDULE_WORDS.get(text.casefold()))
