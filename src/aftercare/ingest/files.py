"""An import's files besides the export itself: its fingerprint, and the rejects written back.

:func:`file_sha256` identifies the bytes that were loaded (``load_log.file_sha256``);
:func:`write_rejects_csv` hands the rejected cells back to whoever fixes the export (R-IN-1).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

#: The columns of the rejects file, in order.
REJECTS_CSV_COLUMNS = ("source_file", "source_row", "column_name", "reason", "raw_record")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_rejects_csv(rejects: pa.Table, path: Path) -> None:
    """Write rejected cells as CSV (UTF-8 with BOM so Excel shows Chinese correctly)."""
    with path.open("wb") as fh:
        fh.write("\ufeff".encode())
        pacsv.write_csv(rejects.select(list(REJECTS_CSV_COLUMNS)), fh)
