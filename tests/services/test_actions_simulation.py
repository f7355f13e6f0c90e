"""400 consecutive daily engine runs over a synthetic dealer, with a 30-day gap (SPEC §6).

The demo dealer (300 customers, seed 5, history to 2025-06-30) is written as DMS exports and
imported through the normal import path (as ``aftercare demo`` does), on DuckDB. The engine
then runs once a day from 2024-04-27 for 200 days, not at all for 30 days (2024-11-13 …
2024-12-12), and once a day for 200 more days; scores are snapshotted on the 1st of every
month it runs. Along the way advisors record outcomes: opt-outs, bookings, and failed
win-back calls (every attempt of eight win-back customers ends in no answer).

Asserted over the whole history: R-ACT-CATCHUP (one action per trigger, none backdated, no
burst after the gap, an unresolved complaint logged in the gap still gets its call),
R-ACT-CONSENT (no action for do-not-contact or opted-out customers, no marketing without
consent), R-ACT-CAP (at most 2 contacts per customer per ISO week by due date), A-BIRTHDAY
(once a year, on the right day; 29 February on the 28th in 2025), A-WINBACK (stopped
after 3 failed attempts), R-ACT-EXPIRE (no action on the call list past its validity, checked
every fifth run day) and R-ACT-CAPACITY (no advisor working day holds more open calls than
``calls_per_day``, and no call list read on a run day holds more, overdue calls included;
calls only on working days).

Part of the default test run (issue 11): the engine compiles its plans once
(:mod:`aftercare.store.plans`), so a day's run takes a fraction of a second here.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict

import pytest

from aftercare.config import DEFAULT_CONFIG
from aftercare.playbook.engine import TRIGGER_RULES, VEHICLE_RULES
from aftercare.services.actions import generate_actions
from aftercare.services.call_list import action_list, current_actions
from aftercare.services.demo import run_demo
from aftercare.services.outcomes import record_outcome
from aftercare.services.scoring import score_snapshot
from aftercare.store import open_store
from factories import make_table

END = dt.date(2025, 6, 30)
START = dt.date(2024, 4, 27)
RUNS_BEFORE_GAP = 200
GAP_DAYS = 30
RUNS_AFTER_GAP = 200
RESTART = START + dt.timedelta(days=RUNS_BEFORE_GAP + GAP_DAYS)
CAP = DEFAULT_CONFIG.actions.weekly_contact_cap
MAX_ATTEMPTS = DEFAULT_CONFIG.actions.winback_max_attempts
RETRY_DAYS = DEFAULT_CONFIG.actions.winback_retry_days
MARKETING_RULES = {r for r, cfg in DEFAULT_CONFIG.actions.rules.items() if cfg.marketing}
LEAP_CUSTOMER_BIRTHDAY = dt.date(1988, 2, 29)
OPT_OUTS = 5
WINBACK_FAILERS = 8
CAPACITY = DEFAULT_CONFIG.actions.capacity
LIST_EVERY = 5  # R-ACT-EXPIRE: the call list is read every fifth run day
BOOKINGS = 5
GAP_COMPLAINT = "SIM-GAP-COMPLAINT"


def _run_days() -> list[dt.date]:
    before = [START + dt.timedelta(days=i) for i in range(RUNS_BEFORE_GAP)]
    after = [RESTART + dt.timedelta(days=i) for i in range(RUNS_AFTER_GAP)]
    return before + after


def _sql(store, sql: str) -> None:
    store.con.con.execute(sql)


def _pick_customers(store) -> tuple[str, str]:
    """A consenting customer to be born on 29 February, and one to complain in the gap."""
    c = store.table("customers")
    ok = c.filter(c.marketing_consent, ~c.do_not_contact).order_by("customer_id")
    ids = ok.select("customer_id").limit(2).to_pyarrow().column(0).to_pylist()
    return ids[0], ids[1]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """Run the 400 days; return what the assertions read."""
    tmp = tmp_path_factory.mktemp("simulation")
    demo = run_demo(300, seed=5, as_of=END, out_dir=tmp / "demo", db=str(tmp / "sim.duckdb"))
    assert demo.rejected == 0
    store = open_store(demo.db_url)
    leap, complainer = _pick_customers(store)
    _sql(store, f"UPDATE customers SET birthday = DATE '{LEAP_CUSTOMER_BIRTHDAY}' "
                f"WHERE customer_id = '{leap}'")  # fmt: skip
    # A complaint logged in the gap, not resolved: it must still get its call at restart.
    gap_day = START + dt.timedelta(days=RUNS_BEFORE_GAP + 2)
    store.con.insert(
        "interactions",
        make_table("interactions", [{
            "interaction_id": GAP_COMPLAINT, "customer_id": complainer,
            "ts": dt.datetime.combine(gap_day, dt.time(9)), "type": "complaint",
            "resolved": False,
        }]),
    )  # fmt: skip
    opted_out: dict[str, dt.date] = {}
    failers: set[str] = set()
    booked = 0
    restart_created = None
    listed_past_validity: list[tuple[dt.date, str, dt.date | None]] = []
    lists_read = 0
    lists_over_capacity: list[tuple[dt.date, str, int]] = []
    ever_open: set[str] = set()
    for number, day in enumerate(_run_days()):
        if day.day == 1 or day in (START, RESTART):
            score_snapshot(store, day, DEFAULT_CONFIG)
            # The leap-day customer is a platinum customer (A-BIRTHDAY: platinum and gold).
            _sql(store, f"UPDATE customer_scores SET tier = 'platinum' "
                        f"WHERE customer_id = '{leap}'")  # fmt: skip
        run = generate_actions(store, day, DEFAULT_CONFIG)
        if day == RESTART:
            restart_created = run.created
        # Actions given a day (open): one that went to the backlog and expired there never was.
        # Read in plain SQL: compiling an Ibis expression twice a day would be most of the
        # test's own time.
        open_now = store.con.con.execute(
            "SELECT action_id, rule_id, customer_id, created_on FROM actions "
            "WHERE status = 'open' ORDER BY action_id"
        ).to_arrow_table()
        ever_open |= set(open_now.column("action_id").to_pylist())
        today = [r for r in open_now.to_pylist() if r["created_on"] == day]
        at = dt.datetime.combine(day, dt.time(10))
        for act in today:
            who, rule = act["customer_id"], act["rule_id"]
            result = None
            if rule == "A-WINBACK" and (who in failers or len(failers) < WINBACK_FAILERS):
                failers.add(who)
                result = "no_answer"
            elif rule == "A-FOLLOWUP-24H" and len(opted_out) < OPT_OUTS and who != leap:
                if who not in opted_out and who not in failers:
                    opted_out[who] = day
                    result = "opted_out"
            elif rule == "A-COMPLAINT-72H" and booked < BOOKINGS:
                booked += 1
                result = "booked"
            if result:
                record_outcome(
                    store, act["action_id"], result, config=DEFAULT_CONFIG, recorded_at=at
                )
        if number % LIST_EVERY == 0:
            listed = action_list(store, until=day, config=DEFAULT_CONFIG, scripts=False)
            lists_read += listed.num_rows > 0
            listed_past_validity += [
                (day, r["action_id"], r["valid_until"])
                for r in listed.select(["action_id", "valid_until"]).to_pylist()
                if r["valid_until"] is None or r["valid_until"] < day
            ]
            calls = Counter(
                r["advisor_id"]
                for r in listed.select(["advisor_id", "channel"]).to_pylist()
                if r["advisor_id"] is not None and r["channel"] in CAPACITY.channels
            )
            lists_over_capacity += [(day, a, n) for a, n in calls.items()
                                    if n > CAPACITY.calls_per_day]  # fmt: skip
    actions = store.table("actions").to_pyarrow().to_pylist()
    status = {
        r["action_id"]: r for r in current_actions(store, DEFAULT_CONFIG).to_pyarrow().to_pylist()
    }
    customers = {r["customer_id"]: r for r in store.table("customers").to_pyarrow().to_pylist()}
    outcomes = store.table("action_outcomes").to_pyarrow().to_pylist()
    store.close()
    return {
        "actions": actions,
        "status": status,
        "customers": customers,
        "outcomes": outcomes,
        "opted_out": opted_out,
        "failers": failers,
        "leap": leap,
        "complainer": complainer,
        "restart_created": restart_created,
        "listed_past_validity": listed_past_validity,
        "lists_read": lists_read,
        "lists_over_capacity": lists_over_capacity,
        "ever_open": ever_open,
    }


def test_the_simulation_did_something(sim):
    rules = Counter(a["rule_id"] for a in sim["actions"])
    assert len(sim["actions"]) > 500
    for rule in ("A-FOLLOWUP-24H", "A-MAINTENANCE", "A-WINBACK", "A-BIRTHDAY", "A-CARE-90D"):
        assert rules[rule] > 0, rule
    assert len(sim["opted_out"]) == OPT_OUTS
    assert len(sim["failers"]) == WINBACK_FAILERS


def test_r_act_catchup_never_two_actions_for_one_trigger(sim):
    keys = Counter((a["rule_id"], a["trigger_key"]) for a in sim["actions"])
    assert max(keys.values()) == 1
    assert len({a["action_id"] for a in sim["actions"]}) == len(sim["actions"])


def test_r_act_catchup_nothing_backdated_and_no_burst_after_the_gap(sim):
    for a in sim["actions"]:
        assert a["due_date"] >= a["created_on"], a
        assert a["original_due_date"] <= a["due_date"], a
    assert not [a for a in sim["actions"] if START + dt.timedelta(days=RUNS_BEFORE_GAP)
                <= a["created_on"] < RESTART]  # fmt: skip
    restart = [a for a in sim["actions"] if a["created_on"] == RESTART]
    assert restart and all(a["due_date"] >= RESTART for a in restart)
    # One action per subject: no pile of stale follow-ups, care calls or birthdays.
    subjects = Counter(
        (a["rule_id"], a["customer_id"], a["vin"] if a["rule_id"] in VEHICLE_RULES else None)
        for a in restart
        if a["rule_id"] not in TRIGGER_RULES
    )
    assert max(subjects.values()) == 1
    # Staleness limits: no follow-up older than 7 days, no birthday older than 7 days.
    for a in restart:
        limit = DEFAULT_CONFIG.actions.rules[a["rule_id"]].catch_up_days
        if a["rule_id"] in ("A-FOLLOWUP-24H", "A-BIRTHDAY"):
            assert (RESTART - a["original_due_date"]).days <= limit, a
    gap = [a for a in restart if a["trigger_key"] == GAP_COMPLAINT]
    assert [(a["customer_id"], a["priority"]) for a in gap] == [(sim["complainer"], "high")]


def test_r_act_consent_do_not_contact_and_opt_out(sim):
    dnc = {c for c, r in sim["customers"].items() if r["do_not_contact"]}
    assert dnc, "the demo has do-not-contact customers"
    assert not [a for a in sim["actions"] if a["customer_id"] in dnc]
    for who, day in sim["opted_out"].items():
        after = [a for a in sim["actions"] if a["customer_id"] == who and a["created_on"] > day]
        assert after == []
        mine = [s for s in sim["status"].values() if s["customer_id"] == who]
        assert mine and all(s["status"] != "open" for s in mine)


def test_r_act_consent_no_marketing_without_consent(sim):
    assert {"A-WINBACK", "A-BIRTHDAY"} <= MARKETING_RULES
    no_consent = {c for c, r in sim["customers"].items() if not r["marketing_consent"]}
    for a in sim["actions"]:
        if a["is_marketing"] or a["rule_id"] in MARKETING_RULES:
            assert a["customer_id"] not in no_consent, a


def test_r_act_cap_two_contacts_per_customer_per_iso_week(sim):
    weeks = Counter(
        (a["customer_id"], a["due_date"].isocalendar()[:2])
        for a in sim["actions"]
        # stored: open (done ones included) or expired; not stopped, held out or backlog
        if a["status"] in ("open", "expired")
    )
    assert max(weeks.values()) <= CAP


def test_a_birthday_once_a_year_on_the_right_day(sim):
    per_year = Counter()
    for a in sim["actions"]:
        if a["rule_id"] != "A-BIRTHDAY":
            continue
        born = sim["customers"][a["customer_id"]]["birthday"]
        year = a["trigger_date"].year
        per_year[(a["customer_id"], year)] += 1
        try:
            expected = born.replace(year=year)
        except ValueError:  # 29 February in a common year → 28 February
            expected = dt.date(year, 2, 28)
        assert a["trigger_date"] == expected, a
        assert a["original_due_date"] == expected - dt.timedelta(days=1), a
    assert max(per_year.values()) == 1
    leap = [a for a in sim["actions"] if a["rule_id"] == "A-BIRTHDAY"
            and a["customer_id"] == sim["leap"]]  # fmt: skip
    assert [(a["trigger_date"], a["original_due_date"]) for a in leap] == [
        (dt.date(2025, 2, 28), dt.date(2025, 2, 27))
    ]
    assert leap[0]["created_on"] <= dt.date(2025, 2, 27)  # on time, not caught up late


def test_a_winback_stops_after_three_failed_attempts(sim):
    failed = defaultdict(set)
    last_result = {o["action_id"]: o["result"] for o in sorted(
        sim["outcomes"], key=lambda o: o["recorded_at"])}  # fmt: skip
    attempts = defaultdict(list)
    for a in sim["actions"]:
        if a["rule_id"] == "A-WINBACK" and a["customer_id"] in sim["failers"]:
            absence = a["trigger_key"].rsplit("|", 1)[0]
            attempts[(a["customer_id"], absence)].append(a)
            if last_result.get(a["action_id"]) == "no_answer":
                failed[(a["customer_id"], absence)].add(a["action_id"])
    assert max(len(v) for v in attempts.values()) <= MAX_ATTEMPTS
    exhausted = [k for k, v in failed.items() if len(v) == MAX_ATTEMPTS]
    assert exhausted, "some win-back customer failed three times"
    for key in exhausted:
        numbers = sorted(int(a["trigger_key"].rsplit("|", 1)[1]) for a in attempts[key])
        assert numbers == list(range(1, MAX_ATTEMPTS + 1))
        # Each retry waited winback_retry_days after the previous failure.
        days = sorted(a["created_on"] for a in attempts[key])
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        assert min(gaps) >= RETRY_DAYS


def test_r_act_expire_nothing_listed_past_its_validity(sim):
    assert sim["lists_read"] > 20, "the call list was read along the way"
    assert sim["listed_past_validity"] == []
    for a in sim["actions"]:
        if a["status"] != "holdout":
            limit = DEFAULT_CONFIG.actions.rules[a["rule_id"]].valid_days
            due_when_stored = max(a["original_due_date"], a["created_on"])
            assert a["valid_until"] == due_when_stored + dt.timedelta(days=limit), a
    expired = [s for s in sim["status"].values() if s["status"] == "expired"]
    assert expired, "unworked actions expired along the way"
    assert all(s["outcomes"] == 0 or s["last_result"] == "no_answer" for s in expired)


def test_r_act_capacity_no_advisor_day_over_capacity(sim):
    calls = [
        a
        for a in sim["actions"]
        # Placed on a day: open, or expired after being open (not held out, stopped, or
        # expired in the backlog without ever finding a day).
        if a["status"] in ("open", "expired")
        and a["action_id"] in sim["ever_open"]
        and a["channel"] in CAPACITY.channels
        and a["advisor_id"] is not None
        and sim["status"][a["action_id"]]["status"] != "done"
    ]
    assert calls
    per_day = Counter((a["advisor_id"], a["due_date"]) for a in calls)
    assert max(per_day.values()) <= CAPACITY.calls_per_day
    working = set(CAPACITY.weekday_numbers)
    assert all(a["due_date"].weekday() in working for a in calls)
    # The list an advisor reads on a day (overdue calls included) never holds more calls.
    assert sim["lists_over_capacity"] == []
