"""Declined repair items and customer interactions of the synthetic centre.

Grains: one row per declined item of a repair order; one row per interaction (complaint,
praise, referral, brand event, competitor visit, NPS survey, outbound contact).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.demo import names
from aftercare.demo.orders import Orders, _dict
from aftercare.demo.params import MAINTENANCE, REPAIR, DemoParams
from aftercare.demo.population import DAYS_PER_YEAR, Population, to_date32

# (item, typical quote in CNY, safety item?)
DECLINED_ITEMS: tuple[tuple[str, float, bool], ...] = (
    ("前刹车片更换", 980.0, True),
    ("后刹车片更换", 860.0, True),
    ("轮胎更换(4条)", 3200.0, True),
    ("刹车油更换", 380.0, True),
    ("蓄电池更换", 850.0, False),
    ("空调滤芯更换", 180.0, False),
    ("雨刮片更换", 160.0, False),
    ("四轮定位", 300.0, False),
    ("发动机积碳清洗", 680.0, False),
    ("变速箱油更换", 1200.0, False),
)
DECLINE_REASONS = ("price", "time", "not_needed", "other")
DECLINE_WEIGHTS = (0.45, 0.25, 0.25, 0.05)
# Interaction types generated per customer-year (rates in DemoParams), then surveys.
RATE_TYPES = ("brand_event", "referral", "complaint", "competitor_visit", "praise", "contact")
CONTACT_TYPES = ("call", "sms", "wechat", "app_push")
NOTES = {
    "complaint": ("等待时间太长", "维修后问题未解决", "收费不透明", "服务态度差"),
    "praise": ("服务顾问很专业", "交车很准时", "车辆清洗干净"),
    "brand_event": ("车主自驾游", "新车品鉴会", "亲子活动"),
    "competitor_visit": ("在路边店做了保养", "去了独立维修厂", "在快修连锁店换轮胎"),
}
NEW_TYPE_TEXT = "抖音咨询"  # an interaction type the DMS invented (R-IN-7)


def make_declined(rng: np.random.Generator, orders: Orders, params: DemoParams) -> pa.Table:
    """Items customers declined on maintenance and repair orders (A-DECLINED)."""
    t = orders.table
    eligible = (orders.vehicle >= 0) & (
        (orders.category == MAINTENANCE) | (orders.category == REPAIR)
    )
    eligible &= orders.total_cents > 0
    src = np.flatnonzero(eligible & (rng.random(len(eligible)) < params.declined_share))
    # A quarter of them decline a second, different item.
    second = src[rng.random(len(src)) < 0.25]
    rows = np.concatenate([src, second])
    n_items = len(DECLINED_ITEMS)
    item = rng.integers(0, n_items, len(rows))
    item[len(src) :] = (
        item[: len(src)][np.searchsorted(src, second)]
        + 1
        + rng.integers(0, n_items - 1, len(second))
    ) % n_items
    quotes = np.array([q for _, q, _ in DECLINED_ITEMS])[item]
    quoted = np.round(quotes * rng.lognormal(-0.02, 0.2, len(rows)), 2)
    reason = rng.choice(len(DECLINE_REASONS), len(rows), p=DECLINE_WEIGHTS)
    declined_day = orders.open_day[rows]
    deferred = rng.random(len(rows)) < 0.4
    deferred_day = declined_day + rng.integers(14, 120, len(rows))
    take = pa.array(rows)
    return pa.table(
        {
            "order_id": t["order_id"].take(take),
            "item": pa.array([i for i, _, _ in DECLINED_ITEMS], pa.string()).take(pa.array(item)),
            "customer_id": pc.cast(t["customer_id"].take(take), pa.string()),
            "vin": pc.cast(t["vin"].take(take), pa.string()),
            "declined_date": to_date32(declined_day),
            "reason": pa.array(DECLINE_REASONS, pa.string()).take(pa.array(reason)),
            "quoted_amount": pa.array(quoted),
            "deferred_until": to_date32(deferred_day, deferred),
            "is_safety_item": pa.array(np.array([s for _, _, s in DECLINED_ITEMS])[item]),
        }
    )


def make_interactions(
    rng: np.random.Generator, pop: Population, orders: Orders, params: DemoParams
) -> pa.Table:
    """Interactions: per-customer Poisson events over the active period, plus NPS surveys."""
    n = pop.n_customers
    start = np.maximum(pop.history_start, pop.created)
    span = np.clip(pop.active_until - start, 0, None)
    rates = {
        "brand_event": params.brand_events_per_year,
        "referral": params.referrals_per_year,
        "complaint": params.complaints_per_year,
        "competitor_visit": params.competitor_visits_per_year,
        "praise": params.praise_per_year,
        "contact": params.contacts_per_year,
    }
    cust_parts, day_parts, type_parts = [], [], []
    for code, kind in enumerate(RATE_TYPES):  # six event kinds, each vectorised over customers
        rate = np.asarray(rates[kind])[pop.segment]
        # Competitor visits keep happening after a customer stops coming: that is why.
        end = pop.as_of if kind == "competitor_visit" else pop.active_until
        kind_span = np.clip(end - start, 0, None) if kind == "competitor_visit" else span
        count = rng.poisson(rate * kind_span / DAYS_PER_YEAR)
        cust = np.repeat(np.arange(n), count)
        cust_parts.append(cust)
        day_parts.append(start[cust] + np.floor(rng.random(len(cust)) * (kind_span[cust] + 1)))
        type_parts.append(np.full(len(cust), code))
    cust = np.concatenate(cust_parts)
    day = np.concatenate(day_parts).astype(np.int64)
    kind_code = np.concatenate(type_parts)
    type_names = [*RATE_TYPES[:-1], *CONTACT_TYPES, "nps_survey", NEW_TYPE_TEXT]
    type_code = np.where(
        kind_code == len(RATE_TYPES) - 1,
        len(RATE_TYPES) - 1 + rng.integers(0, len(CONTACT_TYPES), len(kind_code)),
        kind_code,
    )
    score = np.full(len(kind_code), -1)

    # NPS surveys after a share of the orders (seed 004: NPS around 60-90 by stage).
    src = np.flatnonzero(
        (orders.customer >= 0)
        & (orders.total_cents > 0)
        & (rng.random(len(orders.customer)) < params.survey_share)
        & (orders.close_day + 3 <= pop.as_of)
    )
    s_cust = orders.customer[src]
    s_day = orders.close_day[src] + rng.integers(1, 4, len(src))
    mean = np.asarray(params.nps_mean)[pop.segment[s_cust]]
    s_score = np.clip(np.round(mean + rng.normal(0, 1.4, len(src))), 0, 10).astype(np.int64)
    cust = np.concatenate([cust, s_cust])
    day = np.concatenate([day, s_day])
    type_code = np.concatenate([type_code, np.full(len(src), len(type_names) - 2)])
    score = np.concatenate([score, s_score])
    if len(cust):
        new = rng.choice(len(cust), min(3, len(cust)), replace=False)
        type_code[new] = len(type_names) - 1

    total = len(cust)
    seconds = day * 86400 + rng.integers(8 * 3600, 19 * 3600, total)
    is_complaint = type_code == RATE_TYPES.index("complaint")
    resolved = rng.random(total) < np.asarray(params.complaint_resolved)[pop.segment[cust]]
    # Referred customers: someone who became a customer after the referral.
    referral_rows = np.flatnonzero(type_code == RATE_TYPES.index("referral"))
    by_created = np.argsort(pop.created, kind="stable")
    first_after = np.searchsorted(pop.created[by_created], day[referral_rows], side="right")
    has_later = first_after < n
    pick = first_after + np.floor(rng.random(len(referral_rows)) * (n - first_after))
    referred = np.full(total, -1)
    referred[referral_rows[has_later]] = by_created[pick[has_later].astype(np.int64)]
    channel_idx = np.where(
        type_code >= len(RATE_TYPES) - 1,
        np.clip(type_code - (len(RATE_TYPES) - 1), 0, 3),
        rng.integers(0, 4, total),
    )
    note_texts, note_idx = _notes(rng, type_code, type_names)
    # Interaction numbers in time order; a 16-bit stable sort on the day is a radix sort.
    order = np.argsort((day - pop.history_start).astype(np.int16), kind="stable")
    cust, type_code, score, referred = (a[order] for a in (cust, type_code, score, referred))
    table = pa.table(
        {
            "interaction_id": names.prefixed_ids("IX", np.arange(1, total + 1), 9),
            "customer_id": _dict(cust, pop.customer_id),
            "ts": pa.array(seconds[order] * 1_000_000, pa.timestamp("us")),
            "type": _dict(type_code, type_names),
            "score": pa.array(score, pa.int64(), mask=score < 0),
            "referred_customer_id": _dict(np.maximum(referred, 0), pop.customer_id, referred < 0),
            "channel": _dict(channel_idx[order], ["phone", "sms", "wechat", "app"]),
            "advisor_id": _dict(pop.advisor_index[cust], pop.advisors["advisor_id"]),
            "resolved": pa.array(resolved[order], mask=~is_complaint[order]),
            "note": _dict(note_idx[order], note_texts),
        }
    )
    return table


def _notes(
    rng: np.random.Generator, type_code: np.ndarray, type_names: list[str]
) -> tuple[list[str], np.ndarray]:
    """A short note per interaction from the type's phrase list (empty for other types)."""
    texts = [""]
    idx = np.zeros(len(type_code), np.int64)
    for kind, phrases in NOTES.items():  # four kinds of phrase lists, not rows
        mask = type_code == type_names.index(kind)
        idx[mask] = len(texts) + rng.integers(0, len(phrases), int(mask.sum()))
        texts.extend(phrases)
    return texts, idx
