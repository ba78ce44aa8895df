"""Rasters: footprints from masks and land cover, coverage, change, orthophotos.

Hand-made rasters have hand-computed answers; the real ones (SpaceNet building
masks, an ESA WorldCover tile) are read from ``../shared/realdata/`` and their
tests skip when it is absent.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import warnings
from fractions import Fraction
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from landgis.errors import ConfigError, CRSError, GeometryError, InputFileError, LandgisWarning
from landgis.findings import COLUMNS, EXTRA_COLUMNS
from tests.conftest import CRS, X0, Y0, footprints_frame, parcels_frame, rect

rasterio = pytest.importorskip("rasterio")

from landgis.change import use_change, use_change_from_rasters  # noqa: E402
from landgis.io.raster import coverage, footprints_from_raster  # noqa: E402
from landgis.present.orthophoto import orthophoto_overlay  # noqa: E402

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
SOLARIS = REALDATA / "solaris_spacenet"
WORLDCOVER = REALDATA / "esa_worldcover" / "ESA_WorldCover_10m_2021_v200_N00E006_Map.tif"
needs_solaris = pytest.mark.skipif(not SOLARIS.is_dir(), reason="realdata/solaris absent")
needs_worldcover = pytest.mark.skipif(not WORLDCOVER.is_file(), reason="realdata/WorldCover absent")


def from_origin(west, north, xsize, ysize):
    """A north-up transform (rasterio's own helper warns about ``*`` in affine 2.4)."""
    return rasterio.Affine(xsize, 0.0, west, 0.0, -ysize, north)


def write_tif(path, array, *, transform=None, crs=CRS, nodata=None):
    """A one-band GeoTIFF; by default 1 m pixels whose top-left corner is (X0, Y0 + rows)."""
    array = np.asarray(array)
    if transform is None:
        transform = from_origin(X0, Y0 + array.shape[0], 1.0, 1.0)
    profile = {
        "driver": "GTiff",
        "width": array.shape[1],
        "height": array.shape[0],
        "count": 1,
        "dtype": array.dtype.name,
        "transform": transform,
        "nodata": nodata,
    }
    if crs is not None:
        profile["crs"] = crs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as ds:
            ds.write(array, 1)
    return Path(path)


def pixel_box(row, col, rows=1, cols=1, *, height):
    """The map rectangle of pixels (row, col)…(row + rows − 1, col + cols − 1) of write_tif."""
    return rect(col, height - row - rows, col + cols, height - row)


# ----------------------------------------------------------------- hand-made footprints


@pytest.fixture
def seam_raster(tmp_path):
    """40×40: a U crossing three windows of 16 px, and a ring (with a hole) across a seam."""
    a = np.zeros((40, 40), np.uint8)
    a[5:35, 5] = 1  # left bar
    a[34, 5:35] = 1  # bottom
    a[5:35, 34] = 1  # right bar
    a[10:26, 10:26] = 1  # block …
    a[14:22, 14:22] = 0  # … with a hole across the seam at 16
    return write_tif(tmp_path / "seam.tif", a), a


def test_a_region_across_window_seams_is_one_footprint(seam_raster):
    path, a = seam_raster
    small = footprints_from_raster(path, classes=1, window_size=16, simplify=False)
    whole = footprints_from_raster(path, classes=1, window_size=4096, simplify=False)
    assert len(small) == len(whole) == 2
    assert sorted(small["area_m2"]) == sorted(whole["area_m2"]) == [30 + 29 + 29, 16 * 16 - 8 * 8]
    assert small["area_m2"].sum() == a.sum()  # 1 m² pixels
    assert all(shapely.equals(g, h) for g, h in zip(small.geometry, whole.geometry, strict=True))
    ring = small.loc[small["area_m2"] == 192].geometry.iloc[0]
    assert ring.geom_type == "Polygon" and len(ring.interiors) == 1
    assert list(small.columns) == ["footprint_id", "user", "class", "area_m2", "geometry"]
    assert list(small["footprint_id"]) == ["F1", "F2"] and set(small["user"]) == {""}


def test_results_do_not_depend_on_the_window(seam_raster):
    path, _ = seam_raster
    ref = footprints_from_raster(path, classes=1)
    for size in (16, 17, 23):
        other = footprints_from_raster(path, classes=1, window_size=size)
        assert all(
            shapely.equals_exact(g, h, 0)
            for g, h in zip(ref.geometry.normalize(), other.geometry.normalize(), strict=True)
        )


@pytest.mark.parametrize("window_size", [16, 4096])
def test_connectivity_across_a_window_corner(tmp_path, window_size):
    a = np.zeros((32, 32), np.uint8)
    a[15, 15] = a[16, 16] = 1  # diagonal neighbours; with 16 px windows in two windows
    a[20, 20] = a[20, 21] = 1
    path = write_tif(tmp_path / "diag.tif", a)
    eight = footprints_from_raster(path, classes=1, window_size=window_size)
    four = footprints_from_raster(path, classes=1, window_size=window_size, connectivity=4)
    assert sorted(eight["area_m2"]) == [2, 2] and len(four) == 3
    diagonal = eight.loc[eight.geometry.geom_type == "MultiPolygon"]
    assert len(diagonal) == 1 and eight.is_valid.all() and four.is_valid.all()


def test_sieve_removes_specks_and_fills_holes_the_same_in_every_window(tmp_path):
    a = np.zeros((40, 40), np.uint8)
    a[2:30, 2:30] = 1
    a[15:17, 14] = 0  # a 2-pixel hole astride the seam at 16
    a[35, 14:17] = 1  # a 3-pixel speck astride it
    a[34:40, 34:40] = 1  # 36 px: stays
    path = write_tif(tmp_path / "speck.tif", a)
    ref = footprints_from_raster(path, classes=1, sieve=4, window_size=4096, simplify=False)
    small = footprints_from_raster(path, classes=1, sieve=4, window_size=16, simplify=False)
    assert sorted(ref["area_m2"]) == sorted(small["area_m2"]) == [36, 28 * 28]
    assert all(len(g.interiors) == 0 for g in ref.geometry)
    plain = footprints_from_raster(path, classes=1)
    assert sorted(plain["area_m2"]) == [3, 36, 28 * 28 - 2]


def test_classes_nodata_and_min_area(tmp_path):
    a = np.array(
        [
            [1, 1, 0, 2, 2],
            [1, 1, 0, 2, 9],
            [0, 0, 0, 9, 9],
            [3, 0, 0, 0, 0],
        ],
        np.uint8,
    )
    path = write_tif(tmp_path / "classes.tif", a, nodata=9)
    f = footprints_from_raster(path, classes=[1, 2, 3])
    assert sorted(zip(f["class"], f["area_m2"], strict=True)) == [(1, 4), (2, 3), (3, 1)]
    assert list(footprints_from_raster(path, classes=[1, 2, 3], min_area=2)["class"]) == [1, 2]
    with pytest.raises(ConfigError, match="nodata value 9"):
        footprints_from_raster(path, classes=[2, 9])
    assert footprints_from_raster(path, classes=7).empty


def test_float_raster_with_nan_nodata(tmp_path):
    a = np.array([[1.0, 1.0, np.nan], [2.0, np.nan, 1.0]], np.float32)
    path = write_tif(tmp_path / "float.tif", a, nodata=np.nan)
    assert list(footprints_from_raster(path, classes=1)["area_m2"]) == [3]  # 8-connected
    f = footprints_from_raster(path, classes=1, connectivity=4)
    assert sorted(f["area_m2"]) == [1, 2]


def test_users_from_the_parcel_holding_the_majority(tmp_path):
    a = np.zeros((10, 30), np.uint8)
    a[2:8, 1:5] = 1  # 24 m², wholly in P1 (A)
    a[2:8, 8:13] = 1  # 30 m²: 18 in P2 (B), 12 outside → B
    a[2:8, 20:24] = 1  # 24 m² on leased-in land → unknown
    path = write_tif(tmp_path / "users.tif", a)
    parcels = parcels_frame(
        [
            ("P1", "requisitioned", "A", rect(0, 0, 6, 10)),
            ("P2", "leased_out", "B", rect(7, 0, 11, 10)),
            ("P3", "leased_in", "村1", rect(18, 0, 30, 10)),
        ]
    )
    f = footprints_from_raster(path, classes=1, parcels=parcels)
    assert list(f["user"]) == ["A", "B", ""]
    assert list(f["parcel_id"]) == ["P1", "P2", ""]
    assert list(f["user_share"]) == [1.0, 0.6, 0.0]
    g = footprints_from_raster(path, classes=1, parcels=parcels, unknown_user="未知使用人")
    assert list(g["user"]) == ["A", "B", "未知使用人"]
    strict = footprints_from_raster(path, classes=1, parcels=parcels, min_share=0.7)
    assert list(strict["user"]) == ["A", "", ""]


def test_a_geographic_raster_is_measured_in_metres(tmp_path):
    d = 1e-4
    a = np.zeros((50, 60), np.uint8)
    a[10:40, 5:55] = 50
    a[45:48, 2:4] = 50
    transform = from_origin(119.9, 32.5, d, d)
    path = write_tif(tmp_path / "geo.tif", a, transform=transform, crs="EPSG:4490")
    f = footprints_from_raster(path, classes=50)
    assert f.crs.to_epsg() == 4528  # CGCS2000 3° Gauss-Krüger zone 40
    expected = (a == 50).sum() * _cell_area(119.9, 32.5 - 25 * d, d)
    assert f["area_m2"].sum() == pytest.approx(expected, rel=2e-4)
    utm = footprints_from_raster(path, classes=50, crs=32650)
    assert utm.crs.to_epsg() == 32650


def _cell_area(lon, lat, d):
    """Ground area of a d×d degree cell, from the cylindrical equal-area EPSG:6933."""
    from pyproj import Transformer

    t = Transformer.from_crs(4326, 6933, always_xy=True)
    (x0, x1), (y0, y1) = t.transform([lon, lon + d], [lat - d / 2, lat + d / 2])
    return (x1 - x0) * (y1 - y0)


def test_errors_name_the_file_and_the_fix(tmp_path):
    a = np.zeros((8, 8), np.uint8)
    a[2:4, 2:4] = 255
    bare = write_tif(tmp_path / "mask.tif", a, transform=rasterio.Affine.identity(), crs=None)
    with pytest.raises(CRSError, match=r"mask\.tif.*no georeference.*mask_from="):
        footprints_from_raster(bare, classes=255)
    other = write_tif(tmp_path / "image.tif", np.zeros((8, 9), np.uint8))
    with pytest.raises(GeometryError, match=r"8×8 pixels.*9×8"):
        footprints_from_raster(bare, classes=255, mask_from=other)
    no_crs = write_tif(tmp_path / "nocrs.tif", a, crs=None)
    with pytest.raises(CRSError, match="source_crs="):
        footprints_from_raster(no_crs, classes=255)
    assert footprints_from_raster(no_crs, classes=255, source_crs=4528)["area_m2"].sum() == 4
    with pytest.raises(InputFileError, match="no such file"):
        footprints_from_raster(tmp_path / "missing.tif", classes=1)
    text = tmp_path / "notes.tif"
    text.write_text("not a raster")
    with pytest.raises(InputFileError, match="cannot be read as a raster"):
        footprints_from_raster(text, classes=1)
    with pytest.raises(ConfigError, match="connectivity"):
        footprints_from_raster(no_crs, classes=255, connectivity=6, source_crs=4528)
    with pytest.raises(ConfigError, match="band=2"):
        footprints_from_raster(no_crs, classes=255, band=2, source_crs=4528)


# ----------------------------------------------------------------- real masks


@needs_solaris
@pytest.mark.parametrize(("connectivity", "count"), [(4, 154), (8, 151)])
def test_spacenet_mask_gives_one_footprint_per_building(connectivity, count):
    from scipy import ndimage

    mask = SOLARIS / "sample_fp_mask.tif"
    f = footprints_from_raster(
        mask,
        classes=255,
        mask_from=SOLARIS / "sample_geotiff.tif",
        connectivity=connectivity,
        window_size=256,  # regions cross window seams
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(mask) as ds:
            pixels = ds.read(1) > 0
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    assert len(f) == ndimage.label(pixels, structure=structure)[1] == count
    assert pixels.sum() == 117_996
    assert f["area_m2"].sum() == pytest.approx(117_996 * 0.25, rel=1e-3)
    assert f.crs.to_epsg() == 32616
    with rasterio.open(SOLARIS / "sample_geotiff.tif") as ds:
        image = box(*ds.bounds)
    assert f.geometry.within(image).all() and f.is_valid.all()


@needs_solaris
def test_spacenet_default_is_8_connected():
    f = footprints_from_raster(
        SOLARIS / "sample_fp_mask.tif", classes=255, mask_from=SOLARIS / "sample_geotiff.tif"
    )
    assert len(f) == 151
    assert f.attrs["landgis"]["raster"]["connectivity"] == 8


@needs_solaris
def test_spacenet_labels_burned_and_vectorized_back(tmp_path):
    from rasterio.features import rasterize

    labels = gpd.read_file(SOLARIS / "geotiff_labels.geojson")
    with rasterio.open(SOLARIS / "sample_geotiff.tif") as ds:
        transform, shape, crs = ds.transform, ds.shape, ds.crs
    burned = rasterize(((g, 255) for g in labels.geometry), out_shape=shape, transform=transform)
    path = write_tif(tmp_path / "labels.tif", burned.astype(np.uint8), transform=transform, crs=crs)
    f = footprints_from_raster(path, classes=255)
    assert len(f) == len(labels) == 43
    got = np.asarray(f.geometry.values)
    truth = np.asarray(labels.geometry.values)
    union_got, union_truth = shapely.union_all(got), shapely.union_all(truth)
    iou = union_got.intersection(union_truth).area / union_got.union(union_truth).area
    assert iou >= 0.95  # measured 0.963
    tree = shapely.STRtree(got)
    each = []
    for t in truth:
        (match,) = tree.query(t, predicate="intersects")[
            np.argmax(shapely.area(shapely.intersection(got[tree.query(t)], t)))
        ].reshape(1)
        each.append(got[match].intersection(t).area / got[match].union(t).area)
    each = np.array(each)
    assert each.mean() >= 0.95  # measured 0.955
    assert each.min() >= 0.8  # the smallest building (18 m², 72 px) loses most to pixelation


@needs_solaris
def test_simplification_keeps_the_area():
    kwargs = {"classes": 255, "mask_from": SOLARIS / "sample_geotiff.tif"}
    exact = footprints_from_raster(SOLARIS / "sample_fp_mask.tif", simplify=False, **kwargs)
    simple = footprints_from_raster(SOLARIS / "sample_fp_mask.tif", **kwargs)
    assert simple["area_m2"].sum() == pytest.approx(exact["area_m2"].sum(), rel=1e-4)
    vertices = shapely.get_num_coordinates(simple.geometry.values).sum()
    assert vertices < shapely.get_num_coordinates(exact.geometry.values).sum()


# ----------------------------------------------------------------- WorldCover, memory


@needs_worldcover
@pytest.mark.slow
def test_worldcover_built_up_within_2_gb_and_true_area():
    code = textwrap.dedent(
        f"""
        import json, resource, time
        from landgis.io.raster import footprints_from_raster
        start = time.perf_counter()
        f = footprints_from_raster({str(WORLDCOVER)!r}, classes=50)
        print(json.dumps({{
            "count": len(f), "area": float(f["area_m2"].sum()), "crs": f.crs.to_epsg(),
            "valid": bool(f.is_valid.all()), "seconds": time.perf_counter() - start,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }}))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["peak_mb"] < 2048  # measured about 310 MB
    assert result["crs"] == 32632 and result["valid"]  # UTM 32N: outside China's GK zones
    pixels, expected = _worldcover_built_up_area()
    assert pixels == 181_604
    assert result["area"] == pytest.approx(expected, rel=0.01)  # measured +0.08 %


def _worldcover_built_up_area() -> tuple[int, float]:
    """Pixel count of class 50 and its true area: per row, count × the ground area of
    one cell, from the cylindrical equal-area projection EPSG:6933 (exact on the ellipsoid)."""
    from pyproj import Transformer
    from rasterio.windows import Window

    with rasterio.Env(GDAL_CACHEMAX=64), rasterio.open(WORLDCOVER) as ds:
        t = ds.transform
        per_row = np.zeros(ds.height, np.int64)
        for r in range(0, ds.height, 2048):
            h = min(2048, ds.height - r)
            per_row[r : r + h] = (ds.read(1, window=Window(0, r, ds.width, h)) == 50).sum(axis=1)
    rows = np.flatnonzero(per_row)
    top = t.f + t.e * rows
    to_ea = Transformer.from_crs(4326, 6933, always_xy=True)
    x0, y_top = to_ea.transform(np.full(len(rows), t.c), top)
    x1, y_bottom = to_ea.transform(np.full(len(rows), t.c + t.a), top + t.e)
    return int(per_row.sum()), float((per_row[rows] * (x1 - x0) * (y_top - y_bottom)).sum())


# ----------------------------------------------------------------- coverage


@pytest.fixture
def cover_raster(tmp_path):
    a = np.array(
        [
            [1, 1, 0, 0, 2, 2],
            [1, 1, 0, 0, 2, 2],
            [0, 1, 1, 0, 0, 255],
            [0, 0, 1, 1, 0, 0],
        ],
        np.uint8,
    )
    return write_tif(tmp_path / "cover.tif", a, nodata=255), a


def _brute_force(poly_local, a, classes, nodata=255):
    """Σ area(cell ∩ parcel) over covered cells / over cells with data, every cell tried."""
    covered = total = 0.0
    rows, cols = a.shape
    for r in range(rows):
        for c in range(cols):
            w = box(c, rows - r - 1, c + 1, rows - r).intersection(poly_local).area
            if a[r, c] == nodata:
                continue
            total += w
            covered += w * (a[r, c] in classes)
    return covered / total


def test_coverage_weights_partial_pixels_exactly(cover_raster):
    path, a = cover_raster
    triangle = shapely.Polygon([(0.3, 0.2), (5.7, 0.9), (2.2, 3.8)])
    holed = box(0, 0, 6, 4).difference(box(1.5, 1.5, 4.5, 2.5))
    local = [box(0.5, 0.5, 3.5, 3.25), triangle, holed]
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["A", "T", "H"]},
        geometry=[shapely.affinity.translate(g, X0, Y0) for g in local],
        crs=CRS,
        index=[10, 11, 12],
    )
    with pytest.warns(
        LandgisWarning, match=r"2 parcel\(s\) lie partly .* on nodata \(index 11, 12\)"
    ):
        got = coverage(parcels, path, classes=1)
    assert list(got.index) == [10, 11, 12] and got.name == "coverage"
    # A by hand: class-1 cells weigh 0.25·1.5 + 1·1.5 + 1·2 + 0.5·1.5 = 4.625 of 3 × 2.75
    assert Fraction(4.625) / Fraction(8.25) == Fraction(37, 66)
    assert got[10] == pytest.approx(37 / 66, abs=1e-12)
    # the others against every cell tried, on the coordinates as stored (X0 + 0.3 is
    # not exact in binary: the stored triangle differs from the local one by ~1e-8 m)
    stored = [shapely.affinity.translate(g, -X0, -Y0) for g in parcels.geometry]
    assert got[11] == pytest.approx(_brute_force(stored[1], a, {1}), abs=1e-12)
    assert got[12] == pytest.approx(_brute_force(stored[2], a, {1}), abs=1e-12)
    with pytest.warns(LandgisWarning):
        both = coverage(parcels, path, classes=[1, 2])
    assert both[11] == pytest.approx(_brute_force(stored[1], a, {1, 2}), abs=1e-12)


def test_coverage_leaves_out_nodata_and_the_outside(cover_raster):
    path, _ = cover_raster
    parcels = gpd.GeoDataFrame(
        geometry=[rect(4.5, 2.5, 8, 6), rect(5.1, 1.1, 5.9, 1.9), rect(20, 20, 30, 30)], crs=CRS
    )
    with pytest.warns(LandgisWarning, match="3 parcel"):
        got = coverage(parcels, path, classes=2)
    assert got[0] == 1.0  # all of it that lies on data is class 2
    assert np.isnan(got[1]) and np.isnan(got[2])  # on nodata, outside the raster


def test_coverage_in_another_crs_and_of_its_own_footprints(tmp_path):
    a = np.zeros((30, 40), np.uint8)
    a[3:20, 4:30] = 50
    a[22:28, 31:39] = 50
    path = write_tif(tmp_path / "built.tif", a)
    f = footprints_from_raster(path, classes=50, simplify=False)
    assert np.allclose(coverage(f, path, classes=50), 1.0, atol=1e-12)
    assert np.allclose(coverage(f.to_crs(4490), path, classes=50), 1.0, atol=1e-6)
    whole = gpd.GeoSeries([rect(0, 0, 40, 30)], crs=CRS)
    assert coverage(whole, path, classes=50)[0] == pytest.approx((a == 50).mean())


# ----------------------------------------------------------------- change


def _epochs():
    before = footprints_frame(
        [
            ("B1", "A", rect(0, 0, 10, 10)),
            ("B2", "B", rect(20, 0, 30, 10)),
            ("B3", "C", rect(40, 0, 50, 10)),
        ]
    )
    after = footprints_frame(
        [
            ("A1", "A", rect(0, 0, 15, 10)),  # grown by 5 × 10
            ("A2", "C", rect(40 + 3e-7, 0, 50, 10 - 2e-7)),  # redrawn: not a change
            ("A3", "D", rect(60, 0, 64, 5)),  # new, 20 m²
            ("A4", "A", rect(100, 0, 100.5, 1)),  # 0.5 m²: below min_area
        ]
    )
    return before, after


def test_use_change_on_two_hand_made_epochs():
    before, after = _epochs()
    got = use_change(before, after)
    rows = sorted(
        (r.category, r.holder, r.parcel_id, round(r.area_m2, 6)) for r in got.itertuples()
    )
    assert rows == [
        ("use_grown", "A", "", 50.0),
        ("use_new", "D", "", 20.0),
        ("use_removed", "B", "", 100.0),
    ]
    assert list(got.columns) == [*COLUMNS, *EXTRA_COLUMNS, "geometry"]
    assert set(got["group"]) == {"综合组"}
    assert dict(zip(got["category"], got["category_label"], strict=True)) == {
        "use_grown": "扩建用地",
        "use_new": "新增用地",
        "use_removed": "用地减少",
    }
    assert got["finding_id"].is_unique and got["lon"].between(119, 121).all()
    everything = use_change(before, after, min_area=0)
    assert len(everything) == 4  # the 0.5 m² speck, but no sliver of the redrawn C
    assert "C" not in set(everything["holder"])


def test_use_change_per_parcel_and_holder():
    before, after = _epochs()
    parcels = parcels_frame(
        [
            ("P1", "requisitioned", "A", rect(0, 0, 12, 10)),
            ("P2", "leased_in", "村1", rect(55, -5, 70, 10)),
            ("P3", "leased_out", "B", rect(20, 0, 30, 10)),
        ]
    )
    got = use_change(before, after, parcels=parcels)
    rows = sorted(
        (r.category, r.holder, r.parcel_id, r.other_holder, round(r.area_m2, 6))
        for r in got.itertuples()
    )
    assert rows == [
        ("use_grown", "A", "", "", 30.0),  # beyond the red line
        ("use_grown", "A", "P1", "", 20.0),
        ("use_new", "D", "P2", "村1", 20.0),
        ("use_removed", "B", "P3", "", 100.0),
    ]


def test_use_change_counts_overlapping_red_lines_once():
    before, after = _epochs()
    parcels = parcels_frame(
        [
            ("P1", "requisitioned", "A", rect(0, 0, 12, 10)),
            ("P4", "leased_out", "E", rect(11, 0, 20, 10)),  # overlaps P1 on x 11–12
        ]
    )
    got = use_change(before, after, parcels=parcels)
    grown = got[got["category"] == "use_grown"].set_index("parcel_id")["area_m2"]
    assert grown.sum() == pytest.approx(50.0)
    assert grown["P4"] == pytest.approx(40.0) and grown["P1"] == pytest.approx(10.0)


def test_change_findings_go_to_csv_and_map(tmp_path):
    from landgis.present.csv import write_csv
    from landgis.present.webmap import build_map, map_html
    from tests.test_webmap import page_data

    before, after = _epochs()
    got = use_change(before, after)
    table = pd.read_csv(write_csv(got, tmp_path / "change.csv"), encoding="utf-8-sig", dtype=str)
    assert set(table["问题类别"]) == {"扩建用地", "新增用地", "用地减少"}
    data = page_data(map_html(build_map(got, footprints=after, basemap="none")))
    ids = {layer["id"] for layer in data["layers"]}
    assert {"finding-use_new", "finding-use_grown", "finding-use_removed"} <= ids
    assert [r["code"] for r in data["legend"]["rows"]] == ["use_new", "use_grown", "use_removed"]


def test_use_change_from_two_rasters(tmp_path):
    first = np.zeros((10, 20), np.uint8)
    first[2:6, 2:6] = 1
    first[2:6, 10:14] = 1
    second = np.zeros((10, 20), np.uint8)
    second[2:6, 2:8] = 1  # grown by 4 × 2
    second[6:9, 16:19] = 1  # new, 3 × 3; the block at column 10 is gone (16)
    got = use_change_from_rasters(
        write_tif(tmp_path / "2023.tif", first), write_tif(tmp_path / "2024.tif", second), classes=1
    )
    assert sorted(zip(got["category"], got["area_m2"], strict=True)) == [
        ("use_grown", 8.0),
        ("use_new", 9.0),
        ("use_removed", 16.0),
    ]


# ----------------------------------------------------------------- orthophoto


@pytest.fixture
def rgb_tif(tmp_path):
    """200×100 px RGB, 0.5 m, uint8, with a black (nodata) stripe."""
    rng = np.random.default_rng(1)
    data = rng.integers(1, 255, size=(3, 100, 200), dtype=np.uint8)
    data[:, :, :20] = 0
    path = tmp_path / '<img src=x onerror="window.__xss=4">.tif'
    profile = {
        "driver": "GTiff",
        "width": 200,
        "height": 100,
        "count": 3,
        "dtype": "uint8",
        "crs": CRS,
        "transform": from_origin(X0, Y0 + 50, 0.5, 0.5),
        "nodata": 0,
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
    return path


def _png(url: str) -> np.ndarray:
    import base64

    from rasterio.io import MemoryFile

    assert url.startswith("data:image/png;base64,")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with MemoryFile(base64.b64decode(url.split(",", 1)[1])) as mem, mem.open() as ds:
            return ds.read()


def test_orthophoto_overlay_is_a_small_web_mercator_png(rgb_tif):
    from pyproj import Transformer

    image = orthophoto_overlay(rgb_tif, max_size=64)
    pixels = _png(image["url"])
    assert pixels.shape[0] == 4 and max(pixels.shape[1:]) <= 64
    assert image["size"] == [pixels.shape[2], pixels.shape[1]]
    lon, lat = Transformer.from_crs(CRS, 4326, always_xy=True).transform(
        [X0, X0 + 100], [Y0, Y0 + 50]
    )
    (south, west), (north, east) = image["bounds"]
    assert west == pytest.approx(lon[0], abs=2e-5) and east == pytest.approx(lon[1], abs=2e-5)
    assert south == pytest.approx(lat[0], abs=2e-5) and north == pytest.approx(lat[1], abs=2e-5)
    alpha = pixels[3]
    middle = alpha[alpha.shape[0] // 2]
    assert middle[: len(middle) // 20].max() == 0  # the nodata stripe is transparent
    assert middle[len(middle) // 4 :].min() == 255
    full = orthophoto_overlay(rgb_tif)
    assert max(full["size"]) <= 2048


@needs_solaris
def test_orthophoto_of_a_16_bit_grey_image():
    image = orthophoto_overlay(SOLARIS / "sample_geotiff.tif", max_size=300)
    pixels = _png(image["url"])
    assert max(image["size"]) == 300 and pixels[:3].std() > 10  # stretched, not black


def test_build_map_shows_the_orthophoto_as_data_only(rgb_tif):
    from landgis.present.webmap import build_map, map_html
    from tests.test_webmap import page_data

    before, after = _epochs()
    html = map_html(build_map(use_change(before, after), orthophoto=rgb_tif, basemap="none"))
    data = page_data(html)
    (image,) = data["images"]
    assert image["label"].startswith("影像·<img")
    assert html.count(image["url"][:200]) == 1
    assert "<img src=x" not in html  # the file name travels escaped in the JSON only
    plain = page_data(map_html(build_map(use_change(before, after), basemap="none")))
    assert plain["images"] == []


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium not installed")
def test_orthophoto_draws_offline_under_the_findings(rgb_tif, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from landgis.present.webmap import build_map, map_html

    before, after = _epochs()
    page_file = tmp_path / "map.html"
    page_file.write_text(
        map_html(build_map(use_change(before, after), orthophoto=rgb_tif)), encoding="utf-8"
    )
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route(
                "**/*",
                lambda r: (
                    r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()
                ),
            )
            page.goto(page_file.as_uri())
            page.wait_for_function("window.landgis !== undefined", timeout=15000)
            assert not errors
            assert page.evaluate("window.__xss") is None
            image = page.locator("img.lg-image")
            assert image.count() == 1
            assert page.evaluate(
                "document.querySelector('img.lg-image').complete && "
                "document.querySelector('img.lg-image').naturalWidth > 0"
            )
            pane = page.evaluate(
                "[getComputedStyle(document.querySelector('.leaflet-landgis-images-pane')).zIndex,"
                " getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex]"
            )
            assert int(pane[0]) < int(pane[1])  # under the vector layers
            labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
            assert any(re.search(r"影像·<img src=x", t) for t in labels)
            assert page.locator("path.lg-finding").count() == 3
        finally:
            browser.close()


def test_orthophoto_of_a_classified_raster_uses_its_colour_table(tmp_path):
    a = np.zeros((40, 60), np.uint8)
    a[:, 20:40] = 50
    a[:, 40:] = 80
    path = write_tif(tmp_path / "landcover.tif", a, nodata=0)
    with rasterio.open(path, "r+") as ds:
        ds.write_colormap(1, {0: (0, 0, 0, 0), 50: (250, 0, 0, 255), 80: (0, 100, 200, 255)})
    pixels = _png(orthophoto_overlay(path)["url"])
    colours = {tuple(int(v) for v in px) for px in pixels.reshape(4, -1).T}
    assert colours == {(0, 0, 0, 0), (250, 0, 0, 255), (0, 100, 200, 255)}  # no blending


# ----------------------------------------------------------------- into the audit


def test_raster_footprints_feed_the_audit(tmp_path):
    import landgis

    a = np.zeros((40, 60), np.uint8)
    a[5:15, 2:12] = 1  # 100 m² in A's parcel
    a[5:15, 22:34] = 1  # 120 m²: 100 in B's parcel, 20 beyond it
    a[25:35, 45:55] = 1  # 100 m² outside every red line, nobody's
    path = write_tif(tmp_path / "built.tif", a)
    parcels = parcels_frame(
        [
            ("P1", "requisitioned", "A", pixel_box(0, 0, 20, 20, height=40)),
            ("P2", "leased_out", "B", pixel_box(0, 20, 20, 12, height=40)),
            ("P3", "requisitioned", "C", pixel_box(20, 0, 20, 20, height=40)),
        ]
    )
    footprints = footprints_from_raster(path, classes=1, parcels=parcels, unknown_user="未知使用人")
    audit = landgis.audit(parcels, footprints)
    found = sorted((r.category, r.holder, round(r.area_m2, 6)) for r in audit.findings.itertuples())
    assert ("outside_redline", "B", 20.0) in found
    assert ("outside_redline", "未知使用人", 100.0) in found
    assert ("idle_requisitioned", "C", 400.0) in found
    idle = coverage(parcels, path, classes=1)
    assert list(idle) == [0.25, 100 / 240, 0.0]  # the same use, straight from the pixels
