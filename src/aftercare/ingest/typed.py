"""Typed Parquet/Arrow cells -> canonical values without a text round trip (SPEC §1).

A Parquet export already holds dates, timestamps and numbers as such. Turning 9M of them into
text only to parse the text again cost most of a large import, so :func:`parse_typed` converts
them directly — with exactly the result the text path gives: every cell the direct conversion
cannot settle *exactly* (an amount with more than two decimals, a NaN, a year outside
:data:`~aftercare.ingest.parse.YEAR_RANGE`, a number too large …) goes through the text parser,
as text, so its value or its reason for rejection is the text path's, word for word.

Only the pairs below take the direct route; any other (a numeric id column, an enum stored as
integers, decimals with more than two decimals …) returns ``None`` and the caller uses the text
path for the whole column.

=============  =========================================
canonical      typed source
=============  =========================================
date           date32/date64, timestamp (time dropped)
timestamp      timestamp (to microseconds), date32/date64
money          float, integer, decimal with ≤ 2 decimals
int64          integer, float (whole, or rounded if allowed)
float64        float, integer
bool           bool
=============  =========================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.ingest import parse
from aftercare.schema import Column

Array: TypeAlias = pa.Array | pa.ChunkedArray
#: Turns the cells at the given positions into cleaned text (see reader.column_as_text).
TextOf = Callable[[pa.Array], Array]
#: A text parser of :mod:`aftercare.ingest.parse`.
TextParser = Callable[[Array], parse.Parsed]

_YEAR_LOW, _YEAR_HIGH = parse.YEAR_RANGE
#: The text path's integer patterns allow at most 15 whole digits.
_INT_LIMIT = 10**15
#: DECIMAL(14, 2) holds at most 12 whole digits: cents below 10^14.
_CENT_LIMIT = 10 ** (parse.MONEY_TYPE.precision)
_MONEY_SCALE = parse.MONEY_TYPE.scale


def parse_typed(
    col: Column, column: pa.ChunkedArray, text_of: TextOf, *, round_fraction: bool = False
) -> parse.Parsed | None:
    """Canonical values of ``col`` from a typed source column, or ``None`` (use the text path).

    Parameters
    ----------
    col
        Canonical column (its type decides the conversion).
    column
        The source cells, typed (not ``string``).
    text_of
        Cleaned text of the cells at given positions, for the cells handed to the text parser.
    round_fraction
        Integer columns whose fractions are rounded rather than rejected.

    Returns
    -------
    Parsed or None
        Values and reasons aligned with ``column``, equal to what the text path gives.
    """
    kind = column.type
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
    temporal = pa.types.is_date(kind) or pa.types.is_timestamp(kind)
    if col.enum is not None or col.name == "vin":
        return None
    if col.type == "date" and temporal:
        return _dates(column, text_of)
    if col.type == "timestamp" and temporal:
        return _timestamps(column, text_of)
    if col.type == "money" and numeric:
        return _money(column, text_of)
    if col.type == "money" and pa.types.is_decimal(kind) and kind.scale <= _MONEY_SCALE:
        return _decimal_money(column, text_of)
    if col.type == "int64" and numeric:
        return _ints(column, text_of, round_fraction=round_fraction)
    if col.type == "float64" and numeric:
        return _floats(column, text_of)
    if col.type == "bool" and pa.types.is_boolean(kind):
        return parse.Parsed(column)
    return None


def _np(values: Array, dtype: type) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=dtype)


def _floats_or_zero(column: Array) -> np.ndarray:
    """The cells as doubles (NULL -> 0.0; integers beyond 2^53 to their nearest double)."""
    return _np(pc.fill_null(pc.cast(column, pa.float64(), safe=False), 0.0), np.float64)


def _valid(column: Array) -> np.ndarray:
    return _np(pc.is_valid(column), bool)


def _with_text_path(
    direct: Array, settled: np.ndarray, column: Array, text_of: TextOf, parser: TextParser
) -> parse.Parsed:
    """``direct`` where ``settled``; the text parser's value and reason for the other cells.

    ``settled`` is False for every present cell the direct conversion cannot decide exactly.
    """
    rest = np.flatnonzero(_valid(column) & ~settled)
    if not len(rest):
        return parse.Parsed(direct)
    part = parse.scattered(parser(text_of(pa.array(rest))), rest, len(column))
    return parse.Parsed(pc.if_else(pa.array(settled), direct, part.values), part.error)


def _years_in_range(column: Array) -> np.ndarray:
    year = pc.fill_null(pc.year(column), _YEAR_LOW)
    return _np(pc.and_(pc.greater_equal(year, _YEAR_LOW), pc.less_equal(year, _YEAR_HIGH)), bool)


def _dates(column: pa.ChunkedArray, text_of: TextOf) -> parse.Parsed:
    # Years outside the accepted range are refused by the text path, with its message.
    direct = column.cast(pa.date32())
    return _with_text_path(direct, _years_in_range(column), column, text_of, parse.parse_date)


def _timestamps(column: pa.ChunkedArray, text_of: TextOf) -> parse.Parsed:
    settled = _years_in_range(column)
    if pa.types.is_timestamp(column.type) and column.type.unit == "ns":
        # The text keeps six decimals (truncated): nanoseconds go through it, to the same value.
        nanos = _np(pc.fill_null(column.cast(pa.int64()), 0), np.int64)
        settled &= nanos % 1000 == 0
        column_us = pc.if_else(pa.array(settled), column, pa.scalar(None, column.type))
        direct = column_us.cast(pa.timestamp("us"))
    else:
        direct = column.cast(pa.timestamp("us"))
    return _with_text_path(direct, settled, column, text_of, parse.parse_timestamp)


def _money(column: pa.ChunkedArray, text_of: TextOf) -> parse.Parsed:
    """Amounts with at most two decimals become DECIMAL(14, 2) directly.

    A float ``x`` is settled when ``round(x * 100) / 100 == x``: IEEE division is correctly
    rounded, so ``x`` is then the double nearest to a two-decimal number, i.e. its shortest text
    (what the text path reads) has at most two decimals and the same value.
    """
    values = _floats_or_zero(column)
    if pa.types.is_integer(column.type):
        settled = np.abs(values) * 100 < _CENT_LIMIT
        cents = np.where(settled, _np(pc.fill_null(column, 0), np.int64), 0) * 100
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = np.rint(values * 100)
            settled = np.isfinite(values) & (np.abs(scaled) < _CENT_LIMIT)
            settled &= scaled / 100 == values
        cents = np.where(settled, scaled, 0).astype(np.int64)
    direct = _cents_to_money(cents, settled & _valid(column))
    return _with_text_path(direct, settled, column, text_of, parse.parse_money)


def _decimal_money(column: pa.ChunkedArray, text_of: TextOf) -> parse.Parsed:
    """Decimals with at most two decimals (a SQL DMS's NUMERIC(18, 2)) are already exact: only
    their size is checked (12 whole digits at most), the rest is the text path's."""
    values = _floats_or_zero(column)
    # Doubles tell 10^12 from the largest two-decimal amount below it (14 digits in 15.9).
    settled = np.abs(values) < _CENT_LIMIT / 100
    kept = pc.if_else(pa.array(settled), column, pa.scalar(None, column.type))
    return _with_text_path(
        pc.cast(kept, parse.MONEY_TYPE), settled, column, text_of, parse.parse_money
    )


def _cents_to_money(cents: np.ndarray, valid: np.ndarray) -> pa.Array:
    """int64 cents -> DECIMAL(14, 2): the cents *are* the decimal's unscaled value.

    A decimal128 is a 16-byte two's-complement integer (little-endian); the buffer is built
    from the cents and their sign, with no arithmetic per value.
    """
    words = np.empty((len(cents), 2), dtype="<i8")
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    validity = pa.array(valid).buffers()[1] if not valid.all() else None
    data = pa.py_buffer(words.tobytes())
    return pa.Array.from_buffers(parse.MONEY_TYPE, len(cents), [validity, data])


def _ints(column: pa.ChunkedArray, text_of: TextOf, *, round_fraction: bool) -> parse.Parsed:
    def text_parser(cells: Array) -> parse.Parsed:
        return parse.parse_int(cells, round_fraction=round_fraction)

    if pa.types.is_integer(column.type):
        if pa.types.is_unsigned_integer(column.type):
            values = _np(pc.fill_null(column.cast(pa.uint64()), 0), np.uint64)
            settled = values < _INT_LIMIT
            direct = pc.if_else(pa.array(settled), column, pa.scalar(None, column.type))
        else:
            values = _np(pc.fill_null(column.cast(pa.int64()), 0), np.int64)
            settled = np.abs(values) < _INT_LIMIT
            direct = column
        return _with_text_path(direct.cast(pa.int64()), settled, column, text_of, text_parser)
    values = _floats_or_zero(column)
    with np.errstate(invalid="ignore"):
        whole = np.floor(values) == values
        settled = np.isfinite(values) & (np.abs(values) < _INT_LIMIT)
    if not round_fraction:
        settled &= whole
    # Half away from zero, by the kernel the text path rounds the same double with.
    kept = pa.array(np.where(settled, values, 0.0))
    rounded = pc.round(kept, 0, round_mode="half_towards_infinity")
    direct = pa.array(_np(rounded, np.float64).astype(np.int64), mask=~(settled & _valid(column)))
    return _with_text_path(direct, settled, column, text_of, text_parser)


def _floats(column: pa.ChunkedArray, text_of: TextOf) -> parse.Parsed:
    values = _floats_or_zero(column)
    settled = np.isfinite(values)
    if pa.types.is_integer(column.type):
        settled &= np.abs(values) < 2**53  # the text of a larger integer is not its double
    direct = pc.cast(column, pa.float64(), safe=False)
    return _with_text_path(direct, settled, column, text_of, parse.parse_float)
