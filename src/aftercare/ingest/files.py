"""An import's files besides the export itself: its fingerprint and the rejects file's columns.

:func:`file_sha256` identifies the bytes that were loaded (``load_log.file_sha256``); the
rejects file (``--rejects``, R-IN-1) is written by the import service with the safe CSV
writer of every export.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: The columns of the rejects file, in order.
REJECTS_CSV_COLUMNS = ("source_file", "source_row", "column_name", "reason", "raw_record")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
