"""One vocabulary: column names, tenure codes and the default alias tables.

Real files never use landgis' column names.  The alias tables below map the
field names Chinese land offices use (宗地代码/ZDDM, 权利人/QLR, 使用人 …) and
the Chinese tenure words (征用, 代征, 租出, 租入 …) onto them.  Users extend or
override them with a dict or a TOML/YAML file (see :func:`load_aliases`);
``docs/reference.md`` lists them for people.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from landgis.errors import ConfigError

__all__ = [
    "AUTHORIZED_TENURES",
    "LAYERS",
    "TENURES",
    "TENURE_LABELS",
    "Aliases",
    "LayerSpec",
    "load_aliases",
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
    known_columns = {c for spec in LAYERS.values() for c in (*spec.required, *spec.optional)}
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
