"""What the scripts of stored actions need, gathered from a store (SPEC §6, R-CHURN-REASON).

The templates and their rendering live in :mod:`aftercare.playbook.scripts` (no store
there); this module reads the actions' customers, vehicles, advisors, tiers and — for a
win-back whose evidence has none — the churn reason, and hands back one row per action.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from aftercare.config import Config
from aftercare.pipeline.marts import churn_reasons_of
from aftercare.playbook.outcomes import WINBACK_RULE
from aftercare.playbook.scripts import script_context
from aftercare.services.inputs import canonical_tables
from aftercare.services.scoring import SCORES_TABLE, stored_scores
from aftercare.store.connect import Store
from aftercare.store.snapshots import snapshot_dates


def action_context(
    store: Store,
    action_ids: Sequence[str],
    *,
    config: Config,
    as_of: dt.date | None = None,
) -> pa.Table:
    """The few actions asked for, with everything their scripts need (one small query).

    See :func:`actions_context`; rows come in ``action_ids`` order (unknown ids are left out).
    """
    ids = list(dict.fromkeys(action_ids))
    actions = store.table("actions")
    mine = actions.filter(actions.action_id.isin(ids)) if ids else actions.limit(0)
    context = actions_context(store, mine, config=config, as_of=as_of)
    order = {a: i for i, a in enumerate(ids)}
    rows = sorted(context.to_pylist(), key=lambda r: order[r["action_id"]])
    return pa.Table.from_pylist(rows, schema=context.schema)


def actions_context(
    store: Store, actions: ir.Table, *, config: Config, as_of: dt.date | None = None
) -> pa.Table:
    """The actions of ``actions`` with everything their scripts need.

    Each action's tier comes from the snapshot that triggered it (R-TIER-HOLD): the latest
    ``customer_scores`` snapshot on or before the action's ``created_on`` (the scores its run
    read), else the latest on or before ``as_of`` (none: NULL); a tier in the action's
    evidence wins over both (:func:`~aftercare.playbook.scripts.template_context`).
    The customers of win-back actions get their churn reason as of ``as_of``
    (default today) from :func:`aftercare.pipeline.marts.churn_reasons_of`, the definition the
    churn mart and the engine use; the script takes it when the action's evidence has none.

    Returns
    -------
    pa.Table
        The columns of :func:`~aftercare.playbook.scripts.script_context` plus
        ``churn_reason`` (NULL for customers without a win-back action).
    """
    day = as_of or dt.date.today()
    dates = [d for d in snapshot_dates(store, SCORES_TABLE) if d <= day]
    tiers = action_tiers(stored_scores(store), actions, dates) if dates else None
    tables = canonical_tables(store)
    context = script_context(
        actions, tables.customers, tables.vehicles, tables.advisors, tiers
    ).to_pyarrow()
    winback = actions.filter(actions.rule_id == WINBACK_RULE).select("customer_id")
    reasons = churn_reasons_of(tables, winback, as_of=day, config=config)
    found = {
        r["customer_id"]: r["churn_reason"]
        for r in reasons.select("customer_id", "churn_reason").to_pyarrow().to_pylist()
    }
    column = [found.get(c) for c in context.column("customer_id").to_pylist()]
    return context.append_column("churn_reason", pa.array(column, pa.string()))


def action_tiers(scores: ir.Table, actions: ir.Table, dates: Sequence[dt.date]) -> ir.Table:
    """Each action's effective tier in the snapshot its run read (R-TIER-HOLD).

    Grain: one row per action whose customer that snapshot holds.

    Parameters
    ----------
    scores
        The stored ``customer_scores`` (every date).
    actions
        The actions (``action_id``, ``customer_id``, ``created_on``).
    dates
        The snapshot dates that may be read, oldest first (not empty): an action takes the
        latest on or before its ``created_on``, else (created before any) the latest.

    Returns
    -------
    ir.Table
        ``action_id``, ``tier``.
    """
    latest = ibis.literal(dates[-1], type="date")
    read = ibis.cases(
        *[(actions.created_on >= day, ibis.literal(day, type="date")) for day in reversed(dates)],
        else_=latest,
    )
    picked = actions.select("action_id", "customer_id", read_on=read.fill_null(latest))
    s = scores.select(s_customer_id="customer_id", s_date="as_of_date", tier="tier")
    joined = picked.join(s, [picked.customer_id == s.s_customer_id, picked.read_on == s.s_date])
    return joined.select("action_id", "tier")
