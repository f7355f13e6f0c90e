"""The Ibis PySpark backend as a Spark lake needs it.

Three changes to the stock backend, each for a measured reason:

- in-memory tables reach Spark through a Parquet file, not pandas (the pandas path turns NULLs
  into NaN and crashes on NULL decimals);
- results come back with ``DataFrame.toArrow`` (no pandas round trip, NULL decimals survive);
- ``create_table`` and ``insert`` are refused: a lake table is a set of Parquet directories
  switched by the manifest (:mod:`aftercare.store.spark_lake`), and the playbook's
  transactional tables (actions, outcomes) are not built on Spark.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends.pyspark import Backend as PySparkBackend
from ibis.backends.pyspark.datatypes import PySparkType
from ibis.formats.pyarrow import PyArrowData

from aftercare.errors import NotBuiltError

# Loading the backend through ``ibis`` registers its options (``ibis.options.pyspark``), which
# its compiler reads; importing the class alone does not.
_ = ibis.pyspark

#: The feature each playbook table belongs to, for the message when a command tries to write it.
PLAYBOOK_FEATURE = {
    "actions": "actions",
    "dedicated_advisors": "actions",
    "action_moves": "actions",
    "action_outcomes": "outcomes",
    "contact_preferences": "outcomes",
    "engine_runs": "actions",
    "engine_seen_loads": "actions",
    "engine_customers": "actions",
    "engine_vehicles": "actions",
    "engine_queue": "actions",
    "engine_blocked": "actions",
    "engine_fleet_rates": "actions",
    "engine_fleet_errors": "actions",
    "engine_fleet_vins": "actions",
}


def not_on_spark(feature: str) -> NotBuiltError:
    """The plain one-line refusal for a playbook feature on a Spark lake."""
    return NotBuiltError(
        f"{feature} need a DuckDB or PostgreSQL store; a Spark lake holds imports and scores "
        "only (the playbook updates rows in place, which Parquet files cannot)"
    )


def spark_type(dtype: dt.DataType) -> Any:
    """The Spark SQL type of an Ibis type."""
    return PySparkType.from_ibis(dtype)


class LakeBackend(PySparkBackend):
    """Ibis over a Spark lake's session: reads only; writes go through the lake's manifest."""

    #: Where in-memory tables are written as Parquet before Spark reads them (set by the store).
    scratch: Path

    def _register_in_memory_table(self, op: ops.InMemoryTable) -> None:
        schema = op.schema
        data = op.data.to_pyarrow(schema)
        path = self.scratch / f"{op.name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(data.cast(schema.to_pyarrow()), path)
        self._session.read.parquet(str(path)).createOrReplaceTempView(op.name)

    def to_pyarrow(
        self,
        expr: ir.Expr,
        /,
        *,
        params: Mapping[ir.Scalar, Any] | None = None,
        limit: int | str | None = None,
        **kwargs: Any,
    ) -> pa.Table:
        """Execute ``expr`` and return Arrow straight from Spark (no pandas in between)."""
        self._run_pre_execute_hooks(expr)
        table_expr = expr.as_table()
        sql = self.compile(table_expr, params=params, limit=limit, **kwargs)
        arrow = self._session.sql(sql).toArrow()
        schema = table_expr.schema()
        arrow = arrow.rename_columns(list(table_expr.columns))
        result = PyArrowData.convert_table(arrow, schema)
        return expr.__pyarrow_result__(result)

    def to_pyarrow_batches(
        self,
        expr: ir.Expr,
        /,
        *,
        params: Mapping[ir.Scalar, Any] | None = None,
        limit: int | str | None = None,
        chunk_size: int = 1_000_000,
        **kwargs: Any,
    ) -> pa.ipc.RecordBatchReader:
        """Arrow batches of ``expr`` (collected through :meth:`to_pyarrow`)."""
        table = self.to_pyarrow(expr.as_table(), params=params, limit=limit, **kwargs)
        return pa.ipc.RecordBatchReader.from_batches(
            table.schema, table.to_batches(max_chunksize=chunk_size)
        )

    def frame(self, expr: ir.Table) -> Any:
        """The Spark DataFrame of an Ibis table expression (nothing is executed yet)."""
        self._run_pre_execute_hooks(expr)
        return self._session.sql(self.compile(expr))

    def create_table(self, name: str, /, obj: Any = None, **kwargs: Any) -> ir.Table:
        """Refused: lake tables are created by the store (see the module docstring)."""
        raise self._refusal(name)

    def insert(self, name: str, /, obj: Any = None, **kwargs: Any) -> None:
        """Refused: lake tables are written by the store (see the module docstring)."""
        raise self._refusal(name)

    @staticmethod
    def _refusal(name: str) -> NotBuiltError:
        feature = PLAYBOOK_FEATURE.get(name)
        if feature:
            return not_on_spark(feature)
        return NotBuiltError(f"writing table {name!r} directly is not built for a Spark lake")
