"""Action outcomes: result words, outcome ids, and the status they imply (R-ACT-OUTCOME).

Ibis only, ``Table -> Table``; nothing here connects or executes (the writes live in
:mod:`aftercare.services.outcomes`).

Design: **append-only outcomes, derived status.** ``action_outcomes`` and
``contact_preferences`` are logs that are only ever appended to; an action's current status
is computed from them (:func:`current_status`) instead of being updated in ``actions``. So
an outcome is never lost or overwritten, the engine may rewrite ``actions`` on every run
without undoing an advisor's work, and no engine needs UPDATE (Ibis has none). The stored
``actions.status`` is what the engine decided (``open``, ``holdout``, ``stopped``); outcomes
can only move an ``open`` action on:

- ``done``: an outcome closed it: any result but ``no_answer`` (a missed call is tried again),
  and for ``A-WINBACK`` any result at all (see below);
- ``stopped`` (``stop_reason = 'opted_out'``): the customer's latest contact preference is
  do-not-contact (an ``opted_out`` outcome appends one, R-ACT-CONSENT); "latest" is
  :func:`aftercare.pipeline.latest.latest_contact_preference`, the engine's and the stop's
  definition (an opt-out wins a tie on ``set_at``);
- ``stopped`` (``stop_reason = 'winback_exhausted'``): an open ``A-WINBACK`` of a customer
  whose failed win-back attempts reached ``winback_max_attempts`` (seed 000: 3次唤醒无效，
  不再投入资源);
- ``expired`` (R-ACT-EXPIRE): not closed by ``valid_until``, as of the day after it (the
  ``as_of`` date given to :func:`current_status`). Each engine run also stores ``expired``
  on the actions that expired by its as-of date, so a reader that passes no date sees them
  expired as of the latest run. An outcome recorded on an expired action (a late entry of
  a call made in time) still makes it ``done``. ``valid_until`` NULL (an action stored by an
  older Aftercare, before the next run fills it in) never expires.

A ``backlog`` action (R-ACT-CAPACITY: no advisor day had room within its validity) is
still to be worked: outcomes, opt-outs and expiry move it on like an ``open`` one.

Each ``A-WINBACK`` action is one attempt (the engine makes the next attempt a new action,
see ``rules_state.winback``), so any outcome closes it, a missed call included; the attempt
failed when its latest result is in ``FAILED_RESULTS`` (declined, no answer, wrong number).
When orders are given, only attempts whose latest outcome came after the customer's last
visit count: a customer who came back and lapsed again starts a new win-back.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import ibis
import ibis.expr.types as ir

from aftercare.pipeline.latest import latest_contact_preference, latest_per_key
from aftercare.pipeline.staging import resolved_orders_of, visits
from aftercare.schema.playbook import (
    ACTIVE_STATUSES,
    FAILED_RESULTS,
    OUTCOME_RESULTS,
    RESULT_SYNONYMS,
)

WINBACK_RULE = "A-WINBACK"
#: Results that leave the action open (the call is tried again).
RETRY_RESULTS = ("no_answer",)
#: Results that close the action they are recorded on.
CLOSING_RESULTS = tuple(r for r in OUTCOME_RESULTS if r not in RETRY_RESULTS)
#: Results that count as a success of a booking (R-ACT-OUTCOME).
BOOKED_RESULT = "booked"
OPTED_OUT_RESULT = "opted_out"
#: R-ACT-EXPIRE: the status of an action not done by its ``valid_until``.
EXPIRED_STATUS = "expired"


def normalise_result(text: str) -> str | None:
    """The canonical result for an advisor's word (``已预约`` → ``booked``), else ``None``."""
    return RESULT_SYNONYMS.get(text.strip().lower())


def outcome_id(action_id: str, recorded_at: dt.datetime, result: str) -> str:
    """The stable id of one outcome: the same action, moment and result give the same id.

    That identity makes call-log imports idempotent (importing a log twice adds nothing).
    """
    moment = recorded_at.replace(tzinfo=None).isoformat(timespec="microseconds")
    # MD5 makes an id here, not a security token.
    digest = hashlib.md5(f"{action_id}|{moment}|{result}".encode()).hexdigest()
    return "O" + digest[:16]


def latest_outcomes(outcomes: ir.Table) -> ir.Table:
    """Each action's latest outcome.

    Grain: one row per action with an outcome: the latest ``recorded_at``, the greater
    ``outcome_id`` on a tie.

    Returns
    -------
    ir.Table
        action_id, result, recorded_at.
    """
    latest = latest_per_key(
        outcomes, "action_id", [ibis.desc("recorded_at"), ibis.desc("outcome_id")]
    )
    return latest.select("action_id", "result", "recorded_at")


def winback_customers(actions: ir.Table, outcomes: ir.Table) -> ir.Table:
    """The customers with an outcome on an ``A-WINBACK`` action: the only ones whose orders
    :func:`winback_attempts` reads (see
    :func:`aftercare.pipeline.staging.resolved_orders_of`).

    Grain: one row per customer (``customer_id``).
    """
    wb = actions.filter(actions.rule_id == WINBACK_RULE)
    tried = outcomes.select(o_action_id="action_id")
    wb = wb.semi_join(tried, wb.action_id == tried.o_action_id)
    return wb.select("customer_id").distinct()


def winback_orders(
    actions: ir.Table, outcomes: ir.Table, service_orders: ir.Table, vehicles: ir.Table
) -> ir.Table:
    """The resolved orders :func:`winback_attempts` reads: those of
    :func:`winback_customers` only, narrowed before the vehicle join
    (:func:`aftercare.pipeline.staging.resolved_orders_of`)."""
    tried = winback_customers(actions, outcomes)
    return resolved_orders_of(service_orders, vehicles, tried.customer_id)


def winback_attempts(
    actions: ir.Table,
    outcomes: ir.Table,
    *,
    max_attempts: int,
    orders: ir.Table | None = None,
) -> ir.Table:
    """Failed win-back attempts per customer and whether win-back must stop (A-WINBACK).

    Grain: one row per customer with any outcome on an ``A-WINBACK`` action.

    Parameters
    ----------
    actions, outcomes
        The stored ``actions`` and ``action_outcomes``.
    max_attempts
        ``actions.winback_max_attempts`` (default 3).
    orders
        Optional orders with their customer resolved: failures on or before the customer's
        last visit are forgotten (a new lapse starts a new win-back).

    Returns
    -------
    ir.Table
        customer_id, winback_outcomes (A-WINBACK actions with an outcome), failed_attempts,
        last_attempt_at, is_exhausted.
    """
    wb = actions.filter(actions.rule_id == WINBACK_RULE).select("action_id", "customer_id")
    j = latest_outcomes(outcomes).join(wb, "action_id")
    if orders is None:
        is_failed = j.result.isin(list(FAILED_RESULTS))
    else:
        seen = visits(orders)
        visited = seen.group_by("customer_id").aggregate(last_visit_date=seen.open_date.max())
        visited = visited.rename(l_customer_id="customer_id")
        j = j.left_join(visited, j.customer_id == visited.l_customer_id)
        is_failed = j.result.isin(list(FAILED_RESULTS)) & (
            j.last_visit_date.isnull() | (j.recorded_at.date() > j.last_visit_date)
        )
    counted = j.group_by("customer_id").aggregate(
        winback_outcomes=j.count(),
        failed_attempts=j.count(where=is_failed),
        last_attempt_at=j.recorded_at.max(),
    )
    return counted.mutate(
        winback_outcomes=counted.winback_outcomes.cast("int64"),
        failed_attempts=counted.failed_attempts.cast("int64"),
        is_exhausted=counted.failed_attempts >= max_attempts,
    )


def outcome_summary(outcomes: ir.Table) -> ir.Table:
    """What has been recorded on each action.

    Grain: one row per action with at least one outcome.

    Returns
    -------
    ir.Table
        action_id, outcomes, last_result, last_outcome_at, is_closed (a closing result was
        recorded, see the module docstring).
    """
    counts = outcomes.group_by("action_id").aggregate(
        outcomes=outcomes.count(),
        closing=outcomes.count(where=outcomes.result.isin(list(CLOSING_RESULTS))),
    )
    latest = latest_outcomes(outcomes)
    last = latest.select("action_id", last_result=latest.result, last_outcome_at=latest.recorded_at)
    j = counts.join(last, "action_id")
    return j.select(
        "action_id",
        outcomes=j.outcomes.cast("int64"),
        last_result=j.last_result,
        last_outcome_at=j.last_outcome_at,
        is_closed=j.closing > 0,
    )


def current_status(
    actions: ir.Table,
    outcomes: ir.Table,
    preferences: ir.Table,
    *,
    winback_max_attempts: int,
    orders: ir.Table | None = None,
    as_of: dt.date | None = None,
) -> ir.Table:
    """Every action with the status its outcomes and the contact preferences imply.

    Grain: one row per action. See the module docstring for the rules (R-ACT-OUTCOME,
    R-ACT-CONSENT, A-WINBACK's attempt limit, R-ACT-EXPIRE).

    Parameters
    ----------
    actions, outcomes, preferences
        The stored ``actions``, ``action_outcomes`` and ``contact_preferences``.
    winback_max_attempts
        ``actions.winback_max_attempts``.
    orders
        Optional resolved orders, passed to :func:`winback_attempts`.
    as_of
        R-ACT-EXPIRE: the day the status holds on; an action still to be worked whose
        ``valid_until`` is before it is ``expired``. ``None``: only the expiries the engine
        stored (as of its latest run).

    Returns
    -------
    ir.Table
        Every column of ``actions`` (``status`` replaced by the derived one), plus
        stored_status, stop_reason, outcomes, last_result, last_outcome_at.
    """
    summary = outcome_summary(outcomes).rename(s_action_id="action_id")
    latest = latest_contact_preference(preferences)
    prefs = latest.select(p_customer_id=latest.customer_id, dnc=latest.do_not_contact)
    tried = winback_attempts(actions, outcomes, max_attempts=winback_max_attempts, orders=orders)
    attempts = tried.select(w_customer_id=tried.customer_id, exhausted=tried.is_exhausted)
    j = actions.left_join(summary, actions.action_id == summary.s_action_id)
    j = j.left_join(prefs, j.customer_id == prefs.p_customer_id)
    j = j.left_join(attempts, j.customer_id == attempts.w_customer_id)
    stored = j.status
    stored_expired = stored == EXPIRED_STATUS
    # To be worked: open or in the backlog (and one the engine expired, for a late outcome).
    is_open = stored.isin(list(ACTIVE_STATUSES)) | stored_expired
    # One A-WINBACK action is one attempt: any outcome spends it.
    closed = j.is_closed.fill_null(False) | ((j.rule_id == WINBACK_RULE) & j.s_action_id.notnull())
    dnc = j.dnc.fill_null(False)
    exhausted = (j.rule_id == WINBACK_RULE) & j.exhausted.fill_null(False)
    if as_of is None:
        lapsed = ibis.literal(False)
    else:
        lapsed = (j.valid_until < ibis.literal(as_of, type="date")).fill_null(False)
    status = ibis.cases(
        (~is_open, stored),
        (closed, "done"),
        (stored_expired, EXPIRED_STATUS),
        (dnc | exhausted, "stopped"),
        (lapsed, EXPIRED_STATUS),
        else_=stored,
    )
    live = is_open & ~closed & ~stored_expired
    stop_reason = ibis.cases(
        (live & dnc, "opted_out"),
        (live & exhausted, "winback_exhausted"),
        else_=ibis.null("string"),
    )
    return j.select(
        *[c if c != "status" else status.name("status") for c in actions.columns],
        stored_status=stored,
        stop_reason=stop_reason,
        outcomes=j.outcomes.coalesce(0).cast("int64"),
        last_result=j.last_result,
        last_outcome_at=j.last_outcome_at,
    )


def booking_success(
    actions: ir.Table, outcomes: ir.Table, orders: ir.Table, *, success_days: int
) -> ir.Table:
    """Whether each booking ended in a visit within ``success_days`` (R-ACT-OUTCOME).

    Grain: one row per ``booked`` outcome. The visit is the customer's first visit
    (``staging.visits``: refunds are not visits) on or after the booking's date and at most
    ``success_days`` later.

    Returns
    -------
    ir.Table
        outcome_id, action_id, rule_id, customer_id, booked_date, visit_date (NULL: none in
        time), is_success.
    """
    # The date is derived before the join: a value computed in a join's projection cannot
    # be used in a later join's predicates (Ibis 12 IntegrityError).
    dated = outcomes.filter(outcomes.result == BOOKED_RESULT).mutate(
        booked_date=outcomes.recorded_at.date()
    )
    booked = dated.join(actions.select("action_id", "rule_id", "customer_id"), "action_id")
    booked = booked.select("outcome_id", "action_id", "rule_id", "customer_id", "booked_date")
    # A join, not pipeline.latest.returned_within: the first visit's date is reported too.
    seen = visits(orders).select(v_customer_id="customer_id", visit_date="open_date")
    hits = booked.join(
        seen,
        [
            booked.customer_id == seen.v_customer_id,
            seen.visit_date >= booked.booked_date,
            seen.visit_date <= booked.booked_date + ibis.interval(days=success_days),
        ],
    )
    first = hits.group_by("outcome_id").aggregate(visit_date=hits.visit_date.min())
    j = booked.left_join(first, "outcome_id")
    return j.select(
        "outcome_id",
        "action_id",
        "rule_id",
        "customer_id",
        "booked_date",
        "visit_date",
        is_success=j.visit_date.notnull(),
    )
