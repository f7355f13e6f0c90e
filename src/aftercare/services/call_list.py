"""The advisors' call list and the actions export, from each action's *current* status.

An action's status is derived from the append-only outcome and preference logs
(:func:`aftercare.playbook.outcomes.current_status`, R-ACT-OUTCOME), never read from the
stored ``actions.status`` column alone: that column only holds what the engine decided
(``open``, ``holdout``, ``stopped``). So an action booked, done or opted out leaves the list
as soon as its outcome is recorded, and the export shows the true status.

Each row carries what the advisor needs to make the call: customer name and phone, vehicle
plate and model, and the personalised script (:mod:`aftercare.services.scripts` gathers
what it needs, :mod:`aftercare.playbook.scripts` renders it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.config import Config, config_key
from aftercare.errors import AftercareError
from aftercare.pipeline.staging import as_date
from aftercare.playbook.outcomes import current_status, winback_orders
from aftercare.playbook.rules import PRIORITY_ORDER
from aftercare.playbook.scripts import render_scripts
from aftercare.services.scripts import actions_context
from aftercare.store import plans
from aftercare.store.connect import Store
from aftercare.store.transaction import fetch_compiled

#: Columns of the actions export beyond the stored action columns.
EXPORT_EXTRA = (
    "stop_reason",
    "outcomes",
    "last_result",
    "customer_name",
    "phone",
    "plate",
    "model",
    "advisor_name",
    "script",
)


def current_actions(store: Store, config: Config, *, as_of: dt.date | None = None) -> ir.Table:
    """Every stored action with its current status (see :func:`current_status`).

    Grain: one row per action. ``as_of`` derives R-ACT-EXPIRE for that day (an action past
    its ``valid_until`` is ``expired`` even when no run has stored it so); ``None``: the
    statuses the last run stored.
    """
    _require_actions(store)
    actions, outcomes = store.table("actions"), store.table("action_outcomes")
    # The win-back attempt count reads the last visit of the customers it counts for only.
    orders = winback_orders(
        actions, outcomes, store.table("service_orders"), store.table("vehicles")
    )
    return current_status(
        actions,
        outcomes,
        store.table("contact_preferences"),
        winback_max_attempts=config.actions.winback_max_attempts,
        orders=orders,
        as_of=as_of,
    )


def _require_actions(store: Store) -> None:
    if not store.has_table("actions"):
        raise AftercareError("no actions yet: run `aftercare actions` to generate them")


def _with_people(store: Store, a: ir.Table) -> ir.Table:
    """``a`` with customer name and phone, vehicle plate and model, and advisor name."""
    c = store.table("customers").select(c_id="customer_id", customer_name="name", phone="phone")
    v = store.table("vehicles").select(v_vin="vin", plate="plate", model="model")
    adv = store.table("advisors").select(adv_id="advisor_id", advisor_name="name")
    j = (
        a.left_join(c, a.customer_id == c.c_id)
        .left_join(v, a.vin == v.v_vin)
        .left_join(adv, a.advisor_id == adv.adv_id)
    )
    return j.select(*a.columns, "customer_name", "phone", "plate", "model", "advisor_name")


def _append_scripts(
    store: Store,
    rows: pa.Table,
    config: Config,
    as_of: dt.date,
    lang: str | None,
    *,
    every_action: bool = False,
) -> pa.Table:
    """``rows`` with a ``script`` column: each action's rendered script, in row order.

    ``every_action``: ``rows`` are all stored actions (no id filter in the query).
    """
    ids = rows.column("action_id").to_pylist()
    if not ids:
        return rows.append_column("script", pa.array([], pa.string()))
    actions = store.table("actions")
    mine = actions if every_action else actions.filter(actions.action_id.isin(ids))
    context = actions_context(store, mine, config=config, as_of=as_of)
    by_id = {r["action_id"]: r for r in context.to_pylist()}
    ordered = [by_id[i] for i in ids]
    return rows.append_column(
        "script", pa.array(render_scripts(ordered, lang, config=config), pa.string())
    )


def action_list(
    store: Store,
    *,
    until: dt.date,
    since: dt.date | None = None,
    advisor_id: str | None = None,
    config: Config,
    scripts: bool = True,
    lang: str | None = None,
    as_of: dt.date | None = None,
) -> pa.Table:
    """Open actions due by ``until`` (overdue ones included), ranked (R-ACT-RANK).

    Grain: one row per action whose *current* status is ``open`` (an outcome that closed
    it, an opt-out or an exhausted win-back takes it off). ``since`` is only used to mark
    ``is_overdue`` (due before it). Ordered by priority, expected value (highest first),
    due date, id.

    Parameters
    ----------
    store
        The open store.
    until, since, advisor_id
        Last due date listed; start of the period (for ``is_overdue``); one advisor only.
    config
        Win-back attempt limit, tier benefits and script templates.
    scripts
        Render each action's script into ``script`` (else the column is NULL).
    lang
        Script language (``zh-CN``/``en``); ``None``: each customer's own language.
    as_of
        The day the list is read: actions past their validity on that day are expired and
        left out (R-ACT-EXPIRE); ``None``: as the last run stored them.

    Returns
    -------
    pa.Table
        The action columns (``status`` current), outcomes, last_result, customer_name,
        phone, plate, model, advisor_name, priority_rank, is_overdue, script.
    """
    _require_actions(store)  # each read: the compiled SQL skips current_actions' own check

    def build(d: Mapping[str, dt.date]) -> ir.Table:
        a = current_actions(store, config, as_of=d.get("as_of"))
        a = a.filter(a.status == "open", a.due_date <= as_date(d["until"]))
        a = a.drop("stored_status", "stop_reason", "last_outcome_at")
        j = _with_people(store, a)
        rank = ibis.cases(*[(j.priority == p, i) for i, p in enumerate(PRIORITY_ORDER)], else_=9)
        j = j.mutate(priority_rank=rank, is_overdue=j.due_date < as_date(d["since"]))
        return j.order_by(["priority_rank", ibis.desc("expected_value"), "due_date", "action_id"])

    # Compiled once per store and configuration (a web page or a report reads it often).
    dates = {"since": since or until, "until": until}
    if as_of is not None:
        dates["as_of"] = as_of
    shape = ("call_list", config_key(config), as_of is not None)
    rows = fetch_compiled(store, plans.compiled(store, shape, build, dates))
    if advisor_id:
        rows = rows.filter(pc.equal(rows.column("advisor_id"), advisor_id))
    if not scripts:
        return rows.append_column("script", pa.nulls(rows.num_rows, pa.string()))
    return _append_scripts(store, rows, config, until, lang)


def actions_export(
    store: Store, config: Config, *, as_of: dt.date | None = None, lang: str | None = None
) -> pa.Table:
    """Every action with its current status and the advisor's call sheet columns.

    Grain: one row per stored action, ordered by action id. The phone is not masked: this
    is the advisor's call sheet (``aftercare export actions``).

    Returns
    -------
    pa.Table
        The stored action columns (``status`` current) plus :data:`EXPORT_EXTRA`.
    """
    a = current_actions(store, config, as_of=as_of).drop("stored_status", "last_outcome_at")
    rows = _with_people(store, a).order_by("action_id").to_pyarrow()
    return _append_scripts(store, rows, config, as_of or dt.date.today(), lang, every_action=True)
