"""Property: any mix of good and bad rows -> every good row loads intact, every bad row is
rejected at its own row and column, nothing is lost (R-IN-1)."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftercare.ingest.validate import read_and_validate

HEADERS = [
    "接车单号",
    "车架号",
    "客户编号",
    "接车日期",
    "行驶里程",
    "维修类别",
    "结算方式",
    "结算金额",
]
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
CATEGORIES = {"保养": "maintenance", "机修": "repair", "钣喷": "bodywork", "Warranty": "warranty"}
PAYERS = {"自费": "customer", "索赔": "warranty", "保险": "insurance", "internal": "internal"}
EXCEL_EPOCH = dt.date(1899, 12, 30)

# kind of bad row -> (source header, reason prefix, replacement cell)
BAD_KINDS = {
    "missing_key": ("接车单号", "missing order_id", ""),
    "bad_date": ("接车日期", "bad date '2023-02-29'", "2023-02-29"),
    "unparseable_date": ("接车日期", "bad date '3/5/2024'", "3/5/2024"),
    "negative_odometer": ("行驶里程", "negative odometer: '-12'", "-12"),
    "bad_vin": ("车架号", "bad VIN 'LSVOOOO1234567890'", "LSVOOOO1234567890"),
    "short_vin": ("车架号", "bad VIN 'LSV123'", "LSV123"),
    "amount": ("结算金额", "amount not a number: '12元5角'", "12元5角"),
    "payer": ("结算方式", "unknown payer '现金'", "现金"),
}
# R-IN-9: values that parse but cannot be true, rejected by an import (plausibility checked).
IMPLAUSIBLE_KINDS = {
    "future_date": ("接车日期", "implausible date 2099-03-05: after", "2099-03-05"),
    "ancient_date": ("接车日期", "implausible date 1900-01-01: before 1990-01-01", "1900-01-01"),
    "huge_amount": ("结算金额", "implausible amount 999999999999.99", "999,999,999,999.99"),
}


def _date_text(day: dt.date, style: int) -> str:
    return [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        day.strftime("%Y%m%d"),
        str((day - EXCEL_EPOCH).days),
        f"{day.isoformat()} 09:15:00",
    ][style]


def _amount_text(cents: int, style: int) -> str:
    value = Decimal(cents) / 100
    return [f"{value}", f"{value:,.2f}", f"¥{value:,.2f}", f"￥{value:,.2f}", f" {value} 元"][style]


good_rows = st.fixed_dictionaries(
    {
        "vin": st.text(VIN_ALPHABET, min_size=17, max_size=17),
        "customer_id": st.from_regex(r"C[0-9]{1,6}", fullmatch=True),
        "open_date": st.dates(dt.date(1990, 1, 1), dt.date(2099, 12, 31)),
        "date_style": st.integers(0, 6),
        "odometer_km": st.integers(0, 999_999),
        "odometer_commas": st.booleans(),
        "category": st.sampled_from(sorted(CATEGORIES)),
        "payer": st.sampled_from(sorted(PAYERS)),
        "cents": st.integers(-(10**9), 10**11),
        "amount_style": st.integers(0, 4),
    }
)
rows_strategy = st.lists(
    st.tuples(good_rows, st.one_of(st.none(), st.sampled_from(sorted(BAD_KINDS)))),
    min_size=1,
    max_size=40,
)
#: Rows an import keeps (R-IN-9): dated 1990 … 2025, within ±1,000,000 yuan.
plausible_rows = st.builds(
    lambda row, day, cents: {**row, "open_date": day, "cents": cents},
    good_rows,
    st.dates(dt.date(1990, 1, 1), dt.date(2025, 12, 31)),
    st.integers(-(10**8), 10**8),
)
import_rows_strategy = st.lists(
    st.tuples(
        plausible_rows,
        st.one_of(st.none(), st.sampled_from(sorted({**BAD_KINDS, **IMPLAUSIBLE_KINDS}))),
    ),
    min_size=1,
    max_size=40,
)


def _cells(i: int, row: dict, bad: str | None) -> list[str]:
    odometer = f"{row['odometer_km']:,}" if row["odometer_commas"] else str(row["odometer_km"])
    cells = {
        "接车单号": f"RO{i:05d}",
        "车架号": row["vin"].lower() if i % 3 == 0 else row["vin"],
        "客户编号": row["customer_id"],
        "接车日期": _date_text(row["open_date"], row["date_style"]),
        "行驶里程": odometer,
        "维修类别": row["category"],
        "结算方式": row["payer"],
        "结算金额": _amount_text(row["cents"], row["amount_style"]),
    }
    if bad is not None:
        header, _, text = {**BAD_KINDS, **IMPLAUSIBLE_KINDS}[bad]
        cells[header] = text
    return [cells[h] for h in HEADERS]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_good_rows_intact_bad_rows_located_nothing_lost(rows, encoding: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        with path.open("w", encoding=encoding, newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADERS)
            for i, (row, bad) in enumerate(rows):
                writer.writerow(_cells(i, row, bad))
        result = read_and_validate(path, "service_orders")

    good_by_row = {r["source_row"]: r for r in result.good.to_pylist()}
    expected_good = {i + 2 for i, (_, bad) in enumerate(rows) if bad is None}
    assert set(good_by_row) == expected_good
    for i, (row, bad) in enumerate(rows):
        if bad is not None:
            continue
        got = good_by_row[i + 2]
        assert got["order_id"] == f"RO{i:05d}"
        assert got["vin"] == row["vin"]
        assert got["customer_id"] == row["customer_id"]
        assert got["open_date"] == row["open_date"]
        assert got["odometer_km"] == row["odometer_km"]
        assert got["category"] == CATEGORIES[row["category"]]
        assert got["category_raw"] == row["category"]
        assert got["payer"] == PAYERS[row["payer"]]
        assert got["total_amount"] == Decimal(row["cents"]) / 100

    rejects = result.rejects.to_pylist()
    expected_rejects = [
        (i + 2, BAD_KINDS[bad][0]) for i, (_, bad) in enumerate(rows) if bad is not None
    ]
    assert [(r["source_row"], r["column_name"]) for r in rejects] == expected_rejects
    for reject, (_, bad) in zip(rejects, [r for r in rows if r[1] is not None], strict=True):
        assert reject["reason"].startswith(BAD_KINDS[bad][1])
        assert reject["source_file"] == "orders.csv"
    assert result.rows_read == len(rows)
    assert result.rows_read == result.good.num_rows + result.rows_rejected
    assert result.warnings.num_rows == 0


def _write_source(path: Path, rows: list, fmt: str) -> Path:
    """The same cells as CSV (GB18030), XLSX or an all-text Parquet export."""
    cells = [_cells(i, row, bad) for i, (row, bad) in enumerate(rows)]
    if fmt == "csv":
        path = path.with_suffix(".csv")
        with path.open("w", encoding="gb18030", newline="") as fh:
            csv.writer(fh).writerows([HEADERS, *cells])
    elif fmt == "xlsx":
        import xlsxwriter

        path = path.with_suffix(".xlsx")
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet()
        for r, values in enumerate([HEADERS, *cells]):
            for c, value in enumerate(values):
                sheet.write_string(r, c, value)
        book.close()
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = path.with_suffix(".parquet")
        columns = {h: [row[j] for row in cells] for j, h in enumerate(HEADERS)}
        pq.write_table(pa.table(columns), path)
    return path


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=import_rows_strategy, fmt=st.sampled_from(["csv", "xlsx", "parquet"]))
def test_import_stores_every_good_row_and_quarantines_every_bad_one(rows, fmt: str) -> None:
    """End to end into a store: nothing lost, nothing doubled on a second import (R-IN-1/2),
    implausible values quarantined with their reason (R-IN-9)."""
    from aftercare.services.imports import import_file
    from aftercare.store import open_store

    expected_good = {f"RO{i:05d}": row for i, (row, bad) in enumerate(rows) if bad is None}
    expected_bad = sorted(i + 2 for i, (_, bad) in enumerate(rows) if bad is not None)
    with tempfile.TemporaryDirectory() as tmp:
        path = _write_source(Path(tmp) / "orders", rows, fmt)
        with open_store(str(Path(tmp) / "store.duckdb")) as store:
            first = import_file(store, "service_orders", path)
            second = import_file(store, "service_orders", path)
            stored = store.table("service_orders").to_pyarrow().to_pylist()
            quarantine = store.table("rejected_rows").to_pyarrow().to_pylist()
    assert (first.inserted, first.rejected) == (len(expected_good), len(expected_bad))
    assert (second.inserted, second.unchanged) == (0, len(expected_good))
    assert {r["order_id"] for r in stored} == set(expected_good)
    for got in stored:
        row = expected_good[got["order_id"]]
        assert (got["vin"], got["open_date"]) == (row["vin"], row["open_date"])
        assert got["total_amount"] == Decimal(row["cents"]) / 100
    assert sorted(r["source_row"] for r in quarantine) == expected_bad
    kinds = {**BAD_KINDS, **IMPLAUSIBLE_KINDS}
    reasons = {r["source_row"]: r["reason"] for r in quarantine}
    for i, (_, bad) in enumerate(rows):
        if bad is not None:
            assert reasons[i + 2].startswith(kinds[bad][1]), reasons[i + 2]
