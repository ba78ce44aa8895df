"""Geometry that must not be repaired silently, through ``landgis audit``."""

from __future__ import annotations

import numpy as np
from shapely.geometry import Polygon

from tests.conftest import X0, Y0
from tests.test_corpus import fails, park, run, trail


def test_a_nan_vertex_is_an_error_naming_row_and_id(tmp_path):
    # make_valid would turn the square with one NaN corner into a triangle: half the
    # area gone and the findings changed, with nothing but "repaired = 1" to show for it.
    parcels, footprints = park()
    parcels.loc[1, "geometry"] = Polygon(
        [(X0 + 100, Y0), (X0 + 200, Y0), (np.nan, Y0 + 100), (X0 + 100, Y0 + 100)]
    )
    result = run(tmp_path, parcels, footprints)
    fails(result, "parcels.gpkg: vertices whose coordinates are not numbers (NaN or infinite) "
                  "in L1 (row 2)", "fix those vertices")  # fmt: skip
    assert not (tmp_path / "out" / "findings.csv").exists()


def test_a_repair_that_changes_the_area_names_the_parcel_and_both_areas(tmp_path):
    # The bow-tie's two 50 × 100 / 2 = 2,500 m² lobes run opposite ways: as drawn its
    # area is 2,500 − 2,500 = 0; repaired it is 5,000 m². The self-touching ring keeps
    # its 10,000 − 1,000 (the notch, 40 × 50 / 2) = 9,000 m² and is only counted.
    parcels, footprints = park()
    parcels.loc[0, "geometry"] = Polygon(
        [(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)]
    )
    parcels.loc[2] = [
        "P2",
        "requisitioned",
        "b",
        Polygon(
            [(X0 + 200, Y0), (X0 + 300, Y0), (X0 + 300, Y0 + 100), (X0 + 200, Y0 + 100)],
            [[(X0 + 200, Y0), (X0 + 220, Y0 + 50), (X0 + 240, Y0)]],
        ),
    ]
    result = run(tmp_path, parcels, footprints)
    assert result.exit_code == 0, result.output
    warnings = [w for w in trail(tmp_path)["warnings"] if "changed their area" in w]
    assert len(warnings) == 1
    assert "in P1 (row 1) (0.00 → 5,000.00 m²)" in warnings[0]
    assert trail(tmp_path)["repairs"]["parcels.repaired"] == 2
