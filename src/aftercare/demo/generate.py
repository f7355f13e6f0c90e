"""One call that builds the whole synthetic dealer in memory, deterministic by seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from aftercare.demo.events import make_declined, make_interactions
from aftercare.demo.orders import Orders, make_orders
from aftercare.demo.params import DemoParams
from aftercare.demo.population import Population, make_population

EPOCH = dt.date(1970, 1, 1)
#: Load order: master data first, so orders find their vehicles and customers (R-IN-6).
TABLE_ORDER = (
    "advisors",
    "customers",
    "vehicles",
    "service_orders",
    "declined_services",
    "interactions",
)


@dataclass(frozen=True)
class DemoData:
    """The synthetic centre: canonical Arrow tables plus the latent facts behind them."""

    as_of: dt.date
    tables: dict[str, pa.Table]
    population: Population
    orders: Orders

    @property
    def history_start(self) -> dt.date:
        """First day of the order history."""
        return EPOCH + dt.timedelta(days=int(self.population.history_start))


def generate(
    customers: int = 20_000,
    *,
    seed: int = 0,
    as_of: dt.date | None = None,
    years: float = 4.0,
    params: DemoParams | None = None,
) -> DemoData:
    """Generate a synthetic service centre.

    Parameters
    ----------
    customers
        Number of customers (about 1.2 vehicles and 10 orders each over 4 years).
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives identical data.
    as_of
        Last day of the history (default today).
    years
        Length of the order history, 3 to 5 years is realistic.
    params
        Latent segment behaviour, calibrated to the seeds by default.

    Returns
    -------
    DemoData
        Canonical tables keyed by SPEC table name (money as float64 CNY; the files and the
        import turn it into DECIMAL).
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    params = params or DemoParams()
    as_of = as_of or dt.date.today()
    rng = np.random.default_rng(seed)
    pop = make_population(rng, customers, (as_of - EPOCH).days, years, params)
    orders = make_orders(rng, pop, params)
    tables = {
        "advisors": pop.advisors,
        "customers": pop.customers,
        "vehicles": pop.vehicles,
        "service_orders": orders.table,
        "declined_services": make_declined(rng, orders, params),
        "interactions": make_interactions(rng, pop, orders, params),
    }
    return DemoData(as_of=as_of, tables=tables, population=pop, orders=orders)


def revenue_by_year(data: DemoData) -> dict[int, float]:
    """Settled amount (all payers, credit notes netted) per calendar year of the open date."""
    day = data.orders.open_day.astype("datetime64[D]")
    year = day.astype("datetime64[Y]").astype(np.int64) + 1970
    first = int(year.min()) if len(year) else data.as_of.year
    sums = np.bincount(year - first, weights=data.orders.total_cents) / 100
    return {first + i: float(v) for i, v in enumerate(sums)}
