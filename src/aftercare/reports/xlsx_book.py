"""The Excel report's workbook: its cell formats, and sheets, tables and charts written in them.

Shared by :mod:`aftercare.reports.xlsx` (the analysis sheets) and
:mod:`aftercare.reports.xlsx_playbook` (the playbook sheets).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from aftercare.reports.labels import Labels
from aftercare.reports.workbook import new_workbook

CHART_SIZE = {"x_scale": 1.3, "y_scale": 1.2}


class Book:
    """A workbook with the report's cell formats; its text cells are always text."""

    def __init__(self, path: Path, t: Labels) -> None:
        self.wb: Workbook = new_workbook(path)
        self.t = t
        self.title = self.wb.add_format({"bold": True, "font_size": 14})
        self.head = self.wb.add_format({"bold": True, "bg_color": "#E8EDF3", "border": 1})
        self.fmt = {
            "int": self.wb.add_format({"num_format": "#,##0"}),
            "pct": self.wb.add_format({"num_format": "0.0%"}),
            "pctv": self.wb.add_format({"num_format": '0.0"%"'}),
            "money": self.wb.add_format({"num_format": "#,##0;[Red]-#,##0"}),
            "text": self.wb.add_format({}),
            "date": self.wb.add_format({"num_format": "yyyy-mm-dd"}),
            "num": self.wb.add_format({"num_format": "0.0"}),
        }

    def sheet(self, key: str, heading: str) -> Worksheet:
        ws = self.wb.add_worksheet(self.t[f"sheet.{key}"][:31])
        ws.write(0, 0, heading, self.title)
        ws.set_column(0, 0, 24)
        ws.set_column(1, 12, 14)
        return ws

    def table(
        self,
        ws: Worksheet,
        row: int,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        kinds: Sequence[str],
    ) -> tuple[int, int]:
        """Write a table at ``row``; return (first data row, last data row)."""
        for c, h in enumerate(headers):
            ws.write(row, c, h, self.head)
        for r, values in enumerate(rows, start=row + 1):
            for c, (value, kind) in enumerate(zip(values, kinds, strict=True)):
                if value is None:
                    ws.write_blank(r, c, None)
                else:
                    ws.write(r, c, value, self.fmt[kind])
        return row + 1, row + len(rows)

    def chart(
        self,
        ws: Worksheet,
        kind: str,
        series: Sequence[dict[str, Any]],
        anchor: str,
        *,
        title: str,
        y_format: str | None = None,
        subtype: str | None = None,
    ) -> None:
        spec = {"type": kind, "subtype": subtype} if subtype else {"type": kind}
        chart = self.wb.add_chart(spec)
        for s in series:
            chart.add_series(s)
        chart.set_title({"name": title, "name_font": {"size": 11}})
        if y_format:
            chart.set_y_axis({"num_format": y_format})
        chart.set_legend({"position": "bottom" if len(series) > 1 else "none"})
        ws.insert_chart(anchor, chart, CHART_SIZE)
