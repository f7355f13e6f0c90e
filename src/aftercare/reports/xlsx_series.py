"""Cell ranges and chart series for the Excel report's native charts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xlsxwriter.worksheet import Worksheet


def cell_range(ws: Worksheet, first: int, last: int, col: int) -> list[Any]:
    """A column's rows ``first``…``last`` of ``ws``, as xlsxwriter chart references take it."""
    return [ws.name, first, col, last, col]


def column_series(
    ws: Worksheet, first: int, last: int, columns: Sequence[tuple[str, int, str]]
) -> list[dict[str, Any]]:
    """One chart series per (name, value column, colour), categories in column 0."""
    return [
        {
            "name": name,
            "categories": cell_range(ws, first, last, 0),
            "values": cell_range(ws, first, last, col),
            "fill": {"color": colour},
        }
        for name, col, colour in columns
    ]
