"""Hand-made rows of the playbook tables (actions, outcomes, preferences) for tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from aftercare.playbook.model import action_id
from aftercare.playbook.outcomes import outcome_id
from aftercare.schema.playbook import ACTION_OUTCOMES, ACTIONS, CONTACT_PREFERENCES


def _coerce(value: Any, arrow_type: pa.DataType) -> Any:
    if isinstance(value, str) and pa.types.is_date(arrow_type):
        return dt.date.fromisoformat(value)
    if isinstance(value, str) and pa.types.is_timestamp(arrow_type):
        return dt.datetime.fromisoformat(value)
    return value


def _table(schema: pa.Schema, rows: list[dict[str, Any]]) -> pa.Table:
    unknown = {k for r in rows for k in r} - set(schema.names)
    if unknown:
        raise KeyError(f"unknown columns {sorted(unknown)}")
    cols = {
        f.name: pa.array([_coerce(r.get(f.name), f.type) for r in rows], type=f.type)
        for f in schema
    }
    return pa.table(cols, schema=schema)


def make_actions(rows: list[dict[str, Any]]) -> pa.Table:
    """``actions`` rows; ``action_id`` from rule_id + trigger_key when not given."""
    full = []
    for r in rows:
        r = {"status": "open", "priority": "medium", "channel": "phone", **r}
        r.setdefault("trigger_key", f"{r['customer_id']}|{r.get('due_date')}")
        r.setdefault("action_id", action_id(r["rule_id"], r["trigger_key"]))
        r.setdefault("is_marketing", False)
        full.append(r)
    return _table(ACTIONS.to_pyarrow(), full)


def make_outcomes(rows: list[dict[str, Any]]) -> pa.Table:
    """``action_outcomes`` rows; ``outcome_id`` derived when not given."""
    full = []
    for r in rows:
        r = {"source": "fixture", **r}
        at = _coerce(r["recorded_at"], pa.timestamp("us"))
        r["recorded_at"] = at
        r.setdefault("outcome_id", outcome_id(r["action_id"], at, r["result"]))
        full.append(r)
    return _table(ACTION_OUTCOMES.to_pyarrow(), full)


def make_preferences(rows: list[dict[str, Any]]) -> pa.Table:
    """``contact_preferences`` rows."""
    return _table(CONTACT_PREFERENCES.to_pyarrow(), [{"source": "fixture", **r} for r in rows])
