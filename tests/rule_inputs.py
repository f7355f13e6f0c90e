"""Canonical and playbook tables of hand-made rows, loaded into any engine for rule tests."""

from __future__ import annotations

from typing import Any

import ibis

from aftercare.pipeline.inputs import CanonicalTables
from conftest import load_tables
from factories import make_table
from outcome_rows import make_actions, make_outcomes, make_preferences

CANONICAL = (
    "customers",
    "vehicles",
    "service_orders",
    "declined_services",
    "interactions",
    "advisors",
)


def load_rule_inputs(
    con: ibis.BaseBackend,
    *,
    actions: list[dict[str, Any]] = (),  # type: ignore[assignment]
    outcomes: list[dict[str, Any]] = (),  # type: ignore[assignment]
    preferences: list[dict[str, Any]] = (),  # type: ignore[assignment]
    **canonical: list[dict[str, Any]],
) -> tuple[CanonicalTables, dict[str, ibis.Table]]:
    """Load the canonical tables (absent ones empty) and the playbook tables into ``con``.

    Returns the :class:`CanonicalTables` and the loaded ``actions``, ``outcomes`` and
    ``preferences``.
    """
    unknown = set(canonical) - set(CANONICAL)
    if unknown:
        raise KeyError(f"not canonical tables: {sorted(unknown)}")
    t = load_tables(
        con,
        {
            **{name: make_table(name, list(canonical.get(name, []))) for name in CANONICAL},
            "actions": make_actions(list(actions)),
            "outcomes": make_outcomes(list(outcomes)),
            "preferences": make_preferences(list(preferences)),
        },
    )
    tables = CanonicalTables(**{name: t[name] for name in CANONICAL})
    return tables, {k: t[k] for k in ("actions", "outcomes", "preferences")}
