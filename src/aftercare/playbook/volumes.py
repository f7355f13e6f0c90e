"""This week's planned contacts beside seed 004's, and each advisor's load (issue 10).

Seed 004's dashboard (``../shared/seeds/004``, 实战工具：生命周期管理仪表盘) lists, for a store
whose lifecycle distribution counts 342 + 687 + 523 + 289 + 156 = **1,997 customers**, this
week's key actions: 新客户welcome call 15, 流失预警客户关怀 8, VIP客户生日祝福 3 (high
priority); 首保预约提醒 23, 延保到期提醒 12, 常规保养提醒 47 (medium): 108 in all, i.e. per
1,000 customers 7.5, 4.0, 1.5, 11.5, 6.0 and 23.5 (54.1 in all). A store's week is compared
per 1,000 customers, so a store of another size is measured by the same rate.

Small reduced sets only (one week's counts per rule and per advisor): plain Python, no store.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

#: Customers of seed 004's store: its lifecycle distribution, 342 + 687 + 523 + 289 + 156.
SEED_004_CUSTOMERS = 342 + 687 + 523 + 289 + 156
#: Seed 004's "本周关键行动清单": this week's actions per rule in that store.
SEED_004_WEEK: dict[str, int] = {
    "A-WELCOME": 15,  # 新客户welcome call：15人（提车后7天内）
    "A-CARE-90D": 8,  # 流失预警客户关怀：8人（90天未到店）
    "A-BIRTHDAY": 3,  # VIP客户生日祝福：3人
    "A-FIRST-SERVICE": 23,  # 首保预约提醒：23人（首保前3天）
    "A-EXT-WARRANTY": 12,  # 延保到期提醒：12人（延保前45天）
    "A-MAINTENANCE": 47,  # 常规保养提醒：47人
}
PER = 1000.0


def per_thousand(count: int, customers: int) -> float | None:
    """``count`` per 1,000 customers; ``None`` without customers."""
    return count * PER / customers if customers else None


def seed_per_thousand(rule_id: str) -> float | None:
    """Seed 004's weekly actions of ``rule_id`` per 1,000 customers (``None``: not listed)."""
    count = SEED_004_WEEK.get(rule_id)
    return None if count is None else per_thousand(count, SEED_004_CUSTOMERS)


def seed_per_thousand_total() -> float:
    """Seed 004's whole week per 1,000 customers: 108 ÷ 1,997 × 1,000 ≈ 54.1."""
    return sum(SEED_004_WEEK.values()) * PER / SEED_004_CUSTOMERS


@dataclass(frozen=True)
class AdvisorLoad:
    """The spread of the week's contacts over the advisors, against their capacity.

    Attributes
    ----------
    advisors
        Advisors counted (every active advisor, one without a contact included).
    least, median, most
        Their fewest, median and most contacts this week (``None`` without advisors).
    capacity
        An advisor's contacts in the week (``capacity.calls_per_day`` × working days).
    over_capacity
        Advisors with more contacts than ``capacity``.
    """

    advisors: int
    least: int | None
    median: float | None
    most: int | None
    capacity: int
    over_capacity: int


def advisor_load(loads: list[int], capacity: int) -> AdvisorLoad:
    """Min / median / max of ``loads`` (one per advisor) and how many exceed ``capacity``."""
    if not loads:
        return AdvisorLoad(0, None, None, None, capacity, 0)
    return AdvisorLoad(
        advisors=len(loads),
        least=min(loads),
        median=float(statistics.median(loads)),
        most=max(loads),
        capacity=capacity,
        over_capacity=sum(1 for n in loads if n > capacity),
    )
