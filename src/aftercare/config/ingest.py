"""Import settings (SPEC §1): plausibility of values (R-IN-9) and the guards of partial files
(R-IN-8)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from aftercare.config.base import Frozen, problem
from aftercare.schema import TABLES

#: Date and timestamp columns that record something that happened: never in the future,
#: never before :attr:`IngestConfig.earliest_date` (birthdays and warranty ends are not events).
EVENT_DATE_COLUMNS = (
    "open_date",
    "close_date",
    "declined_date",
    "ts",
    "delivery_date",
    "created_at",
)


def _dated_columns() -> set[str]:
    return {
        col.name
        for spec in TABLES.values()
        for col in spec.columns
        if col.type in ("date", "timestamp")
    }


class IngestConfig(Frozen):
    """Import settings (SPEC §1, R-IN-8, R-IN-9)."""

    currency: str = "CNY"
    # R-IN-9: an event dated before this is implausible (a DMS default such as 1900-01-01).
    earliest_date: dt.date = dt.date(1990, 1, 1)
    # R-IN-9: an event dated more than this many days after the load day is implausible.
    future_days: int = Field(default=1, ge=0)
    # R-IN-9: the columns checked against earliest_date and future_days.
    event_date_columns: tuple[str, ...] = EVENT_DATE_COLUMNS
    # R-IN-9: an amount of one order (any money column) beyond ± this is implausible.
    max_order_amount: float = Field(default=1_000_000.0, gt=0)
    # R-IN-8: a file whose headers mostly feed nothing, and which feeds fewer than this share
    # of the table's columns, is taken for the wrong file and refused (unless allowed).
    min_mapped_share: float = Field(default=0.5, ge=0, le=1)
    # R-IN-8: a file that would blank a populated column in more than this share of the stored
    # rows it updates is refused (unless allowed).
    max_blanked_share: float = Field(default=0.2, ge=0, le=1)

    @field_validator("event_date_columns")
    @classmethod
    def _known_dates(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        known = _dated_columns()
        unknown = [n for n in names if n not in known]
        if unknown:
            raise problem(
                f"event_date_columns: {', '.join(unknown)} is not a date column of any table "
                f"(date columns: {', '.join(sorted(known))})"
            )
        return names
