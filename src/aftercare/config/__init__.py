"""One typed, frozen configuration whose defaults are SPEC.md's numbers.

Read at the edge (CLI, web) with :func:`load_config` and passed down; no global settings.
A user's YAML file overrides any subset; :func:`load_config` reports a bad key or value with
its line number.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from aftercare.config.actions import (
    DEFAULT_RULES,
    OPTIONAL_RULES,
    RULE_CHANNELS,
    WEEKDAYS,
    ActionsConfig,
    CapacityConfig,
    CustomRuleConfig,
    Priority,
    RuleConfig,
)
from aftercare.config.base import (
    PROBLEM_TYPE,
    TIER_ORDER,
    Frozen,
    TierName,
    over_field_default,
    per_tier,
    problem,
)
from aftercare.config.ingest import IngestConfig
from aftercare.config.scoring import Bin, ScoringConfig, TierServiceLevel
from aftercare.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_RULES",
    "OPTIONAL_RULES",
    "RULE_CHANNELS",
    "TIER_ORDER",
    "WEEKDAYS",
    "ActionsConfig",
    "Bin",
    "CapacityConfig",
    "Config",
    "CustomRuleConfig",
    "Frozen",
    "IngestConfig",
    "Priority",
    "RuleConfig",
    "ScoringConfig",
    "TierName",
    "TierServiceLevel",
    "config_as_yaml",
    "config_key",
    "line_of",
    "load_config",
    "read_yaml",
]


class ValueConfig(Frozen):
    """Profit, cost to serve, Pareto and LTV (SPEC §3)."""

    cost_per_visit: float = 120.0
    cost_per_phone_contact: float = 8.0
    cost_per_digital_contact: float = 0.5
    cost_per_complaint: float = 300.0
    tier_benefit_per_year: dict[TierName, float] = Field(
        default_factory=per_tier(2500.0, 800.0, 200.0, 0.0, 0.0)  # platinum … lapsed
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
        default_factory=per_tier(8.0, 6.0, 5.0, 3.0, 1.0)  # platinum … lapsed
    )
    # R-VAL-LTV probabilistic CLV (BG/NBD + Gamma-Gamma): horizon, and fewest customers to fit.
    clv_horizon_days: int = Field(default=365, ge=1)
    clv_min_customers: int = Field(default=30, ge=2)

    @field_validator(
        "tier_benefit_per_year", "default_margin_by_category", "lifetime_years", mode="before"
    )
    @classmethod
    def _over_defaults(cls, value: Any, info: ValidationInfo) -> Any:
        return over_field_default(cls, str(info.field_name), value)


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

    @field_validator("stage_min_years", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any, info: ValidationInfo) -> Any:
        return over_field_default(cls, str(info.field_name), value)


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


class KpiTargets(Frozen):
    """Monthly KPI targets (SPEC §7)."""

    first_service_arrival_rate: float = 0.90
    growth_value_added_penetration: float = 0.15
    winback_rate: float = 0.10
    winback_visit_days: int = 60
    nps: float = 75.0
    # First-service arrival: days after the first service is due that still count as on time.
    first_service_grace_days: int = Field(default=30, ge=0)
    # NPS: lowest promoter score (detractors score at most retention.low_nps_max).
    nps_promoter_min: int = Field(default=9, ge=0, le=10)


class SegmentationConfig(Frozen):
    """SPEC §8."""

    kmeans_k: int = Field(default=4, ge=1)
    # Smallest and largest k whose silhouette is reported (inclusive).
    kmeans_k_range: tuple[int, int] = (2, 8)
    pyramid_shares: tuple[float, ...] = (0.05, 0.15, 0.30, 0.40, 0.10)

    @field_validator("kmeans_k_range")
    @classmethod
    def _k_range(cls, k_range: tuple[int, int]) -> tuple[int, int]:
        low, high = k_range
        if not 2 <= low <= high:
            raise problem(
                "kmeans_k_range must be (smallest, largest) with 2 ≤ smallest ≤ largest, "
                f"got {list(k_range)}"
            )
        return k_range

    @field_validator("pyramid_shares")
    @classmethod
    def _shares_sum_to_one(cls, shares: tuple[float, ...]) -> tuple[float, ...]:
        # Exact decimal sum, as the pyramid splits on it (0.1 + 0.2 + 0.7 is 1).
        fractions = [Fraction(str(s)) for s in shares]
        if not fractions or any(f <= 0 for f in fractions) or sum(fractions) != 1:
            total = float(sum(fractions, Fraction(0)))
            raise problem(
                f"pyramid_shares must be positive and sum to 1, got {list(shares)} (sum {total:g})"
            )
        return shares


class ReportsConfig(Frozen):
    """What the manager's report and the headline show (SPEC §7)."""

    # Coming weeks of reminder load in the report.
    reminder_weeks: int = Field(default=8, ge=1)
    # Most valuable high-risk customers listed in the headline.
    top_risks: int = Field(default=5, ge=1)


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
    reports: ReportsConfig = ReportsConfig()

    @model_validator(mode="after")
    def _nps_bands_apart(self) -> Config:
        if self.kpis.nps_promoter_min <= self.retention.low_nps_max:
            raise problem(
                f"nps_promoter_min ({self.kpis.nps_promoter_min}) must be above "
                f"retention.low_nps_max ({self.retention.low_nps_max}), the detractors' top score",
                "kpis",
                "nps_promoter_min",
            )
        return self


DEFAULT_CONFIG = Config()


def line_of(node: yaml.Node, path: tuple[Any, ...]) -> int:
    """Line (1-based) of the key at ``path`` in a composed YAML document.

    A mapping entry is found by its key and its line is the key's line (``scoring:`` →
    ``tier_min_total:``), a sequence item by its index; when the path leaves the document
    (a missing key), the deepest key that exists is named.

    Parameters
    ----------
    node
        The document's root node (:func:`read_yaml`).
    path
        Keys and indexes, as in a validation error's location.

    Returns
    -------
    int
        The line number.
    """
    line = node.start_mark.line + 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def read_yaml(path: str | Path) -> tuple[yaml.Node | None, Any]:
    """The composed document (for line numbers) and the data of a YAML config file.

    Raises
    ------
    ConfigError
        The file cannot be read or is not valid YAML (with the line of the problem).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
    try:
        return yaml.compose(text), yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        raise ConfigError(f"{path}: {where}: not valid YAML ({exc})") from None


def _error_path(err: Mapping[str, Any]) -> tuple[Any, ...]:
    """Where a validation error is: its location, plus the key a :func:`problem` names."""
    loc = tuple(err["loc"])
    if err["type"] == PROBLEM_TYPE:
        loc += tuple(err.get("ctx", {}).get("at", ()))
    return loc


def load_config(path: str | Path | None = None) -> Config:
    """Load a configuration file over the defaults.

    Every section, and every entry of a mapping with defaults (``actions.rules``, the tier
    tables), is laid over the defaults: a file names only what it changes.

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
    root, data = read_yaml(path)
    if data is None:
        return DEFAULT_CONFIG
    if not isinstance(data, dict) or root is None:
        raise ConfigError(f"{path}: line 1: the config must be a mapping of sections")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _error_path(err)
            key = ".".join(str(p) for p in where)
            problems.append(f"{path}: line {line_of(root, where)}: {key}: {err['msg']}")
        raise ConfigError("\n".join(problems)) from None


def config_as_yaml(config: Config) -> str:
    """Render a config as YAML that :func:`load_config` reads back unchanged."""
    data = config.model_dump(mode="json")
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def config_key(config: Config) -> str:
    """A text equal for equal configurations, to key what is built from one (compiled
    plans, :mod:`aftercare.store.plans`)."""
    return config.model_dump_json()
