"""Record advisors' outcomes: one at a time or from a call log (R-ACT-OUTCOME).

Both paths only *append*: to ``action_outcomes`` and, for an opt-out, to
``contact_preferences``; an action's status is derived from those logs
(:func:`aftercare.playbook.outcomes.current_status`), never updated in place. An outcome is
identified by action id + moment + result (:func:`~aftercare.playbook.outcomes.outcome_id`),
so importing the same call log twice adds nothing.

A call log is read with the import machinery (CSV in UTF-8 or GBK, XLSX, Parquet); a bad row
is rejected with its file, row, column and reason (R-IN-1), kept in ``rejected_rows`` under
``table_name = 'action_outcomes'``, and the good rows still load, all in one transaction.
An outcome dated in the future is refused, or rejected as such a row (R-IN-9).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from aftercare.config import Config
from aftercare.errors import AftercareError
from aftercare.ingest.call_log import read_call_log, result_help
from aftercare.ingest.files import file_sha256
from aftercare.ingest.plausible import Plausibility
from aftercare.pipeline.staging import resolved_orders_of
from aftercare.playbook.outcomes import (
    OPTED_OUT_RESULT,
    WINBACK_RULE,
    current_status,
    normalise_result,
    outcome_id,
    winback_attempts,
)
from aftercare.schema.playbook import ACTION_OUTCOMES, CONTACT_PREFERENCES
from aftercare.schema.system import LOAD_LOG, REJECTED_ROWS
from aftercare.store.connect import Store
from aftercare.store.locks import store_lock
from aftercare.store.rows import append_rows, delete_file_rejects
from aftercare.store.transaction import transaction

OUTCOMES_TABLE = "action_outcomes"


@dataclass(frozen=True)
class RecordedOutcome:
    """What recording one outcome did, and the action's status after it."""

    outcome_id: str
    action_id: str
    rule_id: str
    customer_id: str
    result: str
    recorded_at: dt.datetime
    status: str
    already_recorded: bool
    stopped_actions: int  # the customer's open actions stopped by an opt-out
    winback_failed_attempts: int | None  # A-WINBACK only
    winback_exhausted: bool


@dataclass(frozen=True)
class Reject:
    """A call-log row that was not loaded."""

    source_file: str
    source_row: int
    column_name: str
    reason: str


@dataclass(frozen=True)
class OutcomeImport:
    """What importing one call log did."""

    source_file: str
    load_id: str
    rows_read: int
    inserted: int
    already_recorded: int
    opted_out: int
    rejects: tuple[Reject, ...]
    #: Rows with nothing filled in (no result, time or note): calls not made yet, skipped.
    blank_rows: int = 0
    #: A workbook's sheets read as call logs (its summary and other sheets left out).
    sheets: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """0: every filled row loaded (or was already there); 3: some rows were rejected.

        Blank rows are no error: a call sheet holds the calls not made yet.
        """
        return 3 if self.rejects else 0


def _existing_ids(store: Store, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    t = store.table(OUTCOMES_TABLE)
    found = t.filter(t.outcome_id.isin(ids)).select("outcome_id").to_pyarrow()
    return set(found.column("outcome_id").to_pylist())


def _actions(store: Store, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    t = store.table("actions")
    rows = t.filter(t.action_id.isin(ids)).select("action_id", "rule_id", "customer_id", "status")
    return {r["action_id"]: r for r in rows.to_pyarrow().to_pylist()}


def _preference_rows(outcomes: pa.Table, customers: list[str]) -> pa.Table:
    ids = outcomes.column("outcome_id").to_pylist()
    return pa.table(
        {
            "customer_id": pa.array(customers, pa.string()),
            "do_not_contact": pa.array([True] * len(ids), pa.bool_()),
            "set_at": outcomes.column("recorded_at"),
            "source": pa.array([f"outcome:{i}" for i in ids], pa.string()),
        },
        schema=CONTACT_PREFERENCES.to_pyarrow(),
    )


def customer_actions_status(store: Store, customer_id: str, config: Config) -> list[dict]:
    """Every action of one customer with its derived status today (see ``current_status``;
    R-ACT-EXPIRE: an action past its validity is ``expired``)."""
    actions = store.table("actions")
    mine = actions.filter(actions.customer_id == customer_id)
    orders = resolved_orders_of(
        store.table("service_orders"), store.table("vehicles"), [customer_id]
    )
    status = current_status(
        mine,
        store.table(OUTCOMES_TABLE),
        store.table("contact_preferences"),
        winback_max_attempts=config.actions.winback_max_attempts,
        orders=orders,
        as_of=dt.date.today(),
    )
    return status.order_by("action_id").to_pyarrow().to_pylist()


def record_outcome(
    store: Store,
    action_id: str,
    result: str,
    *,
    config: Config,
    note: str | None = None,
    advisor_id: str | None = None,
    recorded_at: dt.datetime | None = None,
    source: str = "cli",
) -> RecordedOutcome:
    """Append one outcome to an action (R-ACT-OUTCOME).

    Parameters
    ----------
    store
        The open store.
    action_id
        The action's id.
    result
        A result of ``OUTCOME_RESULTS`` or one of its Chinese words (``已预约`` …).
    config
        For the win-back attempt limit and the plausible dates (R-IN-9).
    note, advisor_id
        Free text and who recorded it.
    recorded_at
        When it happened (default: now); never after the day ``ingest.future_days`` from
        today, never before ``ingest.earliest_date`` (R-IN-9).
    source
        ``cli`` or a file name.

    Raises
    ------
    AftercareError
        Unknown action id, unknown result, an implausible ``recorded_at`` (R-IN-9), or an
        action of a control group (R-ACT-HOLDOUT: it must not be contacted, or the rule's
        lift is measured on a biased group).
    """
    store.require_transactions("outcomes")
    with store_lock(store):  # one writer per store (issue 9): a second one waits
        return _record_outcome(
            store,
            action_id,
            result,
            config=config,
            note=note,
            advisor_id=advisor_id,
            recorded_at=recorded_at,
            source=source,
        )


def _record_outcome(
    store: Store,
    action_id: str,
    result: str,
    *,
    config: Config,
    note: str | None,
    advisor_id: str | None,
    recorded_at: dt.datetime | None,
    source: str,
) -> RecordedOutcome:
    """:func:`record_outcome` once the store is this run's."""
    if recorded_at is not None:
        plausibility = Plausibility.of(config.ingest, dt.date.today())
        moment = pa.array([recorded_at.replace(tzinfo=None)], pa.timestamp("us"))
        implausible = plausibility.date_error(moment)
        if implausible is not None:
            raise AftercareError(f"recorded_at: {implausible[0].as_py()}")
    canonical = normalise_result(result)
    if canonical is None:
        raise AftercareError(f"unknown result {result!r}: {result_help()}")
    action = _actions(store, [action_id]).get(action_id)
    if action is None:
        raise AftercareError(f"unknown action id {action_id!r}")
    if action["status"] == "holdout":
        raise AftercareError(
            f"action {action_id} is in the control group of {action['rule_id']} "
            "(R-ACT-HOLDOUT): it must not be contacted, so it takes no outcome"
        )
    at = (recorded_at or dt.datetime.now()).replace(tzinfo=None)
    oid = outcome_id(action_id, at, canonical)
    already = bool(_existing_ids(store, [oid]))
    if not already:
        row = pa.table(
            {
                "outcome_id": [oid],
                "action_id": [action_id],
                "result": [canonical],
                "note": [note],
                "advisor_id": [advisor_id],
                "recorded_at": pa.array([at], pa.timestamp("us")),
                "source": [source],
            },
            schema=ACTION_OUTCOMES.to_pyarrow(),
        )
        with transaction(store):
            append_rows(store, OUTCOMES_TABLE, row)
            if canonical == OPTED_OUT_RESULT:
                append_rows(
                    store, "contact_preferences", _preference_rows(row, [action["customer_id"]])
                )
    customer = action["customer_id"]
    statuses = customer_actions_status(store, customer, config)
    this = next(s for s in statuses if s["action_id"] == action_id)
    stopped = sum(1 for s in statuses if s["stop_reason"] == "opted_out")
    failed, exhausted = None, False
    if action["rule_id"] == WINBACK_RULE:
        t = store.table("actions")
        attempts = winback_attempts(
            t.filter(t.customer_id == customer),
            store.table(OUTCOMES_TABLE),
            max_attempts=config.actions.winback_max_attempts,
        ).to_pyarrow()
        if attempts.num_rows:
            failed = int(attempts.column("failed_attempts")[0].as_py())
            exhausted = bool(attempts.column("is_exhausted")[0].as_py())
    return RecordedOutcome(
        outcome_id=oid,
        action_id=action_id,
        rule_id=action["rule_id"],
        customer_id=customer,
        result=canonical,
        recorded_at=at,
        status=this["status"],
        already_recorded=already,
        stopped_actions=stopped if canonical == OPTED_OUT_RESULT else 0,
        winback_failed_attempts=failed,
        winback_exhausted=exhausted,
    )


def import_outcomes(
    store: Store, path: Path, *, config: Config, encoding: str | None = None
) -> OutcomeImport:
    """Import a call log of outcomes (``aftercare import outcomes FILE``).

    Columns (Chinese headers accepted, see ``call_log.LOG_HEADERS``): action_id, result
    (English or Chinese words, e.g. 已预约 → booked), recorded_at (required: it makes the
    outcome's identity), note, advisor_id. A workbook is read sheet by sheet: every sheet
    with those headers (each advisor's call sheet), not only the first; rows with nothing
    filled in are skipped and counted (``blank_rows``), not rejected. Rows already recorded
    are skipped; bad rows are rejected with file, row, column and reason (a workbook's with
    its sheet); everything is written in one transaction.
    An outcome dated after the load day + ``ingest.future_days`` is such a bad row (R-IN-9).

    Raises
    ------
    InputFileError
        The file cannot be read or lacks a required column.
    """
    store.require_transactions("outcomes")
    with store_lock(store):  # one writer per store (issue 9): a second import waits
        return _import_outcomes(store, Path(path), config=config, encoding=encoding)


def _import_outcomes(
    store: Store, path: Path, *, config: Config, encoding: str | None
) -> OutcomeImport:
    """:func:`import_outcomes` once the store is this run's."""
    started = dt.datetime.now()
    plausibility = Plausibility.of(config.ingest, started.date())
    log = read_call_log(path, encoding=encoding, plausibility=plausibility)
    name = log.source_file
    ids = log.action_ids
    known = _actions(store, sorted({a for a in ids if a is not None}))
    for i, a in enumerate(ids):
        if a is not None and a not in known:
            log.flag(i, "action_id", f"unknown action id '{a}'")
        elif a is not None and known[a]["status"] == "holdout":
            log.flag(i, "action_id", f"action {a} is in a control group (R-ACT-HOLDOUT)")

    rejects = [Reject(name, b.row, "", b.reason) for b in log.bad_rows]
    reject_rows = []
    for i, issues in sorted(log.problems.items()):
        row = log.source_rows[i]
        raw = json.dumps(log.raw[i], ensure_ascii=False, default=str)
        for column, reason in issues:
            where = log.located(i, reason)  # a workbook's row names its sheet
            rejects.append(Reject(name, row, column, where))
            reject_rows.append((row, column, where, raw, i))
    reject_rows += [(b.row, "", b.reason, b.text, -1 - k) for k, b in enumerate(log.bad_rows)]

    good = [i for i in range(len(ids)) if i not in log.problems]
    result_values, at_values = log.results, log.recorded_at
    note_values, advisor_values = log.notes, log.advisor_ids
    picked: dict[str, int] = {}
    for i in good:  # one outcome id per row; a row repeated in the file is one outcome
        action, at, result = ids[i], at_values[i], result_values[i]
        assert action is not None and at is not None and result is not None  # no problem row
        picked.setdefault(outcome_id(action, at, result), i)
    existing = _existing_ids(store, list(picked))
    new = {oid: i for oid, i in picked.items() if oid not in existing}
    outcomes = pa.table(
        {
            "outcome_id": list(new),
            "action_id": [ids[i] for i in new.values()],
            "result": [result_values[i] for i in new.values()],
            "note": [note_values[i] for i in new.values()],
            "advisor_id": [advisor_values[i] for i in new.values()],
            "recorded_at": pa.array([at_values[i] for i in new.values()], pa.timestamp("us")),
            "source": [name] * len(new),
        },
        schema=ACTION_OUTCOMES.to_pyarrow(),
    )
    opted = outcomes.filter(pc.equal(outcomes.column("result"), OPTED_OUT_RESULT))
    opted_customers = [known[a]["customer_id"] for a in opted.column("action_id").to_pylist()]
    load_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    rejected = pa.table(
        {
            "load_id": [load_id] * len(reject_rows),
            "table_name": [OUTCOMES_TABLE] * len(reject_rows),
            "source_file": [name] * len(reject_rows),
            "source_row": pa.array([r[0] for r in reject_rows], pa.int64()),
            "column_name": [r[1] for r in reject_rows],
            "reason": [r[2] for r in reject_rows],
            "raw_record": [r[3] for r in reject_rows],
            "rejected_at": pa.array([started] * len(reject_rows), pa.timestamp("us")),
        },
        schema=REJECTED_ROWS.to_pyarrow(),
    )
    log_row = pa.table(
        {
            "load_id": [load_id],
            "table_name": [OUTCOMES_TABLE],
            "source_file": [name],
            "file_sha256": [file_sha256(path)],
            "started_at": pa.array([started], pa.timestamp("us")),
            "finished_at": pa.array([dt.datetime.now()], pa.timestamp("us")),
            "rows_read": pa.array([log.rows_read], pa.int64()),
            "rows_inserted": pa.array([len(new)], pa.int64()),
            "rows_replaced": pa.array([0], pa.int64()),
            "rows_unchanged": pa.array([len(picked) - len(new)], pa.int64()),
            # Rows, not cells; two sheets may share a row number, so counted by position.
            "rows_rejected": pa.array([len({r[4] for r in reject_rows})], pa.int64()),
            "warnings": pa.array([0], pa.int64()),
            "source_path": [str(path.resolve())],
        },
        schema=LOAD_LOG.to_pyarrow(),
    )
    with transaction(store):
        append_rows(store, OUTCOMES_TABLE, outcomes)
        append_rows(store, "contact_preferences", _preference_rows(opted, opted_customers))
        delete_file_rejects(store, OUTCOMES_TABLE, name, str(path.resolve()))
        append_rows(store, "rejected_rows", rejected)
        append_rows(store, "load_log", log_row)
    return OutcomeImport(
        source_file=name,
        load_id=load_id,
        rows_read=log.rows_read,
        inserted=len(new),
        already_recorded=len(picked) - len(new),
        opted_out=len(set(opted_customers)),
        rejects=tuple(sorted(rejects, key=lambda r: (r.source_row, r.column_name, r.reason))),
        blank_rows=log.blank_rows,
        sheets=log.sheets_read,
    )
