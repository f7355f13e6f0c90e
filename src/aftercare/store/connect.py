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

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

from aftercare.errors import StoreError
from aftercare.schema.registry import STORED_TABLES
from aftercare.store.duckdb_file import (
    NO_STORE,
    check_duckdb_path,
    resolve_url,
    wal_path,
)
from aftercare.store.keys import ensure_unique_keys
from aftercare.store.locks import SCHEMA, connect_duckdb, store_lock
from aftercare.store.plan_cache import PlanCache
from aftercare.store.repair import repair_at_open

EngineKind = Literal["duckdb", "postgres", "spark"]

#: The table every store holds: without it there is no store at the URL.
MARKER_TABLE = "load_log"

# DuckDB files this process holds open (a second open shares the same database, whose .wal
# is then its own, not a crash's).
_OPEN_FILES: Counter[str] = Counter()


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
    notices
        One line each about what opening found and did (a torn write repaired, a key
        PostgreSQL cannot enforce yet), for the caller to show.
    plans
        Compiled SQL kept for later runs in this process (:mod:`aftercare.store.plans`).
    """

    url: str
    kind: EngineKind
    con: ibis.BaseBackend
    lake: Any = None
    notices: list[str] = field(default_factory=list)
    #: Compiled SQL kept per shape (:mod:`aftercare.store.plans`), and how it was used.
    plans: PlanCache = field(default_factory=PlanCache, compare=False, repr=False)

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
        """Create every table that does not exist yet (empty), and their keys (idempotent).

        Tables and columns a newer version added are added to an older store; on PostgreSQL
        each table's natural key gets its unique index (:mod:`.keys`; data that breaks a key
        is reported in :attr:`notices`, not raised).
        """
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
        if self.kind == "postgres":
            self.notices.extend(ensure_unique_keys(self.con))

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
        if self.kind == "duckdb":
            _OPEN_FILES[str(Path(self.url).resolve())] -= 1

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _redact(url: str) -> str:
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


def open_store(url: str | None = None, *, create: bool = True) -> Store:
    """Open (and by default initialise) the store at ``url``.

    An existing store gains the tables, columns and keys of this version; a DuckDB store that
    a crash left with its ``.wal`` is repaired (:func:`~.repair.repair_at_open`, R-IN-3).
    What either did is in :attr:`Store.notices`.

    Parameters
    ----------
    url
        Store URL; ``None`` uses ``$AFTERCARE_DB`` or ``./aftercare.duckdb``.
    create
        Whether a new store may be created here (``import``, ``demo``). With ``False`` the
        store must exist: a missing DuckDB file, a lake without its manifest or a
        PostgreSQL database without Aftercare's tables is an error.

    Raises
    ------
    StoreError
        The URL is not understood, names something that is not a store (``:memory:``, a
        file that is not DuckDB's) or no store where one must exist, or the engine cannot
        be reached.
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
        _tune_postgres_session(con)
        if not create and MARKER_TABLE not in con.list_tables():
            con.disconnect()
            raise StoreError(NO_STORE.format(where=shown))
        store = Store(url=shown, kind="postgres", con=con)
    elif url.startswith(("spark:", "pyspark:")):
        store = _open_lake(url, create=create)
    else:
        store = _open_duckdb(url, shown, create=create)
    if store.kind == "postgres" or (create and store.kind == "spark"):
        # Concurrent first opens of one PostgreSQL store migrate it once, in turn.
        with store_lock(store, SCHEMA):
            store.ensure_schema()
    return store


def _tune_postgres_session(con: ibis.BaseBackend) -> None:
    """Set what Aftercare's queries need on a new PostgreSQL session: JIT off.

    PostgreSQL's JIT, on by default, compiles a query in LLVM whenever the planner's cost
    passes ``jit_above_cost``, which every scan of a large store does, however wide the plan:
    on the 1M-customer store it spent minutes compiling the score snapshot's plan (5 GB
    backend, issue 11). Aftercare's queries are scans, hash joins and aggregates, where JIT
    gains little. Set for this session only (other clients keep the server's setting); a
    user's ``PGOPTIONS`` still sets everything else.
    """
    set_postgres_session(con.con, "SET jit = off")


def set_postgres_session(native: Any, statement: str) -> None:
    """Run ``statement`` (a ``SET`` or ``RESET``) on the psycopg connection ``native`` in a
    transaction (or savepoint) of its own, so the setting holds for the session whether or
    not Ibis autocommits or a transaction is open around it."""
    with native.cursor() as cursor, native.transaction():
        cursor.execute(statement)


def _open_duckdb(url: str, shown: str, *, create: bool) -> Store:
    """Open the DuckDB file ``url`` names (checked first), repairing a crash's torn write."""
    # duckdb:///abs/path.duckdb -> /abs/path.duckdb; a plain path is taken as it is.
    path = Path(url.removeprefix("duckdb://"))
    if "://" in str(path):
        raise StoreError(f"unknown store URL {shown!r}: use a file path or postgresql://…")
    existed = check_duckdb_path(path, create=create)
    key = str(path.resolve())
    crashed = False

    def look_for_crash() -> None:
        # Looked at before DuckDB replays it: a .wal no open connection of ours owns is a
        # crash's (looked at again at each try: while another process has the file, it is its).
        nonlocal crashed
        crashed = wal_path(path).exists() and _OPEN_FILES[key] == 0

    try:
        # Another process has the file: wait for it (store/locks.py, issue 9 item 6).
        con = connect_duckdb(path, before_attempt=look_for_crash)
        # DuckDB's own progress bar would interleave with ours on the terminal.
        con.raw_sql("SET enable_progress_bar = false")
    except StoreError:
        raise
    except Exception as exc:  # a damaged file, no permission, …
        raise StoreError(f"cannot open {path}: {exc}".splitlines()[0]) from None
    if existed and not create and MARKER_TABLE not in con.list_tables():
        con.disconnect()
        raise StoreError(NO_STORE.format(where=path))
    _OPEN_FILES[key] += 1
    store = Store(url=str(path), kind="duckdb", con=con)
    try:
        store.ensure_schema()  # an older store gains store_repairs before a repair writes it
        if existed:
            store.notices.extend(repair_at_open(con, wal_found=crashed))
    except BaseException:
        store.close()
        raise
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
            raise StoreError(NO_STORE.format(where=root))
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
