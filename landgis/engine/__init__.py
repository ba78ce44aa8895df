"""The audit engine: pure set algebra over GeoDataFrames, no I/O."""

from landgis.engine.core import EngineResult, run

__all__ = ["EngineResult", "run"]
