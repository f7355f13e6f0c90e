"""The playbook's configuration (SPEC §6): rules, custom rules, caps and windows.

A user's ``actions.rules`` is laid over SPEC §6's table rule by rule and field by field: a
file that only sets ``A-WINBACK: {enabled: false}`` keeps the other thirteen rules as they
are. A rule id that is neither built in nor optional is an error; the user's own rules go in
``actions.custom_rules``. Re-exported by :mod:`aftercare.config`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from aftercare.config.base import Frozen, merge_over_defaults, problem
from aftercare.schema import CONTACT_CHANNELS

Priority = Literal["high", "medium", "low"]

#: Channel of a rule: the customer's preferred one (phone when unknown).
PREFERRED_CHANNEL = "preferred"
#: Channel of A-WINBACK chosen by churn reason (seed 004); for that rule only.
BY_REASON_CHANNEL = "by_reason"
WINBACK_RULE_ID = "A-WINBACK"
RULE_CHANNELS: tuple[str, ...] = (*CONTACT_CHANNELS, PREFERRED_CHANNEL, BY_REASON_CHANNEL)
CUSTOM_RULE_PREFIX = "U-"


class RuleConfig(Frozen):
    """One playbook rule (SPEC §6).

    ``offset_days`` places the due date relative to the trigger (negative: before it);
    ``catch_up_days`` is how late a trigger may still be acted on (R-ACT-CATCHUP: one action
    due now, never a burst of stale ones); ``marketing`` rules need marketing consent
    (R-ACT-CONSENT); ``holdout_share`` keeps a random control group (R-ACT-HOLDOUT).
    ``channel`` is one of phone, sms, wechat, app, ``preferred`` (the customer's), or
    ``by_reason`` (A-WINBACK only: by churn reason). ``valid_days`` (R-ACT-EXPIRE) is how many
    days after its due date an action stays on the call list; not done by then, it expires
    (kept, counted as expired, off the list). A reminder's default runs until 30 days after
    the date it reminds of (``30 - offset_days``).
    """

    enabled: bool = True
    offset_days: int = 0
    channel: str = "phone"
    priority: Priority = "medium"
    marketing: bool = False
    holdout_share: float = Field(default=0.0, ge=0.0, lt=1.0)
    catch_up_days: int = Field(default=30, ge=0)
    valid_days: int = Field(default=30, ge=0)

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, channel: str) -> str:
        if channel not in RULE_CHANNELS:
            raise problem(f"unknown channel {channel!r}; allowed: {', '.join(RULE_CHANNELS)}")
        return channel


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
        "A-WELCOME": RuleConfig(offset_days=7, channel="phone", priority="high", valid_days=14),
        "A-FIRST-SERVICE": RuleConfig(
            offset_days=-3, channel="phone", priority="medium", valid_days=33
        ),
        "A-FOLLOWUP-24H": RuleConfig(
            offset_days=1, channel="wechat", priority="medium", catch_up_days=7, valid_days=7
        ),
        "A-FIRST-SERVICE-30D": RuleConfig(
            offset_days=30, channel="wechat", priority="low", valid_days=14
        ),
        "A-MAINTENANCE": RuleConfig(
            offset_days=-7, channel="preferred", priority="medium", valid_days=37
        ),
        "A-EXT-WARRANTY": RuleConfig(
            offset_days=-45, channel="phone", priority="medium", marketing=True, valid_days=75
        ),
        "A-INSURANCE-RENEWAL": RuleConfig(
            offset_days=-45, channel="phone", priority="medium", valid_days=45
        ),
        "A-CARE-90D": RuleConfig(offset_days=0, channel="phone", priority="high", valid_days=30),
        "A-COMPLAINT-72H": RuleConfig(
            offset_days=3, channel="phone", priority="high", catch_up_days=14, valid_days=14
        ),
        "A-BIRTHDAY": RuleConfig(
            offset_days=-1,
            channel="wechat",
            priority="high",
            marketing=True,
            catch_up_days=7,
            valid_days=3,
        ),
        "A-DECLINED": RuleConfig(
            offset_days=30, channel="preferred", priority="medium", valid_days=30
        ),
        WINBACK_RULE_ID: RuleConfig(
            offset_days=0,
            channel=BY_REASON_CHANNEL,
            priority="medium",
            marketing=True,
            valid_days=30,
        ),
        "A-TIER-UP": RuleConfig(offset_days=0, channel="phone", priority="high", valid_days=30),
        "A-TIER-DOWN": RuleConfig(offset_days=0, channel="phone", priority="high", valid_days=30),
    }


#: SPEC §6's rules with their defaults.
DEFAULT_RULES: dict[str, RuleConfig] = _default_rules()
#: Built-in rules that run only when the config names them (R-VEHICLE-SOLD's trade-in
#: conversation), with the defaults of the fields it leaves out.
OPTIONAL_RULES: dict[str, RuleConfig] = {
    "A-TRADE-IN": RuleConfig(),
    # The annual inspection (年检) by China's schedule from the delivery (registration) date.
    "A-INSPECTION": RuleConfig(offset_days=-30, channel="phone", priority="low", valid_days=30),
}

#: Weekday names of ``capacity.working_days``, Monday first (ISO weekday - 1).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: A-CARE-90D's trigger: an abnormal absence (90 days past the customer's expected next
#: service) or the literal 90 days since the last visit.
CARE_TRIGGERS: tuple[str, ...] = ("overdue", "since_last_visit")


class CapacityConfig(Frozen):
    """R-ACT-CAPACITY: how many contacts an advisor can make per working day.

    Actions on ``channels`` (an advisor's own work: calls and WeChat messages; SMS and app
    pushes are sent by the system) count toward ``calls_per_day`` on each of
    ``working_days``. Over capacity, actions move to the next working day with room within
    their validity (R-ACT-EXPIRE), by priority then expected value, platinum and dedicated
    customers first; what does not fit goes to the store's backlog.
    """

    calls_per_day: int = Field(default=30, ge=1)
    working_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat")
    channels: tuple[str, ...] = ("phone", "wechat")

    @field_validator("working_days")
    @classmethod
    def _known_days(cls, days: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [day for day in days if day not in WEEKDAYS]
        if unknown or not days:
            raise problem(f"working days must be among {', '.join(WEEKDAYS)}; got {days}")
        return tuple(sorted(set(days), key=WEEKDAYS.index))

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, channels: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in channels if c not in CONTACT_CHANNELS]
        if unknown:
            raise problem(f"unknown channel {unknown[0]!r}; allowed: {', '.join(CONTACT_CHANNELS)}")
        return channels

    @property
    def weekday_numbers(self) -> tuple[int, ...]:
        """The working days as ISO weekday numbers minus one (Monday = 0)."""
        return tuple(WEEKDAYS.index(day) for day in self.working_days)

    @property
    def calls_per_week(self) -> int:
        """An advisor's contacts in a full working week."""
        return self.calls_per_day * len(self.working_days)


class ActionsConfig(Frozen):
    """The 3P playbook (SPEC §6)."""

    rules: dict[str, RuleConfig] = Field(default_factory=_default_rules)
    custom_rules: tuple[CustomRuleConfig, ...] = ()
    weekly_contact_cap: int = 2
    capacity: CapacityConfig = Field(default_factory=CapacityConfig)
    # A-CARE-90D: "overdue" fires on an abnormal absence, ``retention.care_after_days`` past
    # the customer's expected next service (R-REMIND due date, else their usual interval),
    # or that long since the last visit when neither can be estimated; "since_last_visit"
    # is the literal rule (90 days since the last visit).
    care_trigger: Literal["overdue", "since_last_visit"] = "overdue"
    winback_max_attempts: int = 3
    # A-WINBACK: days between the outcome of a failed attempt and the next attempt.
    winback_retry_days: int = Field(default=30, ge=0)
    booking_success_days: int = 30
    # R-ACT-HOLDOUT: a visit this many days after an action's due date is a return.
    return_window_days: int = Field(default=60, ge=1)
    # The user's editable script templates, searched before the built-in ones (None: none).
    templates_dir: Path | None = None
    # A-COMPLAINT-72H, R-ACT-CATCHUP: an unresolved complaint still gets its call after a gap
    # or a late import, up to this many days after it was logged; older ones are history
    # (R-CHURN-RISK still reads them), not a "72-hour" call years late.
    unresolved_complaint_catch_up_days: int = Field(default=365, ge=0)

    @field_validator("rules", mode="before")
    @classmethod
    def _over_spec_rules(cls, value: Any) -> Any:
        return merge_over_defaults(value, DEFAULT_RULES, OPTIONAL_RULES)

    @model_validator(mode="after")
    def _rule_ids_and_channels(self) -> ActionsConfig:
        known = (*DEFAULT_RULES, *OPTIONAL_RULES)
        for rule_id, rule in self.rules.items():
            if rule_id.startswith(CUSTOM_RULE_PREFIX):
                raise problem(
                    f"{rule_id} is a custom rule: put it in actions.custom_rules as a list "
                    "item with rule_id and condition",
                    "rules",
                    rule_id,
                )
            if rule_id not in known:
                raise problem(
                    f"unknown rule {rule_id}; built-in rules: {', '.join(known)} "
                    "(your own rules go in actions.custom_rules)",
                    "rules",
                    rule_id,
                )
            if rule.channel == BY_REASON_CHANNEL and rule_id != WINBACK_RULE_ID:
                raise problem(
                    f"channel {BY_REASON_CHANNEL!r} is for {WINBACK_RULE_ID} only",
                    "rules",
                    rule_id,
                    "channel",
                )
        seen: set[str] = set()
        for index, custom in enumerate(self.custom_rules):
            if custom.channel == BY_REASON_CHANNEL:
                raise problem(
                    f"channel {BY_REASON_CHANNEL!r} is for {WINBACK_RULE_ID} only",
                    "custom_rules",
                    index,
                    "channel",
                )
            if custom.rule_id in seen:
                raise problem(
                    f"rule id {custom.rule_id} is used twice", "custom_rules", index, "rule_id"
                )
            seen.add(custom.rule_id)
        return self
