"""Rent by the contract: Civil Code art. 202 contract periods and payment schedules.

Every expected figure is worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from landgis.config import load_campaign
from landgis.engine.money import (
    accrued,
    add_months,
    instalments,
    rent_arrears,
    rent_instalments,
)
from landgis.errors import ConfigError
from landgis.io.registers import read_register

D = dt.date
NO_AREA = pd.Series(dtype=float)


def lease(start, end, annual, *, paid=0.0, schedule="", due_day=None, lease_id="L1"):
    return pd.DataFrame(
        {
            "lease_id": [lease_id],
            "parcel_id": ["P1"],
            "party": ["甲"],
            "direction": ["leased_out"],
            "annual_rent": [float(annual)],
            "start_date": pd.to_datetime([start]),
            "end_date": pd.to_datetime([end]),
            "paid": [float(paid)],
            "payment_schedule": [schedule],
            "due_day": [float("nan") if due_day is None else float(due_day)],
        }
    )


def payments(*rows, lease_id="L1"):
    return pd.DataFrame(
        {
            "lease_id": [lease_id] * len(rows),
            "date": pd.to_datetime([r[0] for r in rows]),
            "amount": [float(r[1]) for r in rows],
        }
    )


def test_leap_day_lease_by_civil_code_article_202():
    # A lease from 2024-02-29 at 36,600 元 a year.  2025 has no 29 February, so the
    # first contract year ends on the last day of February 2025 (art. 202): it runs
    # 2024-02-29 … 2025-02-28, 366 days, i.e. 100 元 a day.  To 2024-06-30 that is
    # 1 (29 Feb) + 31 + 30 + 31 + 30 = 123 days → 12,300.00 元.
    assert add_months(D(2024, 2, 29), 12) == D(2025, 3, 1)
    assert accrued(36_600, D(2024, 2, 29), None, D(2024, 6, 30)) == pytest.approx(12_300.00)
    owed = rent_arrears(
        lease("2024-02-29", "2033-12-31", 36_600),
        None,
        NO_AREA,
        as_of=D(2024, 6, 30),
        basis="accrual",
    ).iloc[0]
    assert round(owed["owed"], 2) == 12_300.00
    # The first year is worth exactly one year's rent, to its last day 2025-02-28.
    assert accrued(36_600, D(2024, 2, 29), None, D(2025, 2, 28)) == pytest.approx(36_600)
    # Paid yearly in advance: one instalment per contract year, each due on its first day.
    plan = instalments(36_600, D(2024, 2, 29), None, as_of=D(2026, 3, 1))
    assert [(str(a), str(b), str(d)) for a, b, d, _ in plan] == [
        ("2024-02-29", "2025-02-28", "2024-02-29"),
        ("2025-03-01", "2026-02-28", "2025-03-01"),
        ("2026-03-01", "2027-02-28", "2026-03-01"),
    ]


def test_month_ends_without_a_corresponding_day():
    # Counted from 31 January: 3 months end on "31 April", which does not exist, so the
    # quarter ends on 30 April and the next one starts on 1 May (art. 202).
    assert add_months(D(2024, 1, 31), 3) == D(2024, 5, 1)
    assert add_months(D(2024, 1, 31), 6) == D(2024, 7, 31)
    assert add_months(D(2023, 12, 15), 1) == D(2024, 1, 15)


def test_annual_in_advance_with_a_late_and_a_partial_payment():
    # 12,000 元 a year from 2023-01-01, 年付 in advance (due on 1 January).
    # Paid 12,000 on 2023-01-20 (19 days late) and 5,000 on 2024-02-15 (part of 2024).
    # To 2024-06-30: due 2 × 12,000 = 24,000, paid 17,000 → owed 7,000; the 2024
    # instalment is open since 2024-01-01: 31 + 29 + 31 + 30 + 31 + 30 − 1 = 181 days.
    table = lease("2023-01-01", "2032-12-31", 12_000, schedule="annual", due_day=0)
    paid = payments(("2023-01-20", 12_000), ("2024-02-15", 5_000), ("2024-07-05", 7_000))
    row = rent_arrears(table, paid, NO_AREA, as_of=D(2024, 6, 30)).iloc[0]
    assert (row["due"], row["paid"], row["owed"]) == (24_000, 17_000, 7_000)
    assert row["days_overdue"] == 181 and str(row["overdue_since"].date()) == "2024-01-01"
    assert row["months_overdue"] == pytest.approx(7_000 / 1_000)  # 1,000 元 a month
    plan = rent_instalments(table, paid, NO_AREA, as_of=D(2024, 6, 30))
    assert plan[["amount", "paid", "outstanding", "days_overdue", "days_late"]].values.tolist() == [
        [12_000, 12_000, 0, 0, 19],  # settled 2023-01-20, 19 days after it fell due
        [12_000, 5_000, 7_000, 181, 0],
    ]
    assert str(plan["settled"].iloc[0]) == "2023-01-20"
    # The accrual view, kept as an option: 12,000 (2023) + 12,000 × 182/366 (2024).
    accrual = rent_arrears(table, paid, NO_AREA, as_of=D(2024, 6, 30), basis="accrual").iloc[0]
    assert accrual["owed"] == pytest.approx(12_000 + 12_000 * 182 / 366 - 17_000)


def test_half_yearly_due_fifteen_days_in():
    # 18,000 元 a year from 2023-07-01, 半年付: 9,000 per half-year, due 15 days after it
    # starts.  Halves start 2023-07-01 (due 07-16), 2024-01-01 (due 01-16), 2024-07-01
    # (due 07-16, after the as-of date 2024-06-30).  Due: 18,000.  Paid 9,000 on
    # 2023-07-10 (on time) and 4,000 on 2024-03-01 (late, partial) → owed 5,000, open
    # since 2024-01-16: 15 + 29 + 31 + 30 + 31 + 30 = 166 days.
    table = lease("2023-07-01", "2033-06-30", 18_000, schedule="半年付", due_day=15)
    table["payment_schedule"] = ["half_yearly"]  # as read_register gives it
    paid = payments(("2023-07-10", 9_000), ("2024-03-01", 4_000))
    row = rent_arrears(table, paid, NO_AREA, as_of=D(2024, 6, 30)).iloc[0]
    assert (row["due"], row["owed"], row["days_overdue"]) == (18_000, 5_000, 166)
    assert row["schedule"] == "half_yearly"
    plan = rent_instalments(table, paid, NO_AREA, as_of=D(2024, 6, 30))
    assert plan["due_date"].astype(str).tolist() == ["2023-07-16", "2024-01-16"]
    assert plan["days_late"].tolist() == [0, 0]  # the second is not settled yet
    assert plan["outstanding"].tolist() == [0, 5_000]


def test_quarterly_from_a_month_end_with_the_campaign_default():
    # 12,000 元 a year from 2024-01-31, 季付 (the campaign's default here), due on the
    # quarter's first day: quarters start 2024-01-31, 2024-05-01 (no 31 April), 2024-07-31.
    # To 2024-06-30: 2 × 3,000 = 6,000 due; 3,000 paid on 2024-02-10 (10 days late) →
    # owed 3,000, open since 2024-05-01: 30 + 30 = 60 days.
    table = lease("2024-01-31", "2034-01-30", 12_000)
    paid = payments(("2024-02-10", 3_000))
    row = rent_arrears(table, paid, NO_AREA, as_of=D(2024, 6, 30), schedule="quarterly").iloc[0]
    assert (row["due"], row["owed"], row["days_overdue"]) == (6_000, 3_000, 60)
    plan = rent_instalments(table, paid, NO_AREA, as_of=D(2024, 6, 30), schedule="quarterly")
    assert plan["period_end"].astype(str).tolist() == ["2024-04-30", "2024-07-30"]
    assert plan["days_late"].tolist() == [10, 0]


def test_a_lease_ending_inside_a_quarter_owes_its_share_of_days():
    # 12,000 a year, 季付, from 2024-01-01 to 2024-02-29: the quarter 01-01 … 03-31 has
    # 91 days, the lease covers 31 + 29 = 60 of them → 3,000 × 60/91 = 1,978.02.
    plan = instalments(
        12_000, D(2024, 1, 1), D(2024, 2, 29), as_of=D(2024, 12, 31), schedule="quarterly"
    )
    assert len(plan) == 1 and plan[0][3] == pytest.approx(3_000 * 60 / 91)
    assert round(plan[0][3], 2) == 1_978.02


def test_the_register_carries_the_schedule():
    table = pd.DataFrame(
        {
            "宗地代码": ["P1", "P2", "P3", "P4"],
            "起租日期": ["2024-01-01"] * 4,
            "到期日期": ["2033-12-31"] * 4,
            "年租金": [12_000] * 4,
            "缴款方式": ["季付", "按年", "", "随时"],
            "缴款日": [10, "", 0, 0],
        }
    )
    with pytest.warns(UserWarning, match="set aside 1 row"):
        got = read_register(table, "leases")
    assert got["payment_schedule"].tolist() == ["quarterly", "annual", ""]
    assert got["due_day"].tolist()[0] == 10
    problem = got.attrs["landgis"]["problems"][0]
    assert (problem["row"], problem["column"], problem["value"]) == (5, "payment_schedule", "随时")
    assert "年付" in problem["problem"]


def test_campaign_defaults_for_the_schedule():
    c = load_campaign({"money": {"payment_schedule": "季付", "due_day": 10}})
    assert (c.payment_schedule, c.due_day, c.rent_basis) == ("quarterly", 10, "schedule")
    assert load_campaign({"money": {"rent_basis": "accrual"}}).rent_basis == "accrual"
    with pytest.raises(ConfigError, match="payment_schedule"):
        load_campaign({"money": {"payment_schedule": "每天"}})
    with pytest.raises(ConfigError, match="rent_basis"):
        load_campaign({"money": {"rent_basis": "cash"}})
