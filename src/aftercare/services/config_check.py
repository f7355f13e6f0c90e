"""``aftercare config check``: everything :func:`~aftercare.config.load_config` checks, plus
each custom rule's condition, parsed by the playbook's own parser against the score columns
the engine gives it.

Kept out of :mod:`aftercare.config` because the condition parser builds Ibis expressions
(config stays at the bottom of the dependency graph).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import ibis.expr.types as ir

from aftercare.config import Config, line_of, load_config, read_yaml
from aftercare.errors import ConfigError
from aftercare.playbook.custom_rules import validate_condition
from aftercare.schema import TABLES

#: Columns :func:`aftercare.services.actions.rule_context` adds to the scores that custom
#: rules read (R-TIER-HIST move, the scores' date, R-CHURN-RISK level).
CONTEXT_COLUMNS: dict[str, str] = {
    "previous_tier": "string",
    "move": "string",
    "snapshot_date": "date",
    "risk_level": "string",
}
#: Any date: only the columns' names and types of the score table matter here.
_SCHEMA_DATE = dt.date(2000, 1, 1)


def custom_rule_columns(config: Config) -> ir.Table:
    """An unbound table with the columns a custom rule's condition may use.

    Grain: one row per customer (never executed: names and types only).

    Parameters
    ----------
    config
        The configuration being checked (its scorecard shapes the score columns), passed
        down from the edge that loaded it.
    """
    from aftercare.pipeline.scoring import score_customers

    tables = {name: ibis.table(spec.ibis_schema(), name=name) for name, spec in TABLES.items()}
    scores = score_customers(
        tables["customers"],
        tables["vehicles"],
        tables["service_orders"],
        tables["interactions"],
        as_of=_SCHEMA_DATE,
        config=config,
    )
    return scores.mutate(**{c: ibis.null(t) for c, t in CONTEXT_COLUMNS.items()})


def check_config(path: str | Path) -> Config:
    """Validate a config file as ``aftercare config check`` does.

    Parameters
    ----------
    path
        The YAML file.

    Returns
    -------
    Config
        The configuration, when every check passes.

    Raises
    ------
    ConfigError
        Naming the file, the line and the key of every problem: those of
        :func:`~aftercare.config.load_config`, then each custom rule whose ``condition`` the
        custom-rule parser refuses (not a comparison, unknown column, SQL, …).
    """
    config = load_config(path)
    if not config.actions.custom_rules:
        return config
    root, _ = read_yaml(path)
    table = custom_rule_columns(config)
    problems = []
    for index, rule in enumerate(config.actions.custom_rules):
        try:
            validate_condition(rule.rule_id, rule.condition, table)
        except ConfigError as exc:
            where = ("actions", "custom_rules", index, "condition")
            line = line_of(root, where) if root is not None else 1
            problems.append(f"{path}: line {line}: {'.'.join(map(str, where))}: {exc}")
    if problems:
        raise ConfigError("\n".join(problems))
    return config
