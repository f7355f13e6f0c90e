"""Reading DMS exports: encodings, Excel cells, Parquet types, located bad records (SPEC §1)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from aftercare.errors import InputFileError
from aftercare.ingest.reader import read_source

HEADER = "接车单号,车架号,接车日期,结算金额,维修类别"
ROW_1 = "RO001,LSVAB12345678901X,2024-03-05,￥1,保养"
ROW_2 = "RO002,LSVAB12345678902X,2024/3/6,88.5,钣喷"


def test_gbk_csv_with_chinese_headers_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(f"{HEADER}\n{ROW_1}\n{ROW_2}\n", encoding="gbk")
    source = read_source(path)
    assert source.encoding == "gb18030"
    assert source.headers == ("接车单号", "车架号", "接车日期", "结算金额", "维修类别")
    assert source.data.column("维修类别").to_pylist() == ["保养", "钣喷"]
    assert source.data.column("结算金额").to_pylist() == ["￥1", "88.5"]
    assert source.first_data_row == 2
    assert all(pa.types.is_string(f.type) for f in source.data.schema)


def test_utf8_bom_csv_strips_the_bom_from_the_first_header(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(f"{HEADER}\n{ROW_1}\n", encoding="utf-8-sig")
    source = read_source(path)
    assert source.encoding == "utf-8-sig"
    assert source.headers[0] == "接车单号"
    assert source.data.column("接车单号").to_pylist() == ["RO001"]


def test_explicit_encoding_overrides_detection(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(f"{HEADER}\n{ROW_1}\n", encoding="gb18030")
    assert read_source(path, encoding="gbk").data.column("维修类别").to_pylist() == ["保养"]
    with pytest.raises(InputFileError, match="not valid utf-8 text"):
        read_source(path, encoding="utf-8")


def test_gbk_after_a_utf8_looking_start_falls_back(tmp_path: Path) -> None:
    # The first 64 KiB are ASCII; Chinese text only appears later.
    ascii_rows = "".join(f"RO{i:05d},LSVAB12345678901X,2024-03-05,1,x\n" for i in range(3000))
    path = tmp_path / "orders.csv"
    path.write_bytes(
        f"{HEADER}\n{ascii_rows}RO9,LSVAB12345678901X,2024-03-05,1,保养\n".encode("gbk")
    )
    source = read_source(path)
    assert source.encoding == "gb18030"
    assert source.data.column("维修类别")[-1].as_py() == "保养"


def test_empty_cells_are_null_and_na_words_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('a,b,c\nNA,"",null\n', encoding="utf-8")
    assert read_source(path).data.to_pylist() == [{"a": "NA", "b": None, "c": "null"}]


def test_quoted_newline_record_counts_as_one_spreadsheet_row(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('id,note\n1,"two\nlines"\n2,x\n', encoding="utf-8")
    source = read_source(path)
    assert source.data.column("note").to_pylist() == ["two\nlines", "x"]
    assert source.source_rows().to_pylist() == [2, 3]


def test_record_with_wrong_field_count_is_set_aside_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,note\n1,a\n2\n3,c,extra\n4,d\n", encoding="utf-8")
    source = read_source(path)
    assert source.data.column("id").to_pylist() == ["1", "4"]
    assert source.source_rows().to_pylist() == [2, 5]
    assert [(b.row, b.reason, b.text) for b in source.bad_rows] == [
        (3, "expected 2 fields, found 1", "2"),
        (4, "expected 2 fields, found 3", "3,c,extra"),
    ]


def test_blank_lines_keep_their_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,note\n1,a\n\n3,c\n", encoding="utf-8")
    source = read_source(path)
    assert source.data.column("id").to_pylist() == ["1", None, "3"]
    assert source.source_rows().to_pylist() == [2, 3, 4]


def test_tab_separated_txt(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text("接车单号\t结算金额\nRO1\t1,234.50\n", encoding="utf-8")
    assert read_source(path).data.to_pylist() == [{"接车单号": "RO1", "结算金额": "1,234.50"}]


def test_trailing_delimiter_column_without_header_or_values_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,note,\n1,a,\n", encoding="utf-8")
    assert read_source(path).headers == ("id", "note")


def _workbook(path: Path, first_row: int = 0) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    time_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(first_row, 0, ["客户编号", "手机", "生日", "到店时间", "里程", "金额"])
    r = first_row + 1
    sheet.write_string(r, 0, "C001")
    sheet.write_number(r, 1, 13800138000)
    sheet.write_datetime(r, 2, dt.datetime(1985, 7, 9), date_format)
    sheet.write_datetime(r, 3, dt.datetime(2024, 3, 5, 8, 30), time_format)
    sheet.write_number(r, 4, 12345)
    sheet.write_number(r, 5, 1234.5)
    sheet.write_string(r + 1, 0, "C002")
    sheet.write_string(r + 1, 2, "1990/1/2")
    sheet.write_number(r + 1, 4, 45356)
    book.close()


def test_xlsx_dates_come_out_iso_and_numbers_without_float_noise(tmp_path: Path) -> None:
    path = tmp_path / "customers.xlsx"
    _workbook(path)
    source = read_source(path)
    assert source.encoding is None
    assert source.first_data_row == 2
    assert source.data.to_pylist() == [
        {
            "客户编号": "C001",
            "手机": "13800138000",
            "生日": "1985-07-09",
            "到店时间": "2024-03-05 08:30:00",
            "里程": "12345",
            "金额": "1234.5",
        },
        {
            "客户编号": "C002",
            "手机": None,
            "生日": "1990/1/2",
            "到店时间": None,
            "里程": "45356",
            "金额": None,
        },
    ]


def test_xlsx_header_below_empty_rows_numbers_rows_as_excel_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "customers.xlsx"
    _workbook(path, first_row=2)  # header on spreadsheet row 3
    source = read_source(path)
    assert source.first_data_row == 4
    assert source.source_rows().to_pylist() == [4, 5]


def test_parquet_columns_become_text(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    table = pa.table(
        {
            "order_id": ["RO1", "RO2"],
            "open_date": pa.array([dt.date(2024, 3, 5), None], pa.date32()),
            "ts": pa.array([dt.datetime(2024, 3, 5, 8, 30), dt.datetime(2024, 3, 6)]),
            "total_amount": pa.array([Decimal("1234.50"), Decimal("-3.00")], pa.decimal128(14, 2)),
            "phone": [13800138000.0, 1.5],
            "odometer_km": [12345, None],
            "flag": [True, False],
        }
    )
    pq.write_table(table, path)
    source = read_source(path)
    assert source.data.to_pylist() == [
        {
            "order_id": "RO1",
            "open_date": "2024-03-05",
            "ts": "2024-03-05 08:30:00",
            "total_amount": "1234.50",
            "phone": "13800138000",
            "odometer_km": "12345",
            "flag": "true",
        },
        {
            "order_id": "RO2",
            "open_date": None,
            "ts": "2024-03-06",
            "total_amount": "-3.00",
            "phone": "1.5",
            "odometer_km": None,
            "flag": "false",
        },
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("orders.dbf", b"x", "unsupported file type '.dbf'"),
        ("empty.csv", b"", "empty file"),
        ("blank.csv", b"\xef\xbb\xbf \r\n\r\n", "empty file"),
        ("dups.csv", "接车单号,金额, 金额\nRO1,1,2\n".encode(), "duplicate header '金额'"),
        ("broken.xlsx", b"not a zip", "not a readable Excel workbook"),
        ("broken.parquet", b"PAR1 nope", "not a readable Parquet file"),
    ],
)
def test_unreadable_inputs_raise_one_line_input_file_error(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        read_source(path)
    text = str(info.value)
    assert message in text
    assert name in text
    assert "\n" not in text


def test_data_lines_ending_in_a_delimiter_are_not_malformed(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,note\r\n1,a,\r\n2,b,\r\n")
    source = read_source(path)
    assert source.headers == ("id", "note")
    assert source.data.to_pylist() == [{"id": "1", "note": "a"}, {"id": "2", "note": "b"}]
    assert source.bad_rows == ()


def test_typed_timestamps_become_the_same_text_on_the_fast_and_the_general_path():
    """Whole-second timestamps skip the regex path; the text is what the general path gives."""
    import datetime as dt
    from pathlib import Path

    import pyarrow as pa

    from aftercare.ingest.reader import column_as_text

    whole = [dt.datetime(2024, 3, 5, 10, 24, 3), dt.datetime(2024, 3, 5), None,
             dt.datetime(1969, 12, 31, 23, 59, 59), dt.datetime(1969, 12, 31)]  # fmt: skip
    text = column_as_text(
        Path("x.parquet"), "t", pa.chunked_array([pa.array(whole, pa.timestamp("us"))])
    )
    assert text.to_pylist() == [
        "2024-03-05 10:24:03", "2024-03-05", None, "1969-12-31 23:59:59", "1969-12-31"
    ]  # fmt: skip
    fraction = [dt.datetime(2024, 3, 5, 10, 24, 3, 500000), dt.datetime(2024, 3, 5)]
    text = column_as_text(
        Path("x.parquet"), "t", pa.chunked_array([pa.array(fraction, pa.timestamp("us"))])
    )
    assert text.to_pylist() == ["2024-03-05 10:24:03.5", "2024-03-05"]


def test_float_cells_read_positionally_as_a_user_sees_them() -> None:
    """Arrow would write 1.000000000001e+10 and 1e-05: the text parsers would refuse both."""
    from aftercare.ingest.reader import column_as_text

    floats = pa.chunked_array([[10000000000.01, 1e-05, 2.0], [-3e-7, 1.5e300, None]])
    assert column_as_text(Path("x.parquet"), "amount", floats).to_pylist() == [
        "10000000000.01", "0.00001", "2", "-0.0000003", "1.5e+300", None
    ]  # fmt: skip
