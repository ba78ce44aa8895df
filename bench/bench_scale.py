"""Benchmark: partitioned audits from 60k to 3M footprints, local out-of-core and Dask.

Usage::

    python bench/bench_scale.py                                  # 60k, 600k, 3M; both engines
    python bench/bench_scale.py --sizes 60000 600000 --engines local
    python bench/bench_scale.py --scheduler tcp://10.0.0.5:8786  # Dask on a real cluster

Each park is generated once with ``bench/generate.py N --format parquet`` (cached
under ``--dir``, default ``bench/out/scale``).  Each (size, engine) runs in a
fresh Python process: it reads the parcels and planning zones (held in memory),
opens the footprints GeoParquet (read tile by tile), runs
:func:`landgis.scale.run_partitioned` and builds the findings.  The
parent samples the resident memory of that process and all its descendants
(the Dask scheduler and worker processes of a ``LocalCluster``) every 0.1 s;
``peak_gb`` is the largest sum.  Results are printed as a table and appended
to ``DIR/results.jsonl``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _child(args) -> None:
    """One run in this process; prints a JSON line."""
    import geopandas as gpd

    import landgis
    from landgis.config import load_campaign
    from landgis.findings import build_findings
    from landgis.io.stream import open_footprints
    from landgis.scale import run_partitioned

    folder = Path(args.park)
    t0 = time.perf_counter()
    parcels = landgis.read_parcels(gpd.read_parquet(folder / "parcels.parquet"))
    planning = landgis.read_planning(gpd.read_parquet(folder / "planning.parquet"))
    source = open_footprints(folder / "footprints.parquet", crs=parcels.crs)
    t_read = time.perf_counter() - t0
    client = None
    if args.engine == "dask":
        from distributed import Client, LocalCluster

        if args.scheduler:
            client = Client(args.scheduler)
        else:
            cluster = LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            client = Client(cluster)
    t1 = time.perf_counter()
    stats: dict = {}
    result = run_partitioned(
        parcels,
        source,
        planning,
        engine=args.engine,
        client=client,
        memory_budget=args.memory_budget if args.engine == "local" else None,
        tile_size=args.tile_size,
        progress=lambda s: print(s, file=sys.stderr, flush=True),
        on_partition=lambda e: print(
            f"  {e.done}/{e.total} tile {e.tile}: {e.footprints:,} footprints, "
            f"{e.seconds:.1f} s, {e.worker}",
            file=sys.stderr,
            flush=True,
        ),
        stats=stats,
    )
    t_engine = time.perf_counter() - t1
    findings = build_findings(
        result.raw, parcels=parcels, campaign=load_campaign(None), planning=planning
    )
    t_total = time.perf_counter() - t0
    if client is not None:
        client.close()
    print(
        json.dumps(
            {
                "footprints": len(source),
                "parcels": len(parcels),
                "engine": args.engine,
                "findings": len(findings),
                "read_s": round(t_read, 2),
                "engine_s": round(t_engine, 2),
                "total_s": round(t_total, 2),
                "tiles": stats["tiles"],
                "tile_size_m": round(stats["tile_size"]),
                "halo_m": round(stats["halo"]),
                "retries": stats["retries"],
                "resolved_after_merge": stats["resolved_after_merge"],
                "footprints_loaded": stats["footprints_loaded"],
            }
        )
    )


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def _measure(cmd: list[str]) -> dict:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            stop.wait(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode})")
    record = json.loads(out.strip().splitlines()[-1])
    record["peak_gb"] = round(peak[0] / 1e9, 2)
    return record


def _generate(n: int, folder: Path, ownership: str = "spread") -> None:
    if (folder / "footprints.parquet").is_file():
        return
    subprocess.run(
        [
            sys.executable,
            str(HERE / "generate.py"),
            str(n),
            "--out",
            str(folder),
            "--format",
            "parquet",
            "--ownership",
            ownership,
        ],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[60_000, 600_000, 3_000_000])
    parser.add_argument(
        "--engines", nargs="+", default=["local", "dask"], choices=["local", "dask"]
    )
    parser.add_argument("--dir", type=Path, default=HERE / "out" / "scale")
    parser.add_argument(
        "--memory-budget", type=float, default=6.0, help="GB for the local engine (default 6)"
    )
    parser.add_argument("--tile-size", type=float, help="tile side, m (default: from the budget)")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    parser.add_argument(
        "--ownership",
        choices=("spread", "skewed"),
        default="spread",
        help="park shape: holders of a few dozen parcels, or a few of thousands (issue 16)",
    )
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--park", help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    args.dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        folder = args.dir / (f"park-{n}" if args.ownership == "spread" else f"park-{n}-skewed")
        _generate(n, folder, args.ownership)
        for engine in args.engines:
            cmd = [
                sys.executable,
                __file__,
                "--child",
                "--park",
                str(folder),
                "--engine",
                engine,
                "--memory-budget",
                str(args.memory_budget),
                "--workers",
                str(args.workers),
            ]
            if args.tile_size:
                cmd += ["--tile-size", str(args.tile_size)]
            if args.scheduler:
                cmd += ["--scheduler", args.scheduler]
            record = _measure(cmd)
            record["us_per_footprint"] = round(record["total_s"] / record["footprints"] * 1e6, 1)
            print(json.dumps(record), flush=True)
            with (args.dir / "results.jsonl").open("a") as fh:
                fh.write(json.dumps(record) + "\n")
            rows.append(record)

    import pandas as pd

    table = pd.DataFrame(rows)
    cols = ["footprints", "engine", "tiles", "total_s", "engine_s", "peak_gb", "us_per_footprint"]
    print(table[cols].to_string(index=False))
    for engine, group in table.groupby("engine"):
        base = group.sort_values("footprints").iloc[0]
        for r in group.sort_values("footprints").itertuples():
            print(
                f"{engine}: {r.footprints:,} footprints: time per footprint "
                f"{r.us_per_footprint / base.us_per_footprint:.2f}× that at {base.footprints:,}"
            )


if __name__ == "__main__":
    main()
