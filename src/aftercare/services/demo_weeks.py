"""The demo centre's last weeks with Aftercare: call lists worked, outcomes logged.

A store's first run plans every trigger still worth acting on (R-ACT-CATCHUP): a go-live
week, not a normal one. So that ``aftercare demo`` shows the week a team lives every week,
:func:`work_past_weeks` plays the weeks before the as-of date as a centre using Aftercare
would have: the first weeks planned on their Monday and worked a week at a time, the last
week and the as-of week's days before the as-of date by the nightly run of each working
day; the advisors work their lists, and their outcomes go into a call log (``回访记录.csv``
in the demo folder) that is imported through the normal path (``aftercare import
outcomes``). The outcome of an action is drawn from its id and the day it is worked (a hash,
so the demo stays deterministic, and a call missed one day may be answered the next): of the
calls worked, 45 % reached, 20 % booked, 22 % no answer, 10 % declined, 2 % wrong number,
1 % opted out; 10 % are not worked that day (they stay open and are carried over until they
are, or until they expire, R-ACT-EXPIRE). So the as-of week's list is the rest of a week
already under way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from aftercare.config import Config
from aftercare.services.actions import generate_actions, iso_week
from aftercare.services.call_list import action_list
from aftercare.services.outcomes import import_outcomes
from aftercare.services.scoring import score_snapshot
from aftercare.store import Store

#: Weeks the demo centre has worked its lists before the as-of week (``--worked-weeks``).
DEMO_WORKED_WEEKS = 4
#: The last worked weeks (before the as-of week) played day by day, the earlier ones a week
#: at a time.
DAILY_WEEKS = 1
#: The demo's call log (the file an advisor team would export from its phone system).
CALL_LOG_NAME = "回访记录.csv"
#: Share of a week's listed actions the advisors work, and the results of those worked.
WORKED_SHARE = 0.9
RESULT_SHARES: tuple[tuple[str, float], ...] = (
    ("reached", 0.45),
    ("booked", 0.20),
    ("no_answer", 0.22),
    ("declined", 0.10),
    ("wrong_number", 0.02),
    ("opted_out", 0.01),
)
_HASH_SCALE = float(2**64)


def _fractions(ids: pd.Series, salt: str) -> np.ndarray:
    """A uniform number in [0, 1) per id, the same on every run."""
    hashed = pd.util.hash_array((ids + salt).to_numpy(dtype=object))
    return hashed.astype(np.float64) / _HASH_SCALE


def worked_outcomes(week: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """The outcomes the advisors log for one list (module docstring for the shares).

    Parameters
    ----------
    week
        The call list: at least ``action_id`` and ``due_date``.
    start
        The list's first day (a week's Monday, or the day of a day's list); an outcome is
        dated on the action's due day (an overdue one on ``start``) at a time drawn from its
        id between 09:00 and 17:00. The draws depend on the action and ``start``.

    Returns
    -------
    pandas.DataFrame
        action_id, result, recorded_at (one row per worked action).
    """
    ids = week["action_id"].astype(str)
    # Drawn per action and day: a call not worked, or not answered, today may be tomorrow.
    today = f"|{start.isoformat()}"
    worked = _fractions(ids, "|worked" + today) < WORKED_SHARE
    pick = _fractions(ids, "|result" + today)
    bounds = np.cumsum([share for _, share in RESULT_SHARES])
    names = np.array([name for name, _ in RESULT_SHARES])
    last = len(RESULT_SHARES) - 1
    result = names[np.minimum(np.searchsorted(bounds / bounds[-1], pick, side="right"), last)]
    due = pd.to_datetime(week["due_date"]).dt.date
    day = due.where(due >= start, start)
    minutes = (9 * 60 + _fractions(ids, "|time") * 8 * 60).astype(int)
    at = pd.to_datetime(day.astype(str)) + pd.to_timedelta(minutes, unit="min")
    out = pd.DataFrame({"action_id": ids, "result": result, "recorded_at": at})
    return out[worked].reset_index(drop=True)


def work_past_weeks(
    store: Store,
    as_of: dt.date,
    config: Config,
    *,
    weeks: int,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> Path | None:
    """Play the ``weeks`` weeks before ``as_of``'s week, then its days before ``as_of``.

    The customers are scored as of the first week's Monday (the snapshot the engine reads
    until the as-of date's). The first weeks are planned on their Monday (through Sunday) and
    their lists worked, a week at a time (quicker); from :data:`DAILY_WEEKS` weeks before
    the as-of week the engine runs every working day, as the nightly job does, and that day's
    list is worked (module docstring for the outcomes). So the as-of week is an ordinary
    week already under way: its service follow-ups and care calls planned the day their
    trigger comes, not a week's worth on Monday. Each run's outcomes are imported as its
    call log; the file left in ``out_dir`` holds them all (importing it again changes
    nothing). Returns it (``None`` when ``weeks`` is 0).
    """
    if weeks <= 0:
        return None
    say = progress or (lambda _label: None)
    this_monday, _ = iso_week(as_of)
    first_monday = this_monday - dt.timedelta(days=7 * weeks)
    say(f"scoring customers as of {first_monday}")
    score_snapshot(store, first_monday, config)
    log_path = out_dir / CALL_LOG_NAME
    logged: list[pd.DataFrame] = []
    working = set(config.actions.capacity.weekday_numbers)
    daily_from = this_monday - dt.timedelta(days=7 * min(DAILY_WEEKS, weeks))
    weekly = [
        (first_monday + dt.timedelta(days=7 * k), 7)
        for k in range((daily_from - first_monday).days // 7)
    ]
    daily = [
        (daily_from + dt.timedelta(days=k), 1)
        for k in range((as_of - daily_from).days)
        if (daily_from + dt.timedelta(days=k)).weekday() in working
    ]
    for day, span in weekly + daily:
        last = day + dt.timedelta(days=span - 1)
        say(f"the calls of {day}" + (f" – {last}" if span > 1 else ""))
        generate_actions(store, day, config, through=last)
        listed = action_list(store, until=last, since=day, config=config, scripts=False, as_of=day)
        run_log = worked_outcomes(listed.to_pandas(), day)
        logged.append(run_log)
        _write_log(run_log, log_path)
        import_outcomes(store, log_path, config=config)
    if logged:
        _write_log(pd.concat(logged, ignore_index=True), log_path)
    return log_path


def _write_log(outcomes: pd.DataFrame, path: Path) -> None:
    """The call log as a phone system would export it: Chinese headers, UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = outcomes.rename(
        columns={"action_id": "行动编号", "result": "回访结果", "recorded_at": "回访时间"}
    )
    table.to_csv(path, index=False, encoding="utf-8", date_format="%Y-%m-%d %H:%M:%S")
