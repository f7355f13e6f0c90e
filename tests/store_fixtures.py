"""Stores on each engine for tests of the storage layer: a temp DuckDB file, a fresh PG database."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import POSTGRES_URL


def _admin_connect():
    psycopg = pytest.importorskip("psycopg", reason="PostgreSQL tests need aftercare[postgres]")
    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True)
    except Exception as exc:  # no server here: skip with the reason
        pytest.skip(f"no PostgreSQL server at {POSTGRES_URL}: {type(exc).__name__}: {exc}")


def make_store_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield a store URL on a fresh, empty database of ``kind`` and drop it afterwards."""
    if kind == "duckdb":
        yield str(tmp_path / "store.duckdb")
        return
    if kind == "spark":
        pytest.importorskip("pyspark", reason="Spark lake tests need aftercare[spark]")
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            pytest.skip("Spark lake tests need Java (no java on PATH, JAVA_HOME unset)")
        yield f"spark://{tmp_path / 'lake'}"
        return
    admin = _admin_connect()
    name = f"aftercare_t_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
