"""Personalised call/message scripts for actions, from editable Jinja2 templates (SPEC §6).

One template per rule and language: ``templates/<lang>/<RULE>.j2`` (``zh-CN`` is the
default, ``en`` the other). A user's own directory (``actions.templates_dir``) is searched
first, so copying a built-in template there and editing it changes the script; a custom
rule (``U-…``) takes its template from that directory, else from its ``script`` text in the
config. ``A-WINBACK`` includes ``A-WINBACK-<reason>.j2``: seed 004's three win-back scripts
for the churn reasons passive / price / experience (R-CHURN-REASON).

Templates see these names (never the phone number or any other contact detail, so a script
can be shown or sent without leaking them): ``name``, ``advisor``, ``vehicle`` (brand, model
and plate), ``brand``, ``model``, ``plate``, ``event_date`` (the rule's trigger date:
delivery, service due, warranty end, complaint, declined quote …), ``due_date``, ``tier``,
``tier_label``, ``tier_benefits`` (``scoring.service_levels``; the tier is the one of the
snapshot that triggered the action: the evidence's ``tier`` when the rule recorded one,
A-TIER-UP/DOWN, A-BIRTHDAY, A-WINBACK and custom rules, else the row's ``tier``),
``churn_reason``, ``item`` and ``is_safety_item`` (declined quotes), ``rule_id``,
``action_id``, ``evidence`` (the action's evidence as a mapping), and the filter ``date``
(``2024年6月1日`` / ``1 June 2024``). An unknown name is an error (StrictUndefined), reported
as :class:`AftercareError` naming the template and the name.

No store access here: :mod:`aftercare.services.scripts` gathers the context of stored actions
(:func:`script_context` is its pure part) and this module renders it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import jinja2
import pyarrow as pa
from jinja2.sandbox import SandboxedEnvironment

from aftercare.config import Config
from aftercare.errors import AftercareError

BUILTIN_DIR = Path(__file__).parent / "templates"
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
CHURN_REASONS = ("passive", "price", "experience")
#: The reason assumed when none is known: no negative signal is, by definition, passive.
DEFAULT_CHURN_REASON = "passive"

_TIER_LABELS = {
    "zh-CN": dict(platinum="白金", gold="黄金", silver="白银", regular="普通", lapsed="流失"),
    "en": {t: t for t in ("platinum", "gold", "silver", "regular", "lapsed")},
}
_FALLBACK = {
    "zh-CN": {"name": "车主", "advisor": "您的服务顾问", "vehicle": "爱车"},
    "en": {"name": "there", "advisor": "your service advisor", "vehicle": "car"},
}
_MONTHS_EN = tuple(
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
)


def _date_zh(value: dt.date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def _date_en(value: dt.date | None) -> str:
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}" if value else ""


_DATE_FILTERS: dict[str, Callable[[dt.date | None], str]] = {"zh-CN": _date_zh, "en": _date_en}


@lru_cache(maxsize=16)
def _environment(lang: str, templates_dir: str | None) -> SandboxedEnvironment:
    """A sandboxed environment: templates are user-editable text, never trusted code."""
    search = ([templates_dir] if templates_dir else []) + [str(BUILTIN_DIR)]
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(search, encoding="utf-8"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.filters["date"] = _DATE_FILTERS[lang]
    return env


def _language(lang: str | None, row: dict[str, Any]) -> str:
    chosen = lang or row.get("language") or DEFAULT_LANGUAGE
    if chosen not in LANGUAGES:
        raise AftercareError(f"unknown script language {chosen!r}: one of {', '.join(LANGUAGES)}")
    return chosen


def _vehicle(row: dict[str, Any], lang: str) -> str:
    name = " ".join(p for p in (row.get("brand"), row.get("model")) if p)
    plate = row.get("plate")
    if name and plate:
        return f"{name}（{plate}）" if lang == "zh-CN" else f"{name} ({plate})"
    return name or plate or _FALLBACK[lang]["vehicle"]


def _evidence(row: dict[str, Any]) -> dict[str, Any]:
    raw = row.get("evidence")
    if isinstance(raw, dict):
        return raw
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1"))


def template_context(row: dict[str, Any], lang: str, config: Config) -> dict[str, Any]:
    """The names a template sees for one action (see the module docstring)."""
    evidence = _evidence(row)
    # The tier of the snapshot that triggered the action (its evidence, R-TIER-HOLD): an
    # A-TIER-UP of September says platinum even when read in December after a fall back.
    tier = evidence.get("tier") or row.get("tier")
    level = config.scoring.service_levels.get(tier) if tier else None
    # The engine's evidence (the reason when the action was made) wins over today's.
    reason = evidence.get("churn_reason") or row.get("churn_reason") or DEFAULT_CHURN_REASON
    if reason not in CHURN_REASONS:
        reason = DEFAULT_CHURN_REASON
    fallback = _FALLBACK[lang]
    return {
        "action_id": row.get("action_id"),
        "rule_id": row.get("rule_id"),
        "name": row.get("name") or fallback["name"],
        "advisor": row.get("advisor_name") or fallback["advisor"],
        "vehicle": _vehicle(row, lang),
        "brand": row.get("brand"),
        "model": row.get("model"),
        "plate": row.get("plate"),
        "event_date": row.get("trigger_date"),
        "due_date": row.get("due_date"),
        "tier": tier,
        "tier_label": _TIER_LABELS[lang].get(tier or "", tier or ""),
        "tier_benefits": (level.zh if lang == "zh-CN" else level.en) if level else "",
        "churn_reason": reason,
        # The engine writes A-DECLINED's items comma-joined and the safety flag as text.
        "item": evidence.get("item") or evidence.get("items"),
        "is_safety_item": _truthy(evidence.get("is_safety_item", evidence.get("safety"))),
        "evidence": evidence,
    }


def _template(env: SandboxedEnvironment, rule_id: str, lang: str, config: Config):
    name = f"{lang}/{rule_id}.j2"
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        custom = next((r for r in config.actions.custom_rules if r.rule_id == rule_id), None)
        if custom is not None and custom.script:
            return env.from_string(custom.script)
        missing = exc.name or name
        raise AftercareError(
            f"no script template {missing} for rule {rule_id} "
            f"(looked in the templates directory and the built-in templates)"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise AftercareError(
            f"script template {exc.filename or name}, line {exc.lineno}: {exc.message}"
        ) from None


def render_scripts(
    actions_with_context: pa.Table | Sequence[dict[str, Any]],
    lang: str | None = None,
    *,
    config: Config,
    templates_dir: str | Path | None = None,
) -> list[str]:
    """Render the script of each action.

    Parameters
    ----------
    actions_with_context
        Rows of :func:`aftercare.services.scripts.action_context` (or dicts with the same
        keys); at least ``rule_id``.
    lang
        ``zh-CN`` or ``en``; ``None`` takes each customer's ``language`` (default zh-CN).
    config
        Tier benefits (``scoring.service_levels``) and custom rules' scripts.
    templates_dir
        The user's template directory, searched before the built-in templates; default
        ``actions.templates_dir`` of the config (None: built-in templates only).

    Returns
    -------
    list[str]
        One script per row, in order.

    Raises
    ------
    AftercareError
        No template for a rule, a template syntax error, or a name the template uses that
        the context does not have (naming the template and the name).
    """
    rows = (
        actions_with_context.to_pylist()
        if isinstance(actions_with_context, pa.Table)
        else list(actions_with_context)
    )
    templates_dir = templates_dir or config.actions.templates_dir
    folder = str(Path(templates_dir).expanduser()) if templates_dir else None
    scripts = []
    for row in rows:
        row_lang = _language(lang, row)
        env = _environment(row_lang, folder)
        template = _template(env, row["rule_id"], row_lang, config)
        try:
            text = template.render(template_context(row, row_lang, config))
        except jinja2.UndefinedError as exc:
            raise AftercareError(
                f"script template {template.name or row['rule_id']} ({row_lang}): "
                f"{exc.message}; available names: "
                f"{', '.join(sorted(template_context(row, row_lang, config)))}"
            ) from None
        except jinja2.TemplateError as exc:
            raise AftercareError(
                f"script template {template.name or row['rule_id']} ({row_lang}): {exc}"
            ) from None
        scripts.append(text.strip())
    return scripts


def script_context(
    actions: ir.Table,
    customers: ir.Table,
    vehicles: ir.Table,
    advisors: ir.Table,
    tiers: ir.Table | None = None,
) -> ir.Table:
    """Actions with what their scripts need: customer, vehicle, advisor and tier.

    Grain: one row per action of ``actions`` (filter it first: this is meant for the few
    thousand actions of a call list, which are then rendered in Python).

    Parameters
    ----------
    tiers
        ``action_id`` and ``tier``: each action's tier, from the snapshot its run read
        (:func:`aftercare.services.scripts.actions_context`); None: no tier.

    Returns
    -------
    ir.Table
        action_id, rule_id, customer_id, vin, trigger_date, due_date, priority, channel,
        evidence, name, language, brand, model, plate, advisor_name, tier.
    """
    cust = customers.select(c_id=customers.customer_id, name=customers.name,
                            language=customers.language)  # fmt: skip
    cars = vehicles.select(v_vin=vehicles.vin, brand=vehicles.brand, model=vehicles.model,
                           plate=vehicles.plate)  # fmt: skip
    people = advisors.select(a_id=advisors.advisor_id, advisor_name=advisors.name)
    j = actions.left_join(cust, actions.customer_id == cust.c_id)
    j = j.left_join(cars, j.vin == cars.v_vin)
    j = j.left_join(people, j.advisor_id == people.a_id)
    if tiers is not None:
        t = tiers.select(t_id=tiers.action_id, tier=tiers.tier)
        j = j.left_join(t, j.action_id == t.t_id)
        tier = j.tier
    else:
        tier = ibis.null("string")
    return j.select(
        "action_id", "rule_id", "customer_id", "vin", "trigger_date", "due_date", "priority",
        "channel", "evidence", "name", "language", "brand", "model", "plate", "advisor_name",
        tier=tier,
    )  # fmt: skip
