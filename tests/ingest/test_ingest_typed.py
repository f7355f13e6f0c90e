"""Typed Parquet columns convert directly, with exactly the text path's values and rejects.

The direct route (:mod:`aftercare.ingest.typed`) exists for speed only: the property below
validates the same Arrow table twice — typed columns kept, and every column turned to text
first (the path all other formats take) — and demands identical good rows, rejects and
warnings. Hand-computed cases pin the edges (two-decimal floats, 四舍五入 on a third decimal,
NaN, too-large amounts, years out of range, nanoseconds, time zones).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftercare.ingest import typed
from aftercare.ingest.mapping import builtin_mapping
from aftercare.ingest.reader import column_as_text, read_source, source_from_arrow
from aftercare.ingest.validate import ValidatedFile, read_and_validate, validate_file
from aftercare.schema import Column, table_spec

VIN = "LSVAB2BM5JN123456"
PATH = Path("typed.parquet")


def _validate(table: pa.Table, name: str, *, keep_types: bool) -> ValidatedFile:
    source = source_from_arrow(table, PATH, keep_types=keep_types)
    return validate_file(source, table_spec(name), builtin_mapping(), source_file=PATH.name)


def _same_as_text_path(table: pa.Table, name: str) -> ValidatedFile:
    fast = _validate(table, name, keep_types=True)
    text = _validate(table, name, keep_types=False)
    assert fast.good.schema == text.good.schema
    assert fast.good.to_pylist() == text.good.to_pylist()
    assert fast.rejects.to_pylist() == text.rejects.to_pylist()
    assert fast.warnings.to_pylist() == text.warnings.to_pylist()
    assert (fast.rows_read, fast.rows_rejected) == (text.rows_read, text.rows_rejected)
    return fast


def _text_of(column: pa.ChunkedArray):
    def at(positions: pa.Array):
        return column_as_text(PATH, "x", column.take(positions))

    return at


def _typed(col: Column, values: pa.Array, **kwargs):
    column = pa.chunked_array([values])
    parsed = typed.parse_typed(col, column, _text_of(column), **kwargs)
    assert parsed is not None
    errors = [None] * len(values) if parsed.error is None else parsed.error.to_pylist()
    return parsed.values.to_pylist(), errors


# --- hand-computed edges ------------------------------------------------------------------


def test_money_from_floats_matches_what_the_user_sees() -> None:
    money = Column("total_amount", "money")
    floats = [1234.5, 0.1 + 0.2, 1.005, -0.01, -0.0, 999999999999.99, 1e12, float("nan"), None]
    values, errors = _typed(money, pa.array(floats, pa.float64()))
    assert values == [
        Decimal("1234.50"),
        Decimal("0.30"),  # 0.30000000000000004: three decimals and more, rounded
        Decimal("1.01"),  # the text is 1.005: half away from zero (四舍五入), not the binary 1.00
        Decimal("-0.01"),
        Decimal("0.00"),
        Decimal("999999999999.99"),
        None,
        None,
        None,
    ]
    assert errors[6:] == [
        "amount too large: '1000000000000'",
        "amount not a number: 'nan'",
        None,
    ]


def test_money_from_integers() -> None:
    values, errors = _typed(
        Column("total_amount", "money"), pa.array([12, -3, 10**12, None], pa.int64())
    )
    assert values == [Decimal("12.00"), Decimal("-3.00"), None, None]
    assert errors == [None, None, "amount too large: '1000000000000'", None]


def test_money_from_decimals() -> None:
    """A SQL DMS's NUMERIC(18, 2) is exact already; more decimals are rounded as text is."""
    money = Column("total_amount", "money")
    two = pa.array([Decimal("1234.50"), Decimal("-0.01"), Decimal("1000000000000.00"), None])
    values, errors = _typed(money, two.cast(pa.decimal128(18, 2)))
    assert values == [Decimal("1234.50"), Decimal("-0.01"), None, None]
    assert errors == [None, None, "amount too large: '1000000000000.00'", None]
    whole = pa.array([Decimal("12")], pa.decimal128(10, 0))
    assert _typed(money, whole)[0] == [Decimal("12.00")]
    four = pa.chunked_array([pa.array([Decimal("1.0050")], pa.decimal128(20, 4))])
    assert typed.parse_typed(money, four, _text_of(four)) is None  # the text path rounds it


def test_dates_and_timestamps_with_years_out_of_range_are_refused_as_text_is() -> None:
    days = pa.array([dt.date(2024, 3, 5), dt.date(1850, 1, 1), None], pa.date32())
    values, errors = _typed(Column("open_date", "date"), days)
    assert values == [dt.date(2024, 3, 5), None, None]
    assert errors == [None, "bad date '1850-01-01' (expected e.g. 2024-03-05)", None]
    moments = pa.array(
        [dt.datetime(1965, 3, 5, 10, 0), dt.datetime(2024, 3, 5, 23, 59, 59)], pa.timestamp("s")
    )
    assert _typed(Column("open_date", "date"), moments)[0] == [
        dt.date(1965, 3, 5),  # before 1970: the day of the date, not the day before
        dt.date(2024, 3, 5),
    ]
    assert _typed(Column("ts", "timestamp"), days)[0] == [dt.datetime(2024, 3, 5), None, None]


def test_nanoseconds_are_truncated_to_microseconds_as_in_the_text() -> None:
    ns = pa.array([1_709_633_043_123_456_789, 1_709_633_043_000_001_000], pa.timestamp("ns"))
    values, errors = _typed(Column("ts", "timestamp"), ns)
    assert values == [
        dt.datetime(2024, 3, 5, 10, 4, 3, 123456),
        dt.datetime(2024, 3, 5, 10, 4, 3, 1),
    ]
    assert errors == [None, None]


def test_integers_whole_rounded_or_refused() -> None:
    odometer = Column("odometer_km", "int64")
    floats = pa.array([12345.0, 12345.5, -2.5, 0.49999999999999994, 1e15, float("inf")])
    values, errors = _typed(odometer, floats, round_fraction=True)
    assert values == [12345, 12346, -3, 0, None, None]
    assert errors[:4] == [None] * 4 and all(e.startswith("not a whole number") for e in errors[4:])
    score = Column("score", "int64")
    values, errors = _typed(score, pa.array([7.0, 7.5]))
    assert values == [7, None]
    assert errors == [None, "not a whole number: '7.5'"]
    big = pa.array([2**64 - 1, 9], pa.uint64())
    assert _typed(score, big) == ([None, 9], [f"not a whole number: '{2**64 - 1}'", None])


def test_floats_and_bools() -> None:
    x = Column("x", "float64")
    values, errors = _typed(x, pa.array([1.5, float("nan"), None]))
    assert values == [1.5, None, None]
    assert errors == [None, "not a number: 'nan'", None]
    assert _typed(Column("b", "bool"), pa.array([True, None]))[0] == [True, None]


@pytest.mark.parametrize(
    ("col", "values"),
    [
        (Column("customer_id", "string"), pa.array([1, 2])),  # a numeric id: its text
        (Column("category", "string", enum=("repair",)), pa.array([1])),
        (Column("vin", "string"), pa.array([1])),
        (Column("open_date", "date"), pa.array([20240305])),  # yyyymmdd / Excel serial: text
        (Column("resolved", "bool"), pa.array([1, 0])),
    ],
)
def test_other_pairings_take_the_text_path(col: Column, values: pa.Array) -> None:
    column = pa.chunked_array([values])
    assert typed.parse_typed(col, column, _text_of(column)) is None


# --- typed route == text route, on whole files ------------------------------------------------

_MONEY_FLOATS = st.one_of(
    st.integers(-(10**14), 10**14).map(lambda cents: cents / 100),
    st.integers(-(10**9), 10**9).map(lambda milli: milli / 1000),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.none(),
)
_DATES = st.one_of(st.dates(dt.date(1800, 1, 1), dt.date(2200, 12, 31)), st.none())
_MOMENTS = st.one_of(
    st.datetimes(dt.datetime(1800, 1, 1), dt.datetime(2200, 12, 31)),
    st.dates(dt.date(1960, 1, 1), dt.date(2030, 1, 1)).map(
        lambda d: dt.datetime(d.year, d.month, d.day)
    ),
    st.none(),
)


def _money_column(kind: str, values: list[float | None]) -> pa.Array:
    if kind == "float":
        return pa.array(values, pa.float64())
    if kind.startswith("decimal"):
        scale = int(kind[-1])
        exact = [
            None
            if v is None or not np.isfinite(v) or abs(v) >= 10**15
            else Decimal(repr(v)).quantize(Decimal(1).scaleb(-scale))
            for v in values
        ]
        return pa.array(exact, pa.decimal128(15 + scale, scale))
    ints = [None if v is None or not np.isfinite(v) else int(v) for v in values]
    ints = [v if v is None or abs(v) < 2**62 else 0 for v in ints]
    return pa.array(ints, pa.int64())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    n=st.integers(1, 25),
    money_kind=st.sampled_from(["float", "int", "decimal2", "decimal4"]),
    date_kind=st.sampled_from(["date32", "timestamp[s]", "timestamp[ms, tz=Asia/Shanghai]"]),
    odometer_kind=st.sampled_from(["int64", "float64", "int32"]),
)
def test_orders_typed_route_equals_text_route(
    data, n: int, money_kind: str, date_kind: str, odometer_kind: str
) -> None:
    amounts = data.draw(st.lists(_MONEY_FLOATS, min_size=n, max_size=n))
    days = data.draw(st.lists(_DATES, min_size=n, max_size=n))
    closes = data.draw(st.lists(_MOMENTS, min_size=n, max_size=n))
    km = data.draw(st.lists(st.one_of(_MONEY_FLOATS, st.none()), min_size=n, max_size=n))
    keys = data.draw(st.lists(st.integers(0, n), min_size=n, max_size=n))  # duplicates too
    open_type = {
        "date32": pa.date32(),
        "timestamp[s]": pa.timestamp("s"),
        "timestamp[ms, tz=Asia/Shanghai]": pa.timestamp("ms", tz="Asia/Shanghai"),
    }[date_kind]
    open_days = [None if d is None else dt.datetime(d.year, d.month, d.day) for d in days]
    if open_type == pa.date32():
        open_column = pa.array(days, pa.date32())
    elif open_type.tz is None:
        open_column = pa.array(open_days, open_type)
    else:
        open_column = pa.array(open_days, pa.timestamp("ms")).cast(open_type)
    odometer: pa.Array = _money_column("float", km)
    if odometer_kind != "float64":
        odometer = _money_column("int", km).cast(pa.int64())
        if odometer_kind == "int32":
            values = [
                None if v is None else int(np.clip(v, -(2**31), 2**31 - 1))
                for v in odometer.to_pylist()
            ]
            odometer = pa.array(values, pa.int32())
    table = pa.table(
        {
            "接车单号": [f"RO{k}" for k in keys],
            "车架号": [VIN] * n,
            "客户编号": ["C1"] * n,
            "接车日期": open_column,
            "完工日期": pa.array(closes, pa.timestamp("us")),
            "行驶里程": odometer,
            "结算金额": _money_column(money_kind, amounts),
        }
    )
    _same_as_text_path(table, "service_orders")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    moments=st.lists(st.one_of(st.integers(-(2**62), 2**62), st.none()), min_size=1, max_size=20),
    unit=st.sampled_from(["s", "ms", "us", "ns"]),
    scores=st.lists(st.one_of(st.integers(-5, 15), st.none()), min_size=20, max_size=20),
    resolved=st.lists(st.one_of(st.booleans(), st.none()), min_size=20, max_size=20),
)
def test_interactions_typed_route_equals_text_route(moments, unit, scores, resolved) -> None:
    n = len(moments)
    # Raw counts of the unit, wrapped into the years a timestamp of that unit can hold.
    span = {"s": 10**10, "ms": 10**13, "us": 10**16, "ns": 9 * 10**18}[unit]
    ticks = [None if m is None else m % (2 * span) - span for m in moments]
    table = pa.table(
        {
            "记录编号": [f"I{i}" for i in range(n)],
            "客户编号": ["C1"] * n,
            "发生时间": pa.array(ticks, pa.int64()).cast(pa.timestamp(unit)),
            "类型": ["满意度调查"] * n,
            "评分": pa.array(scores[:n], pa.int64()),
            "是否解决": pa.array(resolved[:n], pa.bool_()),
        }
    )
    _same_as_text_path(table, "interactions")


def test_a_parquet_file_is_read_typed_and_imports_like_its_text(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    table = pa.table(
        {
            "接车单号": ["RO1", "RO2", "RO3"],
            "车架号": [VIN] * 3,
            "客户编号": ["C1"] * 3,
            "接车日期": pa.array([dt.date(2024, 3, 5), dt.date(2024, 3, 6), None]),
            "行驶里程": pa.array([12000.4, -5.0, 1.0]),
            "结算金额": pa.array([1.005, 20.0, 3.0]),
        }
    )
    pq.write_table(table, path)
    source = read_source(path, keep_types=True)
    assert source.data.column("接车日期").type == pa.date32()  # not turned into text
    assert read_source(path).data.column("接车日期").type == pa.string()
    result = read_and_validate(path, "service_orders")
    good = result.good.select(["order_id", "odometer_km", "total_amount"]).to_pylist()
    assert good == [{"order_id": "RO1", "odometer_km": 12000, "total_amount": Decimal("1.01")}]
    rejects = result.rejects.select(["source_row", "column_name", "reason", "raw_record"])
    assert rejects.to_pylist() == [
        {"source_row": 3, "column_name": "行驶里程", "reason": "negative odometer: '-5'",
         "raw_record": '{"接车单号":"RO2","车架号":"' + VIN + '","客户编号":"C1",'
                       '"接车日期":"2024-03-06","行驶里程":"-5","结算金额":"20"}'},
        {"source_row": 4, "column_name": "接车日期", "reason": "missing open_date",
         "raw_record": '{"接车单号":"RO3","车架号":"' + VIN + '","客户编号":"C1",'
                       '"接车日期":null,"行驶里程":"1","结算金额":"3"}'},
    ]  # fmt: skip
