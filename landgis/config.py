"""Campaign configuration: deadlines, tolerances and routing.

The defaults are the campaign's own (DOMAIN.md): verification of all land by
2024-06-30, arrears recovered and legal action started by 2024-09-30,
out-of-bounds use rectified by 2024-12-31, a plan for every enterprise by year
end.  A TOML file overrides any of it; ``docs/campaign.toml`` is the
documented template and equals the defaults.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from landgis.errors import ConfigError
from landgis.landclass import LandSurveySettings
from landgis.rules import CATEGORIES

__all__ = [
    "DEADLINE_BASES",
    "DEFAULT_DEADLINE_DAYS",
    "Campaign",
    "EvaluationScheme",
    "Indicator",
    "Tolerances",
    "load_campaign",
]

#: Campaign stages and their default deadlines.
DEFAULT_DEADLINES: dict[str, dt.date] = {
    "verify": dt.date(2024, 6, 30),  # 全面核实确认
    "arrears": dt.date(2024, 9, 30),  # 追缴欠费、启动司法程序
    "rectify": dt.date(2024, 12, 31),  # 限期整改红线外违规用地
    "plan": dt.date(2024, 12, 31),  # 一企一策、一事一议
    "monitor": dt.date(2025, 12, 31),  # 巩固提升、长效管护: changes between surveys
}

#: Days a case first found after its stage's campaign deadline gets, counted from the
#: round (survey) in which it was found.  landgis' defaults, not the campaign's: a month
#: to verify, a quarter to recover arrears, rectify or change use, half a year for a plan.
DEFAULT_DEADLINE_DAYS: dict[str, int] = {
    "verify": 30,
    "arrears": 90,
    "rectify": 90,
    "plan": 180,
    "monitor": 90,
}

#: How a finding's deadline was set (``deadline_basis``): code → Chinese wording.
DEADLINE_BASES: dict[str, str] = {
    "campaign": "工作方案时限",
    "round": "自发现之日起算",
    "hand": "人工设定",
}


@dataclass(frozen=True)
class Indicator:
    """One indicator of the per-mu evaluation (亩均效益评价).

    ``code`` is one of :data:`INDICATORS`; the indicator scores
    ``min(value / benchmark, cap) × weight``.
    """

    code: str
    weight: float
    benchmark: float


#: Indicators landgis computes from the enterprise table (money in 万元, land in 亩).
INDICATORS: dict[str, str] = {
    "tax_per_mu": "亩均税收（万元/亩）",
    "revenue_per_mu": "亩均营业收入（万元/亩）",
    "value_added_per_mu": "亩均工业增加值（万元/亩）",
    "value_added_per_energy": "单位能耗工业增加值（万元/吨标煤）",
    "productivity": "全员劳动生产率（万元/人）",
    "rd_intensity": "研发经费投入强度（%）",
}


@dataclass(frozen=True)
class EvaluationScheme:
    """Weights, benchmarks and class cut-offs of the per-mu evaluation.

    The default follows the scheme Linhai (临海市, Zhejiang) published for
    2014–2016: for enterprises on 3 亩 or more, 亩均税收 weight 40 (benchmark
    15 万元/亩), 亩均销售收入 10 (300 万元/亩), 单位能耗工业增加值 20 (3 万元/吨标煤),
    全员劳动生产率 10 (15 万元/人); for smaller ones 亩均税收 50 and 亩均销售收入
    20.  Its COD, water and electricity indicators have no column in the
    enterprise table, so their weights are left out and the rest are scaled
    to 100.  The cap (1.5 × weight) and the class cut-offs (A ≥ 100, B ≥ 70,
    C ≥ 50, D below) are landgis' defaults, not the published scheme's; set
    the locality's own in the campaign file.
    """

    indicators: tuple[Indicator, ...] = (
        Indicator("tax_per_mu", 40, 15),
        Indicator("revenue_per_mu", 10, 300),
        Indicator("value_added_per_energy", 20, 3),
        Indicator("productivity", 10, 15),
    )
    small_indicators: tuple[Indicator, ...] = (
        Indicator("tax_per_mu", 50, 15),
        Indicator("revenue_per_mu", 20, 300),
    )
    small_mu: float = 3.0
    cap: float = 1.5
    classes: Mapping[str, float] = field(default_factory=lambda: {"A": 100.0, "B": 70.0, "C": 50.0})
    protection_years: float = 3.0

    def __post_init__(self) -> None:
        for ind in (*self.indicators, *self.small_indicators):
            if ind.code not in INDICATORS:
                raise ConfigError(
                    f"evaluation indicator {ind.code!r} unknown; use one of {list(INDICATORS)}."
                )
            if not (ind.weight > 0 and ind.benchmark > 0):
                raise ConfigError(
                    f"evaluation indicator {ind.code}: weight and benchmark must be positive."
                )
        if set(self.classes) != {"A", "B", "C"} or not (
            self.classes["A"] > self.classes["B"] > self.classes["C"]
        ):
            raise ConfigError("evaluation classes need A > B > C score cut-offs (D is below C).")


@dataclass(frozen=True, kw_only=True)
class Tolerances:
    """Every tolerance of the set algebra, with its default — the one place they are set.

    Attributes
    ----------
    min_area
        Smallest finding piece kept, m² (pieces below it are survey slivers).
        ``0`` keeps everything.
    idle_ratio
        Share of a parcel in use below which it counts as idle.
    grid_size
        Snap-rounding grid of the set algebra, m.  Makes results immune to the
        1e-12 m gaps where digitized neighbours meet; far below survey precision.
    planning_share
        A leased-in parcel counts as inside a planning zone when at least this
        share of it lies in one.
    mismatch_relative, mismatch_mu
        ``area_mismatch`` is reported when the registered and the measured area
        differ by more than *both* (1 % and 0.1 亩 by default).
    """

    min_area: float = 1.0
    idle_ratio: float = 0.1
    grid_size: float = 1e-6
    planning_share: float = 0.5
    mismatch_relative: float = 0.01
    mismatch_mu: float = 0.1

    def __post_init__(self) -> None:  # every comparison below also refuses NaN
        if not self.min_area >= 0:
            raise ConfigError(f"min_area={self.min_area} must be 0 or more (m²).")
        if not 0 <= self.idle_ratio <= 1:
            raise ConfigError(f"idle_ratio={self.idle_ratio} must lie between 0 and 1.")
        if not self.grid_size > 0:
            raise ConfigError(f"grid_size={self.grid_size} must be positive (metres).")
        if not 0 < self.planning_share <= 1:
            raise ConfigError(f"planning_share={self.planning_share} must lie in (0, 1].")
        if not (self.mismatch_relative >= 0 and self.mismatch_mu >= 0):
            raise ConfigError("area_mismatch tolerances (relative, mu) must be 0 or more.")


_TOLERANCES = Tolerances()


@dataclass(frozen=True)
class Campaign:
    """Settings of one verification campaign.

    Attributes
    ----------
    name
        Shown in reports.
    deadlines
        Stage (``verify``, ``arrears``, ``rectify``, ``plan``, ``monitor``) or category code →
        date; a category's own entry wins over its stage's.
    min_area, idle_ratio, grid_size, mismatch_relative, mismatch_mu, planning_share
        The tolerances (see :class:`Tolerances`, where their defaults are set);
        :attr:`tolerances` gives them as one object.
    agricultural_park_zones
        Names (``zone`` values of the planning layer) of the modern agricultural
        park; findings there go to ``agricultural_park_group``.
    as_of
        The date rents and fees are due to (default: the day of the run).
    round_date
        The day this round's findings were found (the survey): a finding whose
        stage's campaign deadline lies before it gets ``deadline_days`` from it
        instead.  Default: the footprints' survey date, else ``as_of``; with
        neither, every finding keeps the campaign's deadline.
    deadline_days
        Stage (or category code) → days a finding found after its campaign
        deadline has, counted from ``round_date`` (:data:`DEFAULT_DEADLINE_DAYS`).
    overuse_rent_from
        Over-use on leased land owes rent for the extra area from this date
        (default: the survey date of the footprints, when they carry one).
    arrears_tolerance
        Amounts owed up to this many 元 are not arrears (rounding).
    payment_schedule, due_day
        Payment schedule (``annual`` 年付, ``half_yearly`` 半年付, ``quarterly``
        季付, ``monthly`` 月付) and due day (days after each period starts; 0:
        in advance) of leases whose register row gives none.
    rent_basis
        ``schedule`` (default): arrears are the rent that fell due under the
        payment schedule, minus what was paid; ``accrual``: the rent earned
        day by day, minus what was paid.
    evaluation
        The per-mu evaluation scheme.
    land_survey
        How the national land survey (地类图斑 DLTB, 卫片 change patches) is read:
        which classes are actual use, which are village homesteads and
        cultivated land (:class:`~landgis.landclass.LandSurveySettings`).
    """

    name: str = "土地资源核查处置"
    deadlines: Mapping[str, dt.date] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    min_area: float = _TOLERANCES.min_area
    idle_ratio: float = _TOLERANCES.idle_ratio
    grid_size: float = _TOLERANCES.grid_size
    mismatch_relative: float = _TOLERANCES.mismatch_relative
    mismatch_mu: float = _TOLERANCES.mismatch_mu
    planning_share: float = _TOLERANCES.planning_share
    agricultural_park_zones: tuple[str, ...] = ("现代农业园",)
    agricultural_park_group: str = "现代农业园农业农村组"
    as_of: dt.date | None = None
    round_date: dt.date | None = None
    deadline_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DEADLINE_DAYS))
    overuse_rent_from: dt.date | None = None
    arrears_tolerance: float = 1.0
    payment_schedule: str = "annual"
    due_day: int = 0
    rent_basis: str = "schedule"
    evaluation: EvaluationScheme = field(default_factory=EvaluationScheme)
    land_survey: LandSurveySettings = field(default_factory=LandSurveySettings)

    @property
    def tolerances(self) -> Tolerances:
        """The tolerances of the set algebra, as one frozen object."""
        return Tolerances(**{name: getattr(self, name) for name in Tolerances.__dataclass_fields__})

    @property
    def due_date(self) -> dt.date:
        """:attr:`as_of`, or today."""
        return self.as_of or dt.date.today()

    def __post_init__(self) -> None:
        self.tolerances  # noqa: B018 - checks them
        for what, table in (("deadlines", self.deadlines), ("deadline days", self.deadline_days)):
            unknown = set(table) - set(DEFAULT_DEADLINES) - set(CATEGORIES)
            if unknown:
                raise ConfigError(
                    f"{what} for unknown stage or category {sorted(unknown)}; use a stage "
                    f"{list(DEFAULT_DEADLINES)} or a category code {list(CATEGORIES)}."
                )
        for key, days in self.deadline_days.items():
            if not (isinstance(days, int) and days >= 0):
                raise ConfigError(f"deadline days {key} = {days!r} must be a whole number ≥ 0.")
        from landgis.schema import RENT_BASES, SCHEDULE_LABELS, SCHEDULES

        if self.payment_schedule not in SCHEDULES:
            words = "、".join(f"{w}（{c}）" for c, w in SCHEDULE_LABELS.items())
            raise ConfigError(f"payment_schedule = {self.payment_schedule!r}; use one of {words}.")
        if self.rent_basis not in RENT_BASES:
            raise ConfigError(f"rent_basis = {self.rent_basis!r}; use one of {list(RENT_BASES)}.")

    def deadline(self, code: str) -> dt.date | None:
        """The campaign deadline of a category: its own entry, else its stage's."""
        if code in self.deadlines:
            return self.deadlines[code]
        return self.deadlines.get(CATEGORIES[code].stage)

    def days_for(self, code: str) -> int:
        """Days a finding of this category found after its campaign deadline has."""
        if code in self.deadline_days:
            return int(self.deadline_days[code])
        stage = CATEGORIES[code].stage
        return int(self.deadline_days.get(stage, DEFAULT_DEADLINE_DAYS.get(stage, 90)))

    def deadline_for(self, code: str, found: dt.date | None) -> tuple[dt.date | None, str]:
        """The deadline of a finding of category ``code`` found on ``found``, and its basis.

        The campaign's deadline (basis ``"campaign"``), unless the finding was
        found after it: then ``found`` + :meth:`days_for` (basis ``"round"``).

        Examples
        --------
        >>> import datetime as dt
        >>> c = Campaign()
        >>> c.deadline_for("outside_redline", dt.date(2024, 3, 15))
        (datetime.date(2024, 12, 31), 'campaign')
        >>> c.deadline_for("outside_redline", dt.date(2025, 4, 1))  # 90 days
        (datetime.date(2025, 6, 30), 'round')
        """
        campaign = self.deadline(code)
        if found is None or campaign is None or found <= campaign:
            return campaign, "campaign"
        return found + dt.timedelta(days=self.days_for(code)), "round"

    def with_options(self, **options: Any) -> Campaign:
        """A copy with the options that are not ``None`` replaced."""
        return replace(self, **{k: v for k, v in options.items() if v is not None})


_SECTIONS = {
    "campaign": {"name", "as_of", "round_date", "days"},
    "money": {
        "overuse_rent_from",
        "arrears_tolerance",
        "payment_schedule",
        "due_day",
        "rent_basis",
    },
    "evaluation": {
        "indicators",
        "small_indicators",
        "small_mu",
        "cap",
        "classes",
        "protection_years",
    },
    "deadlines": None,  # free keys, checked by Campaign
    "audit": {"min_area", "idle_ratio", "grid_size", "planning_share"},
    "area_mismatch": {"relative", "mu"},
    "routing": {"agricultural_park_zones", "agricultural_park_group"},
    "land_survey": {
        "in_use",
        "homestead",
        "village",
        "farmland",
        "unknown_user",
        "min_share",
        "user_field",
        "patch_fields",
    },
}


def load_campaign(source: Campaign | Mapping[str, Any] | str | Path | None = None) -> Campaign:
    """Read a campaign configuration (TOML file or dict); ``None`` gives the defaults.

    Parameters
    ----------
    source
        A :class:`Campaign`, a dict shaped like the TOML file, or its path.

    Returns
    -------
    Campaign

    Raises
    ------
    ConfigError
        On unknown sections or keys, bad dates or out-of-range values, naming
        the file and the key.

    Examples
    --------
    >>> load_campaign({"deadlines": {"rectify": "2025-03-31"}}).deadline("outside_redline")
    datetime.date(2025, 3, 31)
    """
    if source is None:
        return Campaign()
    if isinstance(source, Campaign):
        return source
    origin = "the campaign dict"
    if isinstance(source, str | Path):
        path = Path(source)
        origin = str(path)
        if not path.is_file():
            raise ConfigError(f"{path}: campaign file not found.")
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid UTF-8 TOML ({exc}).") from exc
    else:
        data = dict(source)

    for section, value in data.items():
        if section not in _SECTIONS:
            raise ConfigError(f"{origin}: unknown section [{section}]; known: {sorted(_SECTIONS)}.")
        allowed = _SECTIONS[section]
        if not isinstance(value, Mapping):
            raise ConfigError(f"{origin}: [{section}] must be a table of keys.")
        if allowed is not None and set(value) - allowed:
            raise ConfigError(
                f"{origin}: unknown key(s) {sorted(set(value) - allowed)} in [{section}]; "
                f"known: {sorted(allowed)}."
            )

    kwargs: dict[str, Any] = {}
    if "name" in data.get("campaign", {}):
        kwargs["name"] = str(data["campaign"]["name"])
    if "as_of" in data.get("campaign", {}):
        kwargs["as_of"] = _as_date(data["campaign"]["as_of"], origin=origin, key="campaign.as_of")
    if "round_date" in data.get("campaign", {}):
        kwargs["round_date"] = _as_date(
            data["campaign"]["round_date"], origin=origin, key="campaign.round_date"
        )
    if "days" in data.get("campaign", {}):
        days = data["campaign"]["days"]
        if not isinstance(days, Mapping):
            raise ConfigError(
                f"{origin}: campaign.days must be a table, e.g. [campaign.days] rectify = 90."
            )
        table = dict(DEFAULT_DEADLINE_DAYS)
        for key, value in days.items():
            number = _as_float(value, origin=origin, key=f"campaign.days.{key}")
            if number != int(number):
                raise ConfigError(f"{origin}: campaign.days.{key} = {value!r}: whole days.")
            table[str(key)] = int(number)
        kwargs["deadline_days"] = table
    money = data.get("money", {})
    if "payment_schedule" in money:
        from landgis.schema import SCHEDULE_LABELS, parse_schedule

        code = parse_schedule(money["payment_schedule"])
        if code is None:
            words = "、".join(SCHEDULE_LABELS.values())
            raise ConfigError(
                f"{origin}: money.payment_schedule = {money['payment_schedule']!r}; "
                f"use one of {words}."
            )
        kwargs["payment_schedule"] = code
    if "due_day" in money:
        number = _as_float(money["due_day"], origin=origin, key="money.due_day")
        if number != int(number):
            raise ConfigError(f"{origin}: money.due_day = {money['due_day']!r}: whole days.")
        kwargs["due_day"] = int(number)
    if "rent_basis" in money:
        kwargs["rent_basis"] = str(money["rent_basis"]).strip()
    if "overuse_rent_from" in money:
        kwargs["overuse_rent_from"] = _as_date(
            money["overuse_rent_from"], origin=origin, key="money.overuse_rent_from"
        )
    if "arrears_tolerance" in money:
        kwargs["arrears_tolerance"] = _as_float(
            money["arrears_tolerance"], origin=origin, key="money.arrears_tolerance"
        )
    if "evaluation" in data:
        kwargs["evaluation"] = _scheme(data["evaluation"], origin)
    if "deadlines" in data:
        deadlines = dict(DEFAULT_DEADLINES)
        for key, value in data["deadlines"].items():
            deadlines[key] = _as_date(value, origin=origin, key=f"deadlines.{key}")
        kwargs["deadlines"] = deadlines
    for key, value in data.get("audit", {}).items():
        kwargs[key] = _as_float(value, origin=origin, key=f"audit.{key}")
    mismatch = data.get("area_mismatch", {})
    if "relative" in mismatch:
        kwargs["mismatch_relative"] = _as_float(
            mismatch["relative"], origin=origin, key="area_mismatch.relative"
        )
    if "mu" in mismatch:
        kwargs["mismatch_mu"] = _as_float(mismatch["mu"], origin=origin, key="area_mismatch.mu")
    routing = data.get("routing", {})
    if "agricultural_park_zones" in routing:
        zones = routing["agricultural_park_zones"]
        if isinstance(zones, str):
            zones = [zones]
        kwargs["agricultural_park_zones"] = tuple(str(z) for z in zones)
    if "agricultural_park_group" in routing:
        kwargs["agricultural_park_group"] = str(routing["agricultural_park_group"])
    if "land_survey" in data:
        kwargs["land_survey"] = _land_survey(data["land_survey"], origin)
    try:
        return Campaign(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def _scheme(table: Mapping[str, Any], origin: str) -> EvaluationScheme:
    default = EvaluationScheme()
    kwargs: dict[str, Any] = {}
    for key in ("indicators", "small_indicators"):
        if key in table:
            rows = table[key]
            try:
                kwargs[key] = tuple(
                    Indicator(str(r["code"]), float(r["weight"]), float(r["benchmark"]))
                    for r in rows
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(
                    f"{origin}: [[evaluation.{key}]] needs code, weight and "
                    f"benchmark in every entry ({exc})."
                ) from None
    for key in ("small_mu", "cap", "protection_years"):
        if key in table:
            kwargs[key] = _as_float(table[key], origin=origin, key=f"evaluation.{key}")
    if "classes" in table:
        kwargs["classes"] = {
            str(k): _as_float(v, origin=origin, key=f"evaluation.classes.{k}")
            for k, v in dict(table["classes"]).items()
        }
    try:
        return replace(default, **kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def _land_survey(table: Mapping[str, Any], origin: str) -> LandSurveySettings:
    kwargs: dict[str, Any] = {}
    for key in ("in_use", "homestead", "village", "farmland"):
        if key in table:
            kwargs[key] = table[key]
    for key in ("unknown_user", "user_field"):
        if key in table:
            kwargs[key] = str(table[key]).strip()
    if "min_share" in table:
        kwargs["min_share"] = _as_float(
            table["min_share"], origin=origin, key="land_survey.min_share"
        )
    if "patch_fields" in table:
        fields = table["patch_fields"]
        if not isinstance(fields, Mapping):
            raise ConfigError(
                f"{origin}: land_survey.patch_fields must be a table, e.g. "
                '[land_survey.patch_fields] before_class = "QDLBM".'
            )
        kwargs["patch_fields"] = {str(k): str(v) for k, v in fields.items()}
    try:
        return LandSurveySettings(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def parse_date(value: Any) -> dt.date:
    """A date from a date, a datetime or ISO text (``2024-06-30``); ``ValueError`` otherwise.

    >>> parse_date("2024-06-30"), parse_date(dt.datetime(2024, 6, 30, 12))
    (datetime.date(2024, 6, 30), datetime.date(2024, 6, 30))
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def _as_date(value: Any, *, origin: str, key: str) -> dt.date:
    try:
        return parse_date(value)
    except ValueError:
        raise ConfigError(f"{origin}: {key} = {value!r} is not a date; write 2024-12-31.") from None


def _as_float(value: Any, *, origin: str, key: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{origin}: {key} = {value!r} is not a number.") from None
