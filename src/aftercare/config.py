"""One typed, frozen configuration whose defaults are SPEC.md's numbers.

Read at the edge (CLI, web) with :func:`load_config` and passed down; no global settings.
A user's YAML file overrides any subset; :func:`load_config` reports a bad key or value with
its line number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aftercare.errors import ConfigError

TierName = Literal["platinum", "gold", "silver", "regular", "lapsed"]
TIER_ORDER: tuple[TierName, ...] = ("platinum", "gold", "silver", "regular", "lapsed")


class Frozen(BaseModel):
    """Base of every config section: immutable, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Bin(Frozen):
    """``points`` are given when the value is at least ``min`` (bins checked from the top)."""

    min: float
    points: int


class IngestConfig(Frozen):
    """Import settings (SPEC §1)."""

    currency: str = "CNY"


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
        default_factory=lambda: {"platinum": 16, "gold": 12, "silver": 8, "regular": 4, "lapsed": 1}
    )
    expected_mix: dict[TierName, float] = Field(
        default_factory=lambda: {
            "platinum": 0.05,
            "gold": 0.15,
            "silver": 0.30,
            "regular": 0.40,
            "lapsed": 0.10,
        }
    )
    # R-TIER-HIST: default snapshot cadence.
    snapshot_every_months: int = 3
    # R-TIER-HIST: a downgrade from these tiers is an alert.
    downgrade_alert_tiers: tuple[TierName, ...] = ("platinum", "gold")
    # Tier service levels (seed 000), passed to reception and shown on the profile.
    service_levels: dict[TierName, TierServiceLevel] = Field(
        default_factory=_default_service_levels
    )

    @model_validator(mode="after")
    def _tiers_descend(self) -> ScoringConfig:
        mins = [self.tier_min_total[t] for t in TIER_ORDER]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("tier_min_total must strictly descend platinum > … > lapsed")
        return self


class ValueConfig(Frozen):
    """Profit, cost to serve, Pareto and LTV (SPEC §3)."""

    cost_per_visit: float = 120.0
    cost_per_phone_contact: float = 8.0
    cost_per_digital_contact: float = 0.5
    cost_per_complaint: float = 300.0
    tier_benefit_per_year: dict[TierName, float] = Field(
        default_factory=lambda: {
            "platinum": 2500.0,
            "gold": 800.0,
            "silver": 200.0,
            "regular": 0.0,
            "lapsed": 0.0,
        }
    )
    # R-VAL-PROFIT: gross margin assumed when an order has no cost.
    default_margin_by_category: dict[str, float] = Field(
        default_factory=lambda: {
            "maintenance": 0.45,
            "repair": 0.40,
            "bodywork": 0.45,
            "warranty": 0.20,
            "insurance": 0.35,
            "value_added": 0.55,
            "other": 0.35,
        }
    )
    pareto_top_share: float = 0.20
    lifetime_years: dict[TierName, float] = Field(
        default_factory=lambda: {
            "platinum": 8.0,
            "gold": 6.0,
            "silver": 5.0,
            "regular": 3.0,
            "lapsed": 1.0,
        }
    )


class LifecycleConfig(Frozen):
    """R-LIFE: stage by vehicle age; each stage starts at ``min_years``."""

    stage_min_years: dict[str, float] = Field(
        default_factory=lambda: {
            "new": 0.0,
            "activation": 1.0,
            "growth": 3.0,
            "mature": 5.0,
            "decline": 8.0,
        }
    )


class RetentionConfig(Frozen):
    """R-CRR and R-CHURN-RISK thresholds (SPEC §5)."""

    active_window_days: int = 365
    crr_excellent_min: float = 90.0
    crr_average_min: float = 82.0
    crr_average_max: float = 88.0
    crr_alert_below: float = 80.0
    care_after_days: int = 90
    high_risk_after_days: int = 120
    low_nps_max: int = 6
    churn_horizon_days: int = 180


class ReminderConfig(Frozen):
    """R-REMIND: next service due by time or forecast mileage."""

    maintenance_interval_months: int = 12
    maintenance_interval_km: int = 20000
    first_service_months: int = 3
    first_service_km: int = 5000
    # Per-brand overrides of the first service, e.g. {"Tesla": {"months": 12, "km": 20000}}.
    first_service_by_brand: dict[str, dict[str, int]] = Field(default_factory=dict)
    min_readings_for_own_rate: int = 2
    fallback_daily_km: float = 40.0


Priority = Literal["high", "medium", "low"]


class RuleConfig(Frozen):
    """One playbook rule (SPEC §6).

    ``offset_days`` places the due date relative to the trigger (negative: before it);
    ``catch_up_days`` is how late a trigger may still be acted on (R-ACT-CATCHUP: one action
    due now, never a burst of stale ones); ``marketing`` rules need marketing consent
    (R-ACT-CONSENT); ``holdout_share`` keeps a random control group (R-ACT-HOLDOUT).
    """

    enabled: bool = True
    offset_days: int = 0
    channel: str = "phone"
    priority: Priority = "medium"
    marketing: bool = False
    holdout_share: float = Field(default=0.0, ge=0.0, lt=1.0)
    catch_up_days: int = Field(default=30, ge=0)


class CustomRuleConfig(RuleConfig):
    """A user's own rule: a condition over the customer scores (validated, never raw SQL).

    ``condition`` is a small expression over score columns, e.g.
    ``tier == 'gold' and recency_days > 120``; ``repeat_after_days`` is how soon the same
    customer may be picked again; ``script`` is the call script template (Jinja2 text).
    """

    rule_id: str = Field(pattern=r"^U-[A-Z0-9-]{2,40}$")
    condition: str
    repeat_after_days: int = Field(default=90, ge=1)
    script: str = ""


def _default_rules() -> dict[str, RuleConfig]:
    return {
        "A-WELCOME": RuleConfig(offset_days=7, channel="phone", priority="high"),
        "A-FIRST-SERVICE": RuleConfig(offset_days=-3, channel="phone", priority="medium"),
        "A-FOLLOWUP-24H": RuleConfig(
            offset_days=1, channel="wechat", priority="medium", catch_up_days=7
        ),
        "A-FIRST-SERVICE-30D": RuleConfig(offset_days=30, channel="wechat", priority="low"),
        "A-MAINTENANCE": RuleConfig(offset_days=-7, channel="preferred", priority="medium"),
        "A-EXT-WARRANTY": RuleConfig(
            offset_days=-45, channel="phone", priority="medium", marketing=True
        ),
        "A-CARE-90D": RuleConfig(offset_days=0, channel="phone", priority="high"),
        "A-COMPLAINT-72H": RuleConfig(
            offset_days=3, channel="phone", priority="high", catch_up_days=14
        ),
        "A-BIRTHDAY": RuleConfig(
            offset_days=-1, channel="wechat", priority="high", marketing=True, catch_up_days=7
        ),
        "A-DECLINED": RuleConfig(offset_days=30, channel="preferred", priority="medium"),
        "A-WINBACK": RuleConfig(
            offset_days=0, channel="by_reason", priority="medium", marketing=True
        ),
        "A-TIER-UP": RuleConfig(offset_days=0, channel="phone", priority="high"),
        "A-TIER-DOWN": RuleConfig(offset_days=0, channel="phone", priority="high"),
    }


class ActionsConfig(Frozen):
    """The 3P playbook (SPEC §6)."""

    rules: dict[str, RuleConfig] = Field(default_factory=_default_rules)
    custom_rules: tuple[CustomRuleConfig, ...] = ()
    weekly_contact_cap: int = 2
    winback_max_attempts: int = 3
    booking_success_days: int = 30


class KpiTargets(Frozen):
    """Monthly KPI targets (SPEC §7)."""

    first_service_arrival_rate: float = 0.90
    growth_value_added_penetration: float = 0.15
    winback_rate: float = 0.10
    winback_visit_days: int = 60
    nps: float = 75.0


class SegmentationConfig(Frozen):
    """SPEC §8."""

    kmeans_k: int = 4
    pyramid_shares: tuple[float, ...] = (0.05, 0.15, 0.30, 0.40, 0.10)


class Config(Frozen):
    """Everything configurable, with SPEC.md's defaults."""

    ingest: IngestConfig = IngestConfig()
    scoring: ScoringConfig = ScoringConfig()
    value: ValueConfig = ValueConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    retention: RetentionConfig = RetentionConfig()
    reminders: ReminderConfig = ReminderConfig()
    actions: ActionsConfig = ActionsConfig()
    kpis: KpiTargets = KpiTargets()
    segmentation: SegmentationConfig = SegmentationConfig()


DEFAULT_CONFIG = Config()


def _line_of(node: yaml.Node, path: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the YAML node at ``path`` (or of its deepest existing parent)."""
    line = node.start_mark.line + 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(key)), None)
            if match is None:
                key_node = next((k for k, _ in node.value if k.value == str(key)), None)
                return key_node.start_mark.line + 1 if key_node else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def load_config(path: str | Path | None = None) -> Config:
    """Load a configuration file over the defaults.

    Parameters
    ----------
    path
        YAML file; ``None`` gives the defaults.

    Returns
    -------
    Config
        The frozen configuration.

    Raises
    ------
    ConfigError
        Naming the file, the line and the key of every problem found.
    """
    if path is None:
        return DEFAULT_CONFIG
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        raise ConfigError(f"{path}: {where}: not valid YAML ({exc})") from None
    if data is None:
        return DEFAULT_CONFIG
    if not isinstance(data, dict) or root is None:
        raise ConfigError(f"{path}: line 1: the config must be a mapping of sections")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_of(root, loc)
            key = ".".join(str(p) for p in loc)
            problems.append(f"{path}: line {line}: {key}: {err['msg']}")
        raise ConfigError("\n".join(problems)) from None


def config_as_yaml(config: Config) -> str:
    """Render a config as YAML that :func:`load_config` reads back unchanged."""
    data = config.model_dump(mode="json")
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
