"""R-IN-9 in validation: which values are implausible, and which only look so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from aftercare.config import IngestConfig, load_config
from aftercare.errors import ConfigError
from aftercare.ingest.plausible import Plausibility
from aftercare.ingest.validate import read_and_validate

LOAD_DAY = dt.date(2024, 6, 30)
RULES = Plausibility.of(IngestConfig(), LOAD_DAY)


def _csv(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _reasons(result) -> dict[int, str]:
    return {r["source_row"]: r["reason"] for r in result.rejects.to_pylist()}


def test_r_in_9_event_dates_bounded_birthdays_and_warranty_ends_not(tmp_path):
    customers = _csv(
        tmp_path,
        "c.csv",
        ["客户编号,生日,建档日期", "C1,1950-04-01,2020-01-01", "C2,1960-01-01,2024-07-05"],
    )
    result = read_and_validate(customers, "customers", plausibility=RULES)
    assert _reasons(result) == {
        3: "implausible date 2024-07-05: after 2024-07-01 (the load day 2024-06-30 + 1 day)"
    }
    vehicles = _csv(
        tmp_path,
        "v.csv",
        ["车架号,客户编号,提车日期,延保到期日", "LSVAA4182E2000001,C1,2024-07-01,2031-07-01"],
    )
    result = read_and_validate(vehicles, "vehicles", plausibility=RULES)
    assert result.rejects.num_rows == 0  # the load day + 1 is still plausible; warranty ends far


def test_r_in_9_interaction_in_the_future_rejected(tmp_path):
    path = _csv(
        tmp_path,
        "i.csv",
        [
            "记录编号,客户编号,发生时间,类型",
            "I1,C1,2024-06-30 18:00,投诉",
            "I2,C1,2030-01-05 09:30,投诉",
        ],
    )
    result = read_and_validate(path, "interactions", plausibility=RULES)
    assert _reasons(result) == {
        3: "implausible date 2030-01-05 09:30:00: after 2024-07-01 (the load day 2024-06-30 "
        "+ 1 day)"
    }


def test_r_in_9_declined_quote_above_the_ceiling(tmp_path):
    path = _csv(
        tmp_path,
        "d.csv",
        ["接车单号,维修项目,客户编号,拒绝日期,报价金额", "RO1,刹车片,C1,2024-05-01,2000000"],
    )
    result = read_and_validate(path, "declined_services", plausibility=RULES)
    assert _reasons(result) == {2: "implausible amount 2000000.00: beyond ±1,000,000 per order"}


def test_without_plausibility_nothing_is_judged(tmp_path):
    path = _csv(
        tmp_path, "o.csv", ["接车单号,客户编号,接车日期,结算金额", "RO1,C1,2099-01-01,5000000"]
    )
    assert read_and_validate(path, "service_orders").rejects.num_rows == 0


def test_event_date_columns_must_be_date_columns(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("ingest:\n  event_date_columns: [open_date, birthday_x]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="birthday_x is not a date column"):
        load_config(config)
