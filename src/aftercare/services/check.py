"""``aftercare check``: verify a store, and repair what a torn write left behind (R-IN-3).

The store is checked for what Aftercare promises of it: keys unique (one snapshot row per
customer per date), every row's load committed, row counts that the load log accounts for, and
actions, outcomes, moves, assignments and scores that point at stored rows
(:mod:`aftercare.store.integrity`). ``repair=True`` first removes the rows of loads that never
committed and snapshot dates written twice (:mod:`aftercare.store.repair`), as an open after a
crash does on DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftercare.store.connect import Store
from aftercare.store.integrity import (
    Finding,
    dangling_references,
    duplicate_keys,
    load_log_counts,
    plural,
    store_size,
    uncommitted_rows,
)
from aftercare.store.repair import repair_torn_writes

__all__ = ["CheckReport", "Finding", "check_store"]

#: What ``--repair`` says on a Spark lake, whose writes cannot tear.
LAKE_NEEDS_NO_REPAIR = (
    "nothing to repair on a Spark lake: each write switches its manifest at once, none is torn"
)


@dataclass(frozen=True)
class CheckReport:
    """What ``aftercare check`` found.

    ``findings``: every problem, one per table and kind (empty: the store is sound);
    ``repaired``: the repair's one-line summary when ``--repair`` removed something.
    """

    url: str
    tables: int
    rows: int
    loads: int
    findings: tuple[Finding, ...]
    repaired: str | None = None

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.findings

    def summary(self) -> str:
        """One line: what was checked, and whether it is sound."""
        size = f"{self.tables} tables, {self.rows:,} rows, {self.loads:,} loads"
        if self.ok:
            return (
                f"ok: {self.url}: {size}; keys unique, every load committed, counts match "
                "load_log, actions, outcomes and snapshots point at stored rows"
            )
        return f"{self.url}: {plural(len(self.findings), 'problem')} in {size}"


def check_store(store: Store, *, repair: bool = False) -> CheckReport:
    """Verify ``store``; with ``repair``, first remove the rows of torn writes.

    Parameters
    ----------
    store
        An open store: DuckDB, PostgreSQL or a Spark lake (whose manifest switch leaves no
        torn write, so it has nothing to repair).
    repair
        Remove the rows of loads that never committed and snapshot dates holding a customer
        twice (recorded in ``store_repairs``) before checking.

    Returns
    -------
    CheckReport
        Every problem found (none: the store is sound).
    """
    repaired = None
    if repair and not store.has_transactions:
        repaired = LAKE_NEEDS_NO_REPAIR
    elif repair:
        done = repair_torn_writes(store.con, reason="aftercare check --repair")
        repaired = done.summary() if done else None
    findings = [
        *duplicate_keys(store),
        *uncommitted_rows(store),
        *load_log_counts(store),
        *dangling_references(store),
    ]
    tables, rows, loads = store_size(store)
    return CheckReport(store.url, tables, rows, loads, tuple(findings), repaired)
