"""The version of landgis (one place: the package and the build read it)."""

__version__ = "0.1.0"
