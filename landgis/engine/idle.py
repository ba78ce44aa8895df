"""Idle land measured twice: by the holder's own use, and on a raster by anyone."""

from __future__ import annotations

import pandas as pd

from landgis.rules import codes

__all__ = ["drop_built_up_idle"]


def drop_built_up_idle(raw: pd.DataFrame, built_share: pd.Series, *, idle_ratio: float):
    """Drop the idle findings of parcels that are built up by whoever uses them.

    With footprints vectorized from a raster, each footprint's user is a guess
    (the holder of the parcel holding most of it), so a parcel is idle only when
    its built-up share measured on the raster (``built_share``: parcel id →
    share, :func:`landgis.io.raster.coverage`) is below ``idle_ratio`` too.

    Examples
    --------
    >>> raw = pd.DataFrame({"category": ["idle_requisitioned", "idle_leased", "encroachment"],
    ...                     "parcel_id": ["P1", "P2", "P1"]})
    >>> share = pd.Series({"P1": 0.6, "P2": 0.02})  # P1 is built up, by someone
    >>> drop_built_up_idle(raw, share, idle_ratio=0.1)["parcel_id"].tolist()
    ['P2', 'P1']
    """
    idle = raw["category"].isin(codes(family="idle"))
    built = set(built_share.index[built_share.fillna(0) >= idle_ratio])
    return raw.loc[~(idle & raw["parcel_id"].isin(built))].reset_index(drop=True)
