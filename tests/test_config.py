"""The typed config: SPEC defaults, YAML round trip, line-precise errors, CLI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.config import DEFAULT_CONFIG, config_as_yaml, load_config
from aftercare.errors import ConfigError

runner = CliRunner()


def test_defaults_are_spec_numbers():
    c = DEFAULT_CONFIG
    assert c.scoring.window_days == 365
    assert c.scoring.recency_max_days == ((30, 5), (90, 4), (180, 3), (365, 2))
    assert [(b.min, b.points) for b in c.scoring.monetary_bins] == [
        (10000, 5),
        (5000, 4),
        (2000, 3),
        (1000, 2),
    ]
    assert c.scoring.tier_min_total == {
        "platinum": 16,
        "gold": 12,
        "silver": 8,
        "regular": 4,
        "lapsed": 1,
    }
    assert c.scoring.spend_payers == ("customer", "insurance")  # R-IN-5
    assert c.value.cost_per_visit == 120 and c.value.cost_per_complaint == 300
    assert c.value.lifetime_years["platinum"] == 8
    assert c.retention.care_after_days == 90 and c.retention.high_risk_after_days == 120
    assert c.actions.weekly_contact_cap == 2
    assert c.actions.rules["A-WELCOME"].offset_days == 7
    assert c.kpis.first_service_arrival_rate == 0.90


def test_yaml_round_trip(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(config_as_yaml(DEFAULT_CONFIG), encoding="utf-8")
    assert load_config(path) == DEFAULT_CONFIG


def test_partial_override(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("scoring:\n  window_days: 180\n", encoding="utf-8")
    c = load_config(path)
    assert c.scoring.window_days == 180
    assert c.value == DEFAULT_CONFIG.value


def test_errors_name_line_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("scoring:\n  window_days: abc\nvalue:\n  nope: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert f"{path}: line 2: scoring.window_days" in text
    assert f"{path}: line 4: value.nope" in text


def test_tiers_must_descend(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "scoring:\n  tier_min_total: {platinum: 5, gold: 12, silver: 8, regular: 4, lapsed: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="strictly descend"):
        load_config(path)


def test_not_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("scoring: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_cli_show_and_check(tmp_path):
    shown = runner.invoke(app, ["config", "show"])
    assert shown.exit_code == 0
    assert "window_days: 365" in shown.output
    good = tmp_path / "good.yaml"
    good.write_text("retention:\n  care_after_days: 60\n", encoding="utf-8")
    assert runner.invoke(app, ["config", "check", str(good)]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("retention:\n  care_after_days: soon\n", encoding="utf-8")
    result = runner.invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 1
    assert "line 2: retention.care_after_days" in result.output


def _write(tmp_path, text: str):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rule_override_merges_over_spec_defaults(tmp_path):
    # A-WINBACK off, A-WELCOME re-parameterised: every other field and rule keeps SPEC §6.
    path = _write(
        tmp_path,
        "actions:\n  rules:\n    A-WINBACK: {enabled: false}\n    A-WELCOME: {offset_days: 10}\n",
    )
    rules = load_config(path).actions.rules
    defaults = DEFAULT_CONFIG.actions.rules
    assert list(rules) == list(defaults)  # all 13, in SPEC order
    assert len(rules) == 13
    assert rules["A-WINBACK"].enabled is False
    assert rules["A-WINBACK"].channel == "by_reason" and rules["A-WINBACK"].marketing is True
    assert rules["A-WELCOME"].offset_days == 10
    assert rules["A-WELCOME"].priority == "high" and rules["A-WELCOME"].channel == "phone"
    untouched = set(defaults) - {"A-WINBACK", "A-WELCOME"}
    assert len(untouched) == 11
    for rule_id in untouched:
        assert rules[rule_id] == defaults[rule_id], rule_id
    assert rules["A-COMPLAINT-72H"].catch_up_days == 14  # a non-default field survives


def test_rule_override_block_style(tmp_path):
    path = _write(
        tmp_path,
        "actions:\n  rules:\n    A-BIRTHDAY:\n      holdout_share: 0.2\n      channel: sms\n",
    )
    birthday = load_config(path).actions.rules["A-BIRTHDAY"]
    assert (birthday.holdout_share, birthday.channel) == (0.2, "sms")
    assert (birthday.offset_days, birthday.priority, birthday.marketing) == (-1, "high", True)
    assert birthday.catch_up_days == 7


def test_optional_trade_in_rule_is_added_only_when_named(tmp_path):
    assert "A-TRADE-IN" not in DEFAULT_CONFIG.actions.rules
    rules = load_config(_write(tmp_path, "actions:\n  rules:\n    A-TRADE-IN:\n")).actions.rules
    assert rules["A-TRADE-IN"].enabled is True and len(rules) == 14


@pytest.mark.parametrize(
    ("rule_id", "message"),
    [
        ("A-WELCOM", "unknown rule A-WELCOM"),
        ("U-VIP", "custom rule: put it in actions.custom_rules"),
    ],
)
def test_unknown_rule_id_is_an_error_at_its_line(tmp_path, rule_id, message):
    path = _write(
        tmp_path, f"actions:\n  weekly_contact_cap: 3\n  rules:\n    {rule_id}: {{enabled: true}}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"{path}: line 4: actions.rules.{rule_id}: " in str(err.value)
    assert message in str(err.value)


def test_bad_field_of_a_merged_rule_names_its_line(tmp_path):
    path = _write(tmp_path, "actions:\n  rules:\n    A-WELCOME:\n      priority: urgent\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"{path}: line 4: actions.rules.A-WELCOME.priority" in str(err.value)


def test_tier_tables_merge_over_defaults(tmp_path):
    path = _write(
        tmp_path,
        "value:\n  lifetime_years: {platinum: 10}\n"
        "  default_margin_by_category: {repair: 0.5}\n"
        "scoring:\n  service_levels:\n    gold: {en: priority lane}\n"
        "lifecycle:\n  stage_min_years: {decline: 10}\n",
    )
    c = load_config(path)
    assert c.value.lifetime_years == {
        "platinum": 10,
        "gold": 6,
        "silver": 5,
        "regular": 3,
        "lapsed": 1,
    }
    assert c.value.default_margin_by_category["repair"] == 0.5
    assert c.value.default_margin_by_category["maintenance"] == 0.45
    gold = c.scoring.service_levels["gold"]
    assert gold.en == "priority lane"
    assert gold.zh == DEFAULT_CONFIG.scoring.service_levels["gold"].zh
    assert c.scoring.service_levels["platinum"] == DEFAULT_CONFIG.scoring.service_levels["platinum"]
    assert c.lifecycle.stage_min_years["decline"] == 10
    assert c.lifecycle.stage_min_years["growth"] == 3


def test_partial_tier_min_total_keeps_other_tiers(tmp_path):
    path = _write(tmp_path, "scoring:\n  tier_min_total: {platinum: 18}\n")
    assert load_config(path).scoring.tier_min_total == {
        "platinum": 18,
        "gold": 12,
        "silver": 8,
        "regular": 4,
        "lapsed": 1,
    }
