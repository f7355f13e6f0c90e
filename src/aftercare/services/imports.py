"""Import one DMS export file into the store: read, validate, stage, merge atomically.

The service behind ``aftercare import``: R-IN-1 (rejects located and kept), R-IN-2 (idempotent,
replacements recorded), R-IN-3 (all-or-nothing per file), R-IN-6 (unmatched counted),
R-IN-7 (warnings counted), R-IN-8 (a file updates only what it carries; a wrong file or one
that would blank many stored values is refused), R-IN-9 (implausible values rejected).
:mod:`aftercare.ingest` reads and validates the file; the store
stages the rows in the form it accepts (:class:`~aftercare.store.load.LoadBatch`) and merges
them; this module joins the two and reports what happened.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from aftercare.config import IngestConfig
from aftercare.errors import InputFileError
from aftercare.ingest.coverage import coverage_problem
from aftercare.ingest.files import REJECTS_CSV_COLUMNS, file_sha256
from aftercare.ingest.plausible import Plausibility
from aftercare.ingest.validate import ValidatedFile, read_and_validate
from aftercare.reports.table_file import write_table_file
from aftercare.schema import table_spec
from aftercare.schema.system import LOAD_LOG, LOAD_WARNINGS, REJECTED_ROWS
from aftercare.services.outputs import optional_output
from aftercare.services.unmatched import unmatched_count
from aftercare.store.connect import Store
from aftercare.store.lineage import stage_rows, with_load_columns
from aftercare.store.load import LoadBatch
from aftercare.store.locks import store_lock
from aftercare.store.partial import BlankingRefused, PartialUpdate
from aftercare.store.writer import apply_load

__all__ = [
    "LoadResult",
    "PreparedLoad",
    "import_file",
    "prepare_import",
    "unmatched_count",
    "write_import",
]

Progress = Callable[[str], None]

#: How a user lets R-IN-8's refusals through (``aftercare import --allow-blanking``).
ALLOW_HINT = "check the file and the table; --allow-blanking imports it anyway"


@dataclass(frozen=True)
class LoadResult:
    """What importing one file did."""

    table: str
    source_file: str
    load_id: str
    rows_read: int
    inserted: int
    replaced: int
    unchanged: int
    rejected: int
    warnings: int
    unmatched: int
    ignored_columns: tuple[str, ...] = field(default=())
    rejects_path: Path | None = None

    @property
    def exit_code(self) -> int:
        """0 when every row loaded, 3 when some rows were rejected (R-IN-1)."""
        return 3 if self.rejected else 0


@dataclass(frozen=True)
class PreparedLoad:
    """A file read, validated and staged, ready to be written (nothing stored yet)."""

    table: str
    source_file: str
    load_id: str
    validated: ValidatedFile
    batch: LoadBatch
    update: PartialUpdate | None = None


def _log_row(
    validated: ValidatedFile,
    *,
    table: str,
    source_file: str,
    source_path: str,
    sha256: str,
    load_id: str,
    started_at: dt.datetime,
) -> pa.Table:
    finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    values = {
        "load_id": load_id,
        "table_name": table,
        "source_file": source_file,
        "file_sha256": sha256,
        "started_at": started_at,
        "finished_at": finished,
        "rows_read": validated.rows_read,
        # The merge fills these in inside its transaction (store.writer.apply_load).
        "rows_inserted": 0,
        "rows_replaced": 0,
        "rows_unchanged": 0,
        "rows_rejected": validated.rows_rejected,
        "warnings": validated.warnings.num_rows,
        "source_path": source_path,
    }
    schema = LOAD_LOG.to_pyarrow()
    return pa.table({k: pa.array([values[k]], schema.field(k).type) for k in schema.names})


def prepare_import(
    table: str,
    path: Path,
    *,
    mapping_path: Path | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
    config: IngestConfig | None = None,
    load_day: dt.date | None = None,
    allow_blanking: bool = False,
) -> PreparedLoad:
    """Read, validate and stage one file without touching any store.

    A missing, unreadable or badly mapped file fails here, before a store is opened, so a
    failed import changes nothing at all (not even creating an empty store).

    Parameters
    ----------
    config
        The ``ingest`` config section: R-IN-9's thresholds and R-IN-8's guards (``None``:
        SPEC's defaults).
    load_day
        The day values are judged against (R-IN-9; default today).
    allow_blanking
        Take a file that does not look like one of ``table`` (R-IN-8), and let it blank
        stored values in any share of the rows it updates.

    Raises
    ------
    InputFileError, MappingError
        The file or mapping cannot be used, or (R-IN-8) it does not look like a file of
        ``table``.
    """
    ingest = config if config is not None else IngestConfig()
    say = progress or (lambda _label: None)
    try:
        spec = table_spec(table)
    except KeyError as exc:
        raise InputFileError(str(exc.args[0])) from None
    path = Path(path)
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    load_id = f"{started_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    source_file = path.name
    say("reading and validating")
    plausibility = Plausibility.of(ingest, load_day or dt.date.today())
    validated = read_and_validate(
        path, table, mapping_path=mapping_path, encoding=encoding, plausibility=plausibility
    )
    problem = coverage_problem(
        validated, spec, source_file=source_file, min_share=ingest.min_mapped_share
    )
    if problem is not None and not allow_blanking:
        raise InputFileError(f"{problem}; nothing changed (R-IN-8): {ALLOW_HINT}")
    say("staging")
    rows = stage_rows(
        validated.good, spec, source_file=source_file, load_id=load_id, loaded_at=started_at
    )
    rejects = with_load_columns(
        validated.rejects, REJECTED_ROWS.to_pyarrow(), load_id=load_id, table=table, at=started_at
    )
    warnings = with_load_columns(
        validated.warnings, LOAD_WARNINGS.to_pyarrow(), load_id=load_id, table=table, at=started_at
    )
    source_path = str(path.resolve())
    log = _log_row(
        validated,
        table=table,
        source_file=source_file,
        source_path=source_path,
        sha256=file_sha256(path),
        load_id=load_id,
        started_at=started_at,
    )
    batch = LoadBatch(spec, source_file, source_path, load_id, rows, rejects, warnings, log)
    update = PartialUpdate(
        source_file=source_file,
        carried=tuple(validated.columns),
        empty_cells=validated.empty_cells,
        empty_clears=validated.empty_clears,
        max_blanked_share=None if allow_blanking else ingest.max_blanked_share,
    )
    return PreparedLoad(table, source_file, load_id, validated, batch, update)


def write_import(
    store: Store,
    prepared: PreparedLoad,
    *,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """Write a prepared file into the store in one transaction (R-IN-2, R-IN-3)."""
    say = progress or (lambda _label: None)
    say("writing")
    # The rejects file is checked and written before the commit and renamed into place after
    # it: a path that cannot be written stops the import with nothing stored (exit 1).
    with optional_output(rejects_path, option="--rejects") as staged:
        if staged is not None:
            # Written as any CSV export: UTF-8 with a BOM, cells that would run as formulas
            # neutralised (a rejected row quotes the cells of the DMS export as they were).
            rejects = prepared.batch.rejects.select(list(REJECTS_CSV_COLUMNS))
            write_table_file(rejects.to_reader(), staged, file_format=".csv")
        with store_lock(store):  # one writer per store: a second import waits (issue 9)
            try:
                counts = apply_load(store, prepared.batch, update=prepared.update)
            except BlankingRefused as exc:
                raise InputFileError(f"{exc}: {ALLOW_HINT}") from None
    say("checking unmatched records")
    validated = prepared.validated
    return LoadResult(
        table=prepared.table,
        source_file=prepared.source_file,
        load_id=prepared.load_id,
        rows_read=validated.rows_read,
        inserted=counts.inserted,
        replaced=counts.replaced,
        unchanged=counts.unchanged,
        rejected=validated.rows_rejected,
        warnings=validated.warnings.num_rows,
        unmatched=unmatched_count(store, prepared.table),
        ignored_columns=validated.ignored_columns,
        rejects_path=rejects_path,
    )


def import_file(
    store: Store,
    table: str,
    path: Path,
    *,
    mapping_path: Path | None = None,
    encoding: str | None = None,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    config: IngestConfig | None = None,
    load_day: dt.date | None = None,
    allow_blanking: bool = False,
) -> LoadResult:
    """Import one file into canonical table ``table``.

    Parameters
    ----------
    store
        Open store.
    table
        Canonical table name (schema.TABLES).
    path
        CSV (UTF-8 / GBK), XLSX or Parquet export.
    mapping_path
        Optional YAML header/value mapping over the built-in Chinese one.
    encoding
        Force a text encoding for CSV instead of detecting it.
    rejects_path
        Also write the rejected cells to this CSV (UTF-8 with BOM, opens in Excel).
    progress
        Called with a short label as each stage starts.
    config, load_day, allow_blanking
        See :func:`prepare_import`.

    Returns
    -------
    LoadResult
        Counts; ``exit_code`` is 3 when rows were rejected.

    Raises
    ------
    InputFileError, MappingError
        Nothing was changed.
    """
    prepared = prepare_import(
        table,
        path,
        mapping_path=mapping_path,
        encoding=encoding,
        progress=progress,
        config=config,
        load_day=load_day,
        allow_blanking=allow_blanking,
    )
    return write_import(store, prepared, rejects_path=rejects_path, progress=progress)
