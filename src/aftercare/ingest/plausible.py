"""R-IN-9: values that parse but cannot be true are rejected with their reason.

An event dated before :attr:`Plausibility.earliest_date` (a DMS's 1900-01-01) or after the
load day plus :attr:`Plausibility.future_days` (2099), a repair order closed before it was
opened, an amount beyond :attr:`Plausibility.max_order_amount` (999,999,999,999.99 makes one
customer's spend 10¹²). The thresholds come from the ``ingest`` section of the config.
Column-at-a-time, like the rest of validation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from aftercare.config import IngestConfig
from aftercare.ingest import parse
from aftercare.schema import Column

Values: TypeAlias = pa.Array | pa.ChunkedArray


@dataclass(frozen=True)
class Plausibility:
    """The R-IN-9 thresholds of one import.

    Parameters
    ----------
    load_day
        The day of the import (today; the demo's as-of date for its synthetic history).
    earliest_date
        Events dated before this are rejected.
    future_days
        Events dated after ``load_day`` + this many days are rejected.
    event_date_columns
        The date/timestamp columns these two bounds apply to.
    max_order_amount
        Amounts beyond ± this are rejected.
    """

    load_day: dt.date
    earliest_date: dt.date
    future_days: int
    event_date_columns: frozenset[str]
    max_order_amount: Decimal

    @classmethod
    def of(cls, config: IngestConfig, load_day: dt.date) -> Plausibility:
        """The thresholds of the ``ingest`` config section, for an import on ``load_day``."""
        return cls(
            load_day=load_day,
            earliest_date=config.earliest_date,
            future_days=config.future_days,
            event_date_columns=frozenset(config.event_date_columns),
            max_order_amount=Decimal(str(config.max_order_amount)).quantize(Decimal("0.01")),
        )

    @property
    def latest_date(self) -> dt.date:
        """The last plausible event day."""
        return self.load_day + dt.timedelta(days=self.future_days)

    def column_error(self, col: Column, values: Values) -> Values | None:
        """Why each value of ``col`` is implausible (NULL where it is fine), or ``None``."""
        if col.type == "money":
            return self._amount_error(values)
        if col.name in self.event_date_columns and col.type in ("date", "timestamp"):
            return self.date_error(values)
        return None

    def date_error(self, values: Values) -> Values | None:
        """Why each date or timestamp is implausible as an event's (NULL where it is fine)."""
        days = values if pa.types.is_date32(values.type) else pc.cast(values, pa.date32())
        late = pc.greater(days, pa.scalar(self.latest_date, pa.date32()))
        early = pc.less(days, pa.scalar(self.earliest_date, pa.date32()))
        if not (pc.any(late).as_py() or pc.any(early).as_py()):
            return None
        if pa.types.is_timestamp(values.type):  # shown to the second, as a DMS writes it
            values = pc.cast(values, pa.timestamp("s"), safe=False)
        text = pc.cast(values, pa.string())
        return parse.first_error(
            parse.reason_if_any(
                late,
                text,
                "implausible date ",
                f": after {self.latest_date} (the load day {self.load_day} "
                f"+ {self.future_days} day{'s' if self.future_days != 1 else ''})",
            ),
            parse.reason_if_any(early, text, "implausible date ", f": before {self.earliest_date}"),
        )

    def _amount_error(self, values: Values) -> Values | None:
        ceiling = pa.scalar(self.max_order_amount, pa.decimal128(38, 2))
        beyond = pc.greater(pc.cast(pc.abs(values), pa.decimal128(38, 2)), ceiling)
        if not pc.any(beyond).as_py():
            return None
        limit = f"{self.max_order_amount:,f}".rstrip("0").rstrip(".")
        return parse.reason(
            beyond,
            pc.cast(values, pa.string()),
            "implausible amount ",
            f": beyond ±{limit} per order",
        )


def close_before_open(open_date: Values, close_date: Values) -> Values | None:
    """R-IN-9: why a repair order's close date is implausible (closed before it was opened)."""
    before = pc.less(close_date, open_date)
    if not pc.any(before).as_py():
        return None
    message = pc.binary_join_element_wise(
        "closed before it was opened: ",
        pc.cast(close_date, pa.string()),
        " is before the open date ",
        pc.cast(open_date, pa.string()),
        "",
    )
    return pc.if_else(before, message, pa.scalar(None, pa.string()))
