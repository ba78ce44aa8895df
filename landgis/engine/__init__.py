"""The audit engine: DOMAIN.md's rules as pure set algebra over GeoDataFrames, no I/O.

:func:`run` audits one zone in memory (one tile); :mod:`landgis.engine.tiles`
plans and merges tiles, :mod:`landgis.engine.core` applies the rules to one.
"""

from landgis.engine.core import EngineResult
from landgis.engine.tiles import run

__all__ = ["EngineResult", "run"]
