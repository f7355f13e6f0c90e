"""The in-process column computations give what DuckDB's SQL gave before (R-IN-1 raw records)."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from aftercare.ingest.inprocess import hash_values, records_as_json

TEXTS = [
    "a",
    None,
    "",
    '中文 "quoted" \\ back',
    "".join(chr(i) for i in range(32)) + "\x7f",
    "emoji 😀",
    "/slash",
    "\u2028 line separator",
    "'single'",
]


def _duckdb_json(cells: pa.Table) -> list[str]:
    con = duckdb.connect()
    con.register("cells", cells)
    query = "SELECT CAST(to_json(cells) AS VARCHAR) AS j FROM cells"
    return con.execute(query).to_arrow_table().column("j").to_pylist()


def test_records_as_json_is_duckdbs_to_json_byte_for_byte():
    cells = pa.table(
        {'客户 "名"': TEXTS, "b\\c": TEXTS[::-1], "it's": TEXTS, "x": ["1"] * len(TEXTS)}
    )
    assert records_as_json(cells).to_pylist() == _duckdb_json(cells)


def test_records_as_json_keeps_every_header_as_written():
    """Headers differing only in case, or named like a table, stay keys of their own."""
    cells = pa.table({"A": ["1"], "a": [None], "cells": ["2"]})
    assert records_as_json(cells).to_pylist() == ['{"A":"1","a":null,"cells":"2"}']


def test_hash_values_are_duckdbs_64_bit_hash():
    values = pa.chunked_array([["RO1", "RO2"], [None, "RO1"]])
    con = duckdb.connect()
    con.register("keys", pa.table({"k": values}))
    expected = con.execute("SELECT hash(k) AS h FROM keys").to_arrow_table().column("h")
    got = hash_values(values)
    assert got.dtype == np.uint64
    assert got.tolist() == expected.to_pylist()
    assert got[0] == got[3] and got[0] != got[1]
