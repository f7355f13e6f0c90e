"""Ids matched in Arrow for the action engine's scheduling (aftercare.playbook.ids)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from aftercare.playbook.ids import id_codes, member


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


@pytest.mark.parametrize("dtype", [object, "string[pyarrow]"])
def test_id_codes_code_others_alike_and_minus_one_when_absent(dtype: object) -> None:
    a = pd.Series(["C2", "C1", None, "C2"], dtype=dtype)
    b = pd.Series(["C3", "C1", None, "C2"], dtype=dtype)
    ca, (cb,), n = id_codes(a, b)
    assert n == 3  # C2, C1, missing
    assert ca.dtype == np.int64 and cb.dtype == np.int64
    assert sorted(set(ca.tolist())) == [0, 1, 2]
    assert ca[0] == ca[3] and ca[0] != ca[1] != ca[2]
    assert cb.tolist() == [-1, ca[1], ca[2], ca[0]]


def test_id_codes_of_empty_columns() -> None:
    codes, (other,), n = id_codes(pd.Series([], dtype=object), pd.Series(["x"]))
    assert codes.tolist() == [] and other.tolist() == [-1] and n == 0


def test_ids_from_an_arrow_backed_series_in_chunks() -> None:
    chunked = pd.Series(pd.array(pa.chunked_array([["C1", "C2"], ["C1"]]), dtype="string[pyarrow]"))
    codes, (other,), n = id_codes(chunked, pd.Series(["C2", "C9"]))
    assert n == 2 and codes[0] == codes[2] and other.tolist() == [codes[1], -1]
    assert member(chunked, ["C2"]).tolist() == [False, True, False]
