"""Shared fixtures: one backend fixture for pipeline tests, one store fixture for the rest.

Pipeline tests take ``backend`` (an Ibis connection to DuckDB, PostgreSQL or PySpark) and
load their hand-made fixture tables with :func:`load_tables`. Tests of the store, services and
CLI take ``store_url`` (a fresh store per test) or ``shared_store_url`` (one per module): a
DuckDB file and a fresh PostgreSQL database, plus a Spark lake for tests marked ``lake``. A
backend whose server is absent is skipped with the reason, never passed silently.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aftercare.pipeline.inputs import CanonicalTables

POSTGRES_URL = os.environ.get(
    "AFTERCARE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("duckdb", "postgres", "pyspark")
# Plans compiled by one test are not read back by another (each test counts its own compiles);
# tests/store/test_plan_store.py turns the kept plans on in a folder of its own.
os.environ["AFTERCARE_PLAN_CACHE"] = "off"


def _postgres_or_skip() -> ibis.BaseBackend:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests need aftercare[postgres] (psycopg) installed")
    try:
        return ibis.connect(POSTGRES_URL)
    except Exception as exc:  # any connection failure means: no server here
        pytest.skip(f"no PostgreSQL server at {POSTGRES_URL}: {type(exc).__name__}: {exc}")


def _spark_or_skip(tmp_root: Path) -> ibis.BaseBackend:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.skip("PySpark tests need aftercare[spark] installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("PySpark tests need Java (no java on PATH, JAVA_HOME unset)")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("aftercare-tests")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(tmp_root / "spark-warehouse"))
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """An Ibis connection to each engine in turn (session-scoped: Spark starts once)."""
    name = request.param
    if name == "duckdb":
        con = ibis.duckdb.connect()
    elif name == "postgres":
        con = _postgres_or_skip()
    else:
        con = _spark_or_skip(tmp_path_factory.mktemp("spark"))
    con._aftercare_tmp = tmp_path_factory.mktemp(f"{name}-tables")  # type: ignore[attr-defined]
    yield con
    if name != "pyspark":
        con.disconnect()


def load_tables(con: ibis.BaseBackend, tables: dict[str, pa.Table]) -> dict[str, ibis.Table]:
    """Load small Arrow fixture tables into ``con`` under unique names.

    Names are unique per call so tests sharing a session-scoped backend never collide.
    Spark tables are loaded from Parquet (the measured-safe path for NULLs and decimals).

    Returns
    -------
    dict
        The same keys, mapped to Ibis tables in the backend.
    """
    suffix = uuid.uuid4().hex[:10]
    out: dict[str, ibis.Table] = {}
    for key, table in tables.items():
        name = f"t_{key}_{suffix}"
        if con.name == "pyspark":
            path = Path(con._aftercare_tmp) / f"{name}.parquet"  # type: ignore[attr-defined]
            pq.write_table(table, path)
            out[key] = con.read_parquet(str(path), table_name=name)
        else:
            out[key] = con.create_table(name, table, temp=con.name == "postgres")
    return out


def canonical_of(t: dict[str, ibis.Table]) -> CanonicalTables:
    """:func:`load_tables`' result as canonical tables, from the short keys the pipeline
    tests use (``orders``, ``declined``; the others by their own names)."""
    return CanonicalTables(
        customers=t["customers"],
        vehicles=t["vehicles"],
        service_orders=t["orders"],
        declined_services=t["declined"],
        interactions=t["interactions"],
        advisors=t["advisors"],
    )


#: The engines every store test runs on; a test marked ``lake`` adds the Spark lake.
STORE_KINDS = ("duckdb", "postgres")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``store_url`` / ``shared_store_url`` over the store engines."""
    kinds = list(STORE_KINDS)
    if metafunc.definition.get_closest_marker("lake"):
        kinds.append("spark")
    for name, scope in (("store_url", "function"), ("shared_store_url", "module")):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, kinds, indirect=True, scope=scope)


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL on a fresh, empty database of each engine (dropped afterwards)."""
    from store_fixtures import make_store_url

    yield from make_store_url(request.param, tmp_path)


@pytest.fixture(scope="module")
def shared_store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like ``store_url``, one per test module (for a store filled once and read by many)."""
    from store_fixtures import make_store_url

    yield from make_store_url(request.param, tmp_path_factory.mktemp(f"store-{request.param}"))


@pytest.fixture
def duckdb_con() -> Iterator[ibis.BaseBackend]:
    """A fresh in-memory DuckDB connection."""
    con = ibis.duckdb.connect()
    yield con
    con.disconnect()


@pytest.fixture
def compiled_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Every (shape, builder, dates, SQL) the compiled plans hand out while the test runs
    (:mod:`aftercare.store.plans`)."""
    from aftercare.store import plans

    seen: list[tuple] = []
    real = plans.compiled

    def recording(store_, shape, build, dates, **options):  # type: ignore[no-untyped-def]
        query = real(store_, shape, build, dates, **options)
        seen.append((shape, build, dict(dates), query.sql))
        return query

    monkeypatch.setattr(plans, "compiled", recording)
    return seen
