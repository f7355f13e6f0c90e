"""Find a customer from what is on the desk: id, name, phone, plate or VIN (issue 10, Findable).

``aftercare find TEXT`` and ``aftercare explain KEY`` share one matcher, run in the engine:

- **customer id**: equal, ignoring case (rank 0);
- **phone**: the digits of TEXT equal the stored phone's digits, or end them (``+86``/``86``
  prefixes; TEXT of 7 digits or more) (rank 0); TEXT of exactly 4 digits: the phone's last 4
  digits (rank 2);
- **plate**: equal, ignoring case, spaces, ``·`` and ``-`` (rank 0); **VIN**: equal, ignoring
  case (rank 0) — both from the ``vehicles`` table, any status;
- **name**: equal (rank 1), or containing TEXT (rank 2).

A customer matched several ways keeps its best rank; matches are listed by rank, then customer
id. Each match shows its tier (latest score snapshot), churn-risk level as of that snapshot's
date (R-CHURN-RISK, the same wiring as the churn mart), vehicles and open actions.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from aftercare.config import Config
from aftercare.errors import AftercareError
from aftercare.pipeline.marts import risk_inputs
from aftercare.pipeline.staging import resolved_orders
from aftercare.services.call_list import current_actions
from aftercare.services.inputs import canonical_tables
from aftercare.services.scoring import SCORES_TABLE, snapshot
from aftercare.store.connect import Store
from aftercare.store.snapshots import snapshot_dates

#: Matches ``aftercare find`` shows; the rest are counted.
FIND_LIMIT = 20
#: Digits of a query that is read as a whole phone number (a mainland mobile has 11).
PHONE_MIN_DIGITS = 7
#: Digits of a query that is read as a phone's last digits.
PHONE_TAIL_DIGITS = 4
#: How each way of matching is labelled, best first (the leading digit is the rank).
MATCH_LABELS = {
    "id": "0 id",
    "phone": "0 phone",
    "plate": "0 plate",
    "vin": "0 VIN",
    "name": "1 name",
    "phone_tail": "2 phone (last 4)",
    "name_part": "2 name (part)",
}
_PHONE_LIKE = re.compile(r"^\+?[\d\s\-()]+$")
_PLATE_NOISE = r"[\s·\-]"


@dataclass(frozen=True)
class FoundCustomer:
    """One customer that matches a search.

    Attributes
    ----------
    customer_id, name, phone
        The customer (phone unmasked: the CLI masks it).
    matched_on
        How the customer matched, the best way: ``id``, ``phone``, ``plate``, ``VIN``,
        ``name``, ``phone (last 4)`` or ``name (part)``.
    tier
        The tier in the latest score snapshot (``None``: not in it, or no snapshot).
    risk_level
        Churn risk as of the latest snapshot's date (``None`` without a snapshot).
    vehicles
        ``plate model VIN`` of each vehicle, by VIN, ``; ``-separated (``""``: none).
    open_actions
        Actions whose current status is ``open`` (any due date).
    """

    customer_id: str
    name: str | None
    phone: str | None
    matched_on: str
    tier: str | None
    risk_level: str | None
    vehicles: str
    open_actions: int


@dataclass(frozen=True)
class FindResult:
    """What a search found.

    Attributes
    ----------
    text
        The search text, trimmed.
    total
        Customers that match.
    shown
        The first ``limit`` of them, best match first, then by customer id.
    scores_as_of
        The date of the snapshot tiers and risk come from (``None``: no snapshot stored).
    """

    text: str
    total: int
    shown: list[FoundCustomer]
    scores_as_of: dt.date | None


def _label(kind: str) -> ir.StringValue:
    return ibis.literal(MATCH_LABELS[kind])


def customer_matches(store: Store, text: str) -> ir.Table:
    """Every customer ``text`` matches, with the best way it matched (see the module doc).

    Grain: one row per matching customer id (a vehicle's owner need not be in
    ``customers``).

    Returns
    -------
    ir.Table
        customer_id, match: the best :data:`MATCH_LABELS` value (its rank, a space, the way).

    Raises
    ------
    AftercareError
        When ``text`` is empty.
    """
    q = text.strip()
    if not q:
        raise AftercareError("give something to look for: a customer id, name, phone, plate or VIN")
    digits = re.sub(r"\D", "", q)
    key = re.sub(_PLATE_NOISE, "", q).upper()
    c = store.table("customers")
    phone = c.phone.re_replace(r"[^0-9]", "")
    phone_like = bool(_PHONE_LIKE.match(q))
    whole_phone = (
        (phone == digits) | phone.endswith(digits)
        if phone_like and len(digits) >= PHONE_MIN_DIGITS
        else ibis.literal(False)
    )
    tail = (
        phone.endswith(digits)
        if phone_like and len(digits) == PHONE_TAIL_DIGITS
        else ibis.literal(False)
    )
    by_id = c.customer_id.upper() == q.upper()
    name_equal = c.name == q
    name_part = c.name.contains(q)
    how = ibis.cases(
        (by_id, _label("id")),
        (whole_phone, _label("phone")),
        (name_equal, _label("name")),
        (tail, _label("phone_tail")),
        else_=_label("name_part"),
    )
    people = c.filter(by_id | whole_phone | name_equal | tail | name_part.fill_null(False))
    people = people.select(customer_id=people.customer_id, match=how)
    v = store.table("vehicles")
    plate = v.plate.upper().re_replace(_PLATE_NOISE, "")
    vin = v.vin.upper() == key
    cars = v.filter(vin | (plate == key))
    cars = cars.select(
        customer_id=cars.customer_id,
        match=ibis.ifelse(vin, _label("vin"), _label("plate")),
    )
    both = people.union(cars)
    return both.group_by("customer_id").aggregate(match=both.match.min())


def _latest_scores(store: Store) -> tuple[dt.date | None, ir.Table | None]:
    dates = snapshot_dates(store, SCORES_TABLE)
    if not dates:
        return None, None
    return dates[-1], snapshot(store, dates[-1])


def find_customers(
    store: Store, text: str, config: Config, *, limit: int = FIND_LIMIT
) -> FindResult:
    """Customers that ``text`` names, by id, name, phone, plate or VIN (issue 10).

    Parameters
    ----------
    store
        The open store.
    text
        What to look for (see the module docstring for how each key matches).
    config
        Churn-risk thresholds, win-back attempt limit (open actions).
    limit
        Matches returned in :attr:`FindResult.shown`; :attr:`FindResult.total` counts all.

    Returns
    -------
    FindResult
        The count, and the first ``limit`` matches with tier, risk, vehicles, open actions.

    Raises
    ------
    AftercareError
        When ``text`` is empty or nothing matches it.
    """
    matches = customer_matches(store, text)
    total = int(matches.count().to_pyarrow().as_py())
    q = text.strip()
    if not total:
        raise AftercareError(f"no customer matches {q!r} (by id, name, phone, plate or VIN)")
    top = matches.order_by(["match", "customer_id"]).limit(limit)
    as_of, scores = _latest_scores(store)
    found = _details(store, top, config, as_of=as_of, scores=scores)
    rows = found.order_by(["match", "customer_id"]).to_pyarrow().to_pylist()
    shown = [
        FoundCustomer(
            customer_id=r["customer_id"],
            name=r["name"],
            phone=r["phone"],
            matched_on=r["match"].split(" ", 1)[1],
            tier=r["tier"],
            risk_level=r["risk_level"],
            vehicles=r["vehicles"] or "",
            open_actions=int(r["open_actions"] or 0),
        )
        for r in rows
    ]
    return FindResult(text=q, total=total, shown=shown, scores_as_of=as_of)


def _details(
    store: Store,
    top: ir.Table,
    config: Config,
    *,
    as_of: dt.date | None,
    scores: ir.Table | None,
) -> ir.Table:
    """``top`` with name, phone, tier, risk level, vehicles and open actions (one row each).

    Tier from ``scores`` (the snapshot of ``as_of``), risk as of ``as_of``; both NULL without.
    """
    c = store.table("customers").select("customer_id", "name", "phone")
    out = top.left_join(c, "customer_id").select(*top.columns, "name", "phone")
    if scores is not None and as_of is not None:
        tiers = scores.select("customer_id", "tier")
        tables = canonical_tables(store)
        orders = resolved_orders(tables.service_orders, tables.vehicles)
        _, _, risk = risk_inputs(tables, orders, as_of=as_of, config=config)
        risk = risk.select("customer_id", "risk_level")
        out = out.left_join(tiers, "customer_id").select(*out.columns, "tier")
        out = out.left_join(risk, "customer_id").select(*out.columns, "risk_level")
    else:
        out = out.mutate(tier=ibis.null("string"), risk_level=ibis.null("string"))
    v = store.table("vehicles")
    v = v.filter(v.customer_id.isin(top.customer_id))
    label = v.plate.fill_null("—") + " " + v.model.fill_null("—") + " " + v.vin
    cars = v.group_by("customer_id").aggregate(vehicles=label.group_concat("; ", order_by=v.vin))
    out = out.left_join(cars, "customer_id").select(*out.columns, "vehicles")
    if store.has_table("actions"):
        a = current_actions(store, config)
        a = a.filter(a.status == "open", a.customer_id.isin(top.customer_id))
        counts = a.group_by("customer_id").aggregate(open_actions=a.count())
        out = out.left_join(counts, "customer_id").select(*out.columns, "open_actions")
    else:
        out = out.mutate(open_actions=ibis.literal(0, type="int64"))
    return out


def resolve_customer(store: Store, key: str) -> str:
    """The customer id that ``key`` names (id, phone, plate, VIN or name), for one customer.

    The best-ranked matches decide: one customer there is the answer (an exact name beats a
    name that only contains ``key``). A key that matches nobody is returned as it is (the
    caller says the customer is unknown).

    Raises
    ------
    AftercareError
        When the best-ranked matches are two customers or more: the message lists them (id,
        name, how they matched; at most :data:`FIND_LIMIT`, then a count).
    """
    matches = customer_matches(store, key)
    best = matches.filter(matches.match == matches.match.min())
    c = store.table("customers").select("customer_id", "name")
    named = best.left_join(c, "customer_id").select("customer_id", "name", "match")
    rows = named.order_by("customer_id").limit(FIND_LIMIT + 1).to_pyarrow().to_pylist()
    if not rows:
        return key.strip()
    if len(rows) == 1:
        return str(rows[0]["customer_id"])
    total = int(best.count().to_pyarrow().as_py())
    listed = ", ".join(
        f"{r['customer_id']} {r['name'] or ''} ({r['match'].split(' ', 1)[1]})".replace("  ", " ")
        for r in rows[:FIND_LIMIT]
    )
    more = f" … and {total - FIND_LIMIT} more" if total > FIND_LIMIT else ""
    raise AftercareError(
        f"{key.strip()!r} matches {total} customers: {listed}{more}; "
        "give the customer id (aftercare find TEXT lists them)"
    )
