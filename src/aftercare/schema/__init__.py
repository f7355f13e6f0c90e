"""Every table Aftercare stores, declared once.

- :mod:`.canonical`: the data contract, the canonical input tables (SPEC §1);
- :mod:`.system`: the bookkeeping of loads (load log, rejects, warnings, row history);
- :mod:`.playbook`: actions, outcomes, preferences, dedicated advisors, moves (SPEC §6);
- :mod:`.snapshots`: dated results (customer scores);
- :mod:`.registry`: all of them with grain and key (``STORED_TABLES``).

The canonical contract's names are re-exported here (``from aftercare.schema import TABLES``).
"""

from __future__ import annotations

from aftercare.schema.canonical import (
    ADVISORS,
    CONTACT_CHANNELS,
    CUSTOMERS,
    DECLINED_SERVICES,
    INTERACTION_TYPES,
    INTERACTIONS,
    MONEY_PRECISION,
    MONEY_SCALE,
    PAYERS,
    SERVICE_CATEGORIES,
    SERVICE_ORDERS,
    SYSTEM_COLUMNS,
    TABLES,
    VEHICLES,
    VIN_PATTERN,
    Column,
    ColumnType,
    TableSpec,
    UnknownPolicy,
    table_spec,
)
from aftercare.schema.registry import STORED_TABLES, StoredTable, stored_table

__all__ = [
    "ADVISORS",
    "CONTACT_CHANNELS",
    "CUSTOMERS",
    "DECLINED_SERVICES",
    "INTERACTIONS",
    "INTERACTION_TYPES",
    "MONEY_PRECISION",
    "MONEY_SCALE",
    "PAYERS",
    "SERVICE_CATEGORIES",
    "SERVICE_ORDERS",
    "STORED_TABLES",
    "SYSTEM_COLUMNS",
    "TABLES",
    "VEHICLES",
    "VIN_PATTERN",
    "Column",
    "ColumnType",
    "StoredTable",
    "TableSpec",
    "UnknownPolicy",
    "stored_table",
    "table_spec",
]
