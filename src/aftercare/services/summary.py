"""The headline a manager reads first: tier mix, CRR, Pareto, churn risk (the main job's end)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis

from aftercare.config import Config
from aftercare.pipeline.retention import crr
from aftercare.pipeline.value import pareto_summary
from aftercare.services.kpis import year_before
from aftercare.services.marts import materialised_marts
from aftercare.services.scoring import TierMix, tier_mix
from aftercare.store.connect import Store


@dataclass(frozen=True)
class Headline:
    """Small, already-reduced figures for one as-of date."""

    as_of: dt.date
    mix: TierMix
    crr: dict  # period_start, period_end, customers_at_start/end, new_customers, crr_pct, band
    pareto: dict  # customers, top_share, top_net_profit_share, loss_making_share, …
    risk_counts: dict[str, int]  # risk level -> customers
    reason_counts: dict[str, int]  # churn reason -> lapsed or high-risk customers
    top_risks: list[dict]  # the most valuable high-risk customers


def headline(store: Store, as_of: dt.date, config: Config) -> Headline:
    """Compute the headline for ``as_of`` (scores are computed first when missing)."""
    with materialised_marts(store, as_of, config) as marts:
        retention = (
            crr(
                marts.orders,
                period_start=year_before(as_of),
                period_end=as_of,
                config=config.retention,
                customers=marts.tables.customers,
            )
            .to_pyarrow()
            .to_pylist()[0]
        )
        pareto = pareto_summary(marts.value, value=config.value).to_pyarrow().to_pylist()[0]
        risk = marts.risk
        risk_counts = {
            r["risk_level"]: int(r["n"])
            for r in risk.group_by("risk_level").aggregate(n=risk.count()).to_pyarrow().to_pylist()
        }
        reasons = marts.churn_reasons
        reason_counts = {
            r["churn_reason"]: int(r["n"])
            for r in reasons.group_by("churn_reason")
            .aggregate(n=reasons.count())
            .to_pyarrow()
            .to_pylist()
        }
        high = risk.filter(risk.risk_level == "high").select(
            "customer_id", "days_absent", "reasons"
        )
        value = marts.value.select("customer_id", "tier", "annual_spend", "ltv")
        names = marts.tables.customers.select("customer_id", "name")
        top = (
            high.join(value, "customer_id")
            .join(names, "customer_id", how="left")
            .order_by([ibis.desc("ltv"), "customer_id"])
            .limit(config.reports.top_risks)
            .to_pyarrow()
            .to_pylist()
        )
        return Headline(
            as_of=as_of,
            mix=tier_mix(store, as_of, config),
            crr=retention,
            pareto=pareto,
            risk_counts=risk_counts,
            reason_counts=reason_counts,
            top_risks=top,
        )
