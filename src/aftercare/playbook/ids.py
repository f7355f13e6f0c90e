"""String ids (customers, advisors, actions) matched in Arrow instead of pandas.

Pandas keeps a pulled table's strings Arrow-backed; its ``isin``, ``merge`` and
``get_indexer`` on them convert values one Python object at a time, which costs a 1M-customer
run seconds (issue 11). These helpers match ids with Arrow's hash kernels and hand back NumPy
arrays, so the scheduling works on integer codes.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["id_codes", "member"]


def _strings(values: pd.Series | pd.Index | Collection[str]) -> pa.Array:
    items = values if isinstance(values, pd.Series | pd.Index) else list(values)
    array = pa.array(items, pa.string(), from_pandas=True)
    # An Arrow-backed Series may come back in chunks.
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def member(values: pd.Series | pd.Index, of: Collection[str] | pd.Series | pd.Index) -> np.ndarray:
    """Which of ``values`` (strings; missing ones never) are in ``of``, as a bool array."""
    found = pc.is_in(_strings(values), value_set=_strings(of))
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def id_codes(
    values: pd.Series | pd.Index, *others: pd.Series | pd.Index
) -> tuple[np.ndarray, list[np.ndarray], int]:
    """Integer codes of ids: those of ``values`` and, alike, of each of ``others``.

    ``values``' distinct ids get codes 0 … n - 1 (a missing id is an id like any other);
    an id of ``others`` gets the code of the same id in ``values``, or -1 when ``values``
    does not hold it. Returns (codes of ``values``, codes of each of ``others``, n), int64.
    """
    encoded = _strings(values).dictionary_encode(null_encoding="encode")
    known = encoded.dictionary
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    coded = [
        np.asarray(
            pc.index_in(_strings(o), value_set=known, skip_nulls=False)
            .fill_null(-1)
            .to_numpy(zero_copy_only=False),
            dtype=np.int64,
        )
        for o in others
    ]
    return codes, coded, len(known)
