"""Validate a read file against a canonical table: typed good rows, located rejects (SPEC §1).

R-IN-1: every bad cell is reported with its file, spreadsheet row, column (the *source*
header, as the user sees it) and reason; the rest of the file still loads. R-IN-7: an
unknown category/type is stored as ``other`` with its text kept in ``<field>_raw`` and a
warning. All of it runs column-at-a-time in Arrow (no Python loop per row).

Choices:

- Rows whose every cell is empty are skipped, not rejected (spreadsheets end in blank rows);
  they are counted in ``rows_blank`` and not in ``rows_read``.
- ``<field>_raw`` holds the original text of every non-empty cell (not only unknown ones),
  so the DMS's own wording (一般维修 vs 机修) stays available for reports.
- Duplicate natural keys in one file: the last row wins; an earlier row identical to it is
  dropped with a warning (``rows_duplicate``), a different one is rejected as superseded.
  So ``rows_read == good.num_rows + rows_rejected + rows_duplicate``.
- R-IN-9: with a :class:`~aftercare.ingest.plausible.Plausibility`, values that parse but
  cannot be true (an order dated 2099, closed before it was opened, of 10¹² yuan) are rejected.
- R-IN-8: the result says which columns the file carries (``columns``) and which of their
  cells were empty (``empty_cells``, where the stored row took a default), so a re-import can
  keep what the file does not carry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aftercare.errors import MappingError
from aftercare.ingest import parse
from aftercare.ingest.inprocess import records_as_json
from aftercare.ingest.issues import Issues, deduplicate, key_codes, np_bool
from aftercare.ingest.mapping import (
    ColumnResolution,
    HeaderMapping,
    builtin_mapping,
    load_mapping,
    lookup,
    resolve_columns,
    translate,
)
from aftercare.ingest.plausible import Plausibility, close_before_open
from aftercare.ingest.reader import SourceTable, column_as_text, read_source
from aftercare.ingest.typed import parse_typed
from aftercare.schema import Column, TableSpec, table_spec

#: The NPS scale of ``interactions.score`` (SPEC §1: 0–10 for nps_survey).
SCORE_RANGE = (0, 10)
#: Integer columns whose fractions are rounded rather than rejected (see parse.parse_int).
ROUNDED_INT_COLUMNS = frozenset({"odometer_km"})
#: column_name of a reject that concerns the whole record (wrong number of fields).
WHOLE_ROW = "(whole row)"

REJECTS_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("column_name", pa.string()),
        ("reason", pa.string()),
        ("raw_record", pa.string()),
    ]
)
WARNINGS_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("column_name", pa.string()),
        ("message", pa.string()),
    ]
)
_NULL_TEXT = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class ValidatedFile:
    """The outcome of validating one file.

    Parameters
    ----------
    good
        Canonical columns (spec order and types), then ``<field>_raw`` companions, then
        ``source_row`` (int64, spreadsheet row).
    rejects
        One row per bad cell: source_file, source_row, column_name, reason, raw_record
        (JSON object of the original row, source header -> text).
    warnings
        source_file, source_row, column_name, message (unknown enum values, duplicates).
    rows_read
        Data rows read (blank rows excluded).
    rows_rejected
        Distinct rejected rows.
    ignored_columns
        Source headers that feed no canonical field.
    rows_duplicate
        Identical duplicate rows dropped (kept once).
    rows_blank
        Entirely empty rows skipped.
    columns
        Canonical field -> the source header that feeds it: the columns the file carries
        (R-IN-8).
    headers
        Every header of the file, in file order.
    empty_cells
        Aligned with ``good``: one bool column per carried field that has a default, true
        where the cell was empty (``good`` holds the default there, not a value of the file).
    empty_clears
        Carried fields whose empty cell clears the stored value (the mapping's
        ``empty_clears``; by default an empty cell keeps it).
    """

    good: pa.Table
    rejects: pa.Table
    warnings: pa.Table
    rows_read: int
    rows_rejected: int
    ignored_columns: tuple[str, ...]
    rows_duplicate: int = 0
    rows_blank: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    headers: tuple[str, ...] = ()
    empty_cells: pa.Table = field(default_factory=lambda: pa.table({}))
    empty_clears: frozenset[str] = frozenset()


def _constant(col: Column, n: int) -> pa.Array:
    if col.default is None:
        return pa.nulls(n, col.arrow_type)
    return pa.repeat(pa.scalar(col.default, col.arrow_type), n)


def _with_default(col: Column, text, values):
    if col.default is None:
        return values
    return pc.if_else(pc.is_null(text), pa.scalar(col.default, col.arrow_type), values)


def _parse_enum(col: Column, text, table: dict[str, str]):
    """Enum column -> (values, error, warning) under ``col.on_unknown`` (R-IN-1, R-IN-7)."""
    assert col.enum is not None
    combined = dict(table)
    for value in col.enum:
        combined.setdefault(value, value)
    mapped = lookup(text, combined)
    unknown = pc.and_(pc.is_valid(text), pc.is_null(mapped))
    error = warning = None
    if col.on_unknown == "reject":
        error = parse.reason_if_any(unknown, text, f"unknown {col.name} '", "'")
    elif col.on_unknown == "other":
        mapped = pc.if_else(unknown, "other", mapped)
        warning = parse.reason_if_any(
            unknown, text, f"unknown {col.name} '", "': stored as 'other'"
        )
    else:
        warning = parse.reason_if_any(unknown, text, f"unknown {col.name} '", "': stored as NULL")
    return _with_default(col, text, mapped), error, warning


def _parse_column(col: Column, text, table: dict[str, str]):
    """One canonical column from its cleaned text -> (values, error, warning)."""
    if col.enum is not None:
        return _parse_enum(col, text, table)
    text = translate(text, table)
    if col.name == "vin":
        parsed = parse.parse_vin(text)
    elif col.type == "string":
        parsed = parse.Parsed(text)
    elif col.type == "date":
        parsed = parse.parse_date(text)
    elif col.type == "timestamp":
        parsed = parse.parse_timestamp(text)
    elif col.type == "money":
        parsed = parse.parse_money(text)
    elif col.type == "bool":
        parsed = parse.parse_bool(text)
    elif col.type == "float64":
        parsed = parse.parse_float(text)
    else:
        parsed = parse.parse_int(text, round_fraction=col.name in ROUNDED_INT_COLUMNS)
    values = parsed.values
    return _with_default(col, text, values), _checked(col, values, parsed.error, lambda: text), None


def _checked(col: Column, values, error, text_of: Callable[[], pa.Array | pa.ChunkedArray]):
    """Range checks after parsing (odometer not negative, NPS score 0–10): the error array.

    ``text_of`` gives the cells' text; it is only called when some value is out of range.
    """
    if col.name == "odometer_km":
        out = pc.less(values, 0)
        message, after = "negative odometer: '", "'"
    elif col.name == "score":
        low, high = SCORE_RANGE
        out = pc.or_(pc.less(values, low), pc.greater(values, high))
        message, after = f"score out of range {low}–{high}: '", "'"
    else:
        return error
    if not pc.any(out).as_py():
        return error
    return parse.first_error(error, parse.reason(out, text_of(), message, after))


def _parse_typed_column(col: Column, column: pa.ChunkedArray, header: str, path: Path):
    """A typed Parquet column straight to canonical values -> (values, error, warning), or
    ``None`` when this pairing of types goes through text (see :mod:`aftercare.ingest.typed`).
    """

    def text_at(positions: pa.Array) -> pa.Array | pa.ChunkedArray:
        return parse.clean_text(column_as_text(path, header, column.take(positions)))

    parsed = parse_typed(col, column, text_at, round_fraction=col.name in ROUNDED_INT_COLUMNS)
    if parsed is None:
        return None

    def all_text() -> pa.Array | pa.ChunkedArray:
        return parse.clean_text(column_as_text(path, header, column))

    error = _checked(col, parsed.values, parsed.error, all_text)
    # An empty cell takes the default, as in the text path (a typed cell is empty when NULL).
    return _with_default(col, column, parsed.values), error, None


def validate_file(
    source: SourceTable,
    spec: TableSpec,
    mapping: HeaderMapping,
    *,
    source_file: str,
    plausibility: Plausibility | None = None,
) -> ValidatedFile:
    """Validate a read file against canonical table ``spec`` (R-IN-1, R-IN-4, R-IN-7).

    Parameters
    ----------
    source
        The file's cells as text (:func:`aftercare.ingest.reader.read_source`).
    spec
        Canonical table to load into.
    mapping
        Header/value mapping.
    source_file
        File name written into rejects, warnings and error messages.
    plausibility
        R-IN-9 thresholds; ``None`` checks none.

    Returns
    -------
    ValidatedFile
        Good rows (one per surviving source row), rejects and warnings.

    Raises
    ------
    MappingError
        A required field has no column at all.
    """
    resolution = resolve_columns(source.headers, spec, mapping, source_file=source_file)
    data, n = source.data, source.data.num_rows
    rows = source.source_rows()
    present = [col for col in spec.columns if col.name in resolution.fields]

    def work(col: Column):
        header = resolution.fields[col.name]
        column = data.column(header)
        typed = None
        if not _is_text(column.type) and col.name not in mapping.values:
            typed = _parse_typed_column(col, column, header, source.path)
        if typed is not None:
            cells = column
            parsed, error, warning = typed
        else:
            if not _is_text(column.type):
                column = column_as_text(source.path, header, column)
            cells = parse.clean_text(column)
            parsed, error, warning = _parse_column(col, cells, mapping.values.get(col.name, {}))
        # A one-column key is hashed here, in parallel with the other columns.
        codes = key_codes([parsed]) if spec.key == (col.name,) else None
        return cells, parsed, error, warning, codes

    # Arrow and NumPy kernels release the GIL: columns parse in parallel.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        done = dict(zip([c.name for c in present], pool.map(work, present), strict=True))
    text = {name: result[0] for name, result in done.items()}
    blank = _blank_rows(data, resolution.fields, text)
    keep = pc.invert(blank)
    errors, warnings = Issues.empty(), Issues.empty()
    values: dict[str, pa.Array] = {}
    raws: dict[str, pa.Array] = {}
    for order, col in enumerate(spec.columns):
        header = resolution.fields.get(col.name)
        if header is None:
            values[col.name] = _constant(col, n)
            if col.keeps_raw_text:
                raws[f"{col.name}_raw"] = pa.nulls(n, pa.string())
            continue
        cells, parsed, error, warning, _ = done[col.name]
        if col.required and cells.null_count:
            missing = pc.if_else(pc.is_null(cells), f"missing {col.name}", _NULL_TEXT)
            error = parse.first_error(missing, error)
        if plausibility is not None:
            error = parse.first_error(error, plausibility.column_error(col, parsed))
        if error is not None:
            errors.add(header, order, error, keep)
        if warning is not None:
            warnings.add(header, order, warning, keep)
        values[col.name] = parsed
        if col.keeps_raw_text:
            raws[f"{col.name}_raw"] = cells
    for group in spec.one_of_required:
        group_cells = [text[f] for f in group if f in text]
        if not group_cells:
            continue
        none = pc.is_null(group_cells[0])
        for cells in group_cells[1:]:
            none = pc.and_(none, pc.is_null(cells))
        headers = "/".join(resolution.fields[f] for f in group if f in text)
        message = pc.if_else(none, f"missing {' or '.join(group)}", _NULL_TEXT)
        errors.add(headers, len(spec.columns), message, keep)
    if plausibility is not None and {"open_date", "close_date"} <= set(resolution.fields):
        closed_early = close_before_open(values["open_date"], values["close_date"])
        if closed_early is not None:
            order = spec.column_names.index("close_date")
            errors.add(resolution.fields["close_date"], order, closed_early, keep)
    bad = errors.table(rows)
    good_mask = np.ones(n, dtype=bool)
    good_mask[bad.column("_pos").to_numpy()] = False
    good_mask &= ~np_bool(blank)
    warned = warnings.table(rows)  # a row not loaded gets no "stored as ..." warning
    warned = warned.filter(pa.array(good_mask[warned.column("_pos").to_numpy()], pa.bool_()))
    columns = {**values, **raws, "source_row": rows, "_pos": pa.array(np.arange(n))}
    good = pa.table(columns)
    if not good_mask.all():
        good = good.filter(pa.array(good_mask))
    codes = done[spec.key[0]][4] if len(spec.key) == 1 else None
    codes = key_codes([good.column(k) for k in spec.key]) if codes is None else codes[good_mask]
    good, dup_rejects, dup_warnings = deduplicate(good, spec, resolution.fields, codes)
    empty_cells = _empty_cells(spec, resolution, text, good.column("_pos"))
    rejects = _rejects(source, source_file, pa.concat_tables([bad, dup_rejects]))
    warned = pa.concat_tables([warned, dup_warnings])
    blank_count = int(pc.sum(blank).as_py() or 0)
    return ValidatedFile(
        good=good.drop_columns(["_pos"]),
        rejects=rejects,
        warnings=_warnings(source_file, warned),
        rows_read=n - blank_count + len(source.bad_rows),
        rows_rejected=len(pc.unique(rejects.column("source_row"))),
        ignored_columns=resolution.ignored,
        rows_duplicate=dup_warnings.num_rows,
        rows_blank=blank_count,
        columns=dict(resolution.fields),
        headers=tuple(source.headers),
        empty_cells=empty_cells,
        empty_clears=frozenset(mapping.empty_clears) & set(resolution.fields),
    )


def _empty_cells(
    spec: TableSpec, resolution: ColumnResolution, text: dict[str, pa.Array], positions
) -> pa.Table:
    """R-IN-8: per carried field with a default, which surviving rows had an empty cell."""
    masks = {
        col.name: pc.take(pc.is_null(text[col.name]), positions)
        for col in spec.columns
        if col.default is not None and col.name in resolution.fields
    }
    return pa.table(masks)


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _blank_rows(data: pa.Table, fields: dict[str, str], text: dict[str, pa.Array]):
    """Rows whose every cell is empty (mapped columns checked first, the rest only if needed)."""
    blank = pa.repeat(True, data.num_rows)
    for cells in text.values():
        blank = pc.and_(blank, pc.is_null(cells))
    used = set(fields.values())
    for name in data.column_names:
        if name not in used and pc.any(blank).as_py():
            column = data.column(name)
            cells = parse.clean_text(column) if _is_text(column.type) else column
            blank = pc.and_(blank, pc.is_null(cells))
    return blank


def _rejects(source: SourceTable, source_file: str, bad: pa.Table) -> pa.Table:
    """Reject rows with the original record as JSON (built in one query, no Python row loop)."""
    bad = bad.sort_by([("source_row", "ascending"), ("_order", "ascending")])
    raw_json: pa.Array | pa.ChunkedArray = pa.array([], pa.string())
    if bad.num_rows:
        cells = source.data.take(bad.column("_pos"))
        # A typed cell is recorded as the text it would have had (as every format reads).
        cells = pa.table(
            [
                c if _is_text(c.type) else column_as_text(source.path, name, c)
                for name, c in zip(cells.column_names, cells.columns, strict=True)
            ],
            names=cells.column_names,
        )
        raw_json = records_as_json(cells)
    table = pa.table(
        {
            "source_file": pa.repeat(pa.scalar(source_file), bad.num_rows),
            "source_row": bad.column("source_row"),
            "column_name": bad.column("column_name"),
            "reason": bad.column("text"),
            "raw_record": raw_json,
        },
        schema=REJECTS_SCHEMA,
    )
    if not source.bad_rows:
        return table
    whole = pa.table(
        {
            "source_file": [source_file] * len(source.bad_rows),
            "source_row": [b.row for b in source.bad_rows],
            "column_name": [WHOLE_ROW] * len(source.bad_rows),
            "reason": [b.reason for b in source.bad_rows],
            "raw_record": [_line_json(b.text) for b in source.bad_rows],
        },
        schema=REJECTS_SCHEMA,
    )
    return pa.concat_tables([table, whole]).sort_by("source_row")


def _line_json(text: str) -> str:
    return json.dumps({WHOLE_ROW: text}, ensure_ascii=False, separators=(",", ":"))


def _warnings(source_file: str, warned: pa.Table) -> pa.Table:
    warned = warned.sort_by([("source_row", "ascending"), ("_order", "ascending")])
    return pa.table(
        {
            "source_file": pa.repeat(pa.scalar(source_file), warned.num_rows),
            "source_row": warned.column("source_row"),
            "column_name": warned.column("column_name"),
            "message": warned.column("text"),
        },
        schema=WARNINGS_SCHEMA,
    )


def read_and_validate(
    path: Path | str,
    table: str,
    *,
    mapping_path: Path | str | None = None,
    encoding: str | None = None,
    source_file: str | None = None,
    plausibility: Plausibility | None = None,
) -> ValidatedFile:
    """Read ``path`` and validate it as canonical ``table`` (built-in mapping unless given).

    ``source_file`` (default: the file's name) is what rejects and warnings call the file;
    ``plausibility`` adds R-IN-9's checks.
    """
    try:
        spec = table_spec(table)
    except KeyError as exc:
        raise MappingError(str(exc.args[0])) from None
    mapping = load_mapping(Path(mapping_path)) if mapping_path else builtin_mapping()
    source = read_source(Path(path), encoding=encoding, keep_types=True)
    name = source_file if source_file is not None else Path(path).name
    return validate_file(source, spec, mapping, source_file=name, plausibility=plausibility)
