"""Benchmark: landgis against the plain GeoPandas way, same park, same run.

Usage::

    python bench/bench_audit.py                 # 60,000 footprints (~25,000 parcels)
    python bench/bench_audit.py --footprints 10000 --seed 2

The park comes from ``landgis.testing.synthetic.make_park`` and is written once to
GeoPackages under ``bench/out/``.  Each contender then runs in a fresh Python
process (so its peak memory is its own):

* ``read``           — reading the two GeoPackages with GeoPandas, nothing else;
* ``textbook``       — read + ``bench/plain_geopandas.textbook_audit``: dissolve,
  then overlay the dissolved layers, as first written (the "plain GeoPandas way"
  of the yardstick table in NOTES.md) + writing its tables;
* ``plain``          — the same with the usual tuning (explode the dissolved
  parts before overlaying, row-aligned set operations): a careful analyst;
* ``landgis engine`` — read + ``landgis.engine.run`` (the audit call alone is timed);
* ``landgis CLI``    — the whole ``landgis audit … -o OUT`` command: read,
  validate, audit, build findings, write CSV + GeoPackage + summaries.

It prints wall seconds, peak memory (max RSS), the ratios plain/landgis, and
how far landgis' per-holder figures are from the plain way's (which is fooled
where parcels meet; see ``plain_geopandas.py``).  Figures vary with the load
of the machine: compare ratios from one run, not seconds across runs.
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIGURES = ["used_m2", "own_m2", "encroachment_m2", "outside_redline_m2", "park_overuse_m2"]


def _peak_mb() -> float:
    """Peak resident memory of this process, MB: VmHWM, its own address space's high-water mark.

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux keeps that across execve, so
    a child started with vfork (as ``subprocess`` does) reports at least the
    parent's peak -- every contender showed the memory of the parent that had
    just generated the park.  (The CLI's child runs this function's source.)
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _worker(method: str, folder: Path) -> None:
    """Run one contender in this process and print a JSON line of its figures."""
    import geopandas as gpd

    out = folder / f"result-{method}"
    out.mkdir(exist_ok=True)
    start = time.perf_counter()
    record: dict = {"method": method}
    if method == "read":
        gpd.read_file(folder / "parcels.gpkg", engine="pyogrio", use_arrow=True)
        gpd.read_file(folder / "footprints.gpkg", engine="pyogrio", use_arrow=True)
    elif method in ("plain", "textbook"):
        sys.path.insert(0, str(HERE))
        import plain_geopandas

        audit = getattr(plain_geopandas, f"{method}_audit")
        parcels = gpd.read_file(folder / "parcels.gpkg")
        footprints = gpd.read_file(folder / "footprints.gpkg")
        t0 = time.perf_counter()
        holders, table = audit(parcels, footprints)
        record["audit_s"] = time.perf_counter() - t0
        holders.to_csv(out / "holders.csv")
        table.to_csv(out / "parcels.csv")
    elif method == "engine":
        import landgis
        from landgis.engine import run

        parcels = landgis.read_parcels(folder / "parcels.gpkg")
        footprints = landgis.read_footprints(folder / "footprints.gpkg")
        t0 = time.perf_counter()
        result = run(parcels, footprints)
        record["audit_s"] = time.perf_counter() - t0
        result.holders[FIGURES].to_csv(out / "holders.csv")
    else:
        raise SystemExit(f"unknown method {method}")
    record["wall_s"] = time.perf_counter() - start
    record["peak_mb"] = _peak_mb()
    print(json.dumps(record))


def _spawn(args: list[str]) -> dict:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cli(folder: Path) -> dict:
    """Time the real command in a child; its peak RSS from the child's VmHWM."""
    out = folder / "result-cli"
    code = inspect.getsource(_peak_mb) + (
        "import sys, time, json\n"
        "from landgis.cli import main\n"
        "t = time.perf_counter()\n"
        "try:\n"
        "    main(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n"
        "    print(json.dumps({'method': 'cli', 'wall_s': time.perf_counter() - t,\n"
        "        'peak_mb': _peak_mb()}))\n"
    )
    return _spawn(
        [
            sys.executable,
            "-c",
            code,
            "audit",
            str(folder / "parcels.gpkg"),
            str(folder / "footprints.gpkg"),
            "-o",
            str(out),
            "-q",
        ]
    )


def _make(folder: Path, n: int, seed: int) -> tuple[int, int]:
    import pyogrio

    if not (folder / "footprints.gpkg").is_file():
        from landgis.testing.synthetic import make_park

        folder.mkdir(parents=True, exist_ok=True)
        parcels, footprints, _ = make_park(n, seed=seed)
        parcels.to_file(folder / "parcels.gpkg", engine="pyogrio")
        footprints.to_file(folder / "footprints.gpkg", engine="pyogrio")
    info = pyogrio.read_info
    return (info(folder / "parcels.gpkg")["features"], info(folder / "footprints.gpkg")["features"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--footprints", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--baselines",
        nargs="+",
        default=["plain", "textbook"],
        choices=["plain", "textbook"],
        help="GeoPandas ways to compare with",
    )
    parser.add_argument("--dir", type=Path, help="an existing park folder to use instead")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.dir)
        return

    import pandas as pd

    folder = args.dir or HERE / "out" / f"park-{args.footprints}-s{args.seed}"
    n_parcels, n_footprints = _make(folder, args.footprints, args.seed)
    print(f"park: {n_footprints:,} footprints, {n_parcels:,} parcels ({folder})")
    me = [sys.executable, __file__, "--dir", str(folder), "--worker"]
    methods = ["read", *args.baselines, "engine"]
    rows = [_spawn([*me, m]) for m in methods] + [_cli(folder)]
    table = pd.DataFrame(rows).set_index("method")
    print(table.round(2).to_string())
    engine, cli, read = (table.loc[m] for m in ("engine", "cli", "read"))
    ours = pd.read_csv(folder / "result-engine" / "holders.csv", index_col=0)
    print(f"landgis CLI = {cli.wall_s / read.wall_s:.1f}x the time to read the two files")
    for name in args.baselines:
        base = table.loc[name]
        print(f"\n== landgis vs {name} ==")
        print(
            f"audit call:  {name} {base.audit_s:.2f} s / landgis {engine.audit_s:.2f} s "
            f"= {base.audit_s / engine.audit_s:.1f}x"
        )
        print(
            f"whole run:   {name} {base.wall_s:.2f} s / landgis CLI {cli.wall_s:.2f} s "
            f"= {base.wall_s / cli.wall_s:.1f}x"
        )
        print(
            f"peak memory: {name} {base.peak_mb:,.0f} MB, landgis CLI {cli.peak_mb:,.0f} MB "
            f"({cli.peak_mb / base.peak_mb:.2f}x)"
        )
        theirs = pd.read_csv(folder / f"result-{name}" / "holders.csv", index_col=0)
        diff = (ours[FIGURES] - theirs[FIGURES].reindex(ours.index)).abs()
        off = (diff > 0.01).any(axis=1)
        print(
            f"holders whose figures differ by more than 0.01 m²: {int(off.sum())} of "
            f"{len(ours)}; largest difference {diff.max().max():,.1f} m²"
            + (f" ({', '.join(ours.index[off][:3])} …)" if off.any() else "")
        )


if __name__ == "__main__":
    main()
