"""Per-cell problems and in-file duplicate keys, collected column-at-a-time (R-IN-1).

Helpers of :mod:`aftercare.ingest.validate`: :class:`Issues` gathers reasons cell by cell as
Arrow arrays; :func:`deduplicate` applies the "last row wins" rule for a natural key seen
twice in one file (identical copies dropped with a warning, conflicting ones rejected as
superseded), with no Python loop per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.ingest.inprocess import hash_values
from aftercare.schema import TableSpec


@dataclass
class Issues:
    """Per-cell problems collected column by column: (position, column, order, text)."""

    positions: list[pa.Array]
    columns: list[str]
    orders: list[int]
    texts: list[pa.Array]

    @classmethod
    def empty(cls) -> Issues:
        return cls([], [], [], [])

    def add(self, column: str, order: int, text: pa.Array | pa.ChunkedArray, keep) -> None:
        mask = pc.and_(pc.is_valid(text), keep)
        if not pc.any(mask).as_py():
            return
        positions = pa.array(np.flatnonzero(np_bool(mask)), pa.int64())
        self.positions.append(positions)
        self.columns.append(column)
        self.orders.append(order)
        self.texts.append(pc.take(text, positions))

    def table(self, rows: pa.Array) -> pa.Table:
        """(_pos, source_row, column_name, _order, text), ordered by row then column."""
        if not self.positions:
            return pa.table(
                {"_pos": pa.array([], pa.int64()), "source_row": pa.array([], pa.int64()),
                 "column_name": pa.array([], pa.string()), "_order": pa.array([], pa.int64()),
                 "text": pa.array([], pa.string())}
            )  # fmt: skip
        pos = pa.concat_arrays(self.positions)
        sizes = [len(p) for p in self.positions]
        table = pa.table(
            {
                "_pos": pos,
                "source_row": pc.take(rows, pos),
                "column_name": pa.concat_arrays(
                    [
                        pa.repeat(pa.scalar(column, pa.string()), size)
                        for column, size in zip(self.columns, sizes, strict=True)
                    ]
                ),
                "_order": pa.array(np.repeat(self.orders, sizes), pa.int64()),
                "text": pa.concat_arrays(self._flat()),
            }
        )
        return table.sort_by([("source_row", "ascending"), ("_order", "ascending")])

    def _flat(self) -> list[pa.Array]:
        return [t.combine_chunks() if isinstance(t, pa.ChunkedArray) else t for t in self.texts]


def np_bool(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def key_codes(parts: list[pa.Array | pa.ChunkedArray]) -> np.ndarray:
    """One integer per natural key: equal keys get equal codes.

    Codes number DuckDB's 64-bit hashes of the keys; when no hash repeats (the usual file) the
    row number is the code (a dictionary of 9M distinct order numbers took ~2.5 s, this ~0.5 s).
    Two different keys sharing a hash would only make both rows candidates: :func:`deduplicate`
    compares the keys themselves.
    """
    texts = [p.cast(pa.string()) for p in parts]
    joined = texts[0] if len(texts) == 1 else pc.binary_join_element_wise(*texts, "\x1f")
    values = hash_values(joined)
    ordered = np.sort(values)
    if not (ordered[1:] == ordered[:-1]).any():  # the usual file: every key once
        return np.arange(len(values), dtype=np.int64)
    # A NULL key (a rejected row, never a good one) gets a code too; only good rows are counted.
    codes, _ = pd.factorize(values)
    return np.asarray(codes, dtype=np.int64)


def deduplicate(good: pa.Table, spec: TableSpec, fields: dict[str, str], codes: np.ndarray):
    """Same key twice in one file: the last row wins (see module docstring)."""
    key = list(spec.key)
    empty = Issues.empty().table(pa.array([], pa.int64()))
    if good.num_rows == 0:
        return good, empty, empty
    repeated_rows = np.bincount(codes)[codes] > 1
    if not repeated_rows.any():
        return good, empty, empty
    candidates = good.filter(pa.array(repeated_rows))
    counts = candidates.group_by(key).aggregate([("source_row", "max")])
    involved = candidates.join(counts, keys=key)
    is_last = pc.equal(involved.column("source_row"), involved.column("source_row_max"))
    winners = involved.filter(is_last).drop_columns(["source_row_max", "source_row", "_pos"])
    losers = involved.filter(pc.invert(is_last))
    paired = losers.join(winners, keys=key, right_suffix="__last")
    same = pa.repeat(True, paired.num_rows)
    for name in winners.column_names:
        if name in key:
            continue
        left, right = paired.column(name), paired.column(f"{name}__last")
        equal = pc.coalesce(pc.equal(left, right), pc.and_(pc.is_null(left), pc.is_null(right)))
        same = pc.and_(same, equal)
    key_text = pc.binary_join_element_wise(*[paired.column(k).cast(pa.string()) for k in key], "/")
    last_row = paired.column("source_row_max").cast(pa.string())
    header = "/".join(fields[k] for k in key)
    conflict = pc.binary_join_element_wise(
        "duplicate key ", key_text, ": superseded by row ", last_row, ""
    )
    identical = pc.binary_join_element_wise(
        "duplicate of row ", last_row, " (identical): kept once", ""
    )

    def issues(mask, message) -> pa.Table:
        part = paired.filter(mask)
        return pa.table(
            {
                "_pos": part.column("_pos"),
                "source_row": part.column("source_row"),
                "column_name": pa.repeat(pa.scalar(header), part.num_rows),
                "_order": pa.repeat(pa.scalar(len(spec.columns) + 1, pa.int64()), part.num_rows),
                "text": message.filter(mask),
            }
        )

    rejects, warnings = issues(pc.invert(same), conflict), issues(same, identical)
    survivors = good.filter(pc.invert(pc.is_in(good.column("_pos"), losers.column("_pos"))))
    return survivors, rejects.cast(empty.schema), warnings.cast(empty.schema)
