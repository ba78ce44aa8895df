"""Baseline: the audit figures the way a competent analyst writes them in DuckDB spatial SQL.

The same outputs as ``plain_geopandas.plain_audit`` (per holder ``used_m2,
own_m2, encroachment_m2, outside_redline_m2, park_overuse_m2``; per parcel
``tenure, holder, area_m2, used_m2, use_ratio``), from the rules in
``DOMAIN.md``, with set-based SQL and no per-holder Python loop:

* the inputs are read with ``ST_Read`` (GDAL) and snapped to a 1e-6 m grid
  with ``ST_ReducePrecision``;
* ``ST_Union_Agg … GROUP BY user`` -> U_h, exploded into its parts with
  ``ST_Dump`` so that every later join sees small boxes;
* each part is joined (spatial join on ``ST_Intersects``) with the parcels it
  meets; one grouped pass gives, per part, the union of its holder's
  authorized parcels -> own use and the excess X_h = U_h − A_h;
* each piece of X_h is joined with the parcels it meets; one grouped pass
  gives, per piece, the union of all of them (R, locally) and of the other
  holders' authorized ones -> outside the red lines (X − R), encroachment
  (X ∩ ∪A_g) and park over-use ((X ∩ R) − ∪A_g);
* per parcel: area of (p ∩ U_h) for an authorized parcel of h, of
  (L ∩ all use) for a leased-in one.

Every overlay result passes through ``ST_ReducePrecision(…, 1e-6)`` as well,
so each step starts from grid coordinates.  GEOS computes each overlay in
floating point and rounds its result to the grid (snap rounding, like
shapely's ``grid_size=``); snapped inputs no longer carry the nanometre noise
where adjacent parcels meet, which leaves zero-width gaps in a plain float
union (see ``plain_geopandas.py``).  Measured on a 20,000-footprint skewed
dense park: with ``ST_ReducePrecision`` no holder differs from landgis by more
than 0.01 m²; the same SQL without it gets 24 of 1,086 holders wrong, by up to
3,366 m² (and runs in 2.2 s instead of 4.7 s).  NOTES.md's yardstick table:
DuckDB 1.5 spatial 9.1 s at 60k footprints, 15.1 s with ``ST_ReducePrecision``.

DuckDB uses all cores by default (the GeoPandas ways and landgis one);
``connect(threads=1)`` for a one-core comparison.

DuckDB spatial is loaded offline from the ``duckdb-extension-spatial`` wheel
(``pip install 'landgis[bench]'``), which carries the signed
``spatial.duckdb_extension`` for the matching DuckDB version: :func:`connect`
``LOAD``\\ s that file by path, with automatic extension install and load
switched off, so nothing is downloaded.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pandas as pd

AUTHORIZED = ("requisitioned", "proxy_requisitioned", "leased_out")
HOLDER_COLUMNS = [
    "used_m2",
    "own_m2",
    "encroachment_m2",
    "outside_redline_m2",
    "park_overuse_m2",
]
GRID = 1e-6  # metres, the snap-rounding grid of landgis (Settings.grid_size)


def spatial_extension_path() -> Path:
    """The ``spatial.duckdb_extension`` shipped by the ``duckdb-extension-spatial`` wheel."""
    import duckdb

    root = importlib.resources.files("duckdb_extension_spatial") / "extensions"
    path = Path(str(root / f"v{duckdb.__version__}" / "spatial.duckdb_extension"))
    if not path.is_file():
        shipped = sorted(p.name for p in Path(str(root)).iterdir())
        raise RuntimeError(
            f"duckdb {duckdb.__version__} needs {path}; duckdb-extension-spatial ships {shipped}: "
            "install matching versions (pip install 'landgis[bench]')"
        )
    return path


def connect(threads: int | None = None):
    """A DuckDB connection with the spatial extension loaded from the wheel, offline."""
    import duckdb

    config: dict = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    if threads:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    con.execute(f"LOAD '{spatial_extension_path()}'")
    return con


def read(con, parcels_path, footprints_path) -> None:
    """Read the two GeoPackages into tables ``raw_parcels`` and ``raw_footprints``."""
    con.execute(
        "CREATE OR REPLACE TABLE raw_parcels AS "
        "SELECT parcel_id, tenure, holder, geom FROM ST_Read(?)",
        [str(parcels_path)],
    )
    con.execute(
        'CREATE OR REPLACE TABLE raw_footprints AS SELECT "user", geom FROM ST_Read(?)',
        [str(footprints_path)],
    )


def _sql(grid: float) -> list[str]:
    auth = ", ".join(f"'{t}'" for t in AUTHORIZED)

    def rp(expr: str) -> str:
        return f"ST_ReducePrecision({expr}, {grid!r})"

    in_r = rp("ST_Intersection(xp.geom, r.r)")  # X ∩ R, locally
    return [
        # -- inputs on the grid -------------------------------------------------
        f"""CREATE OR REPLACE TABLE pa AS
            SELECT row_number() OVER () AS seq, parcel_id, tenure, holder,
                   tenure IN ({auth}) AS auth, {rp("geom")} AS geom
            FROM raw_parcels""",
        f"""CREATE OR REPLACE TABLE fp AS
            SELECT "user" AS h, {rp("geom")} AS geom FROM raw_footprints""",
        # -- U_h, dissolved per user and exploded into its parts ------------------
        f"""CREATE OR REPLACE TABLE up AS
            WITH u AS (
                SELECT h, {rp("ST_Union_Agg(geom)")} AS geom FROM fp GROUP BY h
            ), parts AS (
                SELECT h, unnest(ST_Dump(geom), recursive := true) FROM u
            )
            SELECT row_number() OVER () AS part, h, geom FROM parts
            WHERE NOT ST_IsEmpty(geom) AND ST_Area(geom) > 0""",
        # -- which parcels each part meets: one spatial join (R-tree), kept ---------
        # (holder = h in the same ON clause would make DuckDB hash-join on the
        # holder and test every part of h against every parcel of h)
        """CREATE OR REPLACE TABLE up_pa AS
            SELECT up.part, up.h, pa.parcel_id, pa.holder, pa.tenure, pa.auth
            FROM up JOIN pa ON ST_Intersects(up.geom, pa.geom)""",
        # -- per part: own authorized land (A_h locally), own use, excess X_h ----
        f"""CREATE OR REPLACE TABLE mine AS
            WITH a AS (
                SELECT up_pa.part, {rp("ST_Union_Agg(pa.geom)")} AS a
                FROM up_pa JOIN pa USING (parcel_id)
                WHERE up_pa.auth AND up_pa.holder = up_pa.h
                GROUP BY up_pa.part
            )
            SELECT up.part, up.h, up.geom,
                   coalesce(ST_Area({rp("ST_Intersection(up.geom, a.a)")}), 0) AS own,
                   CASE WHEN a.a IS NULL THEN up.geom
                        ELSE {rp("ST_Difference(up.geom, a.a)")} END AS x
            FROM up LEFT JOIN a USING (part)""",
        # -- X_h in pieces ------------------------------------------------------------
        """CREATE OR REPLACE TABLE xp AS
            WITH d AS (
                SELECT h, unnest(ST_Dump(x), recursive := true) FROM mine
                WHERE NOT ST_IsEmpty(x)
            )
            SELECT row_number() OVER () AS piece, h, geom FROM d
            WHERE ST_GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON') AND ST_Area(geom) > 0""",
        # -- per piece: the red lines it meets (R locally) and others' authorized land
        f"""CREATE OR REPLACE TABLE xs AS
            WITH hits AS (
                SELECT xp.piece, xp.h, pa.holder, pa.auth, pa.geom
                FROM xp JOIN pa ON ST_Intersects(xp.geom, pa.geom)
            ), r AS (
                SELECT piece,
                       {rp("ST_Union_Agg(geom)")} AS r,
                       {rp("ST_Union_Agg(geom) FILTER (WHERE auth AND holder <> h)")} AS ao
                FROM hits GROUP BY piece
            )
            SELECT xp.piece, xp.h,
                   CASE WHEN r.r IS NULL THEN ST_Area(xp.geom)
                        ELSE ST_Area({rp("ST_Difference(xp.geom, r.r)")}) END AS outside,
                   coalesce(ST_Area({rp("ST_Intersection(xp.geom, r.ao)")}), 0) AS enc,
                   CASE WHEN r.r IS NULL THEN 0
                        WHEN r.ao IS NULL THEN ST_Area({in_r})
                        ELSE ST_Area({rp(f"ST_Difference({in_r}, r.ao)")}) END AS park
            FROM xp LEFT JOIN r USING (piece)""",
    ]


HOLDERS_SQL = """
WITH names AS (
    SELECT h FROM fp UNION SELECT holder FROM pa WHERE auth
), u AS (
    SELECT h, sum(ST_Area(geom)) AS used, sum(own) AS own FROM mine GROUP BY h
), x AS (
    SELECT h, sum(enc) AS enc, sum(outside) AS outside, sum(park) AS park FROM xs GROUP BY h
)
SELECT names.h AS holder,
       coalesce(u.used, 0) AS used_m2,
       coalesce(u.own, 0) AS own_m2,
       coalesce(x.enc, 0) AS encroachment_m2,
       coalesce(x.outside, 0) AS outside_redline_m2,
       coalesce(x.park, 0) AS park_overuse_m2
FROM names LEFT JOIN u USING (h) LEFT JOIN x USING (h)
"""


def _parcels_sql(grid: float) -> str:
    def rp(expr: str) -> str:
        return f"ST_ReducePrecision({expr}, {grid!r})"

    # authorized p of h: parts of U_h are disjoint, so their pieces in p add up;
    # leased-in L: the parts of several users may overlap, so they are unioned.
    return f"""
WITH hits AS (
    SELECT up_pa.parcel_id, up_pa.auth, up_pa.tenure, up_pa.holder, up_pa.h,
           pa.geom AS p, up.geom AS g
    FROM up_pa JOIN pa USING (parcel_id) JOIN up USING (part)
    WHERE (up_pa.auth AND up_pa.holder = up_pa.h) OR up_pa.tenure = 'leased_in'
), used_auth AS (
    SELECT parcel_id, sum(ST_Area({rp("ST_Intersection(p, g)")})) AS used
    FROM hits WHERE auth GROUP BY parcel_id
), used_li AS (
    SELECT parcel_id,
           ST_Area({rp("ST_Intersection(any_value(p), ST_Union_Agg(g))")}) AS used
    FROM hits WHERE tenure = 'leased_in' GROUP BY parcel_id
), used AS (
    SELECT * FROM used_auth UNION ALL SELECT * FROM used_li
)
SELECT pa.parcel_id, pa.tenure, pa.holder, ST_Area(pa.geom) AS area_m2,
       CASE WHEN pa.auth OR pa.tenure = 'leased_in' THEN coalesce(used.used, 0) END AS used_m2
FROM pa LEFT JOIN used USING (parcel_id)
ORDER BY pa.seq
"""


def duckdb_audit(con, grid: float = GRID) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-holder and per-parcel figures from ``raw_parcels``/``raw_footprints`` (see :func:`read`).

    Returns ``(holders, parcels)`` shaped like ``plain_geopandas.plain_audit``.
    """
    for statement in _sql(grid):
        con.execute(statement)
    holders = con.execute(HOLDERS_SQL).df().set_index("holder").sort_index()
    parcels = con.execute(_parcels_sql(grid)).df().set_index("parcel_id")
    parcels["use_ratio"] = parcels["used_m2"] / parcels["area_m2"]
    return holders[HOLDER_COLUMNS], parcels
