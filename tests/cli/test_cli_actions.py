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
    capacity = (
        "advisor capacity (R-ACT-CAPACITY): 0 moved to a later day, 0 carried over from "
        "earlier days, 0 to the backlog, "
    )
    assert capacity + "0 placed from it; 0 expired unworked (R-ACT-EXPIRE)" in result.output
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


def test_actions_shows_limit_rows_per_priority_and_counts_the_rest(tmp_path):
    db = _store(tmp_path)
    runner.invoke(app, ["actions", "--as-of", "2024-06-12", "--week", "--db", db])
    result = runner.invoke(
        app, ["actions", "--as-of", "2024-06-12", "--week", "--no-generate", "--limit", "1",
              "--db", db],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 open actions" in result.output and "high priority (2)" in result.output
    assert "… 1 more (aftercare export actions --out FILE)" in result.output
    # The first row in call order is shown, the second is not.
    assert ("王伟" in result.output) != ("李娜" in result.output)


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


def _store_at(url: str) -> str:
    """The two-customer store of :func:`_store` on any engine (``store_url``)."""
    with open_store(url) as store:
        store.con.insert("customers", make_table("customers", [
            {"customer_id": "C1", "name": "王伟", "phone": "13812345678", "advisor_id": "A1"},
            {"customer_id": "C2", "name": "李娜", "phone": "13900001111", "advisor_id": "A2"},
        ]))  # fmt: skip
        store.con.insert("advisors", make_table("advisors", [
            {"advisor_id": "A1", "name": "李明"}, {"advisor_id": "A2", "name": "杨芳诗"},
        ]))  # fmt: skip
        store.con.insert("interactions", make_table("interactions", [
            {"interaction_id": "I1", "customer_id": "C1", "ts": "2024-06-09 09:00:00",
             "type": "complaint"},
            {"interaction_id": "I2", "customer_id": "C2", "ts": "2024-06-11 09:00:00",
             "type": "complaint"},
        ]))  # fmt: skip
    return url


def test_actions_list_shows_each_action_id(store_url):
    """The id `aftercare outcome ID RESULT` takes is on the list (issue 10)."""
    db = _store_at(store_url)
    result = runner.invoke(app, ["actions", "--as-of", "2024-06-12", "--week", "--db", db])
    assert result.exit_code == 0, result.output
    assert "2 open actions" in result.output
    # CliRunner's 80 columns: one line per action, the id first and whole.
    lines = [line.split() for line in result.output.splitlines()]
    assert [C1_COMPLAINT, "2024-06-12", "138****5678", "王伟", "A-COMPLAINT-72H"] in [
        line[:5] for line in lines
    ]
    assert [C2_COMPLAINT, "2024-06-14", "139****1111", "李娜"] in [line[:4] for line in lines]


def test_actions_table_in_a_wide_terminal_starts_with_the_whole_id():
    from rich.console import Console

    from aftercare.cli.actions_cmd import GRID_MIN_WIDTH, _grid

    row = {"action_id": C1_COMPLAINT, "due_date": "2024-06-12", "is_overdue": True,
           "customer_name": "王伟", "customer_id": "C1", "phone": "13812345678",
           "rule_id": "A-FIRST-SERVICE-30D", "channel": "phone", "advisor_name": "李明",
           "advisor_id": "A1", "plate": "沪A12345", "model": "Model 3",
           "evidence": "{}"}  # fmt: skip
    wide = Console(width=GRID_MIN_WIDTH, record=True)
    wide.print(_grid("high", [row], 30))
    lines = [line.split() for line in wide.export_text().splitlines()]
    header = ["id", "due", "phone", "customer", "rule", "channel", "advisor", "vehicle", "why"]
    assert header in lines
    assert [C1_COMPLAINT, "2024-06-12", "!", "138****5678", "王伟", "A-FIRST-SERVICE-30D",
            "phone", "李明", "沪A12345"] in lines  # fmt: skip


def test_actions_advisor_by_id_or_exact_name_lists_the_same(store_url):
    db = _store_at(store_url)
    week = ["actions", "--as-of", "2024-06-12", "--week", "--db", db]
    by_id = runner.invoke(app, [*week, "--advisor", "A2"])
    by_name = runner.invoke(app, [*week, "--advisor", "杨芳诗", "--no-generate"])
    for result in (by_id, by_name):
        assert result.exit_code == 0, result.output
        assert "Call list for advisor A2 杨芳诗" in result.output
        assert "1 open actions" in result.output
        assert C2_COMPLAINT in result.output and C1_COMPLAINT not in result.output


def test_actions_unknown_advisor_is_refused_with_the_known_ones(store_url):
    db = _store_at(store_url)
    for key in ("杨芳", "A9"):  # a name is matched exactly, not as a part
        result = runner.invoke(
            app, ["actions", "--as-of", "2024-06-12", "--advisor", key, "--db", db]
        )
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert lines == [f"error: unknown advisor {key}; the 2 known advisors: A1 李明, A2 杨芳诗"]
    # Refused before anything was generated: the store holds no action.
    with open_store(db) as store:
        assert not store.has_table("actions") or store.table("actions").count().execute() == 0


def test_a_run_after_another_plans_the_changed_customers_only(tmp_path):
    """Issue 11: with stored scores a run after another plans only the customers whose data
    or date changed (C2's complaint call falls due on 06-14); ``--full`` plans everyone."""
    db = _store(tmp_path)
    assert runner.invoke(app, ["score", "--as-of", "2024-06-12", "--db", db]).exit_code == 0
    first = runner.invoke(app, ["actions", "--as-of", "2024-06-12", "--db", db])
    assert "generated 1 new actions due by 2024-06-12" in first.output
    assert "every customer planned" in first.output  # the store's first run
    quiet = runner.invoke(app, ["actions", "--as-of", "2024-06-13", "--db", db])
    assert "generated 0 new actions" in quiet.output
    assert "0 customers planned, those changed since the last run" in quiet.output
    due = runner.invoke(app, ["actions", "--as-of", "2024-06-14", "--db", db])
    assert "generated 1 new actions due by 2024-06-14" in due.output
    assert "1 customers planned, those changed since the last run" in due.output
    full = runner.invoke(app, ["actions", "--as-of", "2024-06-14", "--full", "--db", db])
    assert "generated 0 new actions" in full.output
    assert "every customer planned" in full.output
