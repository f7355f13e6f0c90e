"""The typed config: SPEC defaults, YAML round trip, line-precise errors, CLI."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from aftercare.cli import app
from aftercare.config import DEFAULT_CONFIG, Config, config_as_yaml, load_config
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
    assert c.value.lifetime_years == {
        "platinum": 8,
        "gold": 6,
        "silver": 5,
        "regular": 3,
        "lapsed": 1,
    }
    assert c.value.tier_benefit_per_year == {
        "platinum": 2500,
        "gold": 800,
        "silver": 200,
        "regular": 0,
        "lapsed": 0,
    }
    assert c.scoring.expected_mix == {
        "platinum": 0.05,
        "gold": 0.15,
        "silver": 0.30,
        "regular": 0.40,
        "lapsed": 0.10,
    }
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
    assert list(rules) == list(defaults)  # all 14 (SPEC §6 and A-INSURANCE-RENEWAL), in order
    assert len(rules) == 14
    assert rules["A-WINBACK"].enabled is False
    assert rules["A-WINBACK"].channel == "by_reason" and rules["A-WINBACK"].marketing is True
    assert rules["A-WELCOME"].offset_days == 10
    assert rules["A-WELCOME"].priority == "high" and rules["A-WELCOME"].channel == "phone"
    untouched = set(defaults) - {"A-WINBACK", "A-WELCOME"}
    assert len(untouched) == 12
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
    assert rules["A-TRADE-IN"].enabled is True and len(rules) == 15


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


# --- `aftercare config check`: each problem at its key's line --------------------------------


def _check(path):
    result = runner.invoke(app, ["config", "check", str(path)])
    assert result.exit_code == 1, result.output
    return result.output


def test_tier_order_error_points_at_tier_min_total(tmp_path):
    path = _write(
        tmp_path,
        "ingest:\n  currency: CNY\nscoring:\n  window_days: 365\n"
        "  tier_min_total:\n    platinum: 10\n    gold: 12\n",
    )
    output = _check(path)
    assert f"{path}: line 5: scoring.tier_min_total:" in output
    assert "strictly descend" in output and "platinum 10, gold 12" in output


def test_pyramid_shares_must_sum_to_one_at_check_time(tmp_path):
    path = _write(tmp_path, "segmentation:\n  kmeans_k: 4\n  pyramid_shares: [0.5, 0.4, 0.2]\n")
    output = _check(path)
    assert f"{path}: line 3: segmentation.pyramid_shares:" in output
    assert "sum to 1" in output and "sum 1.1" in output


def test_pyramid_shares_exact_decimal_sum_passes(tmp_path):
    # 0.1 + 0.2 + 0.7 is not 1.0 in floating point; the pyramid sums exact decimals.
    path = _write(tmp_path, "segmentation:\n  pyramid_shares: [0.1, 0.2, 0.7]\n")
    assert load_config(path).segmentation.pyramid_shares == (0.1, 0.2, 0.7)


def test_rule_channel_typo_is_reported_with_its_line(tmp_path):
    path = _write(
        tmp_path,
        "actions:\n  rules:\n    A-BIRTHDAY:\n      priority: high\n      channel: wechta\n",
    )
    output = _check(path)
    assert f"{path}: line 5: actions.rules.A-BIRTHDAY.channel:" in output
    assert "unknown channel 'wechta'" in output and "wechat" in output


@pytest.mark.parametrize("channel", ["phone", "sms", "wechat", "app", "preferred"])
def test_every_engine_channel_is_accepted(tmp_path, channel):
    path = _write(tmp_path, f"actions:\n  rules:\n    A-CARE-90D: {{channel: {channel}}}\n")
    assert load_config(path).actions.rules["A-CARE-90D"].channel == channel


def test_by_reason_channel_is_for_winback_only(tmp_path):
    ok = _write(tmp_path, "actions:\n  rules:\n    A-WINBACK: {channel: phone}\n")
    assert load_config(ok).actions.rules["A-WINBACK"].channel == "phone"
    path = _write(tmp_path, "actions:\n  rules:\n    A-DECLINED:\n      channel: by_reason\n")
    output = _check(path)
    assert f"{path}: line 4: actions.rules.A-DECLINED.channel:" in output
    assert "A-WINBACK only" in output


CUSTOM = """actions:
  weekly_contact_cap: 2
  custom_rules:
    - rule_id: U-GOLD-AWAY
      condition: "tier == 'gold' and recency_days > 120"
      channel: wechat
    - rule_id: U-BAD
      condition: "tier == 'gold' or 1=1; drop table actions"
    - rule_id: U-CALL
      condition: "len(tier) > 3"
    - rule_id: U-TYPO
      channel: wechta
      condition: "tier == 'gold'"
"""


def test_custom_rule_channel_typo_is_reported_with_its_line(tmp_path):
    output = _check(_write(tmp_path, CUSTOM))
    assert "line 12: actions.custom_rules.3.channel: unknown channel 'wechta'" in output


def test_custom_rule_conditions_are_parsed_at_check_time(tmp_path):
    path = _write(tmp_path, CUSTOM.replace("      channel: wechta\n", ""))
    output = _check(path)
    assert f"{path}: line 8: actions.custom_rules.1.condition: custom rule U-BAD" in output
    assert "not a valid condition" in output
    assert f"{path}: line 10: actions.custom_rules.2.condition: custom rule U-CALL" in output
    assert "literals are allowed, not 'len(tier)'" in output  # no function calls
    assert "U-GOLD-AWAY" not in output  # a good condition passes


def test_custom_rule_unknown_column_and_good_file(tmp_path):
    bad = _write(
        tmp_path,
        "actions:\n  custom_rules:\n    - {rule_id: U-X1, condition: \"tierr == 'gold'\"}\n",
    )
    output = _check(bad)
    assert "line 3: actions.custom_rules.0.condition:" in output
    assert "unknown column 'tierr'" in output
    good = tmp_path / "good.yaml"
    good.write_text(
        "actions:\n  custom_rules:\n    - rule_id: U-RISK\n"
        "      condition: \"risk_level in ['medium', 'high'] and move == 'down'\"\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["config", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_custom_rule_id_used_twice(tmp_path):
    path = _write(
        tmp_path,
        "actions:\n  custom_rules:\n"
        "    - {rule_id: U-A1, condition: \"tier == 'gold'\"}\n"
        "    - {rule_id: U-A1, condition: \"tier == 'silver'\"}\n",
    )
    output = _check(path)
    assert "line 4: actions.custom_rules.1.rule_id: rule id U-A1 is used twice" in output


def test_nps_promoter_min_must_be_above_detractors(tmp_path):
    path = _write(tmp_path, "retention:\n  low_nps_max: 6\nkpis:\n  nps_promoter_min: 6\n")
    output = _check(path)
    assert f"{path}: line 4: kpis.nps_promoter_min:" in output


# --- `aftercare config show` ------------------------------------------------------------------


def _model_keys(model, prefix: str = "") -> set[str]:
    keys = set()
    for name in type(model).model_fields:
        value = getattr(model, name)
        if hasattr(type(value), "model_fields"):
            keys |= _model_keys(value, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def _shown_keys(data: dict, model, prefix: str = "") -> set[str]:
    keys = set()
    for name, value in data.items():
        sub = getattr(model, name)
        if hasattr(type(sub), "model_fields"):
            keys |= _shown_keys(value, sub, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def test_show_prints_every_key_and_reads_back():
    shown = runner.invoke(app, ["config", "show"])
    assert shown.exit_code == 0
    data = yaml.safe_load(shown.output)
    expected = _model_keys(DEFAULT_CONFIG)
    assert _shown_keys(data, DEFAULT_CONFIG) == expected
    assert {"actions.templates_dir", "reports.top_risks", "segmentation.kmeans_k_range"} <= expected
    assert len(data["actions"]["rules"]) == 14
    assert data["actions"]["templates_dir"] is None
    assert Config.model_validate(data) == DEFAULT_CONFIG


def test_show_with_a_file_prints_the_merged_rules(tmp_path):
    path = _write(tmp_path, "actions:\n  rules:\n    A-WELCOME: {offset_days: 10}\n")
    shown = runner.invoke(app, ["config", "show", "--config", str(path)])
    assert shown.exit_code == 0, shown.output
    rules = yaml.safe_load(shown.output)["actions"]["rules"]
    assert len(rules) == 14
    assert rules["A-WELCOME"] == {**DEFAULT_CONFIG.actions.rules["A-WELCOME"].model_dump(),
                                  "offset_days": 10}  # fmt: skip
