"""Cell parsers: every SPEC §1 date and amount format, calendar checks, rounding, booleans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from aftercare.ingest import parse
from aftercare.ingest.mapping import lookup, translate


def _one(parser, text: str | None):
    result = parser(parse.clean_text(pa.array([text], pa.string())))
    error = None if result.error is None else result.error[0].as_py()
    return result.values[0].as_py(), error


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-05",
        "2024/3/5",
        "2024/03/05",
        "2024.3.5",
        "2024年3月5日",
        "20240305",
        "45356",  # Excel serial day, epoch 1899-12-30
        " 2024-03-05\u3000",
        "2024-03-05 00:00:00",
        "2024-03-05 17:45",
        "2024年3月5日 8:30",
    ],
)
def test_every_spec_date_format_parses(text: str) -> None:
    assert _one(parse.parse_date, text) == (dt.date(2024, 3, 5), None)


@pytest.mark.parametrize(
    "text",
    ["2024-02-30", "2023-02-29", "1900-02-29", "2024-13-01", "2024-04-31", "2024/0/5", "20241305"],
)
def test_impossible_calendar_days_are_rejected_not_rolled_over(text: str) -> None:
    value, error = _one(parse.parse_date, text)
    assert value is None
    assert error == f"bad date '{text}' (expected e.g. 2024-03-05)"


@pytest.mark.parametrize(
    "text", ["abc", "05/03/2024", "2024-3", "19999", "80000", "2024-03-05 24:00"]
)
def test_unparseable_dates_are_rejected(text: str) -> None:
    assert _one(parse.parse_date, text) == (None, f"bad date '{text}' (expected e.g. 2024-03-05)")


def test_leap_days_and_excel_serial_bounds() -> None:
    assert _one(parse.parse_date, "2024-02-29")[0] == dt.date(2024, 2, 29)
    assert _one(parse.parse_date, "2000-02-29")[0] == dt.date(2000, 2, 29)
    assert _one(parse.parse_date, "20000")[0] == dt.date(1954, 10, 3)
    assert _one(parse.parse_date, "79999")[0] == dt.date(2119, 1, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", dt.datetime(2024, 3, 5)),
        ("2024-03-05 08:30", dt.datetime(2024, 3, 5, 8, 30)),
        ("2024-03-05 08:30:15", dt.datetime(2024, 3, 5, 8, 30, 15)),
        ("2024/3/5 8:30:15.250", dt.datetime(2024, 3, 5, 8, 30, 15, 250000)),
        ("2024-03-05T08:30:15", dt.datetime(2024, 3, 5, 8, 30, 15)),
        ("2024年3月5日 08：30", dt.datetime(2024, 3, 5, 8, 30)),
        ("45356.75", dt.datetime(2024, 3, 5, 18, 0)),
    ],
)
def test_timestamps_keep_time_of_day(text: str, expected: dt.datetime) -> None:
    assert _one(parse.parse_timestamp, text) == (expected, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", "1234.50"),
        ("1,234.50", "1234.50"),
        ("¥1,234.50", "1234.50"),
        ("￥1,234.50", "1234.50"),  # full-width yen, as GBK exports write it
        ("￥ 1 234.50 ", "1234.50"),
        ("1234.50元", "1234.50"),
        ("-88", "-88.00"),  # refunds are negative (R-IN-4)
        ("+5", "5.00"),
        ("0.005", "0.01"),  # half away from zero (四舍五入)
        ("-0.005", "-0.01"),
        ("2.675", "2.68"),
        ("1.004999", "1.00"),
        ("999999999999.99", "999999999999.99"),
    ],
)
def test_amount_formats(text: str, expected: str) -> None:
    assert _one(parse.parse_money, text) == (Decimal(expected), None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "amount not a number: 'abc'"),
        ("1e5", "amount not a number: '1e5'"),
        ("12.3.4", "amount not a number: '12.3.4'"),
        ("1000000000000", "amount too large: '1000000000000'"),
        ("999999999999.995", "amount too large: '999999999999.995'"),
    ],
)
def test_bad_amounts(text: str, reason: str) -> None:
    assert _one(parse.parse_money, text) == (None, reason)


def test_money_mixed_column_fast_and_general_paths_align() -> None:
    cells = ["1.5", "￥2", None, "x", "3.456", "4"] * 3
    result = parse.parse_money(parse.clean_text(pa.array(cells)))
    expected = [Decimal("1.50"), Decimal("2.00"), None, None, Decimal("3.46"), Decimal("4.00")]
    assert result.values.to_pylist() == expected * 3
    assert (
        result.error.to_pylist() == [None, None, None, "amount not a number: 'x'", None, None] * 3
    )


@pytest.mark.parametrize(
    ("text", "rounded", "strict"),
    [
        ("12,345", 12345, 12345),
        ("12345.0", 12345, 12345),
        ("12345.6", 12346, None),
        ("800 km", 800, 800),
    ],
)
def test_integers(text: str, rounded: int, strict: int | None) -> None:
    assert _one(lambda a: parse.parse_int(a, round_fraction=True), text)[0] == rounded
    assert _one(parse.parse_int, text)[0] == strict


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("Y", True), ("1", True), ("是", True), ("同意", True), ("no", False),
     ("0", False), ("否", False), ("不同意", False), ("FALSE", False)],
)  # fmt: skip
def test_booleans(text: str, expected: bool) -> None:
    assert _one(parse.parse_bool, text) == (expected, None)


def test_bad_boolean_is_reported() -> None:
    assert _one(parse.parse_bool, "也许") == (None, "not a yes/no value: '也许'")


def test_vin_is_uppercased_and_checked() -> None:
    assert _one(parse.parse_vin, " lsvab12345678901x ") == ("LSVAB12345678901X", None)
    for bad in ("LSVAB1234567890", "LSVAB12345678901I", "LSVAB1234567890OQ", "LSVAB12345678901XX"):
        value, error = _one(parse.parse_vin, bad)
        assert value is None
        assert error.startswith(f"bad VIN '{bad}'")


def test_clean_text_trims_full_width_spaces_and_nulls_empties() -> None:
    cleaned = parse.clean_text(pa.array(["\u3000保养 ", "  ", "", None, "a b"]))
    assert cleaned.to_pylist() == ["保养", None, None, None, "a b"]


def test_lookup_is_case_insensitive_and_the_first_entry_wins() -> None:
    table = {"APP": "app", "app": "other", "微信": "wechat"}
    result = lookup(pa.array(["App", "app", "微信", "x", None]), table)
    assert result.to_pylist() == ["app", "app", "wechat", None, None]
    assert translate(pa.array(["微信", "x"]), table).to_pylist() == ["wechat", "x"]


def test_fixed_layout_fast_path_agrees_with_the_general_parser() -> None:
    cells = [
        "2024-03-05", None, "2024/03/05", "2024.03.05", "2024x03x05", "2024-02-30",
        "2024-03-05 08:30:15", "2024-03-05T08:30:15", "2024-03-05 08:61:00", "2024-03-05_08:30:15",
        "ab24-03-05", "2024-3-5", "",
    ]  # fmt: skip
    expected_ts = [
        dt.datetime(2024, 3, 5), None, dt.datetime(2024, 3, 5), dt.datetime(2024, 3, 5), None,
        None, dt.datetime(2024, 3, 5, 8, 30, 15), dt.datetime(2024, 3, 5, 8, 30, 15), None, None,
        None, dt.datetime(2024, 3, 5), None,
    ]  # fmt: skip
    text = parse.clean_text(pa.array(cells))
    assert parse.parse_timestamp(text).values.to_pylist() == expected_ts
    errors = parse.parse_timestamp(text).error.to_pylist()
    assert [e is not None for e in errors] == [
        False, False, False, False, True, True, False, False, True, True, True, False, False,
    ]  # fmt: skip
    # A sliced, chunked column (non-zero Arrow offsets) reads the right bytes.
    chunked = pa.chunked_array([pa.array(["x", "2024-03-05", "2024-03-06"]).slice(1)])
    assert parse.parse_date(chunked).values.to_pylist() == [
        dt.date(2024, 3, 5),
        dt.date(2024, 3, 6),
    ]
