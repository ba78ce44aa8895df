"""From the registers to findings: arrears, rent owed for over-use, rent paid, low efficiency.

:func:`apply_registers` takes the engine's raw findings and the registers read
by :func:`landgis.io.registers.read_registers`, checks every register row
against the red lines (unknown parcels are set aside, like any bad row), and
returns the raw findings with

* ``rent_arrears`` per lease the zone lets out whose rent fallen due by the
  as-of date (under its payment schedule, 年付/半年付/季付/月付) exceeds what
  was paid (amount owed, months of rent it equals, days since the oldest
  instalment still open fell due);
* ``fee_arrears`` per requisition (proxy-requisition) fee not paid (days
  since its due date);
* ``overuse_leased`` findings carrying the rent owed for the extra land at the
  holder's contract rate since the survey (or the configured start);
* leased-in findings carrying the rent the zone pays for them each year;
* ``low_efficiency`` for enterprises rated D by the per-mu evaluation;

and the evaluation table itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landgis.config import Campaign
from landgis.crs import M2_PER_MU
from landgis.engine.evaluation import evaluate
from landgis.engine.money import (
    fee_arrears,
    lease_rents,
    overuse_rent,
    rent_arrears,
    rent_instalments,
)
from landgis.io.registers import REGISTER_KEYS
from landgis.rules import codes
from landgis.schema import AUTHORIZED_TENURES, match_key

__all__ = ["Accounts", "apply_registers", "survey_date"]


class _Terms(TypedDict):
    """The payment terms both rent calculations take as keywords."""

    schedule: str
    due_day: int


@dataclass
class Accounts:
    """What the registers added."""

    raw: gpd.GeoDataFrame
    evaluation: pd.DataFrame | None = None
    problems: list[dict] = field(default_factory=list)
    #: Every rent instalment due by the as-of date and what settled it
    #: (:func:`landgis.engine.money.rent_instalments`); ``None`` without leases.
    instalments: pd.DataFrame | None = None


def apply_registers(
    raw: gpd.GeoDataFrame,
    *,
    registers: dict[str, pd.DataFrame],
    parcels: gpd.GeoDataFrame,
    footprints: gpd.GeoDataFrame,
    holders: pd.DataFrame,
    parcel_use: pd.DataFrame,
    campaign: Campaign,
) -> Accounts:
    """Add the money and efficiency findings to the engine's raw findings.

    Parameters
    ----------
    raw
        :attr:`landgis.engine.EngineResult.raw`.
    registers
        Kind → table (``leases``, ``payments``, ``fees``, ``enterprises``).
    parcels, footprints
        The audited layers (analysis CRS).
    holders, parcel_use
        The engine's per-holder and per-parcel tables.
    campaign
        As-of date, tolerance, over-use start, evaluation scheme.
    """
    as_of = campaign.due_date
    problems = [p for table in registers.values() for p in table.attrs["landgis"]["problems"]]
    geometry = parcels.set_index("parcel_id").geometry
    area_mu = geometry.area / M2_PER_MU
    holder_of = parcels.set_index("parcel_id")["holder"]
    tenure_of = parcels.set_index("parcel_id")["tenure"]
    tables = {
        kind: _known_parcels(table, geometry.index, problems) for kind, table in registers.items()
    }
    out = raw.copy()
    for column in ("amount_owed", "annual_rent", "months_overdue", "days_overdue", "score"):
        if column not in out:
            out[column] = np.nan
    rows: list[pd.DataFrame] = []
    plan = None

    leases = tables.get("leases")
    if leases is not None and len(leases):
        leases = _lease_directions(leases, tenure_of, holder_of, problems)
        terms: _Terms = {"schedule": campaign.payment_schedule, "due_day": campaign.due_day}
        arrears = rent_arrears(
            leases,
            tables.get("payments"),
            area_mu,
            as_of=as_of,
            tolerance=campaign.arrears_tolerance,
            basis=campaign.rent_basis,
            **terms,
        )
        plan = rent_instalments(leases, tables.get("payments"), area_mu, as_of=as_of, **terms)
        if len(arrears):
            rows.append(
                pd.DataFrame(
                    {
                        "category": "rent_arrears",
                        "holder": arrears["party"].to_numpy(dtype=object),
                        "parcel_id": arrears["parcel_id"].to_numpy(dtype=object),
                        "area_m2": geometry.area.reindex(arrears["parcel_id"]).to_numpy(),
                        "amount_owed": arrears["owed"].to_numpy(),
                        "annual_rent": arrears["annual_rent"].to_numpy(),
                        "months_overdue": arrears["months_overdue"].to_numpy(),
                        "days_overdue": arrears["days_overdue"].to_numpy(dtype=float),
                        "geometry": geometry.reindex(arrears["parcel_id"]).to_numpy(),
                    }
                )
            )
        _rents_on_findings(out, leases, area_mu, footprints, campaign, as_of)

    fees = tables.get("fees")
    if fees is not None and len(fees):
        fees = fees.copy()
        for column in ("party", "parcel_id"):  # both optional; one of them names the payer
            if column not in fees:
                fees[column] = ""
        fees["party"] = fees["party"].where(fees["party"] != "", fees["parcel_id"].map(holder_of))
        owed = fee_arrears(fees, as_of=as_of, tolerance=campaign.arrears_tolerance)
        if len(owed):
            geoms = _land_of(owed, geometry, parcels)
            rows.append(
                pd.DataFrame(
                    {
                        "category": "fee_arrears",
                        "holder": owed["party"].fillna("").to_numpy(dtype=object),
                        "parcel_id": owed["parcel_id"].fillna("").to_numpy(dtype=object),
                        "area_m2": shapely.area(geoms),
                        "amount_owed": owed["owed"].to_numpy(),
                        "days_overdue": owed["days_overdue"].to_numpy(dtype=float),
                        "geometry": geoms,
                    }
                )
            )

    evaluation = None
    enterprises = tables.get("enterprises")
    if enterprises is not None and len(enterprises):
        evaluation, low = _evaluate(
            enterprises, holders, parcel_use, parcels, footprints, campaign, as_of
        )
        if len(low):
            rows.append(low)

    if rows:
        extra = gpd.GeoDataFrame(
            pd.concat(rows, ignore_index=True), geometry="geometry", crs=raw.crs
        )
        out = gpd.GeoDataFrame(
            pd.concat([out, extra], ignore_index=True), geometry="geometry", crs=raw.crs
        )
    return Accounts(raw=out, evaluation=evaluation, problems=problems, instalments=plan)


# --------------------------------------------------------------------- checks


def _note(problems, table, mask, column, problem) -> None:
    source = table.attrs["landgis"]["source"]
    keys = table.loc[mask, [k for k in REGISTER_KEYS if k in table]].astype(str)
    for row, value, named in zip(
        table.index[mask], table.loc[mask, column], keys.itertuples(index=False), strict=True
    ):
        key = next((k for k in named if k.strip()), "")
        problems.append(
            {
                "source": source,
                "row": int(row),
                "key": key,
                "column": column,
                "value": str(value),
                "problem": problem,
            }
        )


def _known_parcels(table: pd.DataFrame, known: pd.Index, problems: list) -> pd.DataFrame:
    """Rows naming a parcel that is not among the red lines are set aside."""
    if "parcel_id" not in table:
        return table
    unknown = (table["parcel_id"] != "") & ~table["parcel_id"].isin(known)
    if unknown.any():
        _note(problems, table, unknown, "parcel_id", "no such parcel among the red lines")
    kept = table.loc[~unknown]
    kept.attrs = table.attrs
    return kept


def _lease_directions(leases, tenure_of, holder_of, problems) -> pd.DataFrame:
    """Fill each lease's direction from its parcel's tenure and its party from the holder."""
    leases = leases.copy()
    tenure = leases["parcel_id"].map(tenure_of)
    given = leases["direction"] if "direction" in leases else pd.Series("", index=leases.index)
    derived = tenure.where(tenure.isin(["leased_out", "leased_in"]), "")
    leases["direction"] = given.where(given != "", derived)
    unclear = leases["direction"] == ""
    if unclear.any():
        _note(
            problems,
            leases,
            unclear,
            "parcel_id",
            "the parcel is neither 租出 nor 租入 and the lease gives no direction (租赁方向)",
        )
        kept = leases.loc[~unclear]
        kept.attrs = leases.attrs
        leases = kept
    party = leases["party"] if "party" in leases else pd.Series("", index=leases.index)
    leases["party"] = party.where(party != "", leases["parcel_id"].map(holder_of))
    return leases


# --------------------------------------------------------------------- rents


def _rents_on_findings(raw, leases, area_mu, footprints, campaign: Campaign, as_of) -> None:
    """Rent owed on over-use of leased land; rent the zone pays on leased-in land."""
    rents = lease_rents(leases, area_mu)
    out = (leases["direction"] == "leased_out").to_numpy()
    out_rate = rents.loc[out, "per_mu"].groupby(leases.loc[out, "parcel_id"]).max()
    since = campaign.overuse_rent_from or survey_date(footprints)
    over = (raw["category"] == "overuse_leased").to_numpy()
    if over.any() and since is not None:
        per_mu = raw.loc[over, "parcel_id"].map(out_rate).to_numpy(dtype=float)
        raw.loc[over, "amount_owed"] = overuse_rent(
            raw.loc[over, "area_m2"].to_numpy(), per_mu, since=since, as_of=as_of
        )
        raw.loc[over, "annual_rent"] = per_mu * raw.loc[over, "area_m2"].to_numpy() / M2_PER_MU
    inward = ~out & (leases["direction"] == "leased_in").to_numpy()
    paid_in = rents.loc[inward, "annual"].groupby(leases.loc[inward, "parcel_id"]).sum()
    leased_in = raw["category"].isin(codes(family="leased_in")).to_numpy()
    if leased_in.any():
        raw.loc[leased_in, "annual_rent"] = raw.loc[leased_in, "parcel_id"].map(paid_in)


def survey_date(footprints: gpd.GeoDataFrame) -> dt.date | None:
    """The (latest) survey date the footprints carry, if any."""
    if "survey_date" not in footprints:
        return None
    dates = pd.to_datetime(footprints["survey_date"], errors="coerce").dropna()
    return dates.max().date() if len(dates) else None


def _land_of(table: pd.DataFrame, geometry: pd.Series, parcels: gpd.GeoDataFrame) -> np.ndarray:
    """The parcel of each row, or the union of its party's authorized parcels; ``None``
    for a party that holds none (the finding has no place on the map)."""
    auth = parcels[parcels["tenure"].isin(AUTHORIZED_TENURES)]
    by_holder = auth.assign(key=auth["holder"].map(match_key)).dissolve("key").geometry
    out = []
    for pid, party in zip(table["parcel_id"].fillna(""), table["party"].fillna(""), strict=True):
        if pid and pid in geometry.index:
            out.append(geometry[pid])
        else:
            out.append(by_holder.get(match_key(party)))
    return np.asarray(out, dtype=object)


# --------------------------------------------------------------------- evaluation


def _evaluate(enterprises, holders, parcel_use, parcels, footprints, campaign, as_of):
    """Rate the enterprises on the land they occupy; class D becomes ``low_efficiency``."""
    auth = parcel_use[parcel_use["tenure"].isin(AUTHORIZED_TENURES)]
    authorized = auth.groupby(auth["holder"].map(match_key))["area_m2"].sum()
    beyond = (holders["used_m2"] - holders["own_m2"]).clip(lower=0)
    beyond.index = beyond.index.map(match_key)
    land_m2 = authorized.add(beyond.groupby(level=0).sum(), fill_value=0.0)
    table = enterprises.copy()
    table["party"] = table["party"].map(match_key)
    names = dict(zip(table["party"], enterprises["party"], strict=True))
    result = evaluate(table, land_m2 / M2_PER_MU, scheme=campaign.evaluation, as_of=as_of)
    result.index = [names.get(k, k) for k in result.index]
    result.index.name = "holder"
    low = result[result["efficiency_class"] == "D"]
    if not len(low):
        return result, pd.DataFrame()
    own = parcels[parcels["tenure"].isin(AUTHORIZED_TENURES)]
    keyed = own.assign(key=own["holder"].map(match_key))
    land = keyed.dissolve("key").geometry
    used = footprints.assign(key=footprints["user"].map(match_key)).dissolve("key").geometry
    ids = keyed.groupby("key")["parcel_id"].agg(lambda s: "; ".join(sorted(s)))
    keys = [match_key(h) for h in low.index]
    return result, pd.DataFrame(
        {
            "category": "low_efficiency",
            "holder": low.index.to_numpy(dtype=object),
            "parcel_id": [ids.get(k, "") for k in keys],
            "area_m2": (low["land_mu"] * M2_PER_MU).to_numpy(),
            "score": low["score"].to_numpy(),
            "geometry": [land.get(k, used.get(k)) for k in keys],
        }
    )
