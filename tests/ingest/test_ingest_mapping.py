"""Header mapping: built-in synonyms, priorities, YAML mapping files and their errors (SPEC §1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftercare.errors import MappingError
from aftercare.ingest.mapping import builtin_mapping, load_mapping, resolve_columns
from aftercare.ingest.validate import read_and_validate
from aftercare.schema import TABLES, table_spec

ORDERS = table_spec("service_orders")


def test_builtin_mapping_targets_are_canonical_fields_and_enum_values() -> None:
    mapping = builtin_mapping()
    fields = {c.name: c for spec in TABLES.values() for c in spec.columns}
    assert set(mapping.headers.values()) <= set(fields)
    for name, table in mapping.values.items():
        col = fields[name]
        if col.enum is not None:
            assert set(table.values()) <= set(col.enum), name


def test_settled_amount_has_priority_over_received_amount() -> None:
    headers = ["实收金额", "接车单号", "车架号", "接车日期", "结算金额"]
    resolution = resolve_columns(headers, ORDERS, builtin_mapping())
    assert resolution.fields["total_amount"] == "结算金额"
    assert resolution.shadowed == {"实收金额": "total_amount"}
    assert resolution.ignored == ("实收金额",)


def test_received_amount_is_used_when_settled_amount_is_absent() -> None:
    headers = ["接车单号", "客户编号", "接车日期", "实收金额", "门店名称"]
    resolution = resolve_columns(headers, ORDERS, builtin_mapping())
    assert resolution.fields["total_amount"] == "实收金额"
    assert resolution.ignored == ("门店名称",)


def _yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_mapping_file_extends_and_overrides_the_builtin_one(tmp_path: Path) -> None:
    mapping = load_mapping(
        _yaml(
            tmp_path,
            """\
table: service_orders
columns:
  单据编号: order_id
  实收金额: null        # never use it, even without 结算金额
  开票金额: total_amount
values:
  category:
    快修: Repair
  payer:
    现金: customer
""",
        )
    )
    assert mapping.headers["单据编号"] == "order_id"
    assert mapping.headers["接车日期"] == "open_date"  # builtin still there
    assert "实收金额" in mapping.ignored
    assert mapping.values["category"]["快修"] == "repair"  # canonical value, case fixed
    assert mapping.values["category"]["保养"] == "maintenance"
    headers = ["单据编号", "客户编号", "接车日期", "实收金额", "开票金额"]
    resolution = resolve_columns(headers, ORDERS, mapping)
    assert resolution.fields["order_id"] == "单据编号"
    assert resolution.fields["total_amount"] == "开票金额"
    assert resolution.ignored == ("实收金额",)


def test_mapping_file_values_are_used_in_validation(tmp_path: Path) -> None:
    mapping = _yaml(
        tmp_path, "values:\n  payer:\n    现金: customer\n  category:\n    快修: repair\n"
    )
    data = tmp_path / "o.csv"
    data.write_text(
        "接车单号,客户编号,接车日期,结算金额,结算方式,维修类别\nRO1,C1,2024-03-05,1,现金,快修\n"
    )
    result = read_and_validate(data, "service_orders", mapping_path=mapping)
    row = result.good.to_pylist()[0]
    assert (row["payer"], row["category"], row["category_raw"]) == ("customer", "repair", "快修")
    assert result.rejects.num_rows == 0


def test_yaml_keys_keep_their_text(tmp_path: Path) -> None:
    # YAML 1.1 would read `yes`/`1` as booleans/ints; mapping keys stay the source text.
    mapping = load_mapping(
        _yaml(tmp_path, "values:\n  do_not_contact:\n    yes: 'false'\n    1: '0'\n")
    )
    assert mapping.values["do_not_contact"] == {"yes": "false", "1": "0"}


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("columns:\n  单号: order_id\n  车辆: vehicle\n", 3, "unknown canonical field 'vehicle'"),
        ("values:\n  payer:\n    自费: customer\n    现金: cash\n", 4, "unknown payer value"),
        ("values:\n  colour:\n    红: red\n", 2, "unknown canonical field 'colour'"),
        ("columns:\n  - order_id\n", 2, "columns must be a mapping"),
        ("colums:\n  a: order_id\n", 1, "unknown key 'colums'"),
        ("table: orders\n", 1, "unknown table"),
        ("table: vehicles\ncolumns:\n  工单: order_id\n", 3, "not a column of vehicles"),
        ("columns:\n  a: order_id\n  a: vin\n", 3, "duplicate key 'a'"),
        ("columns: [unclosed\n", 2, "not valid YAML"),
        ("- just\n- a list\n", 1, "the mapping file must be a mapping"),
    ],
)  # fmt: skip
def test_bad_mapping_files_name_file_line_and_problem(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = _yaml(tmp_path, text)
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    message = str(info.value)
    assert message.startswith(f"{path}: line {line}: ")
    assert problem in message


def test_several_problems_are_reported_in_one_line(tmp_path: Path) -> None:
    path = _yaml(tmp_path, "columns:\n  车辆: vehicle\n  颜色: colour\n")
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    assert str(info.value) == (
        f"{path}: line 2: unknown canonical field 'vehicle' (not a column of any table); "
        "line 3: unknown canonical field 'colour' (not a column of any table)"
    )


def test_unreadable_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read mapping file"):
        load_mapping(tmp_path / "absent.yaml")


def test_empty_mapping_file_is_the_builtin_mapping(tmp_path: Path) -> None:
    assert load_mapping(_yaml(tmp_path, "")) == builtin_mapping()


def test_unknown_table_name() -> None:
    with pytest.raises(MappingError, match="unknown table 'orders'"):
        read_and_validate(Path("x.csv"), "orders")
