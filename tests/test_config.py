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
