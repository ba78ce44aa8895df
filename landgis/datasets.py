"""The bundled sample park (``data/boundaries/``), reached by name.

A made-up park near Taizhou, Jiangsu, in CGCS2000 3° Gauss-Krüger zone 40
(EPSG:4528) in which every spatial finding category occurs; its README lists
the expected figures, each checkable by hand.
"""

from __future__ import annotations

from pathlib import Path

from landgis.errors import InputFileError

__all__ = ["SAMPLE_LAYERS", "get_path", "sample_dir"]

#: Layer name → file name in the sample folder.
SAMPLE_LAYERS = {
    "parcels": "parcels.gpkg",
    "footprints": "footprints.gpkg",
    "planning": "planning.gpkg",
    "admin": "admin.gpkg",
    "land_survey": "dltb.gpkg",  # 地类图斑 DLTB (and CJDCQ, XZQ) of the land survey
    "patches": "wpjc.gpkg",  # 卫片 change patches (监测图斑)
}


def sample_dir() -> Path:
    """The folder holding the sample park (source checkout or installed wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_sample", here.parent / "data" / "boundaries"):
        if (candidate / SAMPLE_LAYERS["parcels"]).is_file():
            return candidate
    raise InputFileError(
        "the sample park is missing (expected data/boundaries/ beside the package); "
        "reinstall landgis."
    )


def get_path(name: str) -> Path:
    """Path of a sample layer: ``"parcels"``, ``"footprints"``, ``"planning"``, ``"admin"``,
    ``"land_survey"`` (the land survey's 地类图斑, layer ``DLTB``) or ``"patches"`` (卫片
    change patches).

    Examples
    --------
    >>> get_path("parcels").name
    'parcels.gpkg'
    """
    if name not in SAMPLE_LAYERS:
        raise KeyError(f"unknown sample layer {name!r}; choose from {list(SAMPLE_LAYERS)}")
    return sample_dir() / SAMPLE_LAYERS[name]
