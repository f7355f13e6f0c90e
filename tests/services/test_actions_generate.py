"""The engine end to end on a hand-made store: consent, catch-up, cap, advisors, rank, reruns.

As of Wednesday 2024-06-12 (ISO week 2024-06-10 … 06-16). Runs on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from aftercare.config import DEFAULT_CONFIG, Config
from aftercare.playbook.model import action_id
from aftercare.services.actions import DEDICATED_TABLE, action_list, generate_actions
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store
from factories import make_table

AS_OF = dt.date(2024, 6, 12)
D = dt.date.fromisoformat
PLATINUM = ("P1", "P2", "P3")


def _vin(i: int) -> str:
    return f"LSVAA4182E2{i:06d}"


CUSTOMERS = [
    *[{"customer_id": c, "store_id": "S1", "marketing_consent": True} for c in PLATINUM],
    {"customer_id": "N1", "do_not_contact": True, "marketing_consent": True},
    {"customer_id": "N2", "marketing_consent": True},
    {"customer_id": "N3", "marketing_consent": False, "advisor_id": "A2"},
    {"customer_id": "N4", "marketing_consent": True, "advisor_id": "A3"},
    {"customer_id": "K1", "store_id": "S1"},
    {"customer_id": "L1", "store_id": "S1", "advisor_id": "A1"},
    {"customer_id": "V2", "store_id": "S1", "advisor_id": "A2"},
]
VEHICLES = [
    {"vin": _vin(1), "customer_id": "K1", "delivery_date": "2024-02-01"},
    {"vin": _vin(2), "customer_id": "L1", "delivery_date": "2019-01-01"},
    {
        "vin": _vin(3),
        "customer_id": "N3",
        "delivery_date": "2019-01-01",
        "factory_warranty_end": "2024-07-20",
    },
    {
        "vin": _vin(4),
        "customer_id": "N4",
        "delivery_date": "2019-01-01",
        "factory_warranty_end": "2024-07-20",
    },
    # V2: two cars delivered in May, both welcome calls late (due 05-27 and 06-01).
    {"vin": _vin(5), "customer_id": "V2", "delivery_date": "2024-05-20"},
    {"vin": _vin(6), "customer_id": "V2", "delivery_date": "2024-05-25"},
]
SPEND = {"P1": 10000, "P2": 20000, "P3": 5000}
ORDERS = [
    *[
        {
            "order_id": f"S{c}",
            "customer_id": c,
            "open_date": "2024-06-01",
            "total_amount": amount,
            "cost_amount": amount * 0.45,
            "category": "repair",
        }
        for c, amount in SPEND.items()
    ],
    # K1: first service 2024-05-13 (→ A-FIRST-SERVICE-30D due 06-12, low), a repair closed
    # 06-11 (→ A-FOLLOWUP-24H due 06-12, medium).
    {
        "order_id": "K1a",
        "vin": _vin(1),
        "open_date": "2024-05-13",
        "close_date": "2024-05-13",
        "category": "maintenance",
        "total_amount": 300,
        "odometer_km": 4800,
    },
    {
        "order_id": "K1b",
        "vin": _vin(1),
        "open_date": "2024-06-11",
        "close_date": "2024-06-11",
        "category": "repair",
        "total_amount": 200,
        "advisor_id": "A3",
    },
    # L1: four orders closed; three inside the 7-day catch-up, one stale.
    *[
        {
            "order_id": f"L1{d}",
            "vin": _vin(2),
            "open_date": f"2024-{d}",
            "close_date": f"2024-{d}",
            "category": "repair",
            "total_amount": 100,
        }
        for d in ("05-01", "06-06", "06-08", "06-10")
    ],
]
COMPLAINTS = [
    *[
        {
            "interaction_id": f"I{c}",
            "customer_id": c,
            "ts": "2024-06-09 09:00:00",
            "type": "complaint",
        }
        for c in (*PLATINUM, "N1", "N2", "N3", "K1")
    ],
    # P1's second complaint is due 06-15: created by the later run, for the same advisor.
    {
        "interaction_id": "IP1b",
        "customer_id": "P1",
        "ts": "2024-06-12 10:00:00",
        "type": "complaint",
    },
]
LATER = dt.date(2024, 6, 15)
ADVISORS = [
    {"advisor_id": "A1", "store_id": "S1", "role": "advisor", "active": True},
    {"advisor_id": "A2", "store_id": "S1", "role": "advisor", "active": True},
    {"advisor_id": "A3", "store_id": "S1", "role": "advisor", "active": False},
    {"advisor_id": "M1", "store_id": "S1", "role": "manager", "active": True},
]


def _insert(store, name: str, rows: list[dict]) -> None:
    schema = store.table(name).schema().to_pyarrow()
    table = pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)
    store.con.insert(name, table)


@pytest.fixture(scope="module")
def runs(shared_store_url):
    """The store after the first run, with both runs' results and the week list."""
    url = shared_store_url
    store = open_store(url)
    for name, rows in (
        ("customers", CUSTOMERS),
        ("vehicles", VEHICLES),
        ("service_orders", ORDERS),
        ("interactions", COMPLAINTS),
        ("advisors", ADVISORS),
    ):
        store.con.insert(name, make_table(name, rows))
    _insert(
        store,
        "contact_preferences",
        [
            {"customer_id": "N2", "do_not_contact": False, "set_at": dt.datetime(2024, 1, 1)},
            {"customer_id": "N2", "do_not_contact": True, "set_at": dt.datetime(2024, 5, 1)},
        ],
    )
    score_snapshot(store, AS_OF, DEFAULT_CONFIG)
    # Hand-set tiers: the three P customers are platinum, with the top recency score.
    ids = ", ".join(f"'{c}'" for c in PLATINUM)
    sql = f"UPDATE customer_scores SET tier = 'platinum', r_score = 5 WHERE customer_id IN ({ids})"
    if store.kind == "duckdb":
        store.con.con.execute(sql)
    else:
        with store.con.con.cursor() as cur:
            cur.execute(sql)
    # P1 already has a dedicated advisor, A1 (R-ACT-ADVISOR: sticky while A1 is active).
    _insert(
        store,
        DEDICATED_TABLE,
        [{"customer_id": "P1", "advisor_id": "A1", "assigned_on": dt.date(2024, 1, 1)}],
    )
    first = generate_actions(store, AS_OF, DEFAULT_CONFIG)
    actions = {r["action_id"]: r for r in store.table("actions").to_pyarrow().to_pylist()}
    dedicated = store.table(DEDICATED_TABLE).to_pyarrow().to_pylist()
    listed = action_list(store, until=AS_OF, config=DEFAULT_CONFIG).to_pylist()
    again = generate_actions(store, AS_OF, DEFAULT_CONFIG)
    next_day = generate_actions(store, AS_OF + dt.timedelta(days=1), DEFAULT_CONFIG)
    later = generate_actions(store, LATER, DEFAULT_CONFIG)
    later_actions = {
        r["action_id"]: r
        for r in store.table("actions").to_pyarrow().to_pylist()
        if r["action_id"] not in actions
    }
    later_dedicated = store.table(DEDICATED_TABLE).to_pyarrow().to_pylist()
    yield {
        "first": first,
        "actions": actions,
        "dedicated": dedicated,
        "listed": listed,
        "again": again,
        "next_day": next_day,
        "later": later,
        "later_actions": later_actions,
        "later_dedicated": later_dedicated,
    }
    store.close()


def _by_customer(actions: dict, customer: str) -> dict[str, dict]:
    return {a["rule_id"]: a for a in actions.values() if a["customer_id"] == customer}


def test_stable_ids_match_model_action_id(runs):
    for aid, a in runs["actions"].items():
        assert aid == action_id(a["rule_id"], a["trigger_key"])


def test_r_act_consent_dnc_and_opt_out_block_everything(runs):
    assert _by_customer(runs["actions"], "N1") == {}  # customers.do_not_contact
    assert _by_customer(runs["actions"], "N2") == {}  # latest contact preference: opted out


def test_r_act_consent_marketing_needs_consent_service_does_not(runs):
    n3 = _by_customer(runs["actions"], "N3")
    assert "A-COMPLAINT-72H" in n3 and "A-EXT-WARRANTY" not in n3
    assert "A-EXT-WARRANTY" in _by_customer(runs["actions"], "N4")


def test_r_act_catchup_one_action_due_now_for_the_latest_trigger(runs):
    l1 = [a for a in runs["actions"].values() if a["customer_id"] == "L1"]
    assert [(a["trigger_key"], a["due_date"], a["original_due_date"]) for a in l1] == [
        ("L106-10", AS_OF, D("2024-06-11"))
    ]


def test_r_act_catchup_is_per_vehicle_for_vehicle_rules(runs):
    # V2's two cars: each late welcome call is its own trigger, both due now.
    v2 = sorted(
        (a["vin"], a["due_date"], a["original_due_date"])
        for a in runs["actions"].values()
        if a["customer_id"] == "V2"
    )
    assert v2 == [(_vin(5), AS_OF, D("2024-05-27")), (_vin(6), AS_OF, D("2024-06-01"))]
    assert all(
        a["rule_id"] == "A-WELCOME" for a in runs["actions"].values() if a["customer_id"] == "V2"
    )


def test_r_act_catchup_rerun_creates_nothing(runs):
    assert runs["again"].created == 0
    assert runs["next_day"].by_rule.get("A-FOLLOWUP-24H", 0) == 0


def test_r_act_cap_low_priority_waits_for_next_week(runs):
    k1 = _by_customer(runs["actions"], "K1")
    assert k1["A-COMPLAINT-72H"]["due_date"] == AS_OF
    assert k1["A-FOLLOWUP-24H"]["due_date"] == AS_OF
    low = k1["A-FIRST-SERVICE-30D"]
    assert (low["due_date"], low["original_due_date"]) == (D("2024-06-17"), AS_OF)
    assert runs["first"].moved_by_cap == 1


def test_r_act_advisor_platinum_balanced_and_recorded(runs):
    dedicated = {r["customer_id"]: r["advisor_id"] for r in runs["dedicated"]}
    # P1 keeps A1 (load 1). Most valuable first: P2 → A2 (load 0), P3 → A1 (1/1 tie → id).
    assert dedicated == {"P1": "A1", "P2": "A2", "P3": "A1"}
    assert [r["customer_id"] for r in runs["dedicated"]].count("P1") == 1  # not re-assigned
    for c in PLATINUM:
        assert _by_customer(runs["actions"], c)["A-COMPLAINT-72H"]["advisor_id"] == dedicated[c]


def test_r_act_advisor_dedicated_advisor_sticks_on_later_runs(runs):
    # 06-15: P1's second complaint (due 06-15) goes to A1 again, though A2 now has fewer
    # platinum customers (A1: P1, P3; A2: P2); no assignment is added or changed.
    later = [a for a in runs["later_actions"].values() if a["customer_id"] == "P1"]
    assert [(a["trigger_key"], a["advisor_id"]) for a in later] == [("IP1b", "A1")]
    assert runs["later_dedicated"] == runs["dedicated"]


def test_r_act_advisor_own_then_last_order_then_pool(runs):
    assert _by_customer(runs["actions"], "L1")["A-FOLLOWUP-24H"]["advisor_id"] == "A1"  # own
    assert _by_customer(runs["actions"], "N3")["A-COMPLAINT-72H"]["advisor_id"] == "A2"  # own
    # N4's own advisor A3 is inactive, no store: the pool's least-loaded active advisor.
    assert _by_customer(runs["actions"], "N4")["A-EXT-WARRANTY"]["advisor_id"] in {"A1", "A2"}
    # K1's last-order advisor A3 is inactive: store S1's pool.
    assert _by_customer(runs["actions"], "K1")["A-COMPLAINT-72H"]["advisor_id"] in {"A1", "A2"}


def test_r_act_rank_expected_value_orders_within_priority(runs):
    # LTV = spend × 55 % margin × 8 platinum years; p(active) = r 5/5 × 2/3: the unresolved
    # complaint raises churn risk from low to medium (R-CHURN-RISK).
    ev = {
        c: _by_customer(runs["actions"], c)["A-COMPLAINT-72H"]["expected_value"] for c in PLATINUM
    }
    assert ev == pytest.approx({c: SPEND[c] * 0.55 * 8 * 2 / 3 for c in PLATINUM}, abs=0.01)
    high = [r["customer_id"] for r in runs["listed"] if r["rule_id"] == "A-COMPLAINT-72H"]
    assert high[:3] == ["P2", "P1", "P3"]


def test_holdout_is_deterministic_from_the_action_id(tmp_path):
    store = open_store(str(tmp_path / "h.duckdb"))
    store.con.insert(
        "customers", make_table("customers", [{"customer_id": f"H{i}"} for i in range(40)])
    )
    store.con.insert(
        "interactions",
        make_table(
            "interactions",
            [
                {
                    "interaction_id": f"X{i}",
                    "customer_id": f"H{i}",
                    "ts": "2024-06-09 09:00:00",
                    "type": "complaint",
                }
                for i in range(40)
            ],
        ),
    )
    rules = dict(DEFAULT_CONFIG.actions.rules)
    rules["A-COMPLAINT-72H"] = rules["A-COMPLAINT-72H"].model_copy(update={"holdout_share": 0.5})
    cfg = Config(actions=DEFAULT_CONFIG.actions.model_copy(update={"rules": rules}))
    run = generate_actions(store, AS_OF, cfg)
    rows = store.table("actions").to_pyarrow().to_pylist()
    assert run.created == 40 and 0 < run.holdout < 40
    for r in rows:
        held = int(r["action_id"][1:9], 16) / 16**8 < 0.5
        assert r["status"] == ("holdout" if held else "open")
    store.close()


def _set_tiers(store, tier: str, customers: tuple[str, ...]) -> None:
    ids = ", ".join(f"'{c}'" for c in customers)
    store.con.con.execute(
        f"UPDATE customer_scores SET tier = '{tier}' WHERE customer_id IN ({ids})"
    )


def _rows(store) -> list[dict]:
    return store.table("actions").order_by("action_id").to_pyarrow().to_pylist()


def test_r_act_catchup_late_import_of_a_second_vehicle_is_not_superseded(tmp_path):
    store = open_store(str(tmp_path / "v.duckdb"))
    store.con.insert("customers", make_table("customers", [{"customer_id": "W"}]))
    store.con.insert(
        "vehicles", make_table("vehicles", [{"vin": _vin(7), "customer_id": "W",
                                             "delivery_date": "2024-06-01"}])
    )  # fmt: skip
    generate_actions(store, D("2024-06-10"), DEFAULT_CONFIG)
    # The DMS export of the second car arrives a day later; it was delivered earlier.
    store.con.insert(
        "vehicles", make_table("vehicles", [{"vin": _vin(8), "customer_id": "W",
                                             "delivery_date": "2024-05-30"}])
    )  # fmt: skip
    run = generate_actions(store, D("2024-06-11"), DEFAULT_CONFIG)
    assert run.by_rule == {"A-WELCOME": 1}
    got = [(r["vin"], r["due_date"], r["original_due_date"]) for r in _rows(store)]
    assert sorted(got) == [
        (_vin(7), D("2024-06-10"), D("2024-06-08")),
        (_vin(8), D("2024-06-11"), D("2024-06-06")),
    ]
    store.close()


def test_r_act_catchup_staleness_per_rule_after_a_gap(tmp_path):
    """First run 2024-06-12, weeks after the triggers (a late import, or a gap in runs).

    Unresolved complaint (05-01, due 05-04): within a year of being logged → one action due
    now; one logged 2023-06-01 (over 365 days before) → none, it is history.
    Resolved complaint (05-01): 39 days late > 14 → none. Follow-up of an order closed
    05-01 (due 05-02): 41 days late > 7 → none. Birthdays of platinum customers: 05-10
    (due 05-09, 34 days late > 7) → none; 06-08 (due 06-07, 5 days late) → due now.
    """
    store = open_store(str(tmp_path / "g.duckdb"))
    store.con.insert(
        "customers",
        make_table("customers", [
            {"customer_id": "G", "birthday": "1980-05-10", "marketing_consent": True},
            {"customer_id": "H", "birthday": "1985-06-08", "marketing_consent": True},
        ]),
    )  # fmt: skip
    store.con.insert(
        "service_orders",
        make_table("service_orders", [
            {"order_id": "OG", "customer_id": "G", "open_date": "2024-05-01",
             "close_date": "2024-05-01", "category": "repair", "total_amount": 900},
            {"order_id": "OH", "customer_id": "H", "open_date": "2024-05-20",
             "close_date": "2024-05-20", "category": "repair", "total_amount": 900},
        ]),
    )  # fmt: skip
    store.con.insert(
        "interactions",
        make_table("interactions", [
            {"interaction_id": "CG", "customer_id": "G", "ts": "2024-05-01 09:00:00",
             "type": "complaint", "resolved": False},
            {"interaction_id": "CH", "customer_id": "H", "ts": "2024-05-01 09:00:00",
             "type": "complaint", "resolved": True},
            {"interaction_id": "CG-OLD", "customer_id": "G", "ts": "2023-06-01 09:00:00",
             "type": "complaint", "resolved": False},
        ]),
    )  # fmt: skip
    score_snapshot(store, AS_OF, DEFAULT_CONFIG)
    _set_tiers(store, "platinum", ("G", "H"))
    generate_actions(store, AS_OF, DEFAULT_CONFIG)
    rows = _rows(store)
    assert [r["trigger_key"] for r in rows if r["rule_id"] == "A-COMPLAINT-72H"] == ["CG"]
    got = {
        (r["customer_id"], r["rule_id"]): (r["due_date"], r["original_due_date"])
        for r in rows
        if r["rule_id"] in ("A-COMPLAINT-72H", "A-FOLLOWUP-24H", "A-BIRTHDAY")
    }
    assert got == {
        ("G", "A-COMPLAINT-72H"): (AS_OF, D("2024-05-04")),
        ("H", "A-BIRTHDAY"): (AS_OF, D("2024-06-07")),
    }
    store.close()


def test_r_act_cap_new_high_priority_displaces_stored_lower_priority(store_url):
    """Run 1 (Mon 06-10, planning the week): Z's two declined quotes, medium, due 06-12 and
    06-13, fill the week (cap 2). A complaint logged 06-11 (high, due 06-14) arrives; run 2
    (06-11) gives it the week and moves the later quote to Monday 06-17, same id, logged."""
    store = open_store(store_url)
    store.con.insert("customers", make_table("customers", [{"customer_id": "Z"}]))
    store.con.insert(
        "declined_services",
        make_table("declined_services", [
            {"order_id": "QA", "item": "wipers", "customer_id": "Z", "declined_date": "2024-05-13"},
            {"order_id": "QB", "item": "tyres", "customer_id": "Z", "declined_date": "2024-05-14"},
        ]),
    )  # fmt: skip
    week_end = D("2024-06-16")
    first = generate_actions(store, D("2024-06-10"), DEFAULT_CONFIG, through=week_end)
    assert (first.created, first.moved_by_cap, first.displaced) == (2, 0, 0)
    store.con.insert(
        "interactions",
        make_table("interactions", [{"interaction_id": "IZ", "customer_id": "Z",
                                     "ts": "2024-06-11 09:00:00", "type": "complaint"}]),
    )  # fmt: skip
    second = generate_actions(store, D("2024-06-11"), DEFAULT_CONFIG, through=week_end)
    assert (second.created, second.moved_by_cap, second.displaced) == (1, 0, 1)
    due = {r["trigger_key"]: (r["action_id"], r["due_date"]) for r in _rows(store)}
    assert due == {
        "IZ": (action_id("A-COMPLAINT-72H", "IZ"), D("2024-06-14")),
        "QA": (action_id("A-DECLINED", "QA"), D("2024-06-12")),
        "QB": (action_id("A-DECLINED", "QB"), D("2024-06-17")),
    }
    moves = store.table("action_moves").to_pyarrow().to_pylist()
    assert moves == [
        {
            "action_id": action_id("A-DECLINED", "QB"),
            "moved_on": D("2024-06-11"),
            "from_due_date": D("2024-06-13"),
            "to_due_date": D("2024-06-17"),
            "reason": "R-ACT-CAP",
        }
    ]
    # A third run changes nothing: the week holds its two contacts.
    assert generate_actions(store, D("2024-06-12"), DEFAULT_CONFIG, through=week_end).created == 0
    assert {r["trigger_key"]: r["due_date"] for r in _rows(store)}["QB"] == D("2024-06-17")
    store.close()
