"""Damaged CSV: one bad line costs its own row, never the file (R-IN-1; issue 9, item 7).

The issue's reproductions: a field of 3 MB refused the file ("straddling object straddles two
block boundaries"); a file turning from UTF-8 to GBK after 1,500 rows was refused whole with an
error at the wrong byte; an unterminated quote swallowed the next good row.
"""

from __future__ import annotations

import json

import pytest

from aftercare.errors import InputFileError
from aftercare.ingest.csv_damage import split_unterminated
from aftercare.ingest.reader import read_source
from aftercare.ingest.validate import read_and_validate

HEADER = "接车单号,客户编号,接车日期,结算金额,备注\n"


def _row(i: int, note: str = "正常保养") -> str:
    return f"RO{i},C{i},2024-03-05,100,{note}{i}\n"


def _loaded(result) -> list[tuple[str, int]]:
    return [(r["order_id"], r["source_row"]) for r in result.good.to_pylist()]


def _rejected(result) -> list[tuple[int, str]]:
    return [(r["source_row"], r["reason"]) for r in result.rejects.to_pylist()]


@pytest.mark.parametrize("size_mb", [1, 3, 5])
def test_huge_field_rejects_its_row_not_the_file(tmp_path, size_mb):
    path = tmp_path / "orders.csv"
    huge = "RO2,C2,2024-03-05,100," + "x" * (size_mb << 20) + "\n"
    path.write_text(HEADER + _row(1) + huge + _row(3) + _row(4), encoding="utf-8")
    result = read_and_validate(path, "service_orders")
    assert _loaded(result) == [("RO1", 2), ("RO3", 4), ("RO4", 5)]
    assert _rejected(result) == [(3, "a cell of 1 MB or more (not a DMS value)")]
    record = json.loads(result.rejects.column("raw_record")[0].as_py())
    assert len(record["(whole row)"]) < 1000  # the quarantine keeps a cut, not megabytes
    assert result.rows_read == 4


def test_huge_quoted_field_between_rows_that_keep_their_numbers(tmp_path):
    path = tmp_path / "orders.csv"
    huge = 'RO2,C2,2024-03-05,100,"' + "长" * (1 << 20) + '"\n'
    path.write_text(HEADER + _row(1) + huge + _row(3), encoding="utf-8")
    result = read_and_validate(path, "service_orders")
    assert _loaded(result) == [("RO1", 2), ("RO3", 4)]
    assert [row for row, _ in _rejected(result)] == [3]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_unterminated_quote_rejects_its_row_and_swallows_none(tmp_path, newline):
    path = tmp_path / "orders.csv"
    text = (
        HEADER
        + _row(1)
        + 'RO2,C2,2024-03-05,100,"没有结束的引号\n'  # row 3: the quote never closes
        + _row(3)
        + _row(4)
    )
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    result = read_and_validate(path, "service_orders")
    assert _loaded(result) == [("RO1", 2), ("RO3", 4), ("RO4", 5)]
    assert _rejected(result) == [
        (3, "unterminated quote: the quoted value opened on this row never closes")
    ]
    record = json.loads(result.rejects.column("raw_record")[0].as_py())
    assert record == {"(whole row)": 'RO2,C2,2024-03-05,100,"没有结束的引号'}


def test_unterminated_quote_closed_by_a_later_quote_swallows_none(tmp_path):
    """The quote closes on a later row's opening quote: the right field count, no error
    from the parser, and two good rows swallowed into one note (the worst case)."""
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER
        + 'RO1,C1,2024-03-05,100,"坏\n'  # row 2
        + _row(2)
        + 'RO3,C3,2024-03-05,100,"好的"\n'
        + _row(4),
        encoding="utf-8",
    )
    result = read_and_validate(path, "service_orders")
    assert _loaded(result) == [("RO2", 3), ("RO3", 4), ("RO4", 5)]
    assert [row for row, _ in _rejected(result)] == [2]


def test_a_note_over_two_lines_is_one_row(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + _row(1) + 'RO2,C2,2024-03-05,100,"第一行\n第二行, 有逗号"\n' + _row(3),
        encoding="utf-8",
    )
    source = read_source(path)
    assert source.bad_rows == ()
    assert source.data.column("备注").to_pylist()[1] == "第一行\n第二行, 有逗号"
    result = read_and_validate(path, "service_orders")
    assert _loaded(result) == [("RO1", 2), ("RO2", 3), ("RO3", 4)]  # a record is one row


@pytest.mark.parametrize("good_rows", [1500, 40])  # GBK beyond and within the sample read
def test_utf8_then_gbk_loads_the_good_rows_and_rejects_the_others(tmp_path, good_rows):
    path = tmp_path / "orders.csv"
    note = "客户要求更换机油滤清器并检查刹车片，下次保养提醒" * 3  # ~150 bytes per row
    utf8 = HEADER + "".join(_row(i, note) for i in range(1, good_rows + 1))
    gbk = "".join(_row(i, note) for i in range(good_rows + 1, good_rows + 4))
    tail = "".join(_row(i, note) for i in range(good_rows + 4, good_rows + 10))
    path.write_bytes(utf8.encode("utf-8") + gbk.encode("gbk") + tail.encode("utf-8"))
    result = read_and_validate(path, "service_orders")
    assert result.rows_read == good_rows + 9
    assert result.good.num_rows == good_rows + 6
    rejected = _rejected(result)
    # Row numbers as a spreadsheet shows them: order RO<i> is on row i + 1.
    assert [row for row, _ in rejected] == [good_rows + 2, good_rows + 3, good_rows + 4]
    assert {reason for _, reason in rejected} == {"not valid utf-8 text (another encoding?)"}
    assert result.good.column("order_id").to_pylist()[-1] == f"RO{good_rows + 9}"
    source = read_source(path)
    assert source.encoding == "utf-8"
    assert all(note in cell for cell in source.data.column("备注").to_pylist())  # no mojibake


def test_wrong_encoding_for_most_rows_is_refused_with_one_line(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes((HEADER + "".join(_row(i) for i in range(1, 20))).encode("gbk"))
    with pytest.raises(InputFileError, match=r"not valid utf-8 text.*pass"):
        read_source(path, encoding="utf-8")


def test_gbk_file_still_read_whole(tmp_path):
    """The usual GBK export: every row decoded, nothing set aside."""
    path = tmp_path / "orders.csv"
    path.write_bytes((HEADER + "".join(_row(i) for i in range(1, 2000))).encode("gbk"))
    source = read_source(path)
    assert (source.encoding, source.bad_rows, source.data.num_rows) == ("gb18030", (), 1999)
    assert source.data.column("备注").to_pylist()[-1] == "正常保养1999"


def test_split_unterminated_keeps_well_formed_records():
    buffer = b'a,b,c\n1,"x\ny",3\n2,"bad,4\n3,z,5\n'
    cleaned, lines, total = split_unterminated(buffer, ",", 3)
    assert cleaned == b'a,b,c\n1,"x\ny",3\n3,z,5\n'
    assert lines == [(3, '2,"bad,4')]
    assert total == 4
