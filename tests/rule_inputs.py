"""Canonical and playbook tables of hand-made rows, loaded into any engine for rule tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir

from aftercare.config import Config
from aftercare.pipeline.inputs import CanonicalTables
from aftercare.playbook.context import computed_scores, wire_rule_context
from aftercare.playbook.rules import RuleContext
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


def rule_context_of(
    tables: CanonicalTables, loaded: dict[str, ibis.Table], *, as_of: dt.date, config: Config
) -> tuple[RuleContext, ir.Table]:
    """The engine's rule context and customer value from :func:`load_rule_inputs`' tables,
    with scores computed for ``as_of`` (no stored snapshot)."""
    return wire_rule_context(
        tables,
        computed_scores(tables, as_of=as_of, config=config),
        actions=loaded["actions"],
        outcomes=loaded["outcomes"],
        as_of=as_of,
        config=config,
    )
