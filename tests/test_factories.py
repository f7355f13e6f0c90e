from __future__ import annotations

import pyarrow as pa
import pytest

from factories import make_table


def test_make_table_fills_defaults_and_types():
    t = make_table(
        "service_orders", [{"order_id": "o1", "open_date": "2024-01-02", "total_amount": 10}]
    )
    assert t.num_rows == 1
    assert t.column("payer").to_pylist() == ["customer"]
    assert pa.types.is_decimal(t.schema.field("total_amount").type)
    assert t.column("source_row").to_pylist() == [2]


def test_make_table_rejects_unknown_column():
    with pytest.raises(KeyError):
        make_table("customers", [{"nope": 1}])
