"""The data contract: Aftercare's canonical tables, their columns, types, keys and enums.

Everything that reads or writes canonical data (import validation, the store, exports, the
documentation test) reads this module, so the contract lives in exactly one place (SPEC §1).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

ColumnType = Literal["string", "date", "timestamp", "int64", "money", "bool", "float64"]

#: What an import does with a value outside a column's enum.
#: ``reject``: the row is rejected (R-IN-1, e.g. unknown payer);
#: ``other``: stored as ``other`` with the original text kept in ``<column>_raw`` (R-IN-7);
#: ``null``: stored as NULL with a warning (optional preferences).
UnknownPolicy = Literal["reject", "other", "null"]

MONEY_PRECISION = 14
MONEY_SCALE = 2

_IBIS_TYPES: dict[str, dt.DataType] = {
    "string": dt.String(),
    "date": dt.Date(),
    "timestamp": dt.Timestamp(),
    "int64": dt.Int64(),
    "money": dt.Decimal(MONEY_PRECISION, MONEY_SCALE),
    "bool": dt.Boolean(),
    "float64": dt.Float64(),
}

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "int64": pa.int64(),
    "money": pa.decimal128(MONEY_PRECISION, MONEY_SCALE),
    "bool": pa.bool_(),
    "float64": pa.float64(),
}


@dataclass(frozen=True)
class Column:
    """One canonical column.

    Parameters
    ----------
    name
        Canonical field name (units in the name: ``_km``, ``_date``, ``_amount`` in CNY).
    type
        Logical type; money is DECIMAL(14, 2).
    required
        A row without it is rejected (R-IN-1).
    enum
        Allowed values, if the column is an enumeration.
    on_unknown
        What an import does with a value outside ``enum``.
    default
        Value stored when the source has no such column or the cell is empty.
    description
        One line for the generated documentation.
    """

    name: str
    type: ColumnType
    required: bool = False
    enum: tuple[str, ...] | None = None
    on_unknown: UnknownPolicy = "reject"
    default: object = None
    description: str = ""

    @property
    def ibis_type(self) -> dt.DataType:
        """Ibis data type of the column."""
        return _IBIS_TYPES[self.type]

    @property
    def arrow_type(self) -> pa.DataType:
        """Arrow data type of the column."""
        return _ARROW_TYPES[self.type]

    @property
    def keeps_raw_text(self) -> bool:
        """True when unknown values are stored as ``other`` beside their original text."""
        return self.enum is not None and self.on_unknown == "other"


@dataclass(frozen=True)
class TableSpec:
    """One canonical table.

    Parameters
    ----------
    name
        Table name in the store (SPEC's names).
    grain
        What one row is.
    key
        Natural key columns (idempotent loads match on these, R-IN-2).
    columns
        Canonical columns in storage order.
    one_of_required
        Groups of columns of which at least one must be present in a row
        (e.g. an order needs a VIN or a customer id).
    """

    name: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    one_of_required: tuple[tuple[str, ...], ...] = field(default=())

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        """Canonical column names in storage order."""
        return tuple(c.name for c in self.columns)

    @property
    def raw_text_columns(self) -> tuple[str, ...]:
        """Names of the ``<column>_raw`` companions kept for R-IN-7."""
        return tuple(f"{c.name}_raw" for c in self.columns if c.keeps_raw_text)

    def storage_columns(self) -> Iterator[tuple[str, dt.DataType]]:
        """Yield (name, ibis type) of every stored column, system columns included."""
        for col in self.columns:
            yield col.name, col.ibis_type
        for raw in self.raw_text_columns:
            yield raw, dt.String()
        yield from SYSTEM_COLUMNS

    def ibis_schema(self) -> ibis.Schema:
        """Schema of the stored table: canonical, raw-text and system columns."""
        return ibis.schema(dict(self.storage_columns()))

    def arrow_schema(self) -> pa.Schema:
        """Arrow schema of the stored table."""
        return self.ibis_schema().to_pyarrow()


#: Lineage columns every canonical table carries, so each stored row names where it came from.
SYSTEM_COLUMNS: tuple[tuple[str, dt.DataType], ...] = (
    ("source_file", dt.String()),
    ("source_row", dt.Int64()),
    ("load_id", dt.String()),
    ("loaded_at", dt.Timestamp()),
    ("row_hash", dt.String()),
)

CONTACT_CHANNELS = ("phone", "sms", "wechat", "app")
SERVICE_CATEGORIES = (
    "maintenance",
    "repair",
    "bodywork",
    "warranty",
    "insurance",
    "value_added",
    "other",
)
PAYERS = ("customer", "warranty", "insurance", "internal")
INTERACTION_TYPES = (
    "complaint",
    "praise",
    "referral",
    "brand_event",
    "competitor_visit",
    "nps_survey",
    "call",
    "sms",
    "wechat",
    "app_push",
    "other",
)

CUSTOMERS = TableSpec(
    name="customers",
    grain="one row per customer",
    key=("customer_id",),
    columns=(
        Column("customer_id", "string", required=True, description="DMS customer number"),
        Column("name", "string", description="customer name"),
        Column("phone", "string", description="mobile phone"),
        Column("birthday", "date", description="date of birth (A-BIRTHDAY)"),
        Column("city", "string"),
        Column("source_channel", "string", description="how the customer found the centre"),
        Column(
            "preferred_channel",
            "string",
            enum=CONTACT_CHANNELS,
            on_unknown="null",
            description="channel the customer prefers to be contacted on",
        ),
        Column("preferred_time", "string", description="free text, e.g. 'weekday evenings'"),
        Column(
            "price_sensitivity",
            "string",
            enum=("low", "medium", "high"),
            on_unknown="null",
            description="R-CHURN-REASON input",
        ),
        Column(
            "marketing_consent",
            "bool",
            default=False,
            description="consent to marketing contacts (R-ACT-CONSENT)",
        ),
        Column(
            "do_not_contact",
            "bool",
            default=False,
            description="blocks every action (R-ACT-CONSENT)",
        ),
        Column("advisor_id", "string", description="the customer's service advisor"),
        Column("store_id", "string"),
        Column("language", "string", enum=("zh-CN", "en"), on_unknown="null", default="zh-CN"),
        Column("created_at", "date", description="when the customer record was created"),
    ),
)

VEHICLES = TableSpec(
    name="vehicles",
    grain="one row per vehicle (VIN)",
    key=("vin",),
    columns=(
        Column("vin", "string", required=True, description="17-character VIN"),
        Column("customer_id", "string", required=True, description="current owner"),
        Column("plate", "string"),
        Column("brand", "string"),
        Column("model", "string"),
        Column("delivery_date", "date", required=True, description="提车日期 (R-LIFE)"),
        Column("factory_warranty_end", "date"),
        Column("extended_warranty_end", "date", description="R-SCORE-L +1 while active"),
        Column("insurance_expiry", "date", description="保险到期日 (A-INSURANCE-RENEWAL)"),
        Column(
            "status",
            "string",
            enum=("active", "sold", "scrapped"),
            default="active",
            description="R-VEHICLE-SOLD",
        ),
    ),
)

SERVICE_ORDERS = TableSpec(
    name="service_orders",
    grain="one row per repair order",
    key=("order_id",),
    one_of_required=(("vin", "customer_id"),),
    columns=(
        Column("order_id", "string", required=True, description="接车单号"),
        Column("vin", "string"),
        Column("customer_id", "string"),
        Column("open_date", "date", required=True, description="接车日期; the visit date"),
        Column("close_date", "date"),
        Column("odometer_km", "int64", description="行驶里程 at check-in"),
        Column("category", "string", enum=SERVICE_CATEGORIES, on_unknown="other", default="other"),
        Column("payer", "string", enum=PAYERS, default="customer", description="R-IN-5"),
        Column("labor_amount", "money"),
        Column("parts_amount", "money"),
        Column("discount_amount", "money"),
        Column(
            "total_amount",
            "money",
            required=True,
            description="settled amount; negative for refunds (R-IN-4)",
        ),
        Column("cost_amount", "money", description="R-VAL-PROFIT; missing → default margin"),
        Column("advisor_id", "string"),
        Column("store_id", "string"),
    ),
)

DECLINED_SERVICES = TableSpec(
    name="declined_services",
    grain="one row per declined item of a repair order",
    key=("order_id", "item"),
    one_of_required=(("customer_id", "vin"),),
    columns=(
        Column("order_id", "string", required=True),
        Column("item", "string", required=True, description="declined repair item"),
        Column("customer_id", "string"),
        Column("vin", "string"),
        Column("declined_date", "date", required=True),
        Column(
            "reason",
            "string",
            enum=("price", "time", "not_needed", "other"),
            on_unknown="other",
            default="other",
        ),
        Column("quoted_amount", "money"),
        Column("deferred_until", "date"),
        Column("is_safety_item", "bool", default=False, description="A-DECLINED priority high"),
    ),
)

INTERACTIONS = TableSpec(
    name="interactions",
    grain="one row per interaction (complaint, survey, referral, contact …)",
    key=("interaction_id",),
    columns=(
        Column("interaction_id", "string", required=True),
        Column("customer_id", "string", required=True),
        Column("ts", "timestamp", required=True, description="when it happened"),
        Column("type", "string", required=True, enum=INTERACTION_TYPES, on_unknown="other"),
        Column("score", "int64", description="0–10 for nps_survey"),
        Column("referred_customer_id", "string"),
        Column("channel", "string"),
        Column("advisor_id", "string"),
        Column("resolved", "bool", description="complaints: resolved or not (R-CHURN-RISK)"),
        Column("note", "string"),
    ),
)

ADVISORS = TableSpec(
    name="advisors",
    grain="one row per service advisor",
    key=("advisor_id",),
    columns=(
        Column("advisor_id", "string", required=True),
        Column("name", "string"),
        Column("store_id", "string"),
        Column("role", "string", enum=("advisor", "manager"), default="advisor"),
        Column("active", "bool", default=True),
    ),
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (CUSTOMERS, VEHICLES, SERVICE_ORDERS, DECLINED_SERVICES, INTERACTIONS, ADVISORS)
}


def table_spec(name: str) -> TableSpec:
    """Return the canonical table called ``name``.

    Raises
    ------
    KeyError
        With the list of known tables, when ``name`` is not one.
    """
    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(TABLES)
        raise KeyError(f"unknown table {name!r}; known tables: {known}") from None


#: VIN alphabet: 17 characters, digits and capitals without I, O, Q (R-IN-1).
VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"
