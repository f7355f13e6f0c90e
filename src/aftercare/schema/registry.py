"""Every table Aftercare stores, with its grain and key: nothing creates a table not listed here.

Four families: the canonical inputs (:mod:`.canonical`, SPEC §1), the bookkeeping of loads
(:mod:`.system`), the playbook's tables (:mod:`.playbook`, SPEC §6) and dated result snapshots
(:mod:`.snapshots`). The store creates them all at open (``Store.ensure_schema``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import ibis

from aftercare.schema.canonical import TABLES
from aftercare.schema.playbook import PLAYBOOK_TABLES
from aftercare.schema.snapshots import SNAPSHOT_TABLES
from aftercare.schema.system import SYSTEM_TABLES

Family = Literal["canonical", "system", "playbook", "snapshot"]


@dataclass(frozen=True)
class StoredTable:
    """One stored table.

    Parameters
    ----------
    name
        The table's name in the store.
    family
        ``canonical``, ``system``, ``playbook`` or ``snapshot``.
    schema
        Its columns and types.
    key
        The columns that identify a row (its natural key; unique in the store).
    grain
        What one row is.
    """

    name: str
    family: Family
    schema: ibis.Schema
    key: tuple[str, ...]
    grain: str

    @property
    def written_by_load(self) -> bool:
        """Whether each row names the load that wrote it (``load_id``; R-IN-3).

        Such rows count only once their load has a ``load_log`` row: a store repairs rows of
        a load that never committed (a torn commit) by removing them.
        """
        return self.name != "load_log" and "load_id" in self.schema.names


#: Key and grain of every non-canonical table (canonical ones declare theirs in ``canonical``).
#: Keys are enforced: a unique index on PostgreSQL, ``aftercare check`` everywhere (R-IN-3).
#: A NULL in a key column makes the row unkeyed (as in a SQL unique index): log rows with no
#: source row or column (a file-level warning) may repeat.
_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "load_log": (("load_id",), "one row per import of one file"),
    "rejected_rows": (
        ("load_id", "source_row", "column_name", "reason"),
        "one row per problem of a rejected row (a bad cell, a duplicate key)",
    ),
    "load_warnings": (
        ("load_id", "source_row", "column_name", "message"),
        "one row per warning of a load",
    ),
    "row_history": (
        ("load_id", "table_name", "natural_key"),
        "one row per canonical row a load replaced",
    ),
    "store_repairs": (
        ("repair_id", "table_name", "removed_id"),
        "one row per table per torn write a repair removed",
    ),
    "actions": (("action_id",), "one row per action (a rule fired for one trigger)"),
    "action_outcomes": (("outcome_id",), "one row per recorded outcome"),
    "contact_preferences": (
        ("customer_id", "set_at", "source"),
        "one row per contact-preference change",
    ),
    "dedicated_advisors": (
        ("customer_id", "assigned_on"),
        "one row per dedicated-advisor assignment",
    ),
    "action_moves": (
        ("action_id", "moved_on"),
        "one row per move of a stored action by R-ACT-CAP",
    ),
    "customer_scores": (("as_of_date", "customer_id"), "one row per customer per as-of date"),
    "engine_runs": (("run_id",), "one row per engine run"),
    "engine_seen_loads": (("load_id",), "one row per load an engine run has seen"),
    "engine_customers": (("customer_id",), "one row per customer an engine run planned"),
    "engine_vehicles": (("vin",), "one row per vehicle whose reminder borrows a fleet rate"),
    "engine_queue": (("customer_id",), "one row per customer the running engine plans"),
    "engine_blocked": (
        ("customer_id", "rule_id", "trigger_key"),
        "one row per trigger consent blocked at its customer's last planning",
    ),
    "engine_fleet_rates": (("vin",), "one row per vehicle with its own mileage rate"),
    "engine_fleet_vins": (("vin",), "one row per vehicle the running engine refreshes"),
    "engine_fleet_errors": (
        ("vin", "reading_date"),
        "one row per reading with a measured forecast error",
    ),
}


def _stored_tables() -> dict[str, StoredTable]:
    out = {
        name: StoredTable(name, "canonical", spec.ibis_schema(), spec.key, spec.grain)
        for name, spec in TABLES.items()
    }
    families: tuple[tuple[Family, dict[str, ibis.Schema]], ...] = (
        ("system", SYSTEM_TABLES),
        ("playbook", PLAYBOOK_TABLES),
        ("snapshot", SNAPSHOT_TABLES),
    )
    for family, schemas in families:
        for name, schema in schemas.items():
            key, grain = _KEYS[name]
            out[name] = StoredTable(name, family, schema, key, grain)
    return out


#: Every stored table by name.
STORED_TABLES: dict[str, StoredTable] = _stored_tables()


@dataclass(frozen=True)
class Reference:
    """Rows of ``table`` point at a stored row of ``target`` through ``column``.

    Checked by ``aftercare check`` (a NULL points at nothing and is not checked).
    """

    table: str
    column: str
    target: str
    target_column: str


#: What the playbook's and the snapshots' rows point at: every action, assignment and score
#: is about a stored customer; every outcome and move is of a stored action.
REFERENCES: tuple[Reference, ...] = (
    Reference("actions", "customer_id", "customers", "customer_id"),
    Reference("action_outcomes", "action_id", "actions", "action_id"),
    Reference("action_moves", "action_id", "actions", "action_id"),
    Reference("dedicated_advisors", "customer_id", "customers", "customer_id"),
    Reference("customer_scores", "customer_id", "customers", "customer_id"),
)


def stored_table(name: str) -> StoredTable:
    """The stored table called ``name``.

    Raises
    ------
    KeyError
        When Aftercare declares no such table (naming the ones it does).
    """
    try:
        return STORED_TABLES[name]
    except KeyError:
        raise KeyError(
            f"{name!r} is not a table Aftercare stores; declared: {', '.join(STORED_TABLES)}"
        ) from None
