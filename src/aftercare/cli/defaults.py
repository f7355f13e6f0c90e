"""The values the command signatures show: defaults and the names listed in help texts.

Typer reads a command's options (help text, default) when the app is built, so a value they
show is needed before any command runs. The values below belong to the services, the schema
and the demo, whose modules import Ibis, pandas and the store; they are repeated here so that
``aftercare --help`` imports none of that. ``tests/cli/test_cli_startup.py`` checks each one
equals its source, so they cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

#: The canonical input tables, in import order (``aftercare.schema.TABLES``).
CANONICAL_TABLES = (
    "customers",
    "vehicles",
    "service_orders",
    "declined_services",
    "interactions",
    "advisors",
)
#: The marts ``aftercare export`` computes as of a date (``services.marts.MART_GRAINS``).
MART_NAMES = ("churn_risk", "vehicle_reminders", "customer_value")
#: Matches ``aftercare find`` shows by default (``services.find.FIND_LIMIT``).
FIND_LIMIT = 20
#: Where ``aftercare demo`` writes its DMS files (``demo.files.DEFAULT_OUT``).
DEMO_OUT = Path("aftercare-demo")
#: Weeks the demo centre has already worked (``services.demo_weeks.DEMO_WORKED_WEEKS``).
DEMO_WORKED_WEEKS = 4
