"""The small-frame helpers of the action engine (aftercare.services.frames)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aftercare.services.frames import member


@pytest.mark.parametrize("dtype", [object, "string[pyarrow]"])
def test_member_matches_pandas_isin_and_never_a_missing_value(dtype: object) -> None:
    values = pd.Series(["A1", "B2", None, "C3", "A1"], dtype=dtype)
    pool = {"A1", "C3", "Z9"}
    got = member(values, pool)
    assert got.dtype == np.bool_
    assert got.tolist() == [True, False, False, True, True]
    assert got.tolist() == values.isin(pool).fillna(False).astype(bool).tolist()


def test_member_takes_a_series_of_ids_and_empty_inputs() -> None:
    assert member(pd.Series(["x", "y"]), pd.Series(["y"])).tolist() == [False, True]
    assert member(pd.Series(["x"]), set()).tolist() == [False]
    assert member(pd.Series([], dtype=object), {"x"}).tolist() == []
