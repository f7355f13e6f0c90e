"""Open the store: one URL chooses the engine.

- a file path, ``duckdb:///path`` or nothing (``$AFTERCARE_DB``, else ``./aftercare.duckdb``):
  DuckDB, the embedded default;
- ``postgresql://user@host:port/db``: PostgreSQL, for multi-user deployments;
- ``spark:///path/to/lake``: a folder of Parquet datasets read and written by PySpark
  (:mod:`aftercare.store.spark_lake`), what a car maker's data platform holds.

All reads go through Ibis. Writes that Ibis cannot express (transactions, updates, deletes,
COPY) live in :mod:`aftercare.store.transaction`, :mod:`aftercare.store.rows` and
:mod:`aftercare.store.writer`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

from aftercare.errors import StoreError
from aftercare.schema.registry import STORED_TABLES

DEFAULT_DB = "aftercare.duckdb"
EngineKind = Literal["duckdb", "postgres", "spark"]


def store_schemas(*, snapshots: bool = True) -> dict[str, ibis.Schema]:
    """Every table a store holds from the start (:data:`~aftercare.schema.STORED_TABLES`).

    ``snapshots=False`` leaves out the dated snapshot tables (a lake writes them per date).
    """
    return {
        name: table.schema
        for name, table in STORED_TABLES.items()
        if snapshots or table.family != "snapshot"
    }


@dataclass
class Store:
    """A connection to Aftercare's tables in one engine.

    Attributes
    ----------
    url
        The URL it was opened with (without password).
    kind
        ``duckdb``, ``postgres`` or ``spark``.
    con
        The Ibis backend.
    lake
        On ``spark``: the lake's manifest and directories (:class:`~.spark_lake.Lake`).
    """

    url: str
    kind: EngineKind
    con: ibis.BaseBackend
    lake: Any = None

    def table(self, name: str) -> ir.Table:
        """The Ibis table called ``name``."""
        return self.con.table(name)

    def has_table(self, name: str) -> bool:
        """Whether the store holds a table called ``name``."""
        if self.lake is not None:
            return bool(self.lake.has(name))
        return name in self.con.list_tables()

    @property
    def has_transactions(self) -> bool:
        """Whether the store updates rows in place, in transactions (DuckDB, PostgreSQL).

        A Spark lake does not: it holds imports and scores, not the playbook's tables.
        """
        return self.kind != "spark"

    def require_transactions(self, feature: str) -> None:
        """Refuse ``feature`` (e.g. ``outcomes``) on a store without transactions (a lake).

        Raises
        ------
        NotBuiltError
            On a Spark lake, with a plain one-line message.
        """
        if not self.has_transactions:
            from aftercare.store.spark_backend import not_on_spark

            raise not_on_spark(feature)

    def list_tables(self) -> list[str]:
        """The names of the store's tables."""
        if self.lake is not None:
            return list(self.lake.tables())
        return list(self.con.list_tables())

    def ensure_schema(self) -> None:
        """Create every canonical and system table that does not exist yet (empty)."""
        wanted = store_schemas(snapshots=self.lake is None)
        if self.lake is not None:
            # Older lakes gain new columns as typed NULLs in the views (files stay as written).
            self.lake.create_empty(wanted)
            self.lake.register_all(wanted)
            return
        existing = set(self.con.list_tables())
        for name, schema in wanted.items():
            if name not in existing:
                self.con.create_table(name, schema=schema)
            else:
                self._add_missing_columns(name, schema)

    def _add_missing_columns(self, name: str, schema: ibis.Schema) -> None:
        """Add columns a newer version appended to a table (a store made by an older one)."""
        have = set(self.con.table(name).columns)
        to_sql = self.con.compiler.type_mapper.to_string
        for column, dtype in schema.items():
            if column not in have:
                self.con.raw_sql(f'ALTER TABLE "{name}" ADD COLUMN "{column}" {to_sql(dtype)}')

    def close(self) -> None:
        """Close the connection (a lake keeps the process's Spark context for the next one)."""
        if self.lake is not None:
            self.lake.drop_views(self.lake.tables())
            return
        self.con.disconnect()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def resolve_url(url: str | None) -> str:
    """The store URL to use: the given one, else ``$AFTERCARE_DB``, else the default file."""
    return url or os.environ.get("AFTERCARE_DB") or DEFAULT_DB


def _redact(url: str) -> str:
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


def open_store(url: str | None = None, *, create: bool = True) -> Store:
    """Open (and by default initialise) the store at ``url``.

    Parameters
    ----------
    url
        Store URL; ``None`` uses ``$AFTERCARE_DB`` or ``./aftercare.duckdb``.
    create
        Create missing tables. With ``False`` a missing DuckDB file is an error.

    Raises
    ------
    StoreError
        The URL is not understood or the engine cannot be reached.
    """
    url = resolve_url(url)
    shown = _redact(url)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise StoreError(
                "PostgreSQL needs the postgres extra: pip install 'aftercare[postgres]'"
            ) from None
        try:
            con = ibis.connect(url.replace("postgres://", "postgresql://", 1))
        except Exception as exc:  # any driver error means: cannot reach it
            raise StoreError(f"cannot connect to {shown}: {exc}".splitlines()[0]) from None
        store = Store(url=shown, kind="postgres", con=con)
    elif url.startswith(("spark:", "pyspark:")):
        store = _open_lake(url, create=create)
    else:
        # duckdb:///abs/path.duckdb -> /abs/path.duckdb; a plain path is taken as it is.
        path = Path(url.removeprefix("duckdb://"))
        if "://" in str(path):
            raise StoreError(f"unknown store URL {shown!r}: use a file path or postgresql://…")
        if not create and not path.exists():
            raise StoreError(f"no store at {path}: import data or run `aftercare demo` first")
        if path.parent and not path.parent.exists():
            raise StoreError(f"cannot create store {path}: folder {path.parent} does not exist")
        try:
            con = ibis.duckdb.connect(str(path))
            # DuckDB's own progress bar would interleave with ours on the terminal.
            con.raw_sql("SET enable_progress_bar = false")
        except Exception as exc:  # locked by another process, not a DuckDB file, …
            raise StoreError(f"cannot open {path}: {exc}".splitlines()[0]) from None
        store = Store(url=str(path), kind="duckdb", con=con)
    if create:
        store.ensure_schema()
    return store


def lake_path(url: str) -> Path:
    """The folder of ``spark:///abs/path`` (or ``spark:relative/path``)."""
    rest = url.split(":", 1)[1]
    if rest.startswith("//"):
        rest = rest[2:]
    if not rest:
        raise StoreError(f"{url!r}: name the lake folder, e.g. spark:///data/aftercare-lake")
    return Path(rest)


def _open_lake(url: str, *, create: bool) -> Store:
    """Open the Spark lake at ``url`` (see :mod:`aftercare.store.spark_lake`)."""
    from aftercare.store.spark_lake import MANIFEST, STAGING, Lake, spark_session

    root = lake_path(url).absolute()
    if not (root / MANIFEST).exists():
        if not create:
            raise StoreError(f"no store at {root}: import data or run `aftercare demo` first")
        if not root.parent.exists():
            raise StoreError(f"cannot create store {root}: folder {root.parent} does not exist")
        root.mkdir(exist_ok=True)
    session = spark_session(root)
    from aftercare.store.spark_backend import LakeBackend

    con = LakeBackend().connect(session)
    lake = Lake(root, session)
    con.scratch = root / STAGING / f"memtables-{id(lake):x}"
    store = Store(url=f"spark://{root}", kind="spark", con=con, lake=lake)
    if not create:
        # Register what is there (create=True registers in ensure_schema, after creating).
        lake.register_all(store_schemas(snapshots=False))
    return store
