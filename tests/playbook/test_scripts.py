"""Personalised scripts from templates, zh-CN and en, user overrides (SPEC §6, seed 004)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from aftercare.config import DEFAULT_CONFIG, ActionsConfig, Config, CustomRuleConfig
from aftercare.errors import AftercareError
from aftercare.playbook.engine import RULES as ENGINE_RULES
from aftercare.playbook.scripts import render_scripts, template_context

#: Every built-in rule the engine knows, the optional A-TRADE-IN included.
RULES = tuple(ENGINE_RULES)
ROW = {
    "action_id": "A1",
    "customer_id": "C1",
    "name": "王伟",
    "phone": "13800138000",
    "brand": "比亚迪",
    "model": "汉",
    "plate": "粤B12345",
    "advisor_name": "李明",
    "tier": "platinum",
    "trigger_date": dt.date(2024, 6, 1),
    "due_date": dt.date(2024, 5, 29),
    "evidence": json.dumps({"item": "刹车片", "is_safety_item": True}),
}
#: Rules whose script names the trigger date.
DATED = ("A-WELCOME", "A-FIRST-SERVICE", "A-MAINTENANCE", "A-EXT-WARRANTY", "A-COMPLAINT-72H",
         "A-DECLINED", "A-FOLLOWUP-24H")  # fmt: skip


def _render(rule: str, lang: str, **extra) -> str:
    return render_scripts([{**ROW, "rule_id": rule, **extra}], lang, config=DEFAULT_CONFIG)[0]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_rule_has_a_personal_script(rule, lang):
    text = _render(rule, lang)
    assert "王伟" in text
    assert "13800138000" not in text  # contact details never reach a script
    assert "{" not in text and "}" not in text
    if rule in DATED:
        assert ("2024年6月1日" if lang == "zh-CN" else "1 June 2024") in text
    if rule in ("A-WELCOME", "A-FIRST-SERVICE", "A-MAINTENANCE", "A-EXT-WARRANTY"):
        assert "比亚迪 汉" in text and "粤B12345" in text
    if rule in ("A-WELCOME", "A-FIRST-SERVICE", "A-TIER-UP", "A-WINBACK", "A-CARE-90D",
                "A-TRADE-IN"):  # fmt: skip
        assert "李明" in text


def test_phone_is_not_even_in_the_template_context():
    assert "phone" not in template_context({**ROW, "rule_id": "A-WELCOME"}, "zh-CN", DEFAULT_CONFIG)


@pytest.mark.parametrize(
    ("reason", "zh", "en"),
    [
        ("passive", "好久没来保养", "been a while since your last service"),
        ("price", "原厂件", "genuine parts"),
        ("experience", "道歉", "apologise"),
    ],
)
def test_winback_script_follows_the_churn_reason(reason, zh, en):
    evidence = json.dumps({"churn_reason": reason})
    assert zh in _render("A-WINBACK", "zh-CN", evidence=evidence)
    assert en in _render("A-WINBACK", "en", evidence=evidence)


def test_winback_without_known_reason_is_passive():
    assert "好久没来保养" in _render("A-WINBACK", "zh-CN", evidence=None)


def test_tier_benefits_from_service_levels():
    levels = DEFAULT_CONFIG.scoring.service_levels
    assert levels["platinum"].zh in _render("A-TIER-UP", "zh-CN")
    assert levels["platinum"].en in _render("A-TIER-UP", "en")
    assert "黄金" in _render("A-BIRTHDAY", "zh-CN", tier="gold")


def test_declined_item_and_safety():
    text = _render("A-DECLINED", "zh-CN")
    assert "刹车片" in text and "行车安全" in text
    assert "行车安全" not in _render("A-DECLINED", "zh-CN", evidence="{}")


def test_declined_evidence_as_the_engine_writes_it():
    engine = json.dumps({"order_id": "RO1", "items": "刹车片, 轮胎", "safety": "false"})
    text = _render("A-DECLINED", "zh-CN", evidence=engine)
    assert "刹车片, 轮胎" in text and "行车安全" not in text
    safety = json.dumps({"items": "刹车片", "safety": "true"})
    assert "行车安全" in _render("A-DECLINED", "zh-CN", evidence=safety)


def test_language_from_the_customer_when_not_given():
    rows = [{**ROW, "rule_id": "A-CARE-90D", "language": "en"}, {**ROW, "rule_id": "A-CARE-90D"}]
    english, chinese = render_scripts(rows, None, config=DEFAULT_CONFIG)
    assert english.startswith("Hello 王伟")
    assert chinese.startswith("王伟您好")


def test_missing_name_and_advisor_fall_back_politely():
    text = _render("A-CARE-90D", "zh-CN", name=None, advisor_name=None, brand=None, model=None,
                   plate=None)  # fmt: skip
    assert text.startswith("车主您好，我是您的服务顾问")


def test_user_template_overrides_the_builtin(tmp_path: Path):
    (tmp_path / "zh-CN").mkdir()
    (tmp_path / "zh-CN" / "A-WELCOME.j2").write_text("{{ name }}，欢迎加入！", encoding="utf-8")
    (tmp_path / "zh-CN" / "A-WINBACK-price.j2").write_text("{{ name }}，专属价", encoding="utf-8")
    rows = [
        {**ROW, "rule_id": "A-WELCOME"},
        {**ROW, "rule_id": "A-WINBACK", "evidence": '{"churn_reason": "price"}'},
        {**ROW, "rule_id": "A-WINBACK", "evidence": '{"churn_reason": "passive"}'},
    ]
    welcome, price, passive = render_scripts(
        rows, "zh-CN", config=DEFAULT_CONFIG, templates_dir=tmp_path
    )
    assert welcome == "王伟，欢迎加入！"
    assert price == "王伟，专属价"  # the built-in A-WINBACK includes the user's price script
    assert "好久没来保养" in passive  # the rest stays built-in


def test_unknown_name_in_a_template_is_a_clear_error(tmp_path: Path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "A-WELCOME.j2").write_text("Call {{ phone }}", encoding="utf-8")
    with pytest.raises(AftercareError, match=r"en/A-WELCOME\.j2.*'phone' is undefined"):
        render_scripts([{**ROW, "rule_id": "A-WELCOME"}], "en", config=DEFAULT_CONFIG,
                       templates_dir=tmp_path)  # fmt: skip


def test_template_syntax_error_names_file_and_line(tmp_path: Path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "A-WELCOME.j2").write_text("Hi\n{% if %}", encoding="utf-8")
    with pytest.raises(AftercareError, match=r"A-WELCOME\.j2, line 2"):
        render_scripts([{**ROW, "rule_id": "A-WELCOME"}], "en", config=DEFAULT_CONFIG,
                       templates_dir=tmp_path)  # fmt: skip


def test_custom_rule_script_from_config_and_unknown_rule():
    custom = CustomRuleConfig(rule_id="U-VIP-CALL", condition="tier == 'gold'",
                              script="{{ name }}，{{ tier_label }}会员专线")  # fmt: skip
    config = Config(actions=ActionsConfig(custom_rules=(custom,)))
    text = render_scripts([{**ROW, "rule_id": "U-VIP-CALL"}], "zh-CN", config=config)[0]
    assert text == "王伟，白金会员专线"
    with pytest.raises(AftercareError, match=r"no script template zh-CN/U-NOPE\.j2"):
        render_scripts([{**ROW, "rule_id": "U-NOPE"}], "zh-CN", config=config)
    with pytest.raises(AftercareError, match="unknown script language 'fr'"):
        render_scripts([{**ROW, "rule_id": "A-WELCOME"}], "fr", config=config)
