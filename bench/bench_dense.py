"""Benchmark: one dense red line (10^4 to 10^6 vertices) against the sample park.

Usage::

    python bench/bench_dense.py                          # 10^4, 10^5, 10^6; every shape
    python bench/bench_dense.py --sizes 10000 100000 --shapes edges --cap 60

The sample park (``data/boundaries``) with one red line redrawn densely:

``edges``
    华达's red line (321202001001, 100 m × 100 m) with vertices inserted along
    its own edges: the same land, so every finding must stay as it is.  华达's
    footprint TB001 runs along three of these edges: the case of issue 19
    (GEOS snap-rounding quadratic in the vertices along an edge).
``circle``
    华达's red line replaced by the circle inscribed in it, sampled at N
    vertices (the four corners of TB001 come out as outside_redline).
``crossing``
    ``circle``, and TB001 redrawn as the same circle sampled at 3N/4 + 1
    vertices: two samplings of one arc cross each other at almost every
    vertex (the same quadratic snap-rounding, and thinning cannot help).

Each (shape, size, contender) runs in a fresh Python process, killed after
``--cap`` seconds:

``engine``
    ``landgis.engine.run`` on the layers read by ``landgis.read_parcels`` etc.
    (the call alone is timed, on one thread).
``cli``
    the whole ``landgis audit P F --planning Z -o OUT -q``: read, audit,
    findings, CSV, GeoPackage.
``plain``
    ``bench/plain_geopandas.plain_audit``: dissolve + overlay in GeoPandas,
    no grid (the call alone).
``before``
    the engine with its dense-geometry handling switched off (no thinning, no
    cells: ``DENSE_VERTICES`` and ``CELL_VERTICES`` set beyond reach), as it
    was before issue 19; not run above 10^5 vertices.

Every engine run's per-holder figures are compared with the plain sample park
(``edges``) or with the smallest size of the shape: ``max |Δ| m²``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "data" / "boundaries"
FIGURES = [
    "used_m2",
    "own_m2",
    "encroachment_m2",
    "outside_redline_m2",
    "park_overuse_m2",
]
SHAPES = ("edges", "circle", "crossing")


def _make(folder: Path, shape: str, vertices: int) -> Path:
    """The sample park's layers with 华达's red line (and, for crossing, TB001) redrawn."""
    import geopandas as gpd
    import numpy as np

    from landgis.testing.synthetic import densify, sampled_circle

    park = folder / f"{shape}-{vertices}"
    if (park / "footprints.gpkg").is_file():
        return park
    park.mkdir(parents=True, exist_ok=True)
    parcels = gpd.read_file(SAMPLE / "parcels.gpkg")
    footprints = gpd.read_file(SAMPLE / "footprints.gpkg")
    geoms = np.asarray(parcels.geometry.values, dtype=object).copy()
    x0, y0, x1, y1 = geoms[0].bounds
    if vertices:
        if shape == "edges":
            geoms[0] = densify(geoms[0], vertices)
        else:
            geoms[0] = sampled_circle((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, vertices)
    parcels = parcels.set_geometry(gpd.GeoSeries(geoms, index=parcels.index, crs=parcels.crs))
    if shape == "crossing" and vertices:
        used = np.asarray(footprints.geometry.values, dtype=object).copy()
        used[0] = sampled_circle((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, vertices * 3 // 4 + 1)
        footprints = footprints.set_geometry(
            gpd.GeoSeries(used, index=footprints.index, crs=footprints.crs)
        )
    parcels.to_file(park / "parcels.gpkg")
    footprints.to_file(park / "footprints.gpkg")
    return park


def _worker(method: str, park: Path) -> None:
    """One contender in this process; prints a JSON line."""
    import landgis
    from landgis.engine import ops, run

    record: dict = {"method": method}
    parcels = landgis.read_parcels(park / "parcels.gpkg")
    footprints = landgis.read_footprints(park / "footprints.gpkg")
    planning = landgis.read_planning(SAMPLE / "planning.gpkg")
    t0 = time.perf_counter()
    if method in ("engine", "before"):
        if method == "before":
            ops.DENSE_VERTICES = ops.CELL_VERTICES = sys.maxsize
        holders = run(parcels, footprints, planning, threads=1).holders[FIGURES]
    elif method == "plain":
        sys.path.insert(0, str(HERE))
        import plain_geopandas

        holders = plain_geopandas.plain_audit(parcels, footprints)[0][FIGURES]
    else:
        raise SystemExit(f"unknown method {method}")
    record["seconds"] = time.perf_counter() - t0
    record["holders"] = holders.sort_index().to_dict(orient="split")
    record["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(record))


def _spawn(args: list[str], cap: float) -> dict | None:
    """Run a child; its JSON line, or None when it ran past ``cap`` seconds."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=cap, check=False)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cli(park: Path, cap: float) -> dict | None:
    out = park / "out"
    start = time.perf_counter()
    args = [sys.executable, "-m", "landgis.cli", "audit", str(park / "parcels.gpkg")]
    args += [str(park / "footprints.gpkg"), "--planning", str(SAMPLE / "planning.gpkg")]
    try:
        done = subprocess.run(
            [*args, "-o", str(out), "-q"], capture_output=True, text=True, timeout=cap
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise SystemExit(f"landgis audit failed:\n{done.stderr}")
    return {"method": "cli", "seconds": time.perf_counter() - start}


def _max_difference(a: dict, b: dict) -> float:
    import numpy as np

    if a["index"] != b["index"]:
        return float("inf")
    return float(np.abs(np.array(a["data"]) - np.array(b["data"])).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--shapes", nargs="+", choices=SHAPES, default=list(SHAPES))
    parser.add_argument(
        "--methods", nargs="+", default=["engine", "cli", "plain", "before"],
        choices=["engine", "cli", "plain", "before"],
    )  # fmt: skip
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per run (default 120)")
    parser.add_argument("--dir", type=Path, default=HERE / "out" / "dense")
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "PARK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker[0], Path(args.worker[1]))
        return

    rows = []
    for shape in args.shapes:
        reference = None
        for vertices in ([0] if shape == "edges" else []) + args.sizes:
            park = _make(args.dir, shape, vertices)
            for method in args.methods:
                if method == "before" and vertices > 100_000:
                    continue  # quadratic: hours at 10^6 (issue 19: not done after 40 minutes)
                if method == "cli":
                    record = _cli(park, args.cap)
                else:
                    cmd = [sys.executable, __file__, "--worker", method, str(park)]
                    record = _spawn(cmd, args.cap)
                row = {"shape": shape, "vertices": vertices, "method": method}
                if record is None:
                    row["seconds"] = None
                else:
                    row["seconds"] = record["seconds"]
                    if method == "engine":
                        if reference is None:
                            reference = record["holders"]
                        row["max_diff_m2"] = _max_difference(record["holders"], reference)
                rows.append(row)
                _print_row(row, args.cap)
    _print_table(rows, args.cap)


def _print_row(row: dict, cap: float) -> None:
    took = f"{row['seconds']:.2f} s" if row["seconds"] is not None else f"> {cap:g} s (killed)"
    print(f"{row['shape']:>8} {row['vertices']:>9,} {row['method']:>7}: {took}", flush=True)


def _print_table(rows: list[dict], cap: float) -> None:
    print()
    print("| shape | vertices | contender | seconds | µs per vertex | vs plain | max Δ m² |")
    print("|---|---|---|---|---|---|---|")
    plain = {(r["shape"], r["vertices"]): r["seconds"] for r in rows if r["method"] == "plain"}
    ran_plain = any(r["method"] == "plain" for r in rows)
    for r in rows:
        s = r["seconds"]
        took = f"{s:.2f}" if s is not None else f"> {cap:g}"
        per = f"{s / r['vertices'] * 1e6:.2f}" if s is not None and r["vertices"] else ""
        p = plain.get((r["shape"], r["vertices"]))
        ratio = ""
        if s and r["method"] in ("engine", "before") and ran_plain:
            ratio = f"{p / s:.1f}×" if p else f"> {cap / s:.0f}×"  # plain killed at the cap
        diff = f"{r['max_diff_m2']:.2g}" if "max_diff_m2" in r else ""
        cells = [r["shape"], f"{r['vertices']:,}", r["method"], took, per, ratio, diff]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
