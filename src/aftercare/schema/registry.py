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
        The columns that identify a row (empty: an append-only log with no natural key).
    grain
        What one row is.
    """

    name: str
    family: Family
    schema: ibis.Schema
    key: tuple[str, ...]
    grain: str


_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "load_log": (("load_id",), "one row per import of one file"),
    "rejected_rows": ((), "one row per bad cell of a rejected row"),
    "load_warnings": ((), "one row per warning of a load"),
    "row_history": ((), "one row per replaced canonical row"),
    "actions": (("action_id",), "one row per action (a rule fired for one trigger)"),
    "action_outcomes": (("outcome_id",), "one row per recorded outcome"),
    "contact_preferences": ((), "one row per contact-preference change"),
    "dedicated_advisors": (
        ("customer_id", "assigned_on"),
        "one row per dedicated-advisor assignment",
    ),
    "action_moves": (
        ("action_id", "moved_on"),
        "one row per move of a stored action by R-ACT-CAP",
    ),
    "customer_scores": (("as_of_date", "customer_id"), "one row per customer per as-of date"),
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
