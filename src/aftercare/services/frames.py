"""Small reduced tables between the store and pandas: pulled as Arrow, dates as day numbers.

The action engine's scheduling (:mod:`aftercare.playbook.schedule`) works on day numbers
(days since 1970-01-01) in pandas; these helpers pull a small table that way and turn day
numbers back into Arrow dates for the writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping

import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from aftercare.store import plans
from aftercare.store.connect import Store
from aftercare.store.transaction import fetch_compiled

#: Day number 0.
EPOCH = dt.date(1970, 1, 1)


def pull_frame(table: ir.Table) -> pd.DataFrame:
    """Pull a small table; dates become day numbers (days since 1970-01-01)."""
    return arrow_frame(table.to_pyarrow())


def pull_planned(
    store: Store,
    shape: Hashable,
    build: plans.Builder,
    dates: Mapping[str, dt.date] | None = None,
) -> pd.DataFrame:
    """:func:`pull_frame` of ``build(dates)``, its SQL compiled once per store and ``shape``
    (:func:`aftercare.store.plans.compiled`: ``build`` uses its dates only as literals)."""
    return arrow_frame(fetch_compiled(store, plans.compiled(store, shape, build, dates or {})))


def arrow_frame(arrow: pa.Table) -> pd.DataFrame:
    """Arrow rows as pandas; dates become day numbers (days since 1970-01-01)."""
    cols = {}
    for name in arrow.column_names:
        col = arrow.column(name)
        cols[name] = col.cast(pa.int32()) if pa.types.is_date(col.type) else col
    return pa.table(cols).to_pandas()


def date_array(days: np.ndarray) -> pa.Array:
    """Day numbers as an Arrow ``date32`` array."""
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.int32()).cast(pa.date32())
