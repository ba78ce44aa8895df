"""The engine's prepared inputs: parcels and footprints as flat arrays.

Holders (parcels) and users (footprints) share integer codes, decided by
:func:`landgis.schema.match_key`, so "is this use the holder's own?" is an
integer comparison; each party keeps the spelling it was first given (the
register's before the survey's).  Dense geometries are thinned once here for
the overlays (:func:`landgis.engine.ops.thin`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from landgis.engine.ops import thin
from landgis.schema import AUTHORIZED_TENURES, match_key

__all__ = ["Layers"]


@dataclass
class Layers:
    """The inputs as flat arrays; holders and users share integer codes."""

    pgeom: np.ndarray
    pid: np.ndarray
    ptenure: np.ndarray
    pholder: np.ndarray
    pauth: np.ndarray
    fgeom: np.ndarray
    fuser: np.ndarray
    names: np.ndarray

    @functools.cached_property
    def pid_rank(self) -> np.ndarray:
        """Each parcel's place in ``parcel_id`` order (text order, as ties are broken)."""
        rank = np.empty(len(self.pid), dtype=np.intp)
        rank[np.argsort(self.pid.astype(str), kind="stable")] = np.arange(len(self.pid))
        return rank

    @classmethod
    def from_frames(
        cls,
        parcels: gpd.GeoDataFrame,
        footprints: gpd.GeoDataFrame,
        *,
        grid_size: float | None = None,
    ) -> Layers:
        """The frames as arrays; dense geometries thinned for ``grid_size`` (:func:`thin`)."""
        spelled = pd.concat([parcels["holder"], footprints["user"]], ignore_index=True)
        codes, _ = pd.factorize(spelled.map(match_key), sort=True)
        # Each party is shown as first spelled, the register (parcels) before the survey.
        first = pd.Series(np.arange(len(spelled))).groupby(codes).min().to_numpy()
        n_p = len(parcels)
        tenure = parcels["tenure"].to_numpy(dtype=object)
        return cls(
            pgeom=thin(np.asarray(parcels.geometry.values, dtype=object), grid_size=grid_size),
            pid=parcels["parcel_id"].to_numpy(dtype=object),
            ptenure=tenure,
            pholder=codes[:n_p],
            pauth=np.isin(tenure, AUTHORIZED_TENURES),
            fgeom=thin(np.asarray(footprints.geometry.values, dtype=object), grid_size=grid_size),
            fuser=codes[n_p:],
            names=spelled.to_numpy(dtype=object)[first],
        )
