"""Two column computations Arrow has no kernel for, run by Ibis on an in-process engine.

- :func:`hash_values`: a 64-bit hash per value (the natural-key codes of
  :func:`aftercare.ingest.issues.key_codes`);
- :func:`records_as_json`: each row as one JSON object (the ``raw_record`` of a reject).

Each call uses a private in-memory connection of Ibis's default engine (DuckDB), closed after:
no store is touched, and the Arrow data registered for the call is not kept alive.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pyarrow as pa


@ibis.udf.scalar.builtin(name="hash")
def _hash(value: str) -> dt.uint64:
    """The engine's own 64-bit hash (Ibis's ``hash()`` adds a bit cast costing ~3x the hash)."""


@contextmanager
def _engine() -> Iterator[ibis.BaseBackend]:
    con = ibis.duckdb.connect()
    try:
        yield con
    finally:
        con.disconnect()


def hash_values(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The 64-bit hash of each value (text): equal values hash equal (NULL too).

    Returns
    -------
    numpy.ndarray
        ``uint64``, one per value, in order.
    """
    keys = ibis.memtable(pa.table({"k": values}))
    with _engine() as con:
        hashes = con.to_pyarrow(keys.select(h=_hash(keys.k))).column("h")
    return np.asarray(hashes.to_numpy(), dtype=np.uint64)


def records_as_json(cells: pa.Table) -> pa.ChunkedArray:
    """Each row of ``cells`` (text columns) as a JSON object: ``{"header":"text",…}``.

    Keys are the column names in order (any text, headers differing only in case included);
    an empty cell is ``null``; nothing is escaped but what JSON requires (``"``, ``\\``,
    control characters), so Chinese text stays readable.
    """
    names = cells.column_names
    positional = ibis.memtable(cells.rename_columns([f"c{i}" for i in range(len(names))]))
    record = ibis.map(
        ibis.array([ibis.literal(name, type="string") for name in names]),
        ibis.array([positional[f"c{i}"] for i in range(len(names))]),
    )
    with _engine() as con:
        rows = con.to_pyarrow(positional.select(j=record.cast("json").cast("string")))
    return rows.column("j")
