"""Rent and fee arrears, rent owed for over-use, rent paid on idle land (no I/O).

Rent accrues by contract year: each year from the start date to its
anniversary is worth one year's rent, and a part-year the share of its own
days (366 when it holds a 29 February).  So a lease of 36,000 元 a year owes
exactly 36,000 元 for every full contract year, whatever the calendar.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from landgis.crs import M2_PER_MU

__all__ = ["accrued", "fee_arrears", "lease_rents", "overuse_rent", "rent_arrears"]


def _anniversary(start: dt.date, years: int) -> dt.date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February in a common year
        return start.replace(year=start.year + years, day=28)


def accrued(annual: float, start: dt.date, end: dt.date | None, as_of: dt.date) -> float:
    """Rent accrued from ``start`` to ``as_of`` (both included), not past ``end``.

    Examples
    --------
    >>> import datetime as dt
    >>> accrued(36_600, dt.date(2024, 1, 1), None, dt.date(2024, 12, 31))  # a leap year
    36600.0
    >>> accrued(36_500, dt.date(2022, 7, 1), dt.date(2032, 6, 30), dt.date(2022, 7, 31))
    3100.0
    >>> round(accrued(36_500, dt.date(2023, 7, 1), None, dt.date(2023, 7, 31)), 2)  # 366-day year
    3091.53
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


def rent_arrears(
    leases: pd.DataFrame,
    payments: pd.DataFrame | None,
    parcel_area_mu: pd.Series,
    *,
    as_of: dt.date,
    tolerance: float = 1.0,
) -> pd.DataFrame:
    """Rent due to ``as_of`` minus paid, per lease the zone lets out (租出).

    Parameters
    ----------
    leases
        The lease register (``read_register(…, "leases")``), with ``direction``
        already resolved (``leased_out`` for the zone's tenants).
    payments
        Optional payments (``date``, ``amount`` and ``lease_id`` or
        ``parcel_id``); payments up to ``as_of`` are added to ``paid``.
    parcel_area_mu
        Measured area of every parcel, 亩, by ``parcel_id``.
    as_of
        The date rent is due to.
    tolerance
        Amounts owed up to this many 元 are not arrears.

    Returns
    -------
    pandas.DataFrame
        One row per lease in arrears: ``lease_id, parcel_id, party, annual_rent,
        due, paid, owed, months_overdue`` (months of rent the amount owed
        equals).
    """
    out = leases.loc[leases["direction"] == "leased_out"].copy()
    if not len(out):
        return pd.DataFrame(
            columns=[
                "lease_id",
                "parcel_id",
                "party",
                "annual_rent",
                "due",
                "paid",
                "owed",
                "months_overdue",
            ]
        )
    out["annual_rent"] = lease_rents(out, parcel_area_mu)["annual"]
    out["due"] = [
        accrued(a, s.date(), None if pd.isna(e) else e.date(), as_of) if a == a else np.nan
        for a, s, e in zip(out["annual_rent"], out["start_date"], out["end_date"], strict=True)
    ]
    paid = out.get("paid", pd.Series(np.nan, index=out.index)).astype(float).fillna(0.0)
    if payments is not None and len(payments):
        upto = payments.loc[payments["date"].dt.date <= as_of]
        by_lease = upto.groupby("lease_id")["amount"].sum() if "lease_id" in upto else None
        by_parcel = upto.groupby("parcel_id")["amount"].sum() if "parcel_id" in upto else None
        if by_lease is not None and "lease_id" in out:
            paid = paid + out["lease_id"].map(by_lease).fillna(0.0)
        elif by_parcel is not None:
            paid = paid + out["parcel_id"].map(by_parcel).fillna(0.0)
    out["paid"] = paid
    out["owed"] = out["due"] - out["paid"]
    out["months_overdue"] = out["owed"] / (out["annual_rent"] / 12.0)
    out = out.loc[out["owed"] > tolerance]
    for column in ("lease_id", "party"):
        if column not in out:
            out[column] = ""
    return out[
        ["lease_id", "parcel_id", "party", "annual_rent", "due", "paid", "owed", "months_overdue"]
    ]


def fee_arrears(fees: pd.DataFrame, *, as_of: dt.date, tolerance: float = 1.0) -> pd.DataFrame:
    """Requisition (proxy-requisition) fees due by ``as_of`` and not paid.

    Returns ``parcel_id, party, due, paid, owed`` for the rows owing more than
    ``tolerance`` 元; fees whose ``due_date`` lies after ``as_of`` are not yet due.
    """
    out = fees.copy()
    if "due_date" in out:
        out = out.loc[out["due_date"].isna() | (out["due_date"].dt.date <= as_of)]
    out["due"] = out["fee_due"].astype(float)
    out["paid"] = out.get("fee_paid", pd.Series(np.nan, index=out.index)).astype(float).fillna(0.0)
    out["owed"] = out["due"] - out["paid"]
    for column in ("parcel_id", "party"):
        if column not in out:
            out[column] = ""
    return out.loc[out["owed"] > tolerance, ["parcel_id", "party", "due", "paid", "owed"]]


def overuse_rent(
    area_m2: np.ndarray, annual_per_mu: np.ndarray, *, since: dt.date, as_of: dt.date
) -> np.ndarray:
    """Rent owed for extra land used since ``since``, at the contract rate (元/亩/年)."""
    one = accrued(1.0, since, None, as_of)  # years of use, by contract-year days
    return np.asarray(area_m2, dtype=float) / M2_PER_MU * np.asarray(annual_per_mu) * one
