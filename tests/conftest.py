"""Shared fixtures: tiny hand-made layers in EPSG:4528 (GK zone 40, prefix)."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

X0, Y0 = 40_492_000.0, 3_596_000.0
CRS = "EPSG:4528"


def rect(x1, y1, x2, y2):
    """A rectangle in local metres from (X0, Y0)."""
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


def parcels_frame(rows, *, crs=CRS) -> gpd.GeoDataFrame:
    """rows: (parcel_id, tenure, holder, geometry)."""
    return gpd.GeoDataFrame(
        [{"parcel_id": pid, "tenure": t, "holder": h, "geometry": g} for pid, t, h, g in rows],
        geometry="geometry",
        crs=crs,
    )


def footprints_frame(rows, *, crs=CRS) -> gpd.GeoDataFrame:
    """rows: (footprint_id, user, geometry)."""
    return gpd.GeoDataFrame(
        [{"footprint_id": fid, "user": u, "geometry": g} for fid, u, g in rows],
        geometry="geometry",
        crs=crs,
    )


@pytest.fixture
def two_parcels():
    return parcels_frame(
        [
            ("P1", "requisitioned", "A", rect(0, 0, 100, 100)),
            ("P2", "leased_in", "村1", rect(100, 0, 200, 100)),
        ]
    )


@pytest.fixture
def one_footprint():
    return footprints_frame([("F1", "A", rect(0, 0, 120, 100))])


# ------------------------------------------------------------------ ledger backends

#: The backends every ledger test runs on.
LEDGER_BACKENDS = ("sqlite", "postgresql")


def postgres_server() -> str:
    """The URL of the test PostgreSQL server (``LANDGIS_TEST_POSTGRES``), or skip.

    ``.ci/run`` starts a throwaway server (``.ci/postgres start``) and sets the variable
    and ``LANDGIS_CI``; under ``LANDGIS_CI`` a missing or unreachable server fails the
    test instead of skipping it.
    """
    import os

    url = os.environ.get("LANDGIS_TEST_POSTGRES", "").strip()
    in_ci = bool(os.environ.get("LANDGIS_CI"))
    how = (
        'start one with `eval "$(bash .ci/postgres start /tmp/pg)"` (needs Debian\'s '
        "postgresql and postgresql-15-postgis-3), which sets LANDGIS_TEST_POSTGRES"
    )
    if not url:
        message = f"PostgreSQL ledger tests need a server: {how}"
        if in_ci:
            pytest.fail(f"LANDGIS_CI is set but LANDGIS_TEST_POSTGRES is not; {message}")
        pytest.skip(message)
    problem = _postgres_problem(url)
    if problem:
        message = f"PostgreSQL test server {url}: {problem}"
        if in_ci:
            pytest.fail(message)
        pytest.skip(message)
    return url


_POSTGRES_CHECKED: dict[str, str] = {}


def _postgres_problem(url: str) -> str:
    if url not in _POSTGRES_CHECKED:
        try:
            import psycopg

            with psycopg.connect(url, connect_timeout=5, autocommit=True) as con:
                con.execute("SELECT postgis_version()")
            _POSTGRES_CHECKED[url] = ""
        except ImportError:
            _POSTGRES_CHECKED[url] = "psycopg is not installed (pip install 'landgis[postgres]')"
        except Exception as exc:  # any failure is a reason to name
            _POSTGRES_CHECKED[url] = " ".join(str(exc).split())
    return _POSTGRES_CHECKED[url]


def fresh_schema_url(url: str) -> str:
    """``url`` with a new, empty schema of its own (``?schema=t_…``)."""
    import uuid

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}schema=t_{uuid.uuid4().hex[:12]}"


def drop_schema(url: str) -> None:
    """Drop the schema of a URL made by :func:`fresh_schema_url` (after its test)."""
    import contextlib
    from urllib.parse import parse_qsl, urlsplit

    import psycopg

    from landgis.monitor.store import _conninfo

    conninfo, schema = _conninfo(url)
    assert dict(parse_qsl(urlsplit(url).query)).get("schema", "").startswith("t_")
    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as con,
    ):
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


class LedgerPlaces:
    """New ledger targets of one backend: files in a folder, or fresh schemas."""

    def __init__(self, backend: str, folder):
        self.backend = backend
        self.folder = folder
        self.made: list[str] = []
        self.server = postgres_server() if backend == "postgresql" else ""

    def __call__(self, name: str = "cases"):
        if self.backend == "sqlite":
            return self.folder / f"{name}.sqlite"
        url = fresh_schema_url(self.server)
        self.made.append(url)
        return url

    def close(self) -> None:
        for url in self.made:
            drop_schema(url)


@pytest.fixture(params=LEDGER_BACKENDS)
def ledger_places(request, tmp_path):
    """Make new ledger targets on each backend: ``ledger_places()`` → a path or URL."""
    places = LedgerPlaces(request.param, tmp_path)
    yield places
    places.close()


@pytest.fixture
def ledger_target(ledger_places):
    """One new ledger target on each backend (a file, or a fresh PostgreSQL schema)."""
    return ledger_places()
