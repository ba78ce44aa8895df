"""Write a synthetic park to disk, tile by tile.

Usage::

    python bench/generate.py 60000 --out /tmp/park60k
    python bench/generate.py 3000000 --out /tmp/park3m --format parquet

writes ``parcels``, ``footprints`` and ``planning`` as GeoPackage
(``DIR/parcels.gpkg`` ...) or GeoParquet (``DIR/parcels.parquet`` ...), and
prints the counts and the seconds spent generating and writing. Tiles are
generated and appended one at a time, so memory stays bounded by one tile.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("parcels", "footprints", "planning")


def _load_synthetic():
    """``landgis.testing.synthetic``, or the module file itself if the package is broken."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        from landgis.testing import synthetic
    except Exception:  # the package may be mid-refactor; the module stands alone
        spec = importlib.util.spec_from_file_location(
            "landgis_synthetic", ROOT / "landgis" / "testing" / "synthetic.py"
        )
        synthetic = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = synthetic
        spec.loader.exec_module(synthetic)
    return synthetic


class _ParquetSink:
    """Append GeoDataFrames to one GeoParquet file (WKB, GeoParquet 1.0)."""

    def __init__(self, path: Path, geometry_types: list[str]):
        self.path = path
        self.geometry_types = geometry_types
        self.writer = None

    def write(self, gdf) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq
        import shapely

        table = pa.Table.from_pandas(gdf.drop(columns=gdf.geometry.name), preserve_index=False)
        table = table.append_column(
            "geometry", pa.array(shapely.to_wkb(gdf.geometry.values), pa.binary())
        )
        if self.writer is None:
            geo = {
                "version": "1.0.0",
                "primary_column": "geometry",
                "columns": {
                    "geometry": {
                        "encoding": "WKB",
                        # no "bbox": it would only describe the first tile
                        "geometry_types": self.geometry_types,
                        "crs": gdf.crs.to_json_dict() if gdf.crs else None,
                    }
                },
            }
            meta = dict(table.schema.metadata or {})
            meta.pop(b"pandas", None)
            meta[b"geo"] = json.dumps(geo).encode()
            self.schema = table.schema.with_metadata(meta)
            self.writer = pq.ParquetWriter(self.path, self.schema)
        self.writer.write_table(table.cast(self.schema))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _GpkgSink:
    """Append GeoDataFrames to one GeoPackage layer via pyogrio."""

    def __init__(self, path: Path, layer: str, geometry_type: str):
        self.path = path
        self.layer = layer
        self.geometry_type = geometry_type
        self.first = True

    def write(self, gdf) -> None:
        import pyogrio

        pyogrio.write_dataframe(
            gdf,
            self.path,
            layer=self.layer,
            driver="GPKG",
            append=not self.first,
            geometry_type=self.geometry_type,
            promote_to_multi=False,
        )
        self.first = False

    def close(self) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate a synthetic park (parcels, footprints, planning zones)."
    )
    parser.add_argument("n", type=int, help="number of footprints")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--format", choices=("gpkg", "parquet"), default="gpkg", help="file format")
    parser.add_argument(
        "--tile-footprints",
        type=int,
        default=50_000,
        help="footprints per generated tile (default 50000)",
    )
    parser.add_argument(
        "--parcels-per-footprint",
        type=float,
        default=25 / 60,
        help="parcel rows per footprint (default 25/60)",
    )
    parser.add_argument(
        "--ownership",
        choices=("spread", "skewed"),
        default="spread",
        help="holders with a few dozen parcels (spread), or a few with thousands (skewed)",
    )
    parser.add_argument(
        "--violations", type=float, default=1.0, help="share of rule-breaking use (default 1)"
    )
    args = parser.parse_args(argv)

    synthetic = _load_synthetic()
    args.out.mkdir(parents=True, exist_ok=True)
    geometry_types = {
        "parcels": ["Polygon", "MultiPolygon"],
        "footprints": ["Polygon"],
        "planning": ["Polygon"],
    }
    sinks = {}
    for layer in LAYERS:
        path = args.out / f"{layer}.{args.format}"
        if path.exists():
            path.unlink()
        if args.format == "gpkg":
            gtype = "Unknown" if layer == "parcels" else "Polygon"
            sinks[layer] = _GpkgSink(path, layer, gtype)
        else:
            sinks[layer] = _ParquetSink(path, geometry_types[layer])

    counts = dict.fromkeys(LAYERS, 0)
    t_gen = t_write = 0.0
    t0 = time.perf_counter()
    tiles = synthetic.iter_park_tiles(
        args.n,
        tile_footprints=args.tile_footprints,
        seed=args.seed,
        parcels_per_footprint=args.parcels_per_footprint,
        ownership=args.ownership,
        violations=args.violations,
    )
    n_tiles = 0
    while True:
        t = time.perf_counter()
        try:
            frames = next(tiles)
        except StopIteration:
            break
        t_gen += time.perf_counter() - t
        t = time.perf_counter()
        for layer, gdf in zip(LAYERS, frames, strict=True):
            sinks[layer].write(gdf)
            counts[layer] += len(gdf)
        t_write += time.perf_counter() - t
        n_tiles += 1
        print(
            f"  tile {n_tiles}: {counts['footprints']:,} footprints so far",
            file=sys.stderr,
            flush=True,
        )
    for sink in sinks.values():
        sink.close()
    total = time.perf_counter() - t0

    print(f"out:        {args.out} ({args.format}, seed {args.seed}, {n_tiles} tiles)")
    for layer in LAYERS:
        print(f"{layer + ':':<11} {counts[layer]:>10,}")
    print(f"parcels per footprint: {counts['parcels'] / max(counts['footprints'], 1):.3f}")
    print(f"generate:   {t_gen:8.2f} s")
    print(f"write:      {t_write:8.2f} s")
    print(f"total:      {total:8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
