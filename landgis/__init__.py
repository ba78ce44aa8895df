"""landgis: land-resource verification and red-line violation detection.

Read the red lines (parcels) and the surveyed actual use (footprints), audit
them against the rules of the campaign, and hand the findings to the people
who act on them::

    import landgis
    audit = landgis.audit("parcels.gpkg", "footprints.gpkg")
    audit.findings            # GeoDataFrame, one row per finding
    audit.to_csv("findings.csv")
"""

from landgis._version import __version__
from landgis.change import use_change
from landgis.config import Campaign, load_campaign
from landgis.crs import analysis_crs, ellipsoidal_area, gauss_kruger_crs, to_mu
from landgis.datasets import get_path
from landgis.errors import (
    ConfigError,
    CRSError,
    GeometryError,
    InputFileError,
    LandgisError,
    LandgisWarning,
    LedgerError,
    SchemaError,
)
from landgis.io.boundary_txt import read_boundary_txt, write_boundary_txt
from landgis.io.convert import convert
from landgis.io.dxf import dxf_layers, read_dxf_polygons
from landgis.io.land_survey import read_change_patches, read_land_survey
from landgis.io.raster import coverage, footprints_from_raster
from landgis.io.registers import read_register
from landgis.io.vector import (
    read_admin,
    read_footprints,
    read_parcels,
    read_planning,
)
from landgis.pipeline import audit
from landgis.result import Audit

__all__ = [
    "Audit",
    "CRSError",
    "Campaign",
    "ConfigError",
    "GeometryError",
    "InputFileError",
    "LandgisError",
    "LandgisWarning",
    "LedgerError",
    "SchemaError",
    "__version__",
    "analysis_crs",
    "audit",
    "convert",
    "coverage",
    "dxf_layers",
    "ellipsoidal_area",
    "footprints_from_raster",
    "gauss_kruger_crs",
    "get_path",
    "load_campaign",
    "read_admin",
    "read_boundary_txt",
    "read_change_patches",
    "read_dxf_polygons",
    "read_footprints",
    "read_land_survey",
    "read_parcels",
    "read_planning",
    "read_register",
    "to_mu",
    "use_change",
    "write_boundary_txt",
]
