"""Which DuckDB file ``--db`` names, checked before DuckDB touches it.

DuckDB opens ``:memory:`` without complaint and creates any path it is given, so a mistake in
``--db`` would lose data silently: an import into memory keeps nothing, a typo creates an empty
store that read commands then describe. The store is therefore opened deliberately: ``--db``
must name a DuckDB file (its header says ``DUCK``), only the commands that create a store
(``import``, ``demo``) may create one, and never under a name that says it is something else.
"""

from __future__ import annotations

import os
from pathlib import Path

from aftercare.errors import StoreError

#: The store used when no URL is given and ``$AFTERCARE_DB`` is not set.
DEFAULT_DB = "aftercare.duckdb"
#: The variable naming the store when no ``--db`` is given.
STORE_ENV = "AFTERCARE_DB"

#: What a read command says when there is no store to read.
NO_STORE = (
    "no store at {where}; run `aftercare import` or `aftercare demo` first; "
    "the demo's store is aftercare-demo/aftercare.duckdb"
)

#: Where a DuckDB file says what it is: bytes 8-11 of its main header.
MAGIC = b"DUCK"
MAGIC_OFFSET = 8

#: File types a store is never named as: ``--db export.csv`` is a mistake, not a new store.
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx", ".xls", ".json", ".yaml", ".yml")


def resolve_url(url: str | None) -> str:
    """The store URL to use: the given one, else ``$AFTERCARE_DB``, else the default file."""
    return url or os.environ.get(STORE_ENV) or DEFAULT_DB


def is_duckdb_file(path: Path) -> bool:
    """Whether ``path`` holds a DuckDB database (checked by its header, not its name)."""
    with path.open("rb") as f:
        head = f.read(MAGIC_OFFSET + len(MAGIC))
    return head[MAGIC_OFFSET:] == MAGIC


def wal_path(path: Path) -> Path:
    """The write-ahead log DuckDB keeps beside ``path`` while it is open."""
    return path.with_name(path.name + ".wal")


def check_duckdb_path(path: Path, *, create: bool) -> bool:
    """Refuse a ``--db`` that is not a DuckDB store, or would create one where none may be.

    Parameters
    ----------
    path
        The file ``--db`` names.
    create
        Whether the command may create a new store (``import``, ``demo``).

    Returns
    -------
    bool
        Whether the file exists (an existing DuckDB file).

    Raises
    ------
    StoreError
        ``:memory:``; a folder; an existing file that is not DuckDB's; no file where the
        command only reads; a new file named like a data file.
    """
    if str(path).startswith(":memory:"):
        raise StoreError(
            f"--db {path} keeps nothing once the command ends: name a DuckDB file, "
            "e.g. aftercare.duckdb"
        )
    if path.is_dir():
        raise StoreError(
            f"--db {path} is a folder: name a DuckDB file, e.g. {path}/aftercare.duckdb"
        )
    if path.exists():
        try:
            is_store = is_duckdb_file(path)
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None
        if not is_store:
            raise StoreError(
                f"{path} is not a DuckDB store (its header is not DuckDB's); --db takes the "
                "store's file, e.g. aftercare.duckdb; to read a data file use `aftercare import`"
            )
        return True
    if not create:
        raise StoreError(NO_STORE.format(where=path))
    if path.suffix.lower() in DATA_SUFFIXES:
        raise StoreError(
            f"no store at {path}, and a new store is not named like a {path.suffix} file: "
            "name it e.g. aftercare.duckdb"
        )
    if not path.parent.exists():
        raise StoreError(f"cannot create store {path}: folder {path.parent} does not exist")
    return False
