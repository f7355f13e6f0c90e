"""A Spark lake: each table a set of Parquet directories, switched atomically by one manifest.

Layout of ``spark:///path/to/lake``::

    lake/_aftercare.json                         the manifest: which directories hold each table
    lake/customers/v-<id>/part-*.parquet         one version of an unpartitioned table
    lake/load_log/v-<id>/…                       appended parts (one per import)
    lake/customer_scores/as_of_date=2026-09-30/v-<id>/…   one dated snapshot (R-TIER-HIST)

Parquet files are never rewritten in place: a change writes new directories, then replaces the
manifest with ``os.replace`` (atomic on POSIX). A crash before that leaves the previous manifest
and every directory it names untouched, so the previous state stays readable (R-IN-3); the
orphaned new directories are removed the next time the lake is opened. One writer at a time.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from aftercare.errors import StoreError

MANIFEST = "_aftercare.json"
STAGING = "_staging"
MASTER_ENV = "AFTERCARE_SPARK_MASTER"
DEFAULT_MASTER = "local[*]"
#: A table with more appended parts than this is compacted into one directory on its next append.
MAX_PARTS = 16


def spark_session(root: Path) -> Any:
    """A Spark session of its own (own temporary views) on the process's one Spark context.

    The context starts once per process (``$AFTERCARE_SPARK_MASTER``, default ``local[*]``);
    every lake opened later reuses it through ``newSession``.

    Raises
    ------
    StoreError
        PySpark is not installed, or Java is missing.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise StoreError(
            "a Spark store needs the spark extra: pip install 'aftercare[spark]'"
        ) from None
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise StoreError("a Spark store needs Java (no java on PATH, JAVA_HOME unset)")
    master = os.environ.get(MASTER_ENV) or DEFAULT_MASTER
    builder = (
        SparkSession.builder.master(master)
        .appName("aftercare")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # it would garble our progress lines
        # Kept inside the lake: a stray ./spark-warehouse would block later runs.
        .config("spark.sql.warehouse.dir", str(root / "_warehouse"))
    )
    if master.startswith("local"):
        # Small local jobs: 200 shuffle partitions would mean 200 tiny tasks per step.
        builder = builder.config("spark.sql.shuffle.partitions", str(max(2, os.cpu_count() or 2)))
    try:
        base = builder.getOrCreate()
    except Exception as exc:  # no JVM, bad master URL, …
        raise StoreError(f"cannot start Spark ({master}): {exc}".splitlines()[0]) from None
    base.sparkContext.setLogLevel("ERROR")
    session = base.newSession()
    # Arrow for every pandas/Arrow transfer: the row-by-row path corrupts NULLs.
    session.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    session.conf.set("spark.sql.session.timeZone", "UTC")
    return session


def parquet_rows(directory: Path) -> int:
    """Rows in a Parquet directory, from the files' footers (no Spark job)."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in sorted(directory.glob("*.parquet")))


@dataclass
class LakeChange:
    """Tables whose parts change together in one manifest switch.

    ``parts[table]`` is the table's complete new set of parts: key → directory relative to
    the lake. ``partition`` names a table's partition column (snapshots) when it is new.
    """

    parts: dict[str, dict[str, str]] = field(default_factory=dict)
    partition: dict[str, str | None] = field(default_factory=dict)


class Lake:
    """The manifest and directories of one lake, seen through one Spark session."""

    def __init__(self, root: Path, session: Any) -> None:
        self.root = root
        self.session = session
        self.manifest: dict[str, Any] = self._read_manifest()
        #: Canonical schemas of the tables, to add columns an older lake lacks.
        self.schemas: dict[str, ibis.Schema] = {}
        #: Spark schema (JSON) of each directory written and not yet committed.
        self._written: dict[str, str] = {}
        self._collect_garbage()

    # -- manifest -------------------------------------------------------------------------------
    def _read_manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST
        if not path.exists():
            return {"format": 1, "tables": {}}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read the lake manifest {path}: {exc}") from None

    def tables(self) -> list[str]:
        """The tables the lake holds."""
        return sorted(self.manifest["tables"])

    def has(self, name: str) -> bool:
        """Whether the lake holds ``name``."""
        return name in self.manifest["tables"]

    def parts(self, name: str) -> dict[str, str]:
        """The table's parts: key → directory relative to the lake."""
        entry = self.manifest["tables"].get(name)
        return dict(entry["parts"]) if entry else {}

    def partition_column(self, name: str) -> str | None:
        """The column a table is partitioned by (``as_of_date`` for snapshots), if any."""
        entry = self.manifest["tables"].get(name)
        return entry.get("partition") if entry else None

    def commit(
        self, change: LakeChange, *, before_switch: Callable[[], None] | None = None
    ) -> None:
        """Switch every table in ``change`` to its new parts at once, then drop the old ones.

        ``before_switch`` runs after every new directory is written, just before the switch
        (the R-IN-3 fault hook).
        """
        tables = {k: dict(v) for k, v in self.manifest["tables"].items()}
        for name, parts in change.parts.items():
            old = tables.get(name, {})
            written = [self._written[rel] for rel in parts.values() if rel in self._written]
            tables[name] = {
                "parts": parts,
                "partition": change.partition.get(name, old.get("partition")),
                # Stored so that reads never infer it (inference is a Spark job per table).
                "schema": written[0] if written else old.get("schema"),
            }
        new = {"format": 1, "tables": tables}
        tmp = self.root / f"{MANIFEST}.{uuid.uuid4().hex[:8]}.tmp"
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(new, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        if before_switch is not None:
            before_switch()
        os.replace(tmp, self.root / MANIFEST)
        self.manifest = new
        self._written.clear()
        for name in change.parts:
            self.register(name)
        self._collect_garbage()

    def _referenced(self) -> set[Path]:
        return {
            (self.root / rel).resolve()
            for entry in self.manifest["tables"].values()
            for rel in entry["parts"].values()
        }

    def _collect_garbage(self) -> None:
        """Remove version directories no manifest names (old versions, crashed writes)."""
        keep = self._referenced()
        shutil.rmtree(self.root / STAGING, ignore_errors=True)
        for tmp in self.root.glob(f"{MANIFEST}.*.tmp"):
            tmp.unlink(missing_ok=True)
        for version in self.root.glob("*/v-*"):
            if version.is_dir() and version.resolve() not in keep:
                shutil.rmtree(version, ignore_errors=True)
        for version in self.root.glob("*/*=*/v-*"):
            if version.is_dir() and version.resolve() not in keep:
                shutil.rmtree(version, ignore_errors=True)
        for emptied in self.root.glob("*/*=*"):
            if emptied.is_dir() and not any(emptied.iterdir()):
                emptied.rmdir()

    # -- directories ----------------------------------------------------------------------------
    def new_dir(self, name: str, partition: str | None = None) -> str:
        """A fresh directory (relative to the lake) for a new part of ``name``."""
        version = f"v-{uuid.uuid4().hex[:12]}"
        rel = f"{name}/{partition}/{version}" if partition else f"{name}/{version}"
        return rel

    def staging_dir(self) -> Path:
        """A scratch directory, removed when the lake is next opened."""
        path = self.root / STAGING / uuid.uuid4().hex[:12]
        path.mkdir(parents=True)
        return path

    def write_arrow(self, rel: str, table: pa.Table) -> str:
        """Write an Arrow table as the part at ``rel``; returns ``rel``."""
        path = self.root / rel
        path.mkdir(parents=True)
        pq.write_table(table, path / "part-00000.parquet")
        from pyspark.sql.pandas.types import from_arrow_schema

        # Naive Arrow timestamps are Spark's TIMESTAMP_NTZ, as Spark reads them from Parquet.
        self._written[rel] = from_arrow_schema(table.schema, prefer_timestamp_ntz=True).json()
        return rel

    def write_frame(self, rel: str, frame: Any) -> str:
        """Write a Spark DataFrame as the part at ``rel``; returns ``rel``."""
        frame.write.mode("errorifexists").parquet(str(self.root / rel))
        self._written[rel] = frame.schema.json()
        return rel

    def rows(self, rel: str) -> int:
        """Rows in the part at ``rel``."""
        return parquet_rows(self.root / rel)

    # -- Spark views ----------------------------------------------------------------------------
    def frame(self, name: str, schema: ibis.Schema | None = None) -> Any:
        """The table as a Spark DataFrame; ``schema`` adds columns it lacks as typed NULLs."""
        from pyspark.sql import functions as F

        from aftercare.store.spark_backend import spark_type

        frame = self.frame_of(name, list(self.parts(name).values()))
        if schema is not None:
            have = set(frame.columns)
            for column, dtype in schema.items():
                if column not in have:  # a lake made by an older version
                    frame = frame.withColumn(column, F.lit(None).cast(spark_type(dtype)))
        return frame

    def frame_of(self, name: str, rels: list[str]) -> Any:
        """The directories ``rels`` of table ``name`` as one Spark DataFrame."""
        from pyspark.sql.types import StructType

        # recursiveFileLookup: no partition inference from as_of_date=… directory names (the
        # column is in the files).
        reader = self.session.read.option("recursiveFileLookup", "true")
        entry = self.manifest["tables"].get(name, {})
        stored = entry.get("schema") or next(
            (self._written[r] for r in rels if r in self._written), None
        )
        if stored:
            reader = reader.schema(StructType.fromJson(json.loads(stored)))
        return reader.parquet(*(str(self.root / rel) for rel in rels))

    def register(self, name: str, schema: ibis.Schema | None = None) -> None:
        """(Re)register ``name`` as a temporary view over its current parts."""
        if not self.parts(name):
            self.session.catalog.dropTempView(name)
            return
        if schema is not None:
            self.schemas[name] = schema
        self.frame(name, self.schemas.get(name)).createOrReplaceTempView(name)

    def register_all(self, schemas: Mapping[str, ibis.Schema]) -> None:
        """Register every table of the lake (with the canonical schema where one is known)."""
        self.schemas.update(schemas)
        for name in self.tables():
            self.register(name)

    def create_empty(self, schemas: Mapping[str, ibis.Schema]) -> None:
        """Create the tables of ``schemas`` that the lake lacks, empty, in one switch."""
        missing = [n for n in schemas if not self.has(n)]
        if not missing:
            return
        change = LakeChange()
        for name in missing:
            rel = self.write_arrow(self.new_dir(name), schemas[name].to_pyarrow().empty_table())
            change.parts[name] = {"empty": rel}
        self.schemas.update(schemas)
        self.commit(change)

    def drop_views(self, names: Iterable[str]) -> None:
        """Forget the temporary views (the session itself stays for the next lake)."""
        for name in names:
            self.session.catalog.dropTempView(name)
