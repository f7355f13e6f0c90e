"""`aftercare actions` and `aftercare export actions` on a small store."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

import aftercare.cli.actions_cmd  # noqa: F401  registers `actions` until cli/__init__ imports it
from aftercare.cli import app
from aftercare.cli.actions_cmd import mask_phone, short_evidence
from aftercare.playbook.model import action_id
from aftercare.store import open_store
from factories import make_table

runner = CliRunner()


def _store(tmp_path) -> str:
    url = str(tmp_path / "s.duckdb")
    store = open_store(url)
    store.con.insert(
        "customers",
        make_table(
            "customers",
            [
                {"customer_id": "C1", "name": "王伟", "phone": "13812345678", "advisor_id": "A1"},
                {"customer_id": "C2", "name": "李娜", "phone": "13900001111", "advisor_id": "A2"},
            ],
        ),
    )
    store.con.insert(
        "advisors",
        make_table(
            "advisors",
            [
                {"advisor_id": "A1", "name": "李明"},
                {"advisor_id": "A2", "name": "小王"},
            ],
        ),
    )
    store.con.insert(
        "interactions",
        make_table(
            "interactions",
            [
                {
                    "interaction_id": "I1",
                    "customer_id": "C1",
                    "ts": "2024-06-09 09:00:00",
                    "type": "complaint",
                },
                {
                    "interaction_id": "I2",
                    "customer_id": "C2",
                    "ts": "2024-06-11 09:00:00",
                    "type": "complaint",
                },
            ],
        ),
    )
    store.close()
    return url


def test_actions_prints_list_grouped_by_priority_with_masked_phone(tmp_path):
    db = _store(tmp_path)
    result = runner.invoke(app, ["actions", "--as-of", "2024-06-12", "--db", db])
    assert result.exit_code == 0, result.output
    assert "generated 1 new actions" in result.output
    assert "high priority (1)" in result.output
    assert "王伟" in result.output and "138****5678" in result.output
    assert "13812345678" not in result.output
    # --week plans to Sunday: C2's complaint (due 06-14) joins; rerun adds nothing new.
    result = runner.invoke(app, ["actions", "--as-of", "2024-06-12", "--week", "--db", db])
    assert "generated 1 new actions due by 2024-06-16" in result.output
    result = runner.invoke(
        app, ["actions", "--as-of", "2024-06-12", "--week", "--advisor", "A2", "--db", db]
    )
    assert "generated 0 new actions" in result.output
    assert "李娜" in result.output and "王伟" not in result.output


def test_export_actions_has_the_contract_columns(tmp_path):
    db = _store(tmp_path)
    runner.invoke(app, ["actions", "--as-of", "2024-06-12", "--week", "--db", db])
    out = tmp_path / "actions.csv"
    result = runner.invoke(app, ["export", "actions", "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    wanted = {
        "action_id",
        "customer_id",
        "vin",
        "rule_id",
        "due_date",
        "priority",
        "channel",
        "advisor_id",
        "status",
    }
    assert wanted <= set(rows[0])
    assert {(r["customer_id"], r["rule_id"], r["due_date"], r["advisor_id"]) for r in rows} == {
        ("C1", "A-COMPLAINT-72H", "2024-06-12", "A1"),
        ("C2", "A-COMPLAINT-72H", "2024-06-14", "A2"),
    }


C1_COMPLAINT = action_id("A-COMPLAINT-72H", "I1")
C2_COMPLAINT = action_id("A-COMPLAINT-72H", "I2")


def _export(tmp_path, db: str) -> dict[str, dict]:
    out = tmp_path / "actions.csv"
    result = runner.invoke(app, ["export", "actions", "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as fh:
        return {r["action_id"]: r for r in csv.DictReader(fh)}


def test_recorded_outcomes_leave_the_call_list_and_show_in_the_export(tmp_path):
    db = _store(tmp_path)
    week = ["actions", "--as-of", "2024-06-12", "--week", "--db", db]
    listed = runner.invoke(app, week)
    assert "2 open actions" in listed.output and "王伟" in listed.output
    # C1 booked (R-ACT-OUTCOME: closes the action), C2 missed the call (stays open).
    assert runner.invoke(app, ["outcome", C1_COMPLAINT, "booked", "--db", db]).exit_code == 0
    assert runner.invoke(app, ["outcome", C2_COMPLAINT, "no_answer", "--db", db]).exit_code == 0
    listed = runner.invoke(app, [*week, "--no-generate"])
    assert listed.exit_code == 0, listed.output
    assert "1 open actions" in listed.output
    assert "王伟" not in listed.output and "李娜" in listed.output
    rows = _export(tmp_path, db)
    assert (rows[C1_COMPLAINT]["status"], rows[C1_COMPLAINT]["last_result"]) == ("done", "booked")
    assert (rows[C2_COMPLAINT]["status"], rows[C2_COMPLAINT]["last_result"]) == (
        "open",
        "no_answer",
    )
    # An opt-out stops the customer's open action (R-ACT-CONSENT): off the list, "stopped".
    assert runner.invoke(app, ["outcome", C2_COMPLAINT, "opted_out", "--db", db]).exit_code == 0
    listed = runner.invoke(app, [*week, "--no-generate"])
    assert "0 open actions" in listed.output and "李娜" not in listed.output
    rows = _export(tmp_path, db)
    assert rows[C2_COMPLAINT]["status"] == "done"  # opted_out is itself a closing result
    assert rows[C2_COMPLAINT]["last_result"] == "opted_out"


def test_mask_phone_and_short_evidence():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("12345") == "*****"
    assert mask_phone(None) == ""
    assert short_evidence('{"a":"1","b":null,"c":"x","d":"y","e":"z"}') == "a=1, c=x, d=y"


def test_scripts_in_the_list_and_the_call_sheet_export(tmp_path):
    db = _store(tmp_path)
    store = open_store(db)
    store.con.insert(
        "vehicles",
        make_table("vehicles", [{"vin": "LSVAA4182E2000009", "customer_id": "C1",
                                 "plate": "沪A12345", "model": "Model 3",
                                 "delivery_date": "2024-06-01"}]),
    )  # fmt: skip
    store.close()
    result = runner.invoke(app, ["actions", "--as-of", "2024-06-12", "--scripts", "--db", db])
    assert result.exit_code == 0, result.output
    # C1's complaint (logged 06-09) and the welcome call of the car delivered 06-01.
    complaint = "王伟您好，我是李明。关于您2024年6月9日反映的问题，我们非常重视。"
    assert complaint in result.output.replace("\n", "")
    assert "138****5678" in result.output and "13812345678" not in result.output
    rows = _export(tmp_path, db)
    welcome = rows[action_id("A-WELCOME", "LSVAA4182E2000009|2024-06-01")]
    assert (welcome["customer_name"], welcome["phone"]) == ("王伟", "13812345678")  # unmasked
    assert (welcome["plate"], welcome["model"]) == ("沪A12345", "Model 3")
    assert "沪A12345" in welcome["script"] and welcome["script"].startswith("王伟")
    assert rows[C1_COMPLAINT]["script"].startswith(complaint)
    assert rows[C1_COMPLAINT]["advisor_name"] == "李明"
