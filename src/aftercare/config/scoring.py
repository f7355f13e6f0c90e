"""The scorecard's configuration (SPEC §2, seed 000): RFM+L points, tiers, service levels.

Tier tables given in a config file are laid over the defaults tier by tier. Re-exported by
:mod:`aftercare.config`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from aftercare.config.base import (
    TIER_ORDER,
    Frozen,
    TierName,
    over_field_default,
    per_tier,
    problem,
)


class Bin(Frozen):
    """``points`` are given when the value is at least ``min`` (bins checked from the top)."""

    min: float
    points: int


class TierServiceLevel(Frozen):
    """What a tier is promised at reception (seed 000), shown on the customer profile."""

    zh: str
    en: str


def _default_service_levels() -> dict[TierName, TierServiceLevel]:
    return {
        "platinum": TierServiceLevel(
            zh="专属服务顾问、VIP通道、免费代步车、上门取送车",
            en="dedicated advisor, VIP lane, loaner car, pick-up and delivery",
        ),
        "gold": TierServiceLevel(
            zh="优先预约、双倍积分、年度保养套餐优惠",
            en="priority booking, double points, annual package offers",
        ),
        "silver": TierServiceLevel(
            zh="标准服务流程、季节性保养提醒",
            en="standard process, seasonal reminders",
        ),
        "regular": TierServiceLevel(
            zh="APP/微信数字化沟通、自助预约",
            en="digital channels only (app, WeChat), self-service booking",
        ),
        "lapsed": TierServiceLevel(
            zh="唤醒活动，3次无效后停止投入",
            en="win-back, stop after 3 failed attempts",
        ),
    }


class ScoringConfig(Frozen):
    """The RFM+L scorecard (SPEC §2, seed 000)."""

    window_days: int = 365
    # R-SCORE-R: recency in days ≤ max_days → points; else (or never) `recency_floor_points`.
    recency_max_days: tuple[tuple[int, int], ...] = ((30, 5), (90, 4), (180, 3), (365, 2))
    recency_floor_points: int = 1
    # R-SCORE-F: visits ≥ min → points (bins from the top); fewer → the floor.
    frequency_bins: tuple[Bin, ...] = (
        Bin(min=6, points=5),
        Bin(min=4, points=4),
        Bin(min=2, points=3),
        Bin(min=1, points=2),
    )
    frequency_floor_points: int = 1
    # R-SCORE-M: spend ≥ min → points (bins from the top); less → the floor.
    monetary_bins: tuple[Bin, ...] = (
        Bin(min=10000, points=5),
        Bin(min=5000, points=4),
        Bin(min=2000, points=3),
        Bin(min=1000, points=2),
    )
    monetary_floor_points: int = 1
    # R-IN-5: payers whose orders count toward M.
    spend_payers: tuple[str, ...] = ("customer", "insurance")
    # R-SCORE-L: each signal counted at most once.
    loyalty_extended_warranty: int = 1
    loyalty_referral: int = 1
    loyalty_brand_event: int = 1
    loyalty_complaint: int = -1
    loyalty_competitor_visit: int = -1
    # R-TIER: lowest total of each tier.
    tier_min_total: dict[TierName, int] = Field(
        default_factory=per_tier(16, 12, 8, 4, 1)  # platinum, gold, silver, regular, lapsed
    )
    expected_mix: dict[TierName, float] = Field(
        default_factory=per_tier(0.05, 0.15, 0.30, 0.40, 0.10)  # platinum … lapsed
    )
    # R-TIER-HIST: default snapshot cadence.
    snapshot_every_months: int = 3
    # R-TIER-HIST: a downgrade from these tiers is an alert.
    downgrade_alert_tiers: tuple[TierName, ...] = ("platinum", "gold")
    # R-TIER-HOLD: an upgrade takes effect at once; a downgrade only when the scored tier is
    # below the effective tier in this many consecutive snapshots (this one and the ones
    # before it). 0 or 1: every downgrade at once (the effective tier is the scored tier).
    downgrade_hold_snapshots: int = Field(default=2, ge=0)
    # Tier service levels (seed 000), passed to reception and shown on the profile.
    service_levels: dict[TierName, TierServiceLevel] = Field(
        default_factory=_default_service_levels
    )

    @field_validator("tier_min_total", "expected_mix", "service_levels", mode="before")
    @classmethod
    def _tiers_over_defaults(cls, value: Any, info: ValidationInfo) -> Any:
        return over_field_default(cls, str(info.field_name), value)

    @field_validator("tier_min_total")
    @classmethod
    def _tiers_descend(cls, tier_min_total: dict[TierName, int]) -> dict[TierName, int]:
        mins = [tier_min_total[t] for t in TIER_ORDER]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            shown = ", ".join(f"{t} {m}" for t, m in zip(TIER_ORDER, mins, strict=True))
            raise problem(f"tier_min_total must strictly descend platinum > … > lapsed ({shown})")
        return tier_min_total
