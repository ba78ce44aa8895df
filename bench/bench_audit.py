"""Benchmark: landgis against the plain GeoPandas way and DuckDB, same park, same run.

Usage::

    python bench/bench_audit.py                 # 60,000 footprints (~25,000 parcels)
    python bench/bench_audit.py --footprints 10000 --seed 2
    python bench/bench_audit.py --ownership skewed --violations 0.1
    python bench/bench_audit.py --shapes        # spread/skewed x dense (1.0)/sparse (0.1)

The park comes from ``landgis.testing.synthetic.make_park`` (``--ownership``,
``--violations``: its shape) and is written once to GeoPackages under
``bench/out/``.  Each contender then runs in a fresh Python process (so its
peak memory is its own):

* ``read``           — reading the two GeoPackages with GeoPandas, nothing else;
* ``floor``          — reading them and writing one CSV (the footprints'
  attributes): the floor of issue 16's "at most 4x reading and writing";
* ``textbook``       — read + ``bench/plain_geopandas.textbook_audit``: dissolve,
  then overlay the dissolved layers, as first written (the "plain GeoPandas way"
  of the yardstick table in NOTES.md) + writing its tables;
* ``plain``          — the same with the usual tuning (explode the dissolved
  parts before overlaying, row-aligned set operations): a careful analyst;
* ``duckdb``         — ``bench/duckdb_way.py``: DuckDB spatial SQL (``ST_Read``,
  spatial joins, grouped unions) with ``ST_ReducePrecision(…, 1e-6)`` on the
  inputs and the overlay results, the fastest peer that gets the figures
  right; needs ``pip install 'landgis[bench]'``;
* ``landgis engine`` — read + ``landgis.engine.run`` (the audit call alone is timed);
* ``landgis CLI``    — the whole ``landgis audit … -o OUT`` command: read,
  validate, audit, build findings, write CSV + GeoPackage + summaries.

It prints wall seconds, peak memory (max RSS), the ratios baseline/landgis,
how far landgis' per-holder figures are from each baseline's (the GeoPandas
ways are fooled where parcels meet, see ``plain_geopandas.py``; DuckDB with
``ST_ReducePrecision`` is not), and the acceptance ratios of issue 16.  With
several shapes (``--shapes``, or several values of ``--ownership`` and
``--violations``) it prints one table per shape.  Figures vary with the load
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


def _worker(method: str, folder: Path, threads: int | None = None) -> None:
    """Run one contender in this process and print a JSON line of its figures."""
    import geopandas as gpd

    out = folder / f"result-{method}"
    out.mkdir(exist_ok=True)
    start = time.perf_counter()
    record: dict = {"method": method}
    if method == "read":
        gpd.read_file(folder / "parcels.gpkg", engine="pyogrio", use_arrow=True)
        gpd.read_file(folder / "footprints.gpkg", engine="pyogrio", use_arrow=True)
    elif method == "floor":
        # reading the two inputs and writing one CSV: what no audit can go below
        gpd.read_file(folder / "parcels.gpkg", engine="pyogrio", use_arrow=True)
        footprints = gpd.read_file(folder / "footprints.gpkg", engine="pyogrio", use_arrow=True)
        footprints.drop(columns=footprints.geometry.name).to_csv(
            out / "footprints.csv", index=False
        )
    elif method == "duckdb":
        sys.path.insert(0, str(HERE))
        import duckdb_way

        con = duckdb_way.connect(threads=threads)
        duckdb_way.read(con, folder / "parcels.gpkg", folder / "footprints.gpkg")
        t0 = time.perf_counter()
        holders, table = duckdb_way.duckdb_audit(con)
        record["audit_s"] = time.perf_counter() - t0
        holders.to_csv(out / "holders.csv")
        table.to_csv(out / "parcels.csv")
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


def _make(folder: Path, n: int, seed: int, ownership: str, violations: float) -> dict:
    """Generate the park once (cached in ``folder``); a few facts about its shape."""
    import pyogrio

    if not (folder / "footprints.gpkg").is_file():
        from landgis.testing.synthetic import make_park

        folder.mkdir(parents=True, exist_ok=True)
        parcels, footprints, _ = make_park(n, seed=seed, ownership=ownership, violations=violations)
        parcels.to_file(folder / "parcels.gpkg", engine="pyogrio")
        footprints.to_file(folder / "footprints.gpkg", engine="pyogrio")
    holders = pyogrio.read_dataframe(
        folder / "parcels.gpkg", columns=["holder"], read_geometry=False
    )["holder"]
    users = pyogrio.read_dataframe(
        folder / "footprints.gpkg", columns=["user"], read_geometry=False
    )["user"]
    per_holder = holders.value_counts()
    return {
        "parcels": len(holders),
        "footprints": len(users),
        "holders": len(set(holders) | set(users)),
        "largest": int(per_holder.iloc[0]) if len(per_holder) else 0,
        "with_100": int((per_holder >= 100).sum()),
    }


def _folder(args, ownership: str, violations: float) -> Path:
    if args.dir:
        return args.dir
    return HERE / "out" / f"park-{args.footprints}-s{args.seed}-{ownership}-v{violations:g}"


def _agreement(folder: Path, name: str, ours) -> tuple[int, float, list[str]]:
    """Holders whose figures differ from landgis' by more than 0.01 m² (or that one side
    lacks), the largest difference and the first such holders."""
    import pandas as pd

    theirs = pd.read_csv(folder / f"result-{name}" / "holders.csv", index_col=0)
    diff = (ours[FIGURES] - theirs[FIGURES].reindex(ours.index)).abs()
    off = (diff > 0.01).any(axis=1) | diff.isna().any(axis=1)
    names = [*ours.index[off], *theirs.index.difference(ours.index)]
    return len(names), float(diff.max().max()) if len(diff) else 0.0, names


def _shape(args, ownership: str, violations: float) -> None:
    """Run every contender on the park of one shape and print its table."""
    import pandas as pd

    folder = _folder(args, ownership, violations)
    density = "dense" if violations >= 0.5 else "sparse"
    shape = f"ownership {ownership}, violations {violations} ({density})"
    if args.dir and (folder / "footprints.gpkg").is_file():
        shape = "the park in --dir, as it is"
    park = _make(folder, args.footprints, args.seed, ownership, violations)
    print(
        f"\n#### shape: {shape}\n"
        f"park: {park['footprints']:,} footprints, {park['parcels']:,} parcels, "
        f"{park['holders']:,} holders and users (largest holds {park['largest']:,} parcels, "
        f"{park['with_100']} hold 100 or more) ({folder})",
        flush=True,
    )
    me = [sys.executable, __file__, "--dir", str(folder)]
    if args.duckdb_threads:
        me += ["--duckdb-threads", str(args.duckdb_threads)]
    me.append("--worker")
    methods = ["read", "floor", *args.baselines, "engine"]
    rows = [_spawn([*me, m]) for m in methods] + [_cli(folder)]
    table = pd.DataFrame(rows).set_index("method")
    print(table.round(2).to_string())
    engine, cli, read, floor = (table.loc[m] for m in ("engine", "cli", "read", "floor"))
    ours = pd.read_csv(folder / "result-engine" / "holders.csv", index_col=0)
    print(f"landgis CLI = {cli.wall_s / read.wall_s:.1f}x the time to read the two files")
    agreement = {}
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
        off, largest, names = _agreement(folder, name, ours)
        agreement[name] = (off, largest)
        print(
            f"holders whose figures differ by more than 0.01 m²: {off} of "
            f"{len(ours)}; largest difference {largest:,.1f} m²"
            + (f" ({', '.join(names[:3])} …)" if off else "")
        )

    # -- issue 16's acceptance, on this shape -----------------------------------
    def check(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(f"\n== acceptance (issue 16), {shape} ==")
    lines = []
    for name, target in (("duckdb", 3.0), ("plain", 3.0), ("textbook", 10.0)):
        if name not in table.index:
            lines.append((f"CLI vs {name}", "not run", f">= {target:g}x", ""))
            continue
        ratio = table.loc[name, "wall_s"] / cli.wall_s
        lines.append((f"CLI vs {name}", f"{ratio:.2f}x", f">= {target:g}x", check(ratio >= target)))
    ratio = cli.wall_s / floor.wall_s
    lines.append(("CLI / floor", f"{ratio:.2f}x", "<= 4x", check(ratio <= 4.0)))
    if "plain" in table.index:
        ratio = cli.peak_mb / table.loc["plain", "peak_mb"]
        lines.append(("peak RSS CLI / plain", f"{ratio:.2f}", "<= 1", check(ratio <= 1.0)))
    else:
        lines.append(("peak RSS CLI / plain", "not run", "<= 1", ""))
    for name, (off, largest) in agreement.items():
        right = name == "duckdb"  # the snap-rounded baseline; the GeoPandas ways float
        lines.append(
            (
                f"agreement with {name}",
                f"{off} of {len(ours)} differ (max {largest:,.3f} m²)",
                "0 differ" if right else "(floating point: informative)",
                check(off == 0) if right else "",
            )
        )
    width = max(len(line[0]) for line in lines)
    value = max(len(line[1]) for line in lines)
    goal = max(len(line[2]) for line in lines)
    for what, got, target, verdict in lines:
        print(f"{what:<{width}}  {got:>{value}}  {target:<{goal}}  {verdict}".rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--footprints", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--ownership",
        nargs="+",
        choices=["spread", "skewed"],
        help="make_park(ownership=): spread (default) or skewed; several: one table each",
    )
    parser.add_argument(
        "--violations",
        nargs="+",
        type=float,
        help="make_park(violations=): 1.0 dense (default), 0.1 sparse; several: one table each",
    )
    parser.add_argument(
        "--shapes",
        action="store_true",
        help="every shape: ownership spread and skewed x violations 1.0 and 0.1 "
        "(narrow it with --ownership/--violations); textbook off unless named in --baselines",
    )
    parser.add_argument(
        "--baselines",
        nargs="+",
        choices=["plain", "textbook", "duckdb"],
        help="ways to compare with (default: plain textbook duckdb; with --shapes: plain duckdb)",
    )
    parser.add_argument(
        "--duckdb-threads", type=int, help="DuckDB threads (default: DuckDB's, all cores)"
    )
    parser.add_argument("--dir", type=Path, help="an existing park folder to use instead")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.dir, args.duckdb_threads)
        return

    ownerships = args.ownership or (["spread", "skewed"] if args.shapes else ["spread"])
    violations = args.violations or ([1.0, 0.1] if args.shapes else [1.0])
    if args.baselines is None:
        args.baselines = ["plain", "duckdb"] if args.shapes else ["plain", "textbook", "duckdb"]
        try:
            sys.path.insert(0, str(HERE))
            import duckdb_way

            duckdb_way.spatial_extension_path()
        except (ImportError, RuntimeError) as err:
            print(f"duckdb baseline skipped ({err}); pip install 'landgis[bench]'")
            args.baselines.remove("duckdb")
    shapes = [(o, v) for o in ownerships for v in violations]
    if args.dir and len(shapes) > 1:
        parser.error("--dir is one park: give one shape")
    for ownership, share in shapes:
        _shape(args, ownership, share)


if __name__ == "__main__":
    main()
