"""A large incremental run's plan in two statements that share their work (issue 11).

The plan (:func:`aftercare.playbook.engine.plan_actions`) and the bookkeeping
(:func:`aftercare.services.incremental.bookkeeping`) read the same costly inputs: the planned
customers' orders, their visits and reminders (a window over every reading of their
vehicles), their churn risk, every rule's candidates. A small run reads both in one statement
(:data:`aftercare.services.action_plan.COMBINED_MAX`); on DuckDB 1.5 that one statement
stalled at 80k planned customers. So a larger run computes the inputs once, in one statement
whose rows stay in the engine (a temporary table of the connection, :data:`STAGED`):

- the bookkeeping's rows (wake dates, borrowing vehicles), read back as they are;
- the plan's inputs (:class:`~aftercare.playbook.engine.PlanInputs`: the candidates in the
  due window, the scores with their risk level, the value, the advisor of the last order),

and a second statement runs the plan's last steps (window, stable ids, consent, value) over
them with the stored actions, customers and preferences. Same rows as the one plan
(``tests/services/test_actions_incremental_engines.py`` runs every way).

The rows of several tables are kept in one (:func:`stacked`): each part's columns named
``part__column``, NULL in the other parts' rows, and :data:`STAGED_PART` naming the part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

import ibis
import ibis.expr.types as ir

from aftercare.playbook.engine import PlanInputs, plan_inputs
from aftercare.playbook.rules import RuleContext
from aftercare.services import incremental
from aftercare.store.engine_state import STAGED

__all__ = [
    "BOOKKEEPING",
    "STAGED",
    "STAGED_PART",
    "stacked",
    "staged_inputs",
    "staging",
    "unstacked",
]

#: The column naming each row's part.
STAGED_PART = "staged_part"
#: The part holding :func:`aftercare.services.incremental.bookkeeping`'s rows.
BOOKKEEPING = "bookkeeping"
_INPUTS = tuple(f.name for f in fields(PlanInputs))


def stacked(parts: Mapping[str, ir.Table]) -> ir.Table:
    """The rows of ``parts`` in one table: :data:`STAGED_PART` (the part's name), then for
    each part and column ``part__column`` (its type), NULL in other parts' rows."""
    columns = {
        f"{name}__{column}": dtype
        for name, table in parts.items()
        for column, dtype in table.schema().items()
    }
    out: ir.Table | None = None
    for name, table in parts.items():
        own = {f"{name}__{column}": table[column] for column in table.columns}
        rows = table.select(
            ibis.literal(name).name(STAGED_PART),
            **{c: own[c] if c in own else ibis.null(dtype) for c, dtype in columns.items()},
        )
        out = rows if out is None else out.union(rows, distinct=False)
    assert out is not None, "nothing to stack"
    return out


def unstacked(staged: ir.Table, name: str) -> ir.Table:
    """Part ``name`` of a :func:`stacked` table, its columns named as they were."""
    prefix = f"{name}__"
    rows = staged.filter(staged[STAGED_PART] == name)
    return rows.select(
        **{c.removeprefix(prefix): rows[c] for c in staged.columns if c.startswith(prefix)}
    )


def staging(ctx: RuleContext, value: ir.Table) -> ir.Table:
    """The rows to stage: the plan's inputs and the bookkeeping, :func:`stacked`."""
    inputs = plan_inputs(ctx, value)
    assert inputs is not None  # only planned when a rule is enabled
    parts = {name: getattr(inputs, name) for name in _INPUTS}
    return stacked({**parts, BOOKKEEPING: incremental.bookkeeping(ctx)})


def staged_inputs(staged: ir.Table) -> PlanInputs:
    """:class:`~aftercare.playbook.engine.PlanInputs` read back from the staged rows."""
    return PlanInputs(*(unstacked(staged, name) for name in _INPUTS))
