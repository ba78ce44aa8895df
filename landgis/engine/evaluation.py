"""Per-mu evaluation (亩均效益评价): indicators per 亩 of land occupied, score, class.

The land an enterprise occupies is its authorized land plus what it uses
beyond it (encroachment, outside the red lines, park over-use), from the
audit.  Each indicator scores ``min(value / benchmark, cap) × weight``; the
weights of indicators an enterprise has no data for are left out and the
others scaled to 100.  Classes follow the scheme's cut-offs; enterprises
marked exempt, or established within the protection period, are not rated.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from landgis.config import INDICATORS, EvaluationScheme

__all__ = ["evaluate", "indicator_values"]


def indicator_values(enterprises: pd.DataFrame, land_mu: pd.Series) -> pd.DataFrame:
    """The indicators of :data:`landgis.config.INDICATORS` for each enterprise.

    ``enterprises`` is indexed by holder (money in 万元, energy in 吨标煤);
    ``land_mu`` gives each holder's occupied land in 亩.
    """

    def column(name):
        return (
            enterprises[name].astype(float)
            if name in enterprises
            else pd.Series(np.nan, index=enterprises.index)
        )

    land = land_mu.reindex(enterprises.index).astype(float)
    land = land.where(land > 0)
    tax, revenue, added = column("tax"), column("revenue"), column("value_added")
    energy, staff, rd = column("energy"), column("employees"), column("rd")
    with np.errstate(divide="ignore", invalid="ignore"):
        values = pd.DataFrame(
            {
                "tax_per_mu": tax / land,
                "revenue_per_mu": revenue / land,
                "value_added_per_mu": added / land,
                "value_added_per_energy": added / energy.where(energy > 0),
                "productivity": added / staff.where(staff > 0),
                "rd_intensity": 100.0 * rd / revenue.where(revenue > 0),
            },
            index=enterprises.index,
        )
    return values[list(INDICATORS)]


def evaluate(
    enterprises: pd.DataFrame,
    land_mu: pd.Series,
    *,
    scheme: EvaluationScheme,
    as_of: dt.date,
) -> pd.DataFrame:
    """Rate every enterprise of the table.

    Parameters
    ----------
    enterprises
        The enterprise register (``read_register(…, "enterprises")``): ``party``
        and the economic columns; one row per enterprise (the latest ``year``
        is kept when there are several).
    land_mu
        Land each holder occupies, 亩 (authorized plus used beyond it).
    scheme
        Weights, benchmarks, cap and class cut-offs.
    as_of
        Date of the rating (for the protection period of new enterprises).

    Returns
    -------
    pandas.DataFrame
        Indexed by holder: ``land_mu``, the indicator values, one
        ``score_<indicator>`` per indicator used, ``score`` (0–100 × cap) and
        ``efficiency_class`` (A/B/C/D, or 免评 when exempt — without a score —
        or 无数据 when no indicator could be computed).
    """
    table = enterprises.copy()
    if "year" in table:
        table = table.sort_values("year", na_position="first")
    table = table.drop_duplicates("party", keep="last").set_index("party")
    values = indicator_values(table, land_mu)
    out = pd.DataFrame({"land_mu": land_mu.reindex(table.index).astype(float)})
    out = out.join(values)
    small = out["land_mu"] < scheme.small_mu
    weighted = pd.Series(0.0, index=out.index)
    weights = pd.Series(0.0, index=out.index)
    for rule, chosen in ((scheme.indicators, ~small), (scheme.small_indicators, small)):
        for ind in rule:
            value = values[ind.code]
            known = chosen & value.notna()
            score = (value / ind.benchmark).clip(upper=scheme.cap) * ind.weight
            column = f"score_{ind.code}"
            if column not in out:
                out[column] = np.nan
            out.loc[known, column] = score[known]
            weighted[known] += score[known]
            weights[known] += ind.weight
    out["score"] = 100.0 * weighted / weights.where(weights > 0)
    cut = scheme.classes
    out["efficiency_class"] = np.select(
        [
            out["score"].isna(),
            out["score"] >= cut["A"],
            out["score"] >= cut["B"],
            out["score"] >= cut["C"],
        ],
        ["无数据", "A", "B", "C"],
        "D",
    )
    exempt = table.get("exempt", pd.Series(False, index=table.index)).fillna(False).astype(bool)
    if "established" in table:
        limit = pd.Timestamp(as_of) - pd.Timedelta(days=round(365.25 * scheme.protection_years))
        exempt |= table["established"] > limit
    exempt = exempt.reindex(out.index, fill_value=False).to_numpy(dtype=bool)
    out.loc[exempt, "efficiency_class"] = "免评"
    # An enterprise not rated has no score: its indicators stay, for information.
    out.loc[exempt, [c for c in out.columns if c == "score" or c.startswith("score_")]] = np.nan
    out.index.name = "holder"
    return out
