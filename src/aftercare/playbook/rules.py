"""Candidate actions of the event rules of the 3P playbook (SPEC §6).

Ibis only, ``Table -> Table``; nothing here connects or executes. Each rule function takes a
:class:`RuleContext` and its :class:`~aftercare.config.RuleConfig` and returns candidates:

Grain: one row per (rule, trigger) — :data:`CANDIDATE_COLUMNS`: ``customer_id``, ``vin``,
``rule_id``, ``trigger_key`` (what fired it; with the rule id it makes the stable action id),
``trigger_date``, ``due_date`` (trigger + the rule's ``offset_days``), ``priority``,
``channel`` (a channel, or ``preferred``: the engine puts the customer's preferred channel,
phone when unknown), ``is_marketing``, ``evidence`` (JSON text), ``assign_role``
(``advisor``, or ``manager`` for calls a manager should make), ``catch_up_days`` (how many
days after its due date the trigger is still worth acting on: the rule's ``catch_up_days``;
NULL: no limit — an unresolved complaint still gets its call after any gap).

Rules return every trigger known at ``as_of`` (event rules: the event happened on or before
``as_of``; scheduled rules — first service, maintenance, warranty end, birthday — may fire
for a date ahead); the engine keeps those due in its window (R-ACT-CATCHUP). Rules of the
customer's state (care, win-back, tiers, custom) live in :mod:`aftercare.playbook.rules_state`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from aftercare.config import Config, RuleConfig
from aftercare.pipeline.lifecycle import GONE_STATUSES
from aftercare.pipeline.staging import as_date, orders_up_to

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "vin",
    "rule_id",
    "trigger_key",
    "trigger_date",
    "due_date",
    "priority",
    "channel",
    "is_marketing",
    "evidence",
    "assign_role",
    "catch_up_days",
)
PRIORITY_ORDER = ("high", "medium", "low")
PREFERRED = "preferred"
KEY_SEP = "|"


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may read, as lazy tables (one as-of date).

    Attributes
    ----------
    as_of
        The run's date; facts after it are unknown.
    through
        Last due date the run plans (``as_of``, or the end of its ISO week).
    customers, vehicles, declined, interactions
        Canonical tables.
    orders
        Service orders with their customer resolved (``staging.resolved_orders``).
    scores
        One row per customer: the score columns, ``previous_tier``, ``move``,
        ``snapshot_date`` (the scores' as-of date) and ``risk_level``.
    reminders
        ``reminders.vehicle_reminders`` as of ``as_of``.
    churn
        ``churn.churn_reason`` as of ``as_of`` (lapsed or high-risk customers).
    actions, outcomes
        The stored ``actions`` and ``action_outcomes``.
    config
        The whole configuration.
    years_ahead
        ``through.year - as_of.year`` of the run (A-BIRTHDAY plans each year in between).
    """

    as_of: dt.date
    through: dt.date
    customers: ir.Table
    vehicles: ir.Table
    orders: ir.Table
    declined: ir.Table
    interactions: ir.Table
    scores: ir.Table
    reminders: ir.Table
    churn: ir.Table
    actions: ir.Table
    outcomes: ir.Table
    config: Config
    #: ``through``'s year minus ``as_of``'s (given by the caller, so a plan compiled with
    #: stand-in dates keeps the real run's span of years: see :mod:`aftercare.store.plans`).
    years_ahead: int = 0


def shift(day: ir.DateValue, days: int) -> ir.DateValue:
    """``day`` moved by a whole number of days (negative: earlier)."""
    return day + ibis.interval(days=days) if days >= 0 else day - ibis.interval(days=-days)


def lower_priority(priority: str) -> str:
    """The next lower priority (``low`` stays ``low``)."""
    index = PRIORITY_ORDER.index(priority)
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]


def _json_value(value: ir.Value) -> ir.StringValue:
    text = value.cast("string")
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return ibis.ifelse(text.isnull(), ibis.literal("null"), '"' + escaped + '"')


def evidence(**fields: ir.Value | str) -> ir.StringValue:
    """A JSON object (text) of the facts that fired an action; values are strings or null."""
    text: ir.StringValue = ibis.literal("{")
    for i, (name, value) in enumerate(fields.items()):
        expr = ibis.literal(value) if isinstance(value, str) else value
        text = text + ("," if i else "") + f'"{name}":' + _json_value(expr)
    return text + "}"


def key(*parts: ir.Value | str) -> ir.StringValue:
    """A trigger key: the parts as text joined with ``|`` (NULL parts become empty)."""
    values = [
        ibis.literal(p) if isinstance(p, str) else p.cast("string").fill_null("") for p in parts
    ]
    out = values[0]
    for v in values[1:]:
        out = out + KEY_SEP + v
    return out


def candidates(
    table: ir.Table,
    rule_id: str,
    rule: RuleConfig,
    *,
    customer_id: ir.Value,
    vin: ir.Value | None,
    trigger_key: ir.Value,
    trigger_date: ir.Value,
    due_date: ir.Value | None = None,
    priority: ir.Value | None = None,
    channel: ir.Value | None = None,
    is_marketing: ir.Value | None = None,
    evidence: ir.Value | None = None,
    assign_role: ir.Value | None = None,
    catch_up_days: ir.Value | None = None,
) -> ir.Table:
    """Select :data:`CANDIDATE_COLUMNS` from ``table`` with the rule's defaults filled in."""
    return table.select(
        customer_id=customer_id.cast("string"),
        vin=(vin if vin is not None else ibis.null("string")).cast("string"),
        rule_id=ibis.literal(rule_id),
        trigger_key=trigger_key.cast("string"),
        trigger_date=trigger_date.cast("date"),
        due_date=(due_date if due_date is not None else shift(trigger_date, rule.offset_days)).cast(
            "date"
        ),
        priority=(priority if priority is not None else ibis.literal(rule.priority)).cast("string"),
        channel=(channel if channel is not None else ibis.literal(rule.channel)).cast("string"),
        is_marketing=(
            is_marketing if is_marketing is not None else ibis.literal(rule.marketing)
        ).cast("boolean"),
        evidence=(evidence if evidence is not None else ibis.literal("{}")).cast("string"),
        assign_role=(assign_role if assign_role is not None else ibis.literal("advisor")).cast(
            "string"
        ),
        catch_up_days=(
            catch_up_days if catch_up_days is not None else ibis.literal(rule.catch_up_days)
        ).cast("int64"),
    )


def _active_vehicles(vehicles: ir.Table) -> ir.Table:
    return vehicles.filter(~vehicles.status.coalesce("active").isin(GONE_STATUSES))


def welcome(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-WELCOME: a vehicle delivered → welcome call at delivery + ``offset_days`` (7)."""
    v = _active_vehicles(ctx.vehicles)
    v = v.filter(v.delivery_date.notnull(), v.delivery_date <= as_date(ctx.as_of))
    return candidates(
        v,
        "A-WELCOME",
        rule,
        customer_id=v.customer_id,
        vin=v.vin,
        trigger_key=key(v.vin, v.delivery_date),
        trigger_date=v.delivery_date,
        evidence=evidence(delivery_date=v.delivery_date, model=v.model, plate=v.plate),
    )


def first_service(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-FIRST-SERVICE: first service due (R-REMIND: delivery + months or km) → due − 3 d.

    Once per vehicle (key: VIN); the due date is the reminder's forecast at the run.
    """
    r = ctx.reminders.filter(ctx.reminders.is_first_service)
    return candidates(
        r,
        "A-FIRST-SERVICE",
        rule,
        customer_id=r.customer_id,
        vin=r.vin,
        trigger_key=key(r.vin, "first_service"),
        trigger_date=r.due_date,
        evidence=evidence(
            service_due_date=r.due_date,
            due_reason=r.due_reason,
            target_km=r.target_km,
            delivery_date=r.delivery_date,
        ),
    )


def maintenance(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-MAINTENANCE: next maintenance due by time or forecast mileage → due − 7 d.

    Once per service cycle (key: VIN + last service date); channel: the customer's preferred.
    """
    r = ctx.reminders.filter(~ctx.reminders.is_first_service)
    return candidates(
        r,
        "A-MAINTENANCE",
        rule,
        customer_id=r.customer_id,
        vin=r.vin,
        trigger_key=key(r.vin, r.last_service_date),
        trigger_date=r.due_date,
        evidence=evidence(
            service_due_date=r.due_date,
            due_reason=r.due_reason,
            last_service_date=r.last_service_date,
            target_km=r.target_km,
            forecast_km_per_day=r.daily_km.round(1),
        ),
    )


def followup_24h(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-FOLLOWUP-24H: every service order closed → follow-up at close + 1 d (one per order).

    Refunds (negative totals, R-IN-4) are not services and get none.
    """
    o = orders_up_to(ctx.orders, ctx.as_of)
    # Not staging.visits: one follow-up per closed order, and two orders of one visit are
    # two follow-ups (each closed job is asked about).
    o = o.filter(
        o.customer_id.notnull(),
        o.close_date.notnull(),
        o.close_date <= as_date(ctx.as_of),
        o.total_amount >= 0,
    )
    return candidates(
        o,
        "A-FOLLOWUP-24H",
        rule,
        customer_id=o.customer_id,
        vin=o.vin,
        trigger_key=o.order_id,
        trigger_date=o.close_date,
        evidence=evidence(order_id=o.order_id, close_date=o.close_date, category=o.category),
    )


def first_service_30d(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-FIRST-SERVICE-30D: first service done → care touch point 30 d later.

    The first service is the vehicle's earliest maintenance order on or after delivery; it
    counts only when it came before a second service would be due (delivery + first-service
    months + maintenance interval), so a car whose history starts late in the data is not
    taken for a new one.
    """
    reminders = ctx.config.reminders
    o = orders_up_to(ctx.orders, ctx.as_of)
    # Not staging.visits: the vehicle's first maintenance order, whoever its customer.
    o = o.filter(o.vin.notnull(), o.category == "maintenance", o.total_amount >= 0)
    first = o.group_by("vin").aggregate(first_service_date=o.open_date.min())
    v = _active_vehicles(ctx.vehicles).select("vin", "customer_id", "delivery_date")
    j = first.inner_join(v, "vin")
    limit = j.delivery_date + ibis.interval(
        months=reminders.first_service_months + reminders.maintenance_interval_months
    )
    j = j.filter(j.first_service_date >= j.delivery_date, j.first_service_date < limit)
    return candidates(
        j,
        "A-FIRST-SERVICE-30D",
        rule,
        customer_id=j.customer_id,
        vin=j.vin,
        trigger_key=key(j.vin, "first_service_done"),
        trigger_date=j.first_service_date,
        evidence=evidence(first_service_date=j.first_service_date),
    )


def ext_warranty(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-EXT-WARRANTY: factory or extended warranty ends → call at end − 45 d.

    A factory end already covered by a longer extended warranty is not a trigger.
    """
    v = _active_vehicles(ctx.vehicles)
    factory = v.filter(
        v.factory_warranty_end.notnull(),
        ~(v.extended_warranty_end >= v.factory_warranty_end).fill_null(False),
    )
    extended = v.filter(v.extended_warranty_end.notnull())
    parts = []
    for table, end, kind in (
        (factory, factory.factory_warranty_end, "factory"),
        (extended, extended.extended_warranty_end, "extended"),
    ):
        parts.append(
            candidates(
                table,
                "A-EXT-WARRANTY",
                rule,
                customer_id=table.customer_id,
                vin=table.vin,
                trigger_key=key(table.vin, kind, end),
                trigger_date=end,
                evidence=evidence(warranty=kind, warranty_end=end, model=table.model),
            )
        )
    return parts[0].union(parts[1])


def insurance_renewal(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-INSURANCE-RENEWAL: the vehicle's insurance expires → renewal call at expiry − 45 d.

    Seed 000 (主动提醒…保险到期) and seed 002 (the days before a 续保 decision). Once per
    policy (key: VIN + expiry date); a service reminder, not marketing by default (the
    compulsory policy must be renewed; ``marketing: true`` in config makes it need consent).
    """
    v = _active_vehicles(ctx.vehicles)
    v = v.filter(v.insurance_expiry.notnull())
    return candidates(
        v,
        "A-INSURANCE-RENEWAL",
        rule,
        customer_id=v.customer_id,
        vin=v.vin,
        trigger_key=key(v.vin, "insurance", v.insurance_expiry),
        trigger_date=v.insurance_expiry,
        evidence=evidence(insurance_expiry=v.insurance_expiry, model=v.model, plate=v.plate),
    )


def next_inspection_month(months: ir.IntegerValue) -> ir.IntegerValue:
    """The first inspection month of age ≥ ``months``, by China's schedule (年检).

    Private small passenger cars since the 2022 reform: every 2 years up to 10 years (an
    inspection mark online, an on-site inspection in years 6 and 10), every year from 10 to
    15 years, every 6 months after 15 years.
    """

    def up_to(step: int) -> ir.IntegerValue:
        return ((months + (step - 1)) // step) * step

    return ibis.cases(
        (months <= 24, 24),
        (months <= 120, up_to(24)),
        (months <= 180, up_to(12)),
        else_=up_to(6),
    )


def inspection(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-INSPECTION (optional): the vehicle's next annual inspection (年检) → call 30 d before.

    The inspection date counts from the delivery date (the registration) by
    :func:`next_inspection_month`; the one returned is the first whose call is still due in
    the rule's catch-up window. Key: VIN + inspection date.
    """
    v = _active_vehicles(ctx.vehicles)
    v = v.filter(v.delivery_date.notnull(), v.delivery_date <= as_date(ctx.as_of))
    # The first inspection date whose call (date + offset_days) is due on or after as_of -
    # catch_up_days: the months from delivery to that date, rounded up.
    start = shift(as_date(ctx.as_of), -rule.catch_up_days - rule.offset_days)
    d = v.delivery_date
    months = (start.year() - d.year()) * 12 + (start.month() - d.month())
    months = months + ibis.ifelse(start.day() > d.day(), 1, 0)
    v = v.mutate(inspection_month=next_inspection_month(months.cast("int64")))
    due = v.delivery_date + v.inspection_month.as_interval("M")
    v = v.mutate(inspection_date=due.cast("timestamp").date())
    return candidates(
        v,
        "A-INSPECTION",
        rule,
        customer_id=v.customer_id,
        vin=v.vin,
        trigger_key=key(v.vin, "inspection", v.inspection_date),
        trigger_date=v.inspection_date,
        evidence=evidence(
            inspection_date=v.inspection_date,
            vehicle_age_months=v.inspection_month,
            plate=v.plate,
        ),
    )


def complaint_72h(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-COMPLAINT-72H: a complaint logged → call at + 72 h (``offset_days`` 3).

    R-ACT-CATCHUP: a complaint not known to be resolved (``resolved`` false or unknown, as
    R-CHURN-RISK reads it) still gets its call, due now, after a late import or a gap in runs,
    up to ``actions.unresolved_complaint_catch_up_days`` after it was logged (a first import
    of years of history must not turn every old complaint into a call). A resolved one is
    stale after the rule's ``catch_up_days``.
    """
    i = ctx.interactions
    i = i.filter(i.type == "complaint", i.ts.date() <= as_date(ctx.as_of))
    return candidates(
        i,
        "A-COMPLAINT-72H",
        rule,
        customer_id=i.customer_id,
        vin=None,
        trigger_key=i.interaction_id,
        trigger_date=i.ts.date(),
        evidence=evidence(interaction_id=i.interaction_id, logged_at=i.ts, resolved=i.resolved),
        catch_up_days=ibis.ifelse(
            i.resolved.fill_null(False),
            rule.catch_up_days,
            ctx.config.actions.unresolved_complaint_catch_up_days - rule.offset_days,
        ),
    )


def declined(ctx: RuleContext, rule: RuleConfig) -> ir.Table:
    """A-DECLINED: a quoted repair declined or deferred → call at deferred_until, else
    declined + ``offset_days`` (30).

    One action per repair order (its declined items together; key: order id): due the
    earliest item's date; priority high when any item is a safety item; safety items are
    never marketing (R-ACT-CONSENT), other items follow the rule's ``marketing``.
    """
    d = ctx.declined
    owners = ctx.vehicles.select(owner_vin=ctx.vehicles.vin, owner_id=ctx.vehicles.customer_id)
    d = d.left_join(owners, d.vin == owners.owner_vin)
    d = d.mutate(customer_id=d.customer_id.coalesce(d.owner_id))
    d = d.filter(d.customer_id.notnull(), d.declined_date <= as_date(ctx.as_of))
    item_due = d.deferred_until.coalesce(shift(d.declined_date, rule.offset_days))
    safety = d.is_safety_item.fill_null(False)
    per_order = d.group_by(["customer_id", "order_id"]).aggregate(
        vin=d.vin.max(),
        declined_date=d.declined_date.min(),
        due=item_due.min(),
        has_safety=safety.any(),
        items=d.item.group_concat(", ", order_by=d.item),  # the same text on every engine
        quoted=d.quoted_amount.sum(),
    )
    p = per_order
    return candidates(
        p,
        "A-DECLINED",
        rule,
        customer_id=p.customer_id,
        vin=p.vin,
        trigger_key=p.order_id,
        trigger_date=p.declined_date,
        due_date=p.due,
        priority=ibis.ifelse(p.has_safety, "high", rule.priority),
        is_marketing=ibis.literal(rule.marketing) & ~p.has_safety,
        evidence=evidence(
            order_id=p.order_id,
            items=p.items,
            quoted_amount=p.quoted,
            safety=ibis.ifelse(p.has_safety, "true", "false"),
        ),
    )
