"""R-ACT-CAPACITY and R-ACT-EXPIRE end to end on hand-made stores (DuckDB and PostgreSQL),
and the capacity placement itself on hand-made frames.

Dates: Monday 2024-06-10 starts ISO week 2024-W24 (06-10 … 06-16); 06-15 is a Saturday,
06-17 the next Monday. A complaint logged on day d is due d + 3 (A-COMPLAINT-72H, high,
phone, valid 14 days); a declined quote of day d is due d + 30 (A-DECLINED, medium, the
customer's preferred channel, phone when unknown, valid 30 days).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from aftercare.config import DEFAULT_CONFIG, Config
from aftercare.config.actions import CapacityConfig
from aftercare.playbook import schedule
from aftercare.playbook.model import action_id
from aftercare.services.actions import BacklogRow, action_list, backlog_summary, generate_actions
from aftercare.services.outcomes import record_outcome
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store
from factories import make_table

D = dt.date.fromisoformat
EPOCH = dt.date(1970, 1, 1)
MON = D("2024-06-10")


def _day(text: str) -> int:
    return (D(text) - EPOCH).days


def _date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


# --- the placement itself (pure) ---------------------------------------------------------


def _items(rows: list[tuple]) -> pd.DataFrame:
    """(action_id, customer, priority, value, due, valid[, vip]) → capacity items of A1."""
    items = pd.DataFrame(
        [
            {
                "action_id": r[0],
                "advisor_id": "A1",
                "customer_id": r[1],
                "priority": r[2],
                "expected_value": r[3],
                "due_day": _day(r[4]),
                "valid_day": _day(r[5]),
                "vip": r[6] if len(r) > 6 else False,
                "stored": False,
                "counted_week": -1,
            }
            for r in rows
        ]
    )
    return schedule.capacity_order(items)


def _place(items: pd.DataFrame, *, per_day=30, days=(0, 1, 2, 3, 4, 5), weeks=None, cap=2):
    placed = schedule.apply_capacity(
        items,
        pd.DataFrame({"advisor_id": [], "day": [], "n": []}),
        weeks
        if weeks is not None
        else pd.DataFrame({"customer_id": [], "week": [], "contacts": []}),
        calls_per_day=per_day,
        working_days=days,
        weekly_cap=cap,
        first_day=_day("2024-06-10"),
    )
    return {
        a: (None if d == schedule.BACKLOG else _date(d))
        for a, d in zip(items.action_id, placed, strict=True)
    }


def test_r_act_capacity_35_due_monday_30_monday_5_tuesday_by_priority_then_value():
    # 20 high (values 100..119), 15 medium (values 500..514: value never beats priority).
    rows = [(f"H{i:02d}", f"CH{i}", "high", 100 + i, "2024-06-10", "2024-07-10") for i in range(20)]
    rows += [(f"M{i:02d}", f"CM{i}", "medium", 500 + i, "2024-06-10", "2024-07-10")
             for i in range(15)]  # fmt: skip
    placed = _place(_items(rows))
    tuesday = sorted(a for a, d in placed.items() if d == D("2024-06-11"))
    # Monday: every high and the 10 most valuable mediums (M05..M14); the 5 least: Tuesday.
    assert tuesday == ["M00", "M01", "M02", "M03", "M04"]
    assert sum(d == MON for d in placed.values()) == 30


def test_r_act_capacity_platinum_first_within_a_priority():
    rows = [(f"H{i}", f"C{i}", "high", 100 + i, "2024-06-10", "2024-07-10") for i in range(3)]
    rows.append(("HV", "CV", "high", 1, "2024-06-10", "2024-07-10", True))
    placed = _place(_items(rows), per_day=2)
    assert placed == {"HV": MON, "H2": MON, "H1": D("2024-06-11"), "H0": D("2024-06-11")}


def test_r_act_capacity_sunday_moves_to_monday_and_saturday_only_week():
    rows = [("S1", "C1", "high", 3, "2024-06-16", "2024-06-30"),  # a Sunday
            ("S2", "C2", "high", 2, "2024-06-10", "2024-06-30"),
            ("S3", "C3", "high", 1, "2024-06-10", "2024-06-30")]  # fmt: skip
    assert _place(_items(rows), per_day=1)["S1"] == D("2024-06-17")
    # Saturdays only, one call a day: 06-15 takes S2 (S1 is not due yet); on 06-22 S1 (due
    # 06-16, value 3) comes before S3 (value 1), which waits for 06-29.
    assert _place(_items(rows), per_day=1, days=(5,)) == {
        "S2": D("2024-06-15"), "S1": D("2024-06-22"), "S3": D("2024-06-29"),
    }  # fmt: skip


def test_r_act_capacity_validity_ends_before_a_free_day_backlog():
    rows = [("B1", "C1", "high", 30, "2024-06-10", "2024-06-11"),
            ("B2", "C2", "high", 20, "2024-06-10", "2024-06-11"),
            ("B3", "C3", "high", 10, "2024-06-10", "2024-06-11")]  # fmt: skip
    assert _place(_items(rows), per_day=1) == {"B1": MON, "B2": D("2024-06-11"), "B3": None}


def test_r_act_capacity_respects_the_customers_weekly_cap():
    # Monday 06-10 is full for A1 (one call a day... but two items); Z already has two
    # contacts in week 06-17, so Z's overflow skips that week for Monday 06-24.
    rows = [("Q", "CQ", "high", 9, "2024-06-15", "2024-06-29"),
            ("Z", "CZ", "high", 1, "2024-06-15", "2024-06-29")]  # fmt: skip
    weeks = pd.DataFrame({"customer_id": ["CZ"], "week": [_day("2024-06-17")], "contacts": [2]})
    items = _items(rows).assign(counted_week=_day("2024-06-10"))
    assert _place(items, per_day=1, weeks=weeks) == {"Q": D("2024-06-15"), "Z": D("2024-06-24")}


# --- end to end ----------------------------------------------------------------------------


def _config(rules: dict | None = None, **capacity) -> Config:
    """Default config with A-CARE-90D and A-WINBACK off (old orders would fire them)."""
    merged = dict(DEFAULT_CONFIG.actions.rules)
    for rule_id in ("A-CARE-90D", "A-WINBACK"):
        merged[rule_id] = merged[rule_id].model_copy(update={"enabled": False})
    for rule_id, update in (rules or {}).items():
        merged[rule_id] = merged[rule_id].model_copy(update=update)
    cap = CapacityConfig(**{**DEFAULT_CONFIG.actions.capacity.model_dump(), **capacity})
    return Config(
        actions=DEFAULT_CONFIG.actions.model_copy(update={"rules": merged, "capacity": cap})
    )


def _sql(store, sql: str) -> None:
    if store.kind == "duckdb":
        store.con.con.execute(sql)
    else:
        with store.con.con.cursor() as cur:
            cur.execute(sql)


def _fill(store, customers, complaints=(), declined=(), orders=(), advisors=("A1",)):
    store.con.insert("advisors", make_table("advisors", [
        {"advisor_id": a, "store_id": "S1", "role": "advisor", "active": True} for a in advisors
    ]))  # fmt: skip
    store.con.insert("customers", make_table("customers", [
        {"customer_id": c, "store_id": "S1", "advisor_id": advisors[0], **extra}
        for c, extra in customers
    ]))  # fmt: skip
    if complaints:
        store.con.insert("interactions", make_table("interactions", [
            {"interaction_id": f"I{c}", "customer_id": c, "ts": f"{day} 09:00:00",
             "type": "complaint"} for c, day in complaints
        ]))  # fmt: skip
    if declined:
        store.con.insert("declined_services", make_table("declined_services", [
            {"order_id": f"Q{c}{day}", "item": "tyres", "customer_id": c, "declined_date": day}
            for c, day in declined
        ]))  # fmt: skip
    if orders:
        store.con.insert("service_orders", make_table("service_orders", [
            {"order_id": f"O{c}", "customer_id": c, "open_date": "2024-06-01",
             "close_date": "2024-06-01", "category": "repair", "total_amount": amount,
             "cost_amount": amount * 0.45} for c, amount in orders
        ]))  # fmt: skip


def _actions(store) -> dict[str, dict]:
    rows = store.table("actions").to_pyarrow().to_pylist()
    return {r["customer_id"] + "|" + r["rule_id"]: r for r in rows}


def test_r_act_capacity_35_phone_actions_due_monday_in_the_store(store_url):
    """28 complaints (high, due Mon 06-10) and 7 declined quotes (medium, phone, due 06-10,
    values rising D1 < … < D7); D1 is platinum. Monday: the 28 complaints, D1 (platinum
    first) and D7 (most valuable); Tuesday: D2 … D6."""
    store = open_store(store_url)
    complainers = [f"C{i:02d}" for i in range(28)]
    quoters = [f"D{i}" for i in range(1, 8)]
    _fill(
        store,
        [(c, {}) for c in complainers + quoters],
        complaints=[(c, "2024-06-07") for c in complainers],
        declined=[(c, "2024-05-11") for c in quoters],
        orders=[(c, 1000 * i) for i, c in enumerate(quoters, start=1)],
    )
    config = _config()
    score_snapshot(store, MON, config)
    _sql(store, "UPDATE customer_scores SET tier = 'silver', r_score = 5")
    _sql(store, "UPDATE customer_scores SET tier = 'platinum' WHERE customer_id = 'D1'")
    run = generate_actions(store, MON, config)
    got = _actions(store)
    values = [got[f"{c}|A-DECLINED"]["expected_value"] for c in quoters]
    assert values == sorted(values) and len(set(values)) == 7  # D1 < D2 < … < D7
    assert (run.created, run.moved_by_capacity, run.to_backlog) == (35, 5, 0)
    tuesday = sorted(k.split("|")[0] for k, r in got.items() if r["due_date"] == D("2024-06-11"))
    assert tuesday == ["D2", "D3", "D4", "D5", "D6"]
    monday = [k for k, r in got.items() if r["due_date"] == MON]
    assert len(monday) == 30 and {"D1|A-DECLINED", "D7|A-DECLINED"} <= set(monday)
    for c in tuesday:  # moved: the due date it had, and its validity, are kept
        r = got[f"{c}|A-DECLINED"]
        assert (r["original_due_date"], r["valid_until"], r["status"]) == (
            MON,
            D("2024-07-10"),
            "open",
        )
    assert got["C00|A-COMPLAINT-72H"]["valid_until"] == D("2024-06-24")
    # Running again the same day changes nothing: Monday holds 30, Tuesday 5.
    again = generate_actions(store, MON, config)
    assert (again.created, again.moved_by_capacity, again.from_backlog) == (0, 0, 0)
    assert {k: r["due_date"] for k, r in _actions(store).items()} == {
        k: r["due_date"] for k, r in got.items()
    }
    store.close()


def test_r_act_capacity_sms_not_counted(store_url):
    """One call a day; complaints sent by SMS (3, due Mon) all stay on Monday; of the two
    declined quotes by phone (due Mon) one is Monday, the other Tuesday."""
    store = open_store(store_url)
    _fill(
        store,
        [(c, {}) for c in ("S1", "S2", "S3", "P1", "P2")],
        complaints=[(c, "2024-06-07") for c in ("S1", "S2", "S3")],
        declined=[(c, "2024-05-11") for c in ("P1", "P2")],
    )
    config = _config({"A-COMPLAINT-72H": {"channel": "sms"}}, calls_per_day=1)
    run = generate_actions(store, MON, config)
    got = {k: r["due_date"] for k, r in _actions(store).items()}
    assert run.moved_by_capacity == 1
    assert [got[f"S{i}|A-COMPLAINT-72H"] for i in (1, 2, 3)] == [MON] * 3
    assert sorted([got["P1|A-DECLINED"], got["P2|A-DECLINED"]]) == [MON, D("2024-06-11")]
    store.close()


def test_r_act_capacity_saturday_only_week(store_url):
    """Saturdays only, two calls a day: three complaints due Mon 06-10 (valid to 06-24) go
    two to Saturday 06-15, one to Saturday 06-22."""
    store = open_store(store_url)
    _fill(store, [(c, {}) for c in ("B1", "B2", "B3")],
          complaints=[(c, "2024-06-07") for c in ("B1", "B2", "B3")])  # fmt: skip
    run = generate_actions(store, MON, _config(working_days=("sat",), calls_per_day=2))
    got = sorted(r["due_date"] for r in _actions(store).values())
    assert got == [D("2024-06-15"), D("2024-06-15"), D("2024-06-22")]
    assert run.moved_by_capacity == 3
    store.close()


def test_r_act_capacity_backlog_counted_with_value_then_placed_when_a_day_frees(store_url):
    """One call a day, complaints valid 1 day: B3 (most valuable) Monday, B2 Tuesday, B1 finds
    no day by its valid_until (06-11): backlog, with its value. B2 is reached early (an
    outcome closes it), so Tuesday frees: the next run places B1 there (move logged)."""
    store = open_store(store_url)
    who = ("B1", "B2", "B3")
    _fill(store, [(c, {}) for c in who], complaints=[(c, "2024-06-07") for c in who],
          orders=[(c, 1000 * i) for i, c in enumerate(who, start=1)])  # fmt: skip
    config = _config({"A-COMPLAINT-72H": {"valid_days": 1}}, calls_per_day=1)
    run = generate_actions(store, MON, config)
    got = _actions(store)
    b1 = got["B1|A-COMPLAINT-72H"]
    assert [got[f"{c}|A-COMPLAINT-72H"]["due_date"] for c in who] == [MON, D("2024-06-11"), MON]
    assert (b1["status"], b1["valid_until"]) == ("backlog", D("2024-06-11"))
    assert b1["expected_value"] > 0
    assert (run.created, run.to_backlog) == (3, 1)
    assert run.backlog == (BacklogRow("S1", 1, round(b1["expected_value"], 2)),)
    assert backlog_summary(store, MON, config) == list(run.backlog)
    # Off the call list while in the backlog.
    listed = action_list(store, until=D("2024-06-11"), config=config, scripts=False)
    assert b1["action_id"] not in listed.column("action_id").to_pylist()
    b2 = got["B2|A-COMPLAINT-72H"]["action_id"]
    record_outcome(store, b2, "reached", config=config, recorded_at=dt.datetime(2024, 6, 10, 11))
    second = generate_actions(store, MON, config)
    assert (second.created, second.from_backlog, second.backlog) == (0, 1, ())
    b1_now = _actions(store)["B1|A-COMPLAINT-72H"]
    assert (b1_now["status"], b1_now["due_date"]) == ("open", D("2024-06-11"))
    moves = store.table("action_moves").to_pyarrow().to_pylist()
    assert moves == [{"action_id": b1["action_id"], "moved_on": MON, "from_due_date": MON,
                      "to_due_date": D("2024-06-11"), "reason": "R-ACT-CAPACITY"}]  # fmt: skip
    store.close()


def test_r_act_capacity_weekly_cap_still_holds(store_url):
    """One call a day. Q and Z complain Wed 06-12 (due Sat 06-15; Q more valuable). Z's two
    declined quotes (Z prefers SMS: not calls) are due Mon 06-17 and Tue 06-18, filling Z's
    next week (cap 2). Q keeps Saturday; Z's call cannot enter week 06-17, so it goes to
    Monday 06-24 (valid until 06-29)."""
    store = open_store(store_url)
    _fill(
        store,
        [("Q", {}), ("Z", {"preferred_channel": "sms"})],
        complaints=[("Q", "2024-06-12"), ("Z", "2024-06-12")],
        declined=[("Z", "2024-05-18"), ("Z", "2024-05-19")],
        orders=[("Q", 5000)],
    )
    config = _config(calls_per_day=1)
    generate_actions(store, D("2024-06-12"), config, through=D("2024-06-18"))
    rows = store.table("actions").to_pyarrow().to_pylist()
    got = sorted((r["customer_id"], r["rule_id"], r["due_date"], r["channel"]) for r in rows)
    assert got == [
        ("Q", "A-COMPLAINT-72H", D("2024-06-15"), "phone"),
        ("Z", "A-COMPLAINT-72H", D("2024-06-24"), "phone"),
        ("Z", "A-DECLINED", D("2024-06-17"), "sms"),
        ("Z", "A-DECLINED", D("2024-06-18"), "sms"),
    ]
    store.close()


def test_r_act_expire_unworked_action_expires_the_day_after_valid_until(store_url):
    """A complaint of Fri 06-07 is due Mon 06-10, valid until 06-24 (14 days). Listed on
    06-24; the run of 06-25 stores it expired (kept), it leaves the list and is never made
    again (the complaint is still unresolved: its trigger fires every day)."""
    store = open_store(store_url)
    _fill(store, [("E1", {})], complaints=[("E1", "2024-06-07")])
    config = _config()
    generate_actions(store, MON, config)
    aid = action_id("A-COMPLAINT-72H", "IE1")
    assert _actions(store)["E1|A-COMPLAINT-72H"]["valid_until"] == D("2024-06-24")
    on_24 = generate_actions(store, D("2024-06-24"), config)
    assert on_24.expired == 0
    listed = action_list(store, until=D("2024-06-24"), config=config, scripts=False)
    assert listed.column("action_id").to_pylist() == [aid]
    on_25 = generate_actions(store, D("2024-06-25"), config)
    assert (on_25.expired, on_25.created) == (1, 0)
    listed = action_list(store, until=D("2024-06-25"), config=config, scripts=False)
    assert listed.num_rows == 0
    for day in ("2024-06-26", "2024-07-10", "2025-01-06"):
        assert generate_actions(store, D(day), config).created == 0
    rows = store.table("actions").to_pyarrow().to_pylist()
    assert [(r["action_id"], r["status"]) for r in rows] == [(aid, "expired")]
    # A late entry of a call made in time still closes it.
    record_outcome(store, aid, "reached", config=config, recorded_at=dt.datetime(2024, 6, 20, 9))
    listed = action_list(store, until=D("2025-01-06"), config=config, scripts=False)
    assert listed.num_rows == 0
    store.close()


def test_r_act_expire_a_stop_wins_over_an_expiry_of_the_same_run(store_url):
    """R-ACT-CONSENT before R-ACT-EXPIRE: the complaint call valid until 06-24 whose customer
    is marked do-not-contact in the master before the run of 06-25 is stopped by that run,
    not expired."""
    store = open_store(store_url)
    _fill(store, [("E1", {})], complaints=[("E1", "2024-06-07")])
    config = _config()
    generate_actions(store, MON, config)
    _sql(store, "UPDATE customers SET do_not_contact = TRUE")
    on_25 = generate_actions(store, D("2024-06-25"), config)
    assert (on_25.stopped, on_25.expired) == (1, 0)
    rows = store.table("actions").to_pyarrow().to_pylist()
    assert [r["status"] for r in rows] == ["stopped"]
    store.close()


def test_r_act_expire_actions_stored_without_valid_until_get_it_on_the_next_run(store_url):
    """An action stored by an older Aftercare (valid_until NULL) never expires until a run
    fills it in: max(original_due_date, created_on) + the rule's valid_days."""
    store = open_store(store_url)
    _fill(store, [("E1", {})], complaints=[("E1", "2024-06-07")])
    config = _config()
    generate_actions(store, MON, config)
    _sql(store, "UPDATE actions SET valid_until = NULL")
    listed = action_list(store, until=D("2024-12-31"), config=config, scripts=False)
    assert listed.num_rows == 1  # no expiry known: still listed
    run = generate_actions(store, D("2024-12-31"), config)
    row = _actions(store)["E1|A-COMPLAINT-72H"]
    assert (run.expired, row["valid_until"], row["status"]) == (1, D("2024-06-24"), "expired")
    store.close()


@pytest.mark.parametrize("days", [np.array([_day("2024-06-16")])])
def test_r_act_capacity_weekday_of_a_day_number(days):
    assert schedule.weekday(days).tolist() == [6]  # 2024-06-16 was a Sunday


def test_r_act_expire_expired_winback_attempt_is_not_made_again(store_url):
    """W (consenting, last visits 2021-01-05 and 2022-01-05) is lapsed: A-WINBACK's first
    attempt is due 06-10, valid 2 days here. Unworked, it expires on 06-13; the absence gets
    no second attempt (before the fix, the run of 06-14 made attempt 2)."""
    store = open_store(store_url)
    _fill(store, [("W", {"marketing_consent": True})])
    store.con.insert("service_orders", make_table("service_orders", [
        {"order_id": f"O{y}", "customer_id": "W", "open_date": f"{y}-01-05",
         "close_date": f"{y}-01-05", "category": "repair", "total_amount": 3000,
         "cost_amount": 1000} for y in (2021, 2022)
    ]))  # fmt: skip
    config = _config()
    rules = dict(config.actions.rules)
    rules["A-WINBACK"] = DEFAULT_CONFIG.actions.rules["A-WINBACK"].model_copy(
        update={"valid_days": 2}
    )
    config = Config(actions=config.actions.model_copy(update={"rules": rules}))
    runs = {
        day: generate_actions(store, D(day), config)
        for day in ("2024-06-10", "2024-06-13", "2024-06-14", "2024-07-20")
    }
    assert [(r.created, r.expired) for r in runs.values()] == [(1, 0), (0, 1), (0, 0), (0, 0)]
    rows = store.table("actions").to_pyarrow().to_pylist()
    assert [(r["trigger_key"], r["status"]) for r in rows] == [("W|2022-01-05|1", "expired")]
    store.close()


def test_r_act_capacity_a_stored_action_the_cap_moves_lands_on_a_day_with_room(store_url):
    """One call a day. Run 1 (Mon 06-10, through 06-17): Z's declined quotes QA, QB (due
    06-12, 06-13) and Y's (due Mon 06-17) are placed. Run 2 (06-11): Z's complaint (high,
    due 06-14) takes Z's week, so the cap moves QB to Monday 06-17 — Y's call holds that day,
    so QB goes on to Tuesday 06-18: one move logged, R-ACT-CAPACITY, from 06-13."""
    store = open_store(store_url)
    _fill(store, [("Z", {}), ("Y", {})],
          declined=[("Z", "2024-05-13"), ("Z", "2024-05-14"), ("Y", "2024-05-18")])  # fmt: skip
    config = _config(calls_per_day=1)
    first = generate_actions(store, MON, config, through=D("2024-06-17"))
    assert (first.created, first.moved_by_capacity) == (3, 0)
    store.con.insert("interactions", make_table("interactions", [
        {"interaction_id": "IZ", "customer_id": "Z", "ts": "2024-06-11 09:00:00",
         "type": "complaint"}
    ]))  # fmt: skip
    second = generate_actions(store, D("2024-06-11"), config, through=D("2024-06-17"))
    assert (second.created, second.displaced) == (1, 1)
    due = {r["trigger_key"]: r["due_date"] for r in store.table("actions").to_pyarrow().to_pylist()}
    assert due == {"QZ2024-05-13": D("2024-06-12"), "QZ2024-05-14": D("2024-06-18"),
                   "QY2024-05-18": D("2024-06-17"), "IZ": D("2024-06-14")}  # fmt: skip
    moves = store.table("action_moves").to_pyarrow().to_pylist()
    assert moves == [{"action_id": action_id("A-DECLINED", "QZ2024-05-14"),
                      "moved_on": D("2024-06-11"), "from_due_date": D("2024-06-13"),
                      "to_due_date": D("2024-06-18"), "reason": "R-ACT-CAPACITY"}]  # fmt: skip
    store.close()


def test_r_act_expire_a_list_read_as_of_a_later_day_leaves_out_what_expired(store_url):
    """The complaint valid until 06-24, read on 06-25 with no run since 06-10: the list as
    of 06-25 leaves it out (derived expiry); without a day, it is as the last run stored it."""
    store = open_store(store_url)
    _fill(store, [("E1", {})], complaints=[("E1", "2024-06-07")])
    config = _config()
    generate_actions(store, MON, config)
    aid = action_id("A-COMPLAINT-72H", "IE1")
    on_24 = action_list(store, until=D("2024-06-24"), as_of=D("2024-06-24"), config=config)
    assert on_24.column("action_id").to_pylist() == [aid]
    on_25 = action_list(store, until=D("2024-06-25"), as_of=D("2024-06-25"), config=config)
    assert on_25.num_rows == 0
    stored = action_list(store, until=D("2024-06-25"), config=config, scripts=False)
    assert stored.column("action_id").to_pylist() == [aid]
    store.close()


def _three_complaints_one_call_a_day(store_url, **rule):
    """B1 < B2 < B3 in value complain on Fri 06-07 (due Mon 06-10); one call a day: Monday's
    run puts B3 on Mon, B2 on Tue, B1 on Wed. B3's call on Monday goes unanswered."""
    store = open_store(store_url)
    who = ("B1", "B2", "B3")
    _fill(store, [(c, {}) for c in who], complaints=[(c, "2024-06-07") for c in who],
          orders=[(c, 1000 * i) for i, c in enumerate(who, start=1)])  # fmt: skip
    config = _config({"A-COMPLAINT-72H": rule} if rule else None, calls_per_day=1)
    generate_actions(store, MON, config)
    got = _actions(store)
    assert [got[f"{c}|A-COMPLAINT-72H"]["due_date"] for c in who] == [
        D("2024-06-12"), D("2024-06-11"), MON,
    ]  # fmt: skip
    b3 = got["B3|A-COMPLAINT-72H"]["action_id"]
    record_outcome(store, b3, "no_answer", config=config, recorded_at=dt.datetime(2024, 6, 10, 15))
    return store, config, b3


def test_r_act_capacity_a_call_carried_over_takes_the_next_day_with_room(store_url):
    """Tuesday's run: B3 (missed on Monday, still open) is carried over; Tue and Wed are
    held by B2 and B1, so B3 goes to Thu 06-13 (move logged). Tuesday's list holds one
    call, not two: no advisor day over capacity, overdue calls included."""
    store, config, b3 = _three_complaints_one_call_a_day(store_url)
    tue = D("2024-06-11")
    run = generate_actions(store, tue, config)
    assert (run.created, run.carried, run.to_backlog) == (0, 1, 0)
    got = _actions(store)["B3|A-COMPLAINT-72H"]
    assert (got["due_date"], got["original_due_date"], got["status"]) == (
        D("2024-06-13"), MON, "open",
    )  # fmt: skip
    assert got["valid_until"] == D("2024-06-24")  # a move never extends validity
    moves = store.table("action_moves").to_pyarrow().to_pylist()
    assert moves == [{"action_id": b3, "moved_on": tue, "from_due_date": MON,
                      "to_due_date": D("2024-06-13"), "reason": "R-ACT-CAPACITY"}]  # fmt: skip
    listed = action_list(store, until=tue, as_of=tue, config=config, scripts=False)
    assert listed.column("customer_id").to_pylist() == ["B2"]
    # A rerun of the same day moves nothing again.
    again = generate_actions(store, tue, config)
    assert (again.carried, again.to_backlog) == (0, 0)
    store.close()


def test_r_act_capacity_a_carried_over_call_with_no_day_left_goes_to_the_backlog(store_url):
    """Complaints valid 2 days (to 06-12): B3, carried over on Tuesday, finds Tue and Wed
    held and Thursday past its validity: backlog, off the list, counted with its value."""
    store, config, b3 = _three_complaints_one_call_a_day(store_url, valid_days=2)
    tue = D("2024-06-11")
    run = generate_actions(store, tue, config)
    assert (run.carried, run.to_backlog) == (0, 1)
    got = _actions(store)["B3|A-COMPLAINT-72H"]
    assert (got["status"], got["due_date"]) == ("backlog", MON)
    assert run.backlog == (BacklogRow("S1", 1, round(got["expected_value"], 2)),)
    listed = action_list(store, until=tue, as_of=tue, config=config, scripts=False)
    assert b3 not in listed.column("action_id").to_pylist()
    store.close()


def test_r_act_capacity_counts_a_winback_the_call_list_shows_open(store_url):
    """W failed a win-back before their visit of 2024-05-01 and twice after: 2 failed
    attempts since the visit, so their fourth attempt (due Mon 06-10) is open on the call
    list, and holds Monday's one call: C's complaint (due Mon) goes to Tuesday. (Counted
    without the visit, W would be exhausted and Monday would seem free.)"""
    from outcome_rows import make_actions, make_outcomes

    store = open_store(store_url)
    _fill(store, [("W", {}), ("C", {})], complaints=[("C", "2024-06-07")])
    store.con.insert("service_orders", make_table("service_orders", [
        {"order_id": "OW", "customer_id": "W", "open_date": "2024-05-01",
         "close_date": "2024-05-01", "category": "repair", "total_amount": 800.0,
         "cost_amount": 400.0}
    ]))  # fmt: skip
    attempts = [("W1", "2024-04-01", "declined"), ("W2", "2024-05-20", "no_answer"),
                ("W2B", "2024-05-27", "wrong_number")]  # fmt: skip
    store.con.insert("actions", make_actions([
        {"action_id": a, "rule_id": "A-WINBACK", "customer_id": "W", "advisor_id": "A1",
         "due_date": day, "status": "done", "valid_until": "2024-07-30"}
        for a, day, _ in attempts
    ] + [{"action_id": "W3", "rule_id": "A-WINBACK", "customer_id": "W", "advisor_id": "A1",
          "due_date": "2024-06-10", "valid_until": "2024-07-10", "store_id": "S1"}]))  # fmt: skip
    store.con.insert("action_outcomes", make_outcomes([
        {"action_id": a, "result": r, "recorded_at": f"{day} 10:00:00"} for a, day, r in attempts
    ]))  # fmt: skip
    config = _config(calls_per_day=1)
    listed = action_list(store, until=MON, as_of=MON, config=config, scripts=False)
    assert listed.column("action_id").to_pylist() == ["W3"]
    generate_actions(store, MON, config)
    assert _actions(store)["C|A-COMPLAINT-72H"]["due_date"] == D("2024-06-11")
    store.close()
