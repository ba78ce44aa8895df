"""Rent and fee arrears, rent owed for over-use, rent paid on idle land (no I/O).

Contract periods follow the Civil Code (民法典) art. 201–202: a lease that
starts on a day runs its first year, half-year, quarter or month through the
day before the corresponding day of the ending month; where that month has no
corresponding day (29 February in a common year, the 31st of a short month)
the period ends on the last day of the month.  So a lease from 2024-02-29 has
a first contract year from 2024-02-29 to 2025-02-28 (366 days), and the next
one starts on 2025-03-01.

Rent falls due by the contract's payment schedule (:data:`SCHEDULES`: 年付,
半年付, 季付, 月付): each period's rent (the annual rent × months / 12, a
part-period at the lease's end in proportion to its days) is due ``due_day``
days after the period starts (0: in advance, on its first day).  Arrears are
what fell due by the as-of date minus what was paid; payments settle the
oldest instalments first, and each instalment still open is overdue from its
own due date.  The *accrual* view (:func:`accrued`: rent earned day by day,
each contract year worth one year's rent) is kept as an option.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from landgis.crs import M2_PER_MU
from landgis.schema import RENT_BASES, SCHEDULE_LABELS, SCHEDULES, parse_schedule

__all__ = [
    "INSTALMENT_COLUMNS",
    "RENT_BASES",
    "SCHEDULES",
    "SCHEDULE_LABELS",
    "accrued",
    "add_months",
    "fee_arrears",
    "instalments",
    "lease_rents",
    "overuse_rent",
    "parse_schedule",
    "rent_arrears",
    "rent_instalments",
]



def add_months(start: dt.date, months: int) -> dt.date:
    """The first day after a period of ``months`` months that starts on ``start``.

    Civil Code art. 202: the period ends the day before the corresponding day
    of the ending month, or on that month's last day when it has no
    corresponding day — so the next period starts on the 1st of the month after.

    Examples
    --------
    >>> import datetime as dt
    >>> add_months(dt.date(2024, 1, 1), 12)
    datetime.date(2025, 1, 1)
    >>> add_months(dt.date(2024, 2, 29), 12)  # the first year ends 2025-02-28
    datetime.date(2025, 3, 1)
    >>> add_months(dt.date(2024, 2, 29), 48)  # 2028 has a 29 February
    datetime.date(2028, 2, 29)
    >>> add_months(dt.date(2024, 8, 31), 3)  # 30 November is the quarter's last day
    datetime.date(2024, 12, 1)
    """
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    try:
        return dt.date(year, month, start.day)
    except ValueError:  # no corresponding day: the month's last day ends the period
        return dt.date(year + month // 12, month % 12 + 1, 1)


def _anniversary(start: dt.date, years: int) -> dt.date:
    """The first day of contract year ``years + 1`` (art. 202, see :func:`add_months`)."""
    return add_months(start, 12 * years)


def accrued(annual: float, start: dt.date, end: dt.date | None, as_of: dt.date) -> float:
    """Rent accrued from ``start`` to ``as_of`` (both included), not past ``end``.

    Each contract year is worth one year's rent, spread over its own days (366
    when it holds a 29 February, or when it starts on one: Civil Code art. 202).

    Examples
    --------
    >>> import datetime as dt
    >>> accrued(36_600, dt.date(2024, 1, 1), None, dt.date(2024, 12, 31))  # a leap year
    36600.0
    >>> accrued(36_500, dt.date(2022, 7, 1), dt.date(2032, 6, 30), dt.date(2022, 7, 31))
    3100.0
    >>> round(accrued(36_500, dt.date(2023, 7, 1), None, dt.date(2023, 7, 31)), 2)  # 366-day year
    3091.53
    >>> accrued(36_600, dt.date(2024, 2, 29), None, dt.date(2024, 6, 30))  # 123 of 366 days
    12300.0
    """
    stop = as_of if end is None else min(as_of, end)
    if stop < start or not annual:
        return 0.0
    total, k = 0.0, 0
    year_start = start
    while year_start <= stop:
        year_end = _anniversary(start, k + 1)  # exclusive
        days = (year_end - year_start).days
        covered = (min(stop + dt.timedelta(days=1), year_end) - year_start).days
        total += annual * covered / days
        k += 1
        year_start = year_end
    return total


def instalments(
    annual: float,
    start: dt.date,
    end: dt.date | None,
    *,
    as_of: dt.date,
    schedule: str = "annual",
    due_day: int = 0,
) -> list[tuple[dt.date, dt.date, dt.date, float]]:
    """The instalments of one lease that fall due by ``as_of``.

    Parameters
    ----------
    annual
        The annual rent (元).
    start, end
        The lease's first and last day (``end`` ``None``: open-ended).
    as_of
        Instalments due after this day are left out.
    schedule
        ``annual`` (年付), ``half_yearly`` (半年付), ``quarterly`` (季付) or
        ``monthly`` (月付).
    due_day
        Days after the start of each period by which its rent is due (0: in
        advance, on the first day; negative: before the period starts).

    Returns
    -------
    list
        ``(period_start, period_end, due_date, amount)`` per instalment, the
        period's last day included; a period cut short by ``end`` owes its
        share of days.

    Examples
    --------
    >>> import datetime as dt
    >>> [(str(d), a) for _, _, d, a in instalments(
    ...     12_000, dt.date(2024, 1, 1), None, as_of=dt.date(2024, 6, 30),
    ...     schedule="quarterly", due_day=10)]
    [('2024-01-11', 3000.0), ('2024-04-11', 3000.0)]
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule={schedule!r}; use one of {list(SCHEDULES)}.")
    months = SCHEDULES[schedule]
    share = annual * months / 12.0
    out = []
    i = 0
    while True:
        first = add_months(start, i * months)
        if end is not None and first > end:
            break
        due = first + dt.timedelta(days=int(due_day))
        if due > as_of:
            break
        after = add_months(start, (i + 1) * months)  # exclusive
        amount = share
        if end is not None and end < after - dt.timedelta(days=1):
            amount = share * ((end - first).days + 1) / (after - first).days
        out.append((first, after - dt.timedelta(days=1), due, float(amount)))
        i += 1
    return out


def lease_rents(leases: pd.DataFrame, parcel_area_mu: pd.Series) -> pd.DataFrame:
    """Each lease's area (亩), rent per 亩 per year and annual rent (元).

    The contracted area counts, else the parcel's measured area; the annual
    rent is given or the rate times the area, and the rate is given or the
    annual rent over the area.
    """

    def column(name):
        return leases.get(name, pd.Series(np.nan, index=leases.index)).astype(float)

    area = column("contracted_area_mu").fillna(leases["parcel_id"].map(parcel_area_mu))
    annual = column("annual_rent").fillna(column("rent_per_mu_year") * area)
    rate = column("rent_per_mu_year").fillna(annual / area.where(area > 0))
    return pd.DataFrame({"area_mu": area, "per_mu": rate, "annual": annual})


#: Columns of :func:`rent_instalments`.
INSTALMENT_COLUMNS = [
    "lease_id",
    "parcel_id",
    "party",
    "schedule",
    "period_start",
    "period_end",
    "due_date",
    "amount",
    "paid",
    "outstanding",
    "settled",
    "days_overdue",
    "days_late",
]
_ARREARS_COLUMNS = [
    "lease_id",
    "parcel_id",
    "party",
    "annual_rent",
    "due",
    "paid",
    "owed",
    "months_overdue",
    "days_overdue",
    "overdue_since",
    "schedule",
]


def _leases_out(leases: pd.DataFrame, parcel_area_mu: pd.Series) -> pd.DataFrame:
    out = leases.loc[leases["direction"] == "leased_out"].copy()
    out["annual_rent"] = lease_rents(out, parcel_area_mu)["annual"]
    for column in ("lease_id", "party"):
        if column not in out:
            out[column] = ""
    return out


def _schedules(out: pd.DataFrame, schedule: str, due_day: int) -> tuple[list[str], list[int]]:
    """Each lease's schedule and due day: its own, else the campaign's."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule={schedule!r}; use one of {list(SCHEDULES)}.")
    own = out.get("payment_schedule", pd.Series("", index=out.index)).fillna("").astype(str)
    days = pd.to_numeric(out.get("due_day", pd.Series(np.nan, index=out.index)), errors="coerce")
    codes = [s if s in SCHEDULES else schedule for s in own]
    offsets = [int(due_day) if d != d else int(d) for d in days]
    return codes, offsets


def _credits(out: pd.DataFrame, payments: pd.DataFrame | None, as_of: dt.date) -> list[list]:
    """Per lease: the payments up to ``as_of`` as ``[date or None, amount]``, oldest first.

    The register's paid column (no date) comes first; dated payments are
    matched by ``lease_id`` when both tables carry it, else by ``parcel_id``.
    """
    paid = out.get("paid", pd.Series(np.nan, index=out.index)).astype(float).fillna(0.0)
    credits: list[list] = [[[None, p]] if p else [] for p in paid]
    if payments is None or not len(payments):
        return credits
    upto = payments.loc[payments["date"].dt.date <= as_of].sort_values("date", kind="stable")
    if "lease_id" in upto and "lease_id" in out and (out["lease_id"] != "").any():
        key, keys = "lease_id", out["lease_id"]
    elif "parcel_id" in upto:
        key, keys = "parcel_id", out["parcel_id"]
    else:
        return credits
    by_key: dict = {}
    for k, day, amount in zip(upto[key], upto["date"].dt.date, upto["amount"], strict=True):
        if k != "" and amount == amount:
            by_key.setdefault(k, []).append([day, float(amount)])
    for i, k in enumerate(keys):
        credits[i] = credits[i] + [list(c) for c in by_key.get(k, [])]
    return credits


def _settle(rows: list[tuple], credits: list[list], as_of: dt.date) -> list[dict]:
    """Allocate the credits to the instalments, oldest first."""
    credits = [list(c) for c in credits]
    settled = []
    for first, last, due, amount in rows:
        left = amount
        day = None
        while left > 1e-9 and credits:
            take = min(left, credits[0][1])
            left -= take
            credits[0][1] -= take
            day = credits[0][0] if day is None or credits[0][0] is None else max(day, credits[0][0])
            if credits[0][1] <= 1e-9:
                credits.pop(0)
        open_ = left > 1e-6
        settled.append(
            {
                "period_start": first,
                "period_end": last,
                "due_date": due,
                "amount": amount,
                "paid": amount - max(left, 0.0),
                "outstanding": max(left, 0.0),
                "settled": None if open_ else day,
                "days_overdue": (as_of - due).days if open_ else 0,
                "days_late": (max(0, (day - due).days) if not open_ and day is not None else 0),
            }
        )
    return settled


def rent_instalments(
    leases: pd.DataFrame,
    payments: pd.DataFrame | None,
    parcel_area_mu: pd.Series,
    *,
    as_of: dt.date,
    schedule: str = "annual",
    due_day: int = 0,
) -> pd.DataFrame:
    """Every instalment due by ``as_of`` of the leases the zone lets out, and what settled it.

    Parameters
    ----------
    leases, payments, parcel_area_mu, as_of
        As for :func:`rent_arrears`.
    schedule, due_day
        The default schedule and due day, for leases whose register row gives
        none (columns ``payment_schedule`` and ``due_day``).

    Returns
    -------
    pandas.DataFrame
        :data:`INSTALMENT_COLUMNS`: per instalment its period, due date and
        amount, how much of it is paid and still ``outstanding``, the date of
        the payment that ``settled`` it (empty for the register's undated paid
        column), ``days_overdue`` (``as_of`` − due date, while outstanding) and
        ``days_late`` (settled − due date, for a late payment).  Payments settle
        the oldest instalments first.
    """
    out = _leases_out(leases, parcel_area_mu)
    if not len(out):
        return pd.DataFrame(columns=INSTALMENT_COLUMNS)
    codes, offsets = _schedules(out, schedule, due_day)
    credits = _credits(out, payments, as_of)
    rows = []
    for k, (_, lease) in enumerate(out.iterrows()):
        annual = lease["annual_rent"]
        if annual != annual:
            continue
        end = None if pd.isna(lease["end_date"]) else lease["end_date"].date()
        plan = instalments(
            annual,
            lease["start_date"].date(),
            end,
            as_of=as_of,
            schedule=codes[k],
            due_day=offsets[k],
        )
        for row in _settle(plan, credits[k], as_of):
            rows.append(
                {
                    "lease_id": lease["lease_id"],
                    "parcel_id": lease["parcel_id"],
                    "party": lease["party"],
                    "schedule": codes[k],
                    **row,
                }
            )
    return pd.DataFrame(rows, columns=INSTALMENT_COLUMNS)


def rent_arrears(
    leases: pd.DataFrame,
    payments: pd.DataFrame | None,
    parcel_area_mu: pd.Series,
    *,
    as_of: dt.date,
    tolerance: float = 1.0,
    schedule: str = "annual",
    due_day: int = 0,
    basis: str = "schedule",
) -> pd.DataFrame:
    """Rent due to ``as_of`` minus paid, per lease the zone lets out (租出).

    Parameters
    ----------
    leases
        The lease register (``read_register(…, "leases")``), with ``direction``
        already resolved (``leased_out`` for the zone's tenants); optional
        ``payment_schedule`` (a code of :data:`SCHEDULES`) and ``due_day``.
    payments
        Optional payments (``date``, ``amount`` and ``lease_id`` or
        ``parcel_id``); payments up to ``as_of`` are added to ``paid``.
    parcel_area_mu
        Measured area of every parcel, 亩, by ``parcel_id``.
    as_of
        The date rent is due to.
    tolerance
        Amounts owed up to this many 元 are not arrears.
    schedule, due_day
        The payment schedule and due day of leases whose row gives none (see
        :func:`instalments`); default 年付 in advance.
    basis
        ``"schedule"`` (default): what fell due under the payment schedule;
        ``"accrual"``: rent earned day by day to ``as_of`` (:func:`accrued`).

    Returns
    -------
    pandas.DataFrame
        One row per lease in arrears: ``lease_id, parcel_id, party, annual_rent,
        due, paid, owed, months_overdue`` (months of rent the amount owed
        equals), ``days_overdue`` and ``overdue_since`` (the due date of the
        oldest instalment still open; empty in the accrual view) and
        ``schedule``.

    Examples
    --------
    >>> import pandas as pd, datetime as dt
    >>> lease = pd.DataFrame({"parcel_id": ["P1"], "direction": ["leased_out"],
    ...     "annual_rent": [12_000.0], "start_date": pd.to_datetime(["2024-01-01"]),
    ...     "end_date": pd.to_datetime(["2033-12-31"]), "paid": [0.0]})
    >>> row = rent_arrears(lease, None, pd.Series(dtype=float), as_of=dt.date(2024, 6, 30))
    >>> row[["owed", "days_overdue"]].iloc[0].tolist()  # 年付, due 2024-01-01
    [12000.0, 181.0]
    """
    if basis not in RENT_BASES:
        raise ValueError(f"basis={basis!r}; use one of {list(RENT_BASES)}.")
    out = _leases_out(leases, parcel_area_mu)
    if not len(out):
        return pd.DataFrame(columns=_ARREARS_COLUMNS)
    codes, offsets = _schedules(out, schedule, due_day)
    credits = _credits(out, payments, as_of)
    due, paid, days = [], [], []
    since: list[dt.date | None] = []
    for k, (_, lease) in enumerate(out.iterrows()):
        annual = lease["annual_rent"]
        start = lease["start_date"].date()
        end = None if pd.isna(lease["end_date"]) else lease["end_date"].date()
        paid.append(sum(c[1] for c in credits[k]))
        if annual != annual:
            due.append(np.nan)
            days.append(np.nan)
            since.append(None)
            continue
        if basis == "accrual":
            due.append(accrued(annual, start, end, as_of))
            days.append(np.nan)
            since.append(None)
            continue
        plan = instalments(annual, start, end, as_of=as_of, schedule=codes[k], due_day=offsets[k])
        due.append(float(sum(p[3] for p in plan)))
        open_ = [r for r in _settle(plan, credits[k], as_of) if r["outstanding"] > 1e-6]
        days.append(open_[0]["days_overdue"] if open_ else 0)
        since.append(open_[0]["due_date"] if open_ else None)
    out["due"] = due
    out["paid"] = paid
    out["owed"] = out["due"] - out["paid"]
    out["months_overdue"] = out["owed"] / (out["annual_rent"] / 12.0)
    out["days_overdue"] = days
    out["overdue_since"] = pd.to_datetime(pd.Series(since, index=out.index, dtype=object))
    out["schedule"] = codes
    out = out.loc[out["owed"] > tolerance]
    return out[_ARREARS_COLUMNS]


def fee_arrears(fees: pd.DataFrame, *, as_of: dt.date, tolerance: float = 1.0) -> pd.DataFrame:
    """Requisition (proxy-requisition) fees due by ``as_of`` and not paid.

    Returns ``parcel_id, party, due, paid, owed, days_overdue, overdue_since``
    for the rows owing more than ``tolerance`` 元; fees whose ``due_date`` lies
    after ``as_of`` are not yet due, and a fee without a due date is due
    (days overdue unknown).
    """
    out = fees.copy()
    if "due_date" in out:
        out = out.loc[out["due_date"].isna() | (out["due_date"].dt.date <= as_of)]
        out["overdue_since"] = out["due_date"]
    else:
        out["overdue_since"] = pd.NaT
    out["due"] = out["fee_due"].astype(float)
    out["paid"] = out.get("fee_paid", pd.Series(np.nan, index=out.index)).astype(float).fillna(0.0)
    out["owed"] = out["due"] - out["paid"]
    since = pd.to_datetime(out["overdue_since"])
    out["days_overdue"] = (pd.Timestamp(as_of) - since).dt.days.astype(float)
    for column in ("parcel_id", "party"):
        if column not in out:
            out[column] = ""
    return out.loc[
        out["owed"] > tolerance,
        ["parcel_id", "party", "due", "paid", "owed", "days_overdue", "overdue_since"],
    ]


def overuse_rent(
    area_m2: np.ndarray, annual_per_mu: np.ndarray, *, since: dt.date, as_of: dt.date
) -> np.ndarray:
    """Rent owed for extra land used since ``since``, at the contract rate (元/亩/年).

    Unlawful use has no payment schedule: the rent accrues day by day.
    """
    one = accrued(1.0, since, None, as_of)  # years of use, by contract-year days
    return np.asarray(area_m2, dtype=float) / M2_PER_MU * np.asarray(annual_per_mu) * one
