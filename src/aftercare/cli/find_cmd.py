"""``aftercare find TEXT``: a customer by id, name, phone (last 4 digits too), plate or VIN."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from aftercare.cli.actions_cmd import mask_phone
from aftercare.cli.common import ConfigOption, DbOption, app, console, guarded, read_config
from aftercare.cli.defaults import FIND_LIMIT

if TYPE_CHECKING:
    from aftercare.services.find import FindResult, FoundCustomer


@app.command("find")
@guarded
def find_cmd(
    text: Annotated[
        str,
        typer.Argument(
            help="Customer id, name (or part of it), phone, last 4 digits, plate or VIN."
        ),
    ],
    limit: Annotated[int, typer.Option("--limit", min=1, help="Matches shown.")] = FIND_LIMIT,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Find customers by id, name, phone, plate or VIN: tier, risk, vehicles, open actions.

    Exit 1 when nothing matches.
    """
    from aftercare.services.find import find_customers
    from aftercare.services.workspace import open_workspace

    cfg = read_config(config)
    with open_workspace(db) as store:
        found = find_customers(store, text, cfg, limit=limit)
    console.print(_headline(found), highlight=False)
    for customer in found.shown:
        console.print(_line(customer), highlight=False, markup=False)
        console.print(f"    vehicles: {customer.vehicles or 'none'}", highlight=False, markup=False)


def _headline(found: FindResult) -> str:
    """``3 matches for '王伟' (tier and risk as of 2026-09-30)``, with ``(showing N)``."""
    count = f"{found.total:,} match" + ("" if found.total == 1 else "es")
    showing = f" (showing {len(found.shown)})" if len(found.shown) < found.total else ""
    scores = (
        f"tier and risk as of {found.scores_as_of}"
        if found.scores_as_of
        else "no scores yet: aftercare score --as-of DATE"
    )
    return f"{count}{showing} for {found.text!r}; {scores}"


def _line(c: FoundCustomer) -> str:
    """One match: id, name, masked phone, tier, risk, open actions, how it matched."""
    tier = c.tier or "—"
    risk = c.risk_level or "—"
    return (
        f"{c.customer_id}  {c.name or '—'}  {mask_phone(c.phone) or '—'}  "
        f"tier {tier}, risk {risk}, {c.open_actions} open actions  (matched on {c.matched_on})"
    )
