"""validate_file: located rejects (R-IN-1), refunds (R-IN-4), unknown categories (R-IN-7),
duplicates, defaults and enum policies, on real files written in tmp_path."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from aftercare.errors import MappingError
from aftercare.ingest.validate import read_and_validate
from aftercare.schema import table_spec

VIN1 = "LSVAB12345678901X"
VIN2 = "LSVCD98765432109Y"
ORDERS_HEADER = (
    "接车单号,车架号,客户编号,接车日期,行驶里程,维修类别,结算方式,结算金额,实收金额,备注"
)


def _csv(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


@pytest.fixture
def bad_orders(tmp_path: Path):
    """One good row and one row per kind of R-IN-1 problem, in a GBK file."""
    lines = [
        ORDERS_HEADER,
        f'RO01,{VIN1},C1,2024-03-05,"12,345",保养,自费,"￥1,234.50",1,ok',  # row 2 good
        f",{VIN1},C1,2024-03-05,100,保养,自费,100,,",  # row 3 missing key
        f"RO03,{VIN1},C1,2024-02-30,100,保养,自费,100,,",  # row 4 bad date
        f"RO04,{VIN1},C1,2024-03-05,-5,保养,自费,100,,",  # row 5 negative odometer
        "RO05,LSVAB1234567890I1,C1,2024-03-05,100,保养,自费,100,,",  # row 6 bad VIN
        f"RO06,{VIN1},C1,2024-03-05,100,保养,自费,一百,,",  # row 7 amount not a number
        f"RO07,{VIN1},C1,2024-03-05,100,保养,现金,100,,",  # row 8 unknown payer
        f"RO08,{VIN2},,2024年3月6日,,新项目,,-88,,",  # row 9 refund + unknown category
        "RO09,,,2024-03-05,100,保养,自费,100,,",  # row 10 neither vin nor customer
    ]
    path = _csv(tmp_path, "service_orders.csv", lines, encoding="gbk")
    return read_and_validate(path, "service_orders")


EXPECTED_REJECTS = [
    (3, "接车单号", "missing order_id"),
    (4, "接车日期", "bad date '2024-02-30' (expected e.g. 2024-03-05)"),
    (5, "行驶里程", "negative odometer: '-5'"),
    (
        6,
        "车架号",
        "bad VIN 'LSVAB1234567890I1' (must be 17 characters: digits and capitals except I, O, Q)",
    ),
    (7, "结算金额", "amount not a number: '一百'"),
    (8, "结算方式", "unknown payer '现金'"),
    (10, "车架号/客户编号", "missing vin or customer_id"),
]


def test_every_kind_of_bad_row_is_rejected_with_file_row_column_reason(bad_orders) -> None:
    rejects = bad_orders.rejects
    assert rejects.schema.names == [
        "source_file", "source_row", "column_name", "reason", "raw_record",
    ]  # fmt: skip
    assert set(rejects.column("source_file").to_pylist()) == {"service_orders.csv"}
    got = list(
        zip(
            rejects.column("source_row").to_pylist(),
            rejects.column("column_name").to_pylist(),
            rejects.column("reason").to_pylist(),
            strict=True,
        )
    )
    assert got == EXPECTED_REJECTS
    assert bad_orders.rows_read == 9
    assert bad_orders.rows_rejected == 7


def test_raw_record_keeps_the_whole_original_row(bad_orders) -> None:
    record = json.loads(bad_orders.rejects.column("raw_record")[5].as_py())
    assert record == {
        "接车单号": "RO07", "车架号": VIN1, "客户编号": "C1", "接车日期": "2024-03-05",
        "行驶里程": "100", "维修类别": "保养", "结算方式": "现金", "结算金额": "100",
        "实收金额": None, "备注": None,
    }  # fmt: skip


def test_good_rows_load_typed_with_refunds_and_unknown_category(bad_orders) -> None:
    good = bad_orders.good
    spec = table_spec("service_orders")
    expected_names = [*spec.column_names, "category_raw", "source_row"]
    assert good.schema.names == expected_names
    for col in spec.columns:
        assert good.schema.field(col.name).type == col.arrow_type
    rows = good.to_pylist()
    assert [r["source_row"] for r in rows] == [2, 9]
    first, refund = rows
    assert first["total_amount"] == Decimal("1234.50")  # 结算金额 wins over 实收金额
    assert first["odometer_km"] == 12345
    assert (first["category"], first["category_raw"], first["payer"]) == (
        "maintenance",
        "保养",
        "customer",
    )
    # R-IN-4: negative total kept; R-IN-7: unknown category -> other, text kept.
    assert refund["total_amount"] == Decimal("-88.00")
    assert (refund["category"], refund["category_raw"]) == ("other", "新项目")
    assert refund["payer"] == "customer"  # empty enum cell -> Column.default
    assert refund["customer_id"] is None and refund["odometer_km"] is None
    assert str(refund["open_date"]) == "2024-03-06"
    assert bad_orders.ignored_columns == ("实收金额", "备注")


def test_unknown_category_is_a_warning_not_a_reject(bad_orders) -> None:
    assert bad_orders.warnings.to_pylist() == [
        {
            "source_file": "service_orders.csv",
            "source_row": 9,
            "column_name": "维修类别",
            "message": "unknown category '新项目': stored as 'other'",
        }
    ]


def test_missing_required_column_names_what_was_looked_for(tmp_path: Path) -> None:
    path = _csv(tmp_path, "service_orders.csv", ["接车单号,车架号,结算金额", f"RO1,{VIN1},1"])
    with pytest.raises(MappingError) as info:
        read_and_validate(path, "service_orders")
    assert str(info.value) == (
        "service_orders.csv: no column for required field open_date "
        "(looked for: 接车日期, 进厂日期, 开单日期, open_date)"
    )


def test_missing_one_of_required_group_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "o.csv", ["order_id,open_date,total_amount", "RO1,2024-03-05,1"])
    with pytest.raises(MappingError, match="no column for any of vin, customer_id"):
        read_and_validate(path, "service_orders")


def test_canonical_english_headers_match_case_and_space_insensitively(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "o.csv",
        [" Order_ID ,VIN,Open Date,total_amount,Extra", f"RO1,{VIN1.lower()},2024-03-05,5,x"],
    )
    result = read_and_validate(path, "service_orders")
    row = result.good.to_pylist()[0]
    assert (row["order_id"], row["vin"], row["total_amount"]) == ("RO1", VIN1, Decimal("5.00"))
    assert result.ignored_columns == ("Extra",)


def test_duplicate_keys_last_row_wins_identical_ones_are_kept_once(tmp_path: Path) -> None:
    base = f"{VIN1},C1,2024-03-05,100,保养,自费"
    lines = [
        ORDERS_HEADER,
        f"RO1,{base},10,,",  # row 2: identical to row 3 -> dropped with warning
        f"RO1,{base},10,,",  # row 3: winner
        f"RO2,{base},10,,",  # row 4: superseded by row 6
        f"RO2,{base},20,,",  # row 5: superseded by row 6
        f"RO2,{base},30,,",  # row 6: winner
    ]
    result = read_and_validate(_csv(tmp_path, "o.csv", lines), "service_orders")
    assert [
        (r["order_id"], r["source_row"], r["total_amount"]) for r in result.good.to_pylist()
    ] == [
        ("RO1", 3, Decimal("10.00")),
        ("RO2", 6, Decimal("30.00")),
    ]
    assert result.rejects.select(["source_row", "column_name", "reason"]).to_pylist() == [
        {
            "source_row": 4,
            "column_name": "接车单号",
            "reason": "duplicate key RO2: superseded by row 6",
        },
        {
            "source_row": 5,
            "column_name": "接车单号",
            "reason": "duplicate key RO2: superseded by row 6",
        },
    ]
    assert result.warnings.select(["source_row", "message"]).to_pylist() == [
        {"source_row": 2, "message": "duplicate of row 3 (identical): kept once"}
    ]
    assert (result.rows_read, result.rows_rejected, result.rows_duplicate) == (5, 2, 1)


def test_composite_key_duplicates_in_declined_services(tmp_path: Path) -> None:
    lines = [
        "order_id,item,customer_id,declined_date,reason,quoted_amount",
        "RO1,刹车片,C1,2024-03-05,价格,800",
        "RO1,轮胎,C1,2024-03-05,时间,1200",
        "RO1,刹车片,C1,2024-03-05,价格,900",
    ]
    result = read_and_validate(_csv(tmp_path, "d.csv", lines), "declined_services")
    assert [(r["item"], r["reason"]) for r in result.good.to_pylist()] == [
        ("轮胎", "time"),
        ("刹车片", "price"),
    ]
    assert result.rejects.column("reason").to_pylist() == [
        "duplicate key RO1/刹车片: superseded by row 4"
    ]
    assert result.rejects.column("column_name").to_pylist() == ["order_id/item"]


def test_blank_rows_are_skipped_and_row_numbers_stay_true(tmp_path: Path) -> None:
    lines = [ORDERS_HEADER, f"RO1,{VIN1},C1,2024-03-05,1,保养,自费,1,,", ",,,,,,,,,", "",
             f"RO4,{VIN1},C1,bad,1,保养,自费,1,,"]  # fmt: skip
    result = read_and_validate(_csv(tmp_path, "o.csv", lines), "service_orders")
    assert result.rows_blank == 2
    assert result.rows_read == 2
    assert result.rejects.column("source_row").to_pylist() == [5]


def test_wrong_field_count_row_is_rejected_as_a_whole(tmp_path: Path) -> None:
    lines = ["order_id,vin,open_date,total_amount", f"RO1,{VIN1},2024-03-05,1", "RO2,oops"]
    result = read_and_validate(_csv(tmp_path, "o.csv", lines), "service_orders")
    assert result.rejects.select(
        ["source_row", "column_name", "reason", "raw_record"]
    ).to_pylist() == [
        {
            "source_row": 3,
            "column_name": "(whole row)",
            "reason": "expected 4 fields, found 2",
            "raw_record": '{"(whole row)":"RO2,oops"}',
        }
    ]
    assert (result.rows_read, result.good.num_rows, result.rows_rejected) == (2, 1, 1)


def test_customers_defaults_booleans_and_null_policy(tmp_path: Path) -> None:
    lines = [
        "客户编号,姓名,手机,生日,首选联系方式,价格敏感度,同意营销,勿扰",
        "C1,张三,13800138000,1985/7/9,微信,高,是,",
        "C2,李四,,,邮件,,,否",
        "C3,王五,,,,,也许,",
    ]
    result = read_and_validate(_csv(tmp_path, "c.csv", lines), "customers")
    rows = {r["customer_id"]: r for r in result.good.to_pylist()}
    assert set(rows) == {"C1", "C2"}
    assert (rows["C1"]["preferred_channel"], rows["C1"]["price_sensitivity"]) == ("wechat", "high")
    assert (rows["C1"]["marketing_consent"], rows["C1"]["do_not_contact"]) == (True, False)
    assert (rows["C2"]["marketing_consent"], rows["C2"]["do_not_contact"]) == (False, False)
    assert rows["C2"]["preferred_channel"] is None  # on_unknown='null'
    assert rows["C1"]["language"] == "zh-CN"  # no column at all -> default
    assert result.warnings.select(["source_row", "column_name", "message"]).to_pylist() == [
        {"source_row": 3, "column_name": "首选联系方式",
         "message": "unknown preferred_channel '邮件': stored as NULL"},
    ]  # fmt: skip
    assert result.rejects.select(["source_row", "column_name", "reason"]).to_pylist() == [
        {"source_row": 4, "column_name": "同意营销", "reason": "not a yes/no value: '也许'"}
    ]


def test_vehicles_status_enum_rejects_unknown_and_defaults_active(tmp_path: Path) -> None:
    lines = [
        "车架号,客户编号,提车日期,车辆状态",
        f"{VIN1},C1,2020-01-01,已售",
        f"{VIN2},C2,2020-01-01,",
        "LSVAB12345678901Z,C3,2020-01-01,丢失",
    ]
    result = read_and_validate(_csv(tmp_path, "v.csv", lines), "vehicles")
    assert [(r["vin"], r["status"]) for r in result.good.to_pylist()] == [
        (VIN1, "sold"),
        (VIN2, "active"),
    ]
    assert result.rejects.column("reason").to_pylist() == ["unknown status '丢失'"]


def test_interactions_type_score_and_timestamps(tmp_path: Path) -> None:
    lines = [
        "记录编号,客户编号,发生时间,类型,评分",
        "I1,C1,2024-03-05 08:30,满意度调查,9",
        "I2,C1,2024/3/6,投诉,",
        "I3,C1,2024-03-07 10:00,神秘类型,",
        "I4,C1,2024-03-07 10:00,满意度调查,11",
        "I5,C1,2024-03-07 10:00,,",
    ]
    result = read_and_validate(_csv(tmp_path, "i.csv", lines), "interactions")
    good = result.good.to_pylist()
    assert [(r["interaction_id"], r["type"], r["score"]) for r in good] == [
        ("I1", "nps_survey", 9),
        ("I2", "complaint", None),
        ("I3", "other", None),
    ]
    assert str(good[0]["ts"]) == "2024-03-05 08:30:00"
    assert good[2]["type_raw"] == "神秘类型"
    assert result.rejects.select(["source_row", "reason"]).to_pylist() == [
        {"source_row": 5, "reason": "score out of range 0–10: '11'"},
        {"source_row": 6, "reason": "missing type"},
    ]


def test_empty_data_file_gives_empty_typed_tables(tmp_path: Path) -> None:
    path = _csv(tmp_path, "o.csv", ["order_id,vin,open_date,total_amount"])
    result = read_and_validate(path, "service_orders")
    assert result.good.num_rows == 0
    assert result.good.schema.field("total_amount").type == pa.decimal128(14, 2)
    assert (result.rows_read, result.rejects.num_rows, result.warnings.num_rows) == (0, 0, 0)


def test_xlsx_customers_end_to_end(tmp_path: Path) -> None:
    import datetime as dt

    import xlsxwriter

    path = tmp_path / "customers.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["客户编号", "手机", "生日", "建档日期"])
    sheet.write_row(1, 0, ["C1", 13800138000])
    sheet.write_datetime(1, 2, dt.datetime(1985, 7, 9), book.add_format({"num_format": "yyyy/m/d"}))
    sheet.write_number(1, 3, 45356)  # a date typed as a plain number: Excel serial
    sheet.write_row(2, 0, ["C2", "139 0000 0000", "1990-02-30"])
    book.close()
    result = read_and_validate(path, "customers")
    assert result.good.select(["customer_id", "phone", "birthday", "created_at"]).to_pylist() == [
        {
            "customer_id": "C1",
            "phone": "13800138000",
            "birthday": dt.date(1985, 7, 9),
            "created_at": dt.date(2024, 3, 5),
        }
    ]
    located = result.rejects.select(["source_file", "source_row", "column_name", "reason"])
    assert located.to_pylist() == [
        {"source_file": "customers.xlsx", "source_row": 3, "column_name": "生日",
         "reason": "bad date '1990-02-30' (expected e.g. 2024-03-05)"},
    ]  # fmt: skip


def test_parquet_orders_end_to_end(tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow.parquet as pq

    path = tmp_path / "orders.parquet"
    pq.write_table(
        pa.table(
            {
                "order_id": ["RO1", "RO2"],
                "vin": [VIN1, VIN2],
                "open_date": [dt.date(2024, 3, 5), dt.date(2024, 3, 6)],
                "total_amount": pa.array([Decimal("10.50"), None], pa.decimal128(12, 2)),
                "odometer_km": [1000.0, -1.0],
            }
        ),
        path,
    )
    result = read_and_validate(path, "service_orders")
    good = result.good.select(["order_id", "open_date", "total_amount", "odometer_km"])
    assert good.to_pylist() == [
        {"order_id": "RO1", "open_date": dt.date(2024, 3, 5), "total_amount": Decimal("10.50"),
         "odometer_km": 1000},
    ]  # fmt: skip
    assert result.rejects.select(["source_row", "reason"]).to_pylist() == [
        {"source_row": 3, "reason": "negative odometer: '-1'"},
        {"source_row": 3, "reason": "missing total_amount"},
    ]


def test_keys_sharing_a_code_are_told_apart_by_their_values() -> None:
    """key_codes numbers 64-bit hashes: if two different keys ever shared one, deduplicate
    must still keep both rows (it compares the keys themselves)."""
    import numpy as np

    from aftercare.ingest.issues import deduplicate, key_codes

    good = pa.table(
        {
            "order_id": ["RO1", "RO2", "RO3", "RO3"],
            "total_amount": [1, 2, 3, 4],
            "source_row": pa.array([2, 3, 4, 5], pa.int64()),
            "_pos": pa.array([0, 1, 2, 3], pa.int64()),
        }
    )
    spec = table_spec("service_orders")
    colliding = np.array([0, 0, 1, 1])  # RO1 and RO2 as if their hashes were equal
    survivors, rejects, warnings = deduplicate(good, spec, {"order_id": "接车单号"}, colliding)
    assert survivors.column("order_id").to_pylist() == ["RO1", "RO2", "RO3"]
    assert survivors.column("source_row").to_pylist() == [2, 3, 5]
    assert rejects.column("text").to_pylist() == ["duplicate key RO3: superseded by row 5"]
    assert warnings.num_rows == 0
    codes = key_codes([good.column("order_id")])
    assert codes[2] == codes[3] and len({codes[0], codes[1], codes[2]}) == 3
    assert len(set(key_codes([pa.array(["RO1", "RO2", "RO3"])]))) == 3
