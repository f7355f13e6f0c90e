"""Incremental engine runs: plan only the customers whose plan may have changed (issue 11).

A night's engine run on a large store spends nearly all its time on every customer's order
history, while a day changes a few percent of customers. So a run that follows another plans
only:

- the customers whose data changed since the last run (:mod:`aftercare.playbook.changes`:
  rows loaded or replaced since, rows whose date came, outcomes and contact preferences
  logged since, score rows that changed with the snapshot),
- the customers whose date came (their ``wake_on``, :mod:`aftercare.playbook.wake`),
- the customers with a vehicle whose reminder borrows the fleet's rate and whose due date
  that rate moved (the rate moves with everyone's data; each vehicle's own rate and
  forecast errors are kept in the ``engine_fleet_*`` tables and refreshed for the vehicles
  whose orders changed, so the borrowed rates need no pass over every order),

and finds for them exactly what a run over every customer would find (the narrowed plan,
:mod:`aftercare.pipeline.subset`). Everything else a run does — expiry, consent stops, the
carried calls, the weekly cap and advisor capacity — reads the stored actions as before.

A run plans every customer (a *full* run) when it is asked to, when the store has no earlier
run, when the configuration or Aftercare's code changed since (the plan's key), when either
run had no stored scores (computed scores change with the date), or when it runs for an
earlier date than the last run. Rows changed outside Aftercare (SQL by hand) are seen by the
next full run: ``aftercare actions --full``.

The bookkeeping (``engine_*`` tables, :mod:`aftercare.schema.playbook`) is written in the
run's own transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.config import Config, config_key
from aftercare.pipeline.inputs import CanonicalTables
from aftercare.pipeline.reminders import FleetRates, fleet_facts, kept_fleet, vehicle_reminders
from aftercare.pipeline.subset import without_lineage
from aftercare.playbook import changes
from aftercare.playbook.rules import RuleContext
from aftercare.playbook.rules_state import TRADE_IN_RULE
from aftercare.playbook.wake import fleet_borrowers, wake_dates
from aftercare.schema.playbook import ENGINE_BLOCKED, ENGINE_CUSTOMERS
from aftercare.services.frames import date_array
from aftercare.services.inputs import canonical_tables
from aftercare.services.scoring import scores_on
from aftercare.store import engine_state, plans
from aftercare.store.connect import Store
from aftercare.store.plan_store import code_fingerprint
from aftercare.store.transaction import fetch_compiled

QUEUE = engine_state.QUEUE


@dataclass(frozen=True)
class LastRun:
    """What the store's latest engine run was run with."""

    as_of: dt.date
    scores_as_of: dt.date | None
    plan_key: str


@dataclass(frozen=True)
class Scope:
    """Whom a run plans: everyone (``full``, with the reason) or the queued customers."""

    full: bool
    reason: str
    last: LastRun | None


def plan_key(config: Config) -> str:
    """The configuration and code a plan is built from: a run with another key plans all."""
    return f"{code_fingerprint()}:{config_key(config)}"


def last_run(store: Store) -> LastRun | None:
    """The store's latest engine run (None: none yet)."""
    latest = engine_state.latest_run(store)
    return LastRun(*latest) if latest is not None else None


def decide(
    store: Store, as_of: dt.date, scores_as_of: dt.date | None, config: Config, *, full: bool
) -> Scope:
    """Whether a run for ``as_of`` plans every customer, and why (module doc)."""
    last = last_run(store)
    reasons = (
        (full, "asked for"),
        (last is None, "the first run on this store"),
        (last is not None and last.plan_key != plan_key(config), "configuration or code changed"),
        (scores_as_of is None or (last is not None and last.scores_as_of is None), "no scores"),
        (last is not None and as_of < last.as_of, "an earlier date than the last run"),
    )
    for holds, reason in reasons:
        if holds:
            return Scope(True, reason, last)
    return Scope(False, "changed customers", last)


def fleet_kept(store: Store) -> FleetRates:
    """The rates every reminder may borrow, from the kept fleet facts (:func:`refresh_fleet`)."""
    return kept_fleet(store.table(engine_state.FLEET_RATES), store.table(engine_state.FLEET_ERRORS))


def _new_loads(store: Store) -> ir.Table:
    """The loads no engine run has seen yet (column load_id)."""
    log = store.table("load_log")
    known = store.table(engine_state.SEEN_LOADS)
    return log.anti_join(known, log.load_id == known.load_id).select("load_id")


def _fleet_vins(store: Store, dates: Mapping[str, dt.date]) -> ir.Table:
    tables = canonical_tables(store)
    vins = changes.vins_since(
        tables,
        store.table("row_history"),
        _new_loads(store),
        after=dates["last_as_of"],
        through=dates["as_of"],
    )
    return vins.distinct()


def refresh_fleet(store: Store, scope: Scope, *, as_of: dt.date, config: Config) -> None:
    """Bring the kept fleet facts to ``as_of``: every vehicle's on a full run, else those of
    the vehicles whose orders changed since the last run. In the caller's transaction."""
    queued = not scope.full
    dates = {"as_of": as_of}
    key = config_key(config)

    def facts(d: Mapping[str, dt.date]) -> tuple[ir.Table, ir.Table]:
        tables = canonical_tables(store)
        orders, vehicles = tables.service_orders, tables.vehicles
        if queued:
            vins = store.table(engine_state.FLEET_VINS).vin
            orders = orders.filter(orders.vin.isin(vins))
            vehicles = vehicles.filter(vehicles.vin.isin(vins))
        return fleet_facts(orders, vehicles, as_of=d["as_of"], config=config.reminders)

    if queued:  # the changed vehicles, found once (four statements read them)
        assert scope.last is not None
        since = {"last_as_of": scope.last.as_of, "as_of": as_of}
        vins = plans.compiled(store, ("engine.fleet.vins",), lambda d: _fleet_vins(store, d), since)
        if not engine_state.fill_fleet_vins(store, vins):
            return
    rates = plans.compiled(store, ("engine.fleet.rates", queued, key), lambda d: facts(d)[0], dates)
    errors = plans.compiled(
        store, ("engine.fleet.errors", queued, key), lambda d: facts(d)[1], dates
    )
    engine_state.replace_fleet(store, queued=queued, rates=rates, errors=errors)


def _borrowers_moved(
    store: Store, tables: CanonicalTables, d: Mapping[str, dt.date], config: Config
) -> ir.Table:
    """Customers of the vehicles whose reminder borrowed a rate at their last planning and
    whose due date, rate source or owner is not the same today (column customer_id)."""
    kept = store.table(engine_state.VEHICLES)
    vins = kept.vin
    o, v = without_lineage(tables.service_orders, "service_orders"), tables.vehicles
    today = vehicle_reminders(
        o.filter(o.vin.isin(vins)),
        v.filter(v.vin.isin(vins)),
        as_of=d["as_of"],
        config=config.reminders,
        fleet=fleet_kept(store),
    ).select(t_vin="vin", t_customer_id="customer_id", t_source="rate_source", t_due="due_date")
    j = kept.left_join(today, kept.vin == today.t_vin)
    same = (
        j.t_vin.notnull()
        & (j.t_customer_id == j.customer_id).fill_null(False)
        & (j.t_source == j.rate_source).fill_null(False)
        & ((j.t_due == j.due_date) | (j.t_due.isnull() & j.due_date.isnull())).fill_null(False)
    )
    moved = j.filter(~same)
    return moved.select("customer_id").union(
        moved.select(customer_id=moved.t_customer_id), distinct=False
    )


#: The score column whose change may change a plan of the built-in rules (A-BIRTHDAY,
#: A-WINBACK and A-TRADE-IN read the tier). A-TIER-UP/DOWN read ``previous_tier`` and
#: ``move`` too, but only of a customer who moved in the snapshot (``scored_since`` plans
#: every one); yesterday's mover whose move is gone today has no tier-move candidate today,
#: and its candidate of yesterday was stored or blocked (planned again while blocked, see
#: :func:`_blocked_tier_moves`). So a new daily snapshot, whose ``previous_tier`` is the
#: day before's tier, plans its movers and not the ~15k customers a day (at 1M) who moved
#: the day before.
PLAN_SCORE_COLUMNS = ("tier",)
#: The rules whose candidate is a move in the scores' snapshot.
TIER_MOVE_RULES = ("A-TIER-UP", "A-TIER-DOWN")


def _score_columns(config: Config, scores: ir.Table) -> tuple[str, ...]:
    """What a changed snapshot must differ in to change a plan: with a custom rule (its
    condition may read any score), every column but the date."""
    if any(rule.enabled for rule in config.actions.custom_rules):
        return tuple(c for c in scores.columns if c not in ("customer_id", "as_of_date"))
    return PLAN_SCORE_COLUMNS


def _changed(
    store: Store,
    tables: CanonicalTables,
    dates: Mapping[str, dt.date],
    scores_moved: bool,
    config: Config,
) -> ir.Table:
    """Every customer to plan (module doc), as customer_id (distinct)."""
    seen = store.table(engine_state.CUSTOMERS)
    new_loads = _new_loads(store)
    counts = _logged_counts(store)
    parts = [
        changes.stored_since(tables, store.table("row_history"), new_loads),
        changes.dated_since(tables, after=dates["last_as_of"], through=dates["as_of"]),
        changes.logged_since(counts, seen),
        seen.filter(seen.wake_on <= dates["through"]).select("customer_id"),
        _borrowers_moved(store, tables, dates, config),
    ]
    if scores_moved:
        before, after = scores_on(store, dates["last_scores"]), scores_on(store, dates["scores"])
        parts.append(changes.scored_since(before, after, _score_columns(config, after)))
        parts.append(_blocked_tier_moves(store))
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out.filter(out.customer_id.notnull()).distinct()


def _blocked_tier_moves(store: Store) -> ir.Table:
    """Customers with a tier-move trigger consent blocked at their last planning: a new
    snapshot without their move drops it from the plan (column customer_id)."""
    b = store.table(engine_state.BLOCKED)
    return b.filter(b.rule_id.isin(list(TIER_MOVE_RULES))).select("customer_id")


def queue_changed(
    store: Store,
    scope: Scope,
    *,
    as_of: dt.date,
    through: dt.date,
    scores_as_of: dt.date,
    config: Config,
) -> int:
    """Fill ``engine_queue`` with the customers an incremental run plans; return how many.

    Runs in the caller's transaction.
    """
    assert scope.last is not None and scope.last.scores_as_of is not None
    last_scores = scope.last.scores_as_of
    moved = last_scores != scores_as_of
    dates = {"last_as_of": scope.last.as_of, "as_of": as_of, "through": through}
    if moved:
        dates = {"last_scores": last_scores, "scores": scores_as_of, **dates}
    query = plans.compiled(
        store,
        ("engine.changed", moved, config_key(config)),
        lambda d: _changed(store, canonical_tables(store), d, moved, config),
        dates,
    )
    return engine_state.fill_queue(store, query)


#: Which part of the bookkeeping rows a row belongs to (:func:`bookkeeping`).
PART = "run_part"
WAKE_PART, VEHICLE_PART = "wake", "vehicle"


def bookkeeping(ctx: RuleContext) -> ir.Table:
    """The planned customers' wake dates (:func:`~aftercare.playbook.wake.wake_dates`) and
    their vehicles whose reminder borrows the fleet's rate
    (:func:`~aftercare.playbook.wake.fleet_borrowers`), in one query; :func:`split_rows`.

    Run right after the plan, before the run stores anything: the run's own new actions are
    all due by its ``through``, which no wake date counts, except a custom rule's next
    repeat, which :func:`repeat_wakes` adds. A run planning few customers reads the plan and
    this in one statement (:data:`aftercare.services.action_plan.COMBINED_MAX`: on DuckDB 1.5
    the one statement stalled, every thread waiting, at 80k and 1M customers); more, with the
    plan's inputs staged in the engine (:mod:`aftercare.services.staged_plan`, up to
    :data:`~aftercare.services.action_plan.STAGED_MAX`); the most, in a statement of its own.

    Returns
    -------
    ir.Table
        run_part, customer_id, wake_on, vin, rate_source, due_date.
    """
    b = fleet_borrowers(ctx)
    out = b.select(
        ibis.literal(VEHICLE_PART).name(PART),
        customer_id=b.customer_id,
        wake_on=ibis.null("date"),
        vin=b.vin,
        rate_source=b.rate_source,
        due_date=b.due_date.cast("date"),
    )
    wake = wake_dates(ctx)
    if wake is not None:
        out = out.union(
            wake.select(
                ibis.literal(WAKE_PART).name(PART),
                customer_id=wake.customer_id,
                wake_on=wake.wake_on.cast("date"),
                vin=ibis.null("string"),
                rate_source=ibis.null("string"),
                due_date=ibis.null("date"),
            ),
            distinct=False,
        )
    return out


def split_rows(rows: pa.Table) -> tuple[pa.Table, pa.Table]:
    """:func:`bookkeeping`'s rows as (wake dates: customer_id and wake_on; borrowing
    vehicles: vin, customer_id, rate_source, due_date)."""
    part = rows.column(PART)
    wake = rows.filter(pc.equal(part, WAKE_PART)).select(["customer_id", "wake_on"])
    vehicles = rows.filter(pc.equal(part, VEHICLE_PART))
    return wake, vehicles.select(["vin", "customer_id", "rate_source", "due_date"])


def _logged_counts(store: Store) -> ir.Table:
    """:func:`~aftercare.playbook.changes.logged_counts` of the store's logs."""
    return changes.logged_counts(
        store.table("actions"), store.table("action_outcomes"), store.table("contact_preferences")
    )


def _counts(store: Store, queued: bool) -> ir.Table:
    counts = _logged_counts(store)
    if queued:
        counts = counts.filter(counts.customer_id.isin(store.table(QUEUE).customer_id))
    return counts


def _customer_rows(wake: pa.Table, counts: pa.Table) -> pa.Table:
    """``engine_customers``' rows: each customer's earliest wake date and logged counts."""
    earliest = wake.group_by("customer_id").aggregate([("wake_on", "min")])
    counts = counts.select(["customer_id", "outcomes", "preferences"])
    j = earliest.join(counts, "customer_id", join_type="full outer")
    return pa.table(
        {
            "customer_id": j.column("customer_id").cast(pa.string()),
            "wake_on": j.column("wake_on_min").cast(pa.date32()),
            "outcomes": pc.fill_null(j.column("outcomes").cast(pa.int64()), 0),
            "preferences": pc.fill_null(j.column("preferences").cast(pa.int64()), 0),
        },
        schema=ENGINE_CUSTOMERS.to_pyarrow(),
    )


def record_run(
    store: Store,
    scope: Scope,
    *,
    wake: pa.Table,
    vehicles: pa.Table,
    as_of: dt.date,
    through: dt.date,
    stopped: set[str],
    scores_as_of: dt.date | None,
    config: Config,
    planned: int | None,
    ran_at: dt.datetime,
) -> None:
    """Write the run's bookkeeping, in the caller's transaction, after its actions.

    Parameters
    ----------
    wake, vehicles
        The planned customers' wake dates and borrowing vehicles (:func:`split_rows`), with
        the wake dates of the run's new custom-rule actions added (:func:`repeat_wakes`).
    stopped
        Customers whose actions this run stopped: their next plan may differ (a win-back
        attempt no longer pending), so they are planned again tomorrow.
    planned
        Customers planned (None: every one).
    """
    queued = not scope.full
    counts = plans.compiled(store, ("engine.counts", queued), lambda _: _counts(store, queued), {})
    customers = _customer_rows(wake, fetch_compiled(store, counts))
    engine_state.replace_planned(store, queued=queued, customers=customers, vehicles=vehicles)
    engine_state.wake_on(store, sorted(stopped), as_of + dt.timedelta(days=1))
    engine_state.mark_loads_seen(store)
    engine_state.log_run(
        store,
        {
            "run_id": uuid.uuid4().hex,
            "as_of": as_of,
            "through": through,
            "ran_at": ran_at,
            "full_run": scope.full,
            "scores_as_of": scores_as_of,
            "plan_key": plan_key(config),
            "customers_planned": planned,
        },
    )


def repeat_wakes(new: pd.DataFrame, config: Config, as_of: dt.date) -> pa.Table:
    """A custom rule's next repeat for the customers the run gave one of its actions
    (``repeat_after_days`` after today; the wake dates were computed before they were
    stored). ``new``: the run's stored new actions (rule_id, customer_id)."""
    repeat = {r.rule_id: r.repeat_after_days for r in config.actions.custom_rules}
    mine = new[new.rule_id.isin(list(repeat))] if not new.empty else new
    if mine.empty:
        return pa.table(
            {"customer_id": pa.array([], pa.string()), "wake_on": pa.array([], pa.date32())}
        )
    days = mine.rule_id.map(repeat).to_numpy(dtype="int64")
    first = (as_of - dt.date(1970, 1, 1)).days
    return pa.table(
        {
            "customer_id": pa.array(mine.customer_id, pa.string()),
            "wake_on": date_array(first + days),
        }
    )


#: Rules whose candidate is the customer's state on the run's date (its trigger date is the
#: as-of date): blocked, it is met again every day the state holds.
EVERY_DAY_RULES = ("A-WINBACK", TRADE_IN_RULE)


def blocked_rows(plan: pd.DataFrame, config: Config) -> pa.Table:
    """``engine_blocked``'s rows for the plan's triggers consent blocked (R-ACT-CONSENT).

    ``plan``: the plan's rows as :func:`aftercare.services.frames.arrow_frame` gives them
    (dates as day numbers).
    """
    b = plan[plan.blocked.astype(bool)] if not plan.empty else plan
    if b.empty:
        return ENGINE_BLOCKED.to_pyarrow().empty_table()
    custom = {r.rule_id for r in config.actions.custom_rules}
    return pa.table(
        {
            "customer_id": pa.array(b.customer_id, pa.string()),
            "rule_id": pa.array(b.rule_id, pa.string()),
            "trigger_key": pa.array(b.trigger_key, pa.string()),
            "original_due_date": date_array(b.original_due_date.to_numpy()),
            "catch_up_days": pa.array(pd.array(b.catch_up_days, dtype="Int64"), pa.int64()),
            "every_day": pa.array(b.rule_id.isin([*EVERY_DAY_RULES, *custom]), pa.bool_()),
        },
        schema=ENGINE_BLOCKED.to_pyarrow(),
    )


def keep_blocked(store: Store, scope: Scope, rows: pa.Table) -> None:
    """Keep the planned customers' blocked triggers for the runs that will not plan them."""
    engine_state.replace_blocked(store, queued=not scope.full, rows=rows)
