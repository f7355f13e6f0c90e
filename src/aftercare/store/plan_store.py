"""Compiled plans kept on disk, so a new process does not compile them again (issue 11).

:mod:`aftercare.store.plans` compiles each query of a run once per process and shape. A
command run from cron or by hand is a new process every time, so it paid the compile again:
about 1.5 s of a small store's daily ``aftercare actions`` and several seconds at 1M
customers. Here a compiled template (its SQL with the stand-in dates, and its Arrow schema)
is written to a file whose name is the hash of everything the SQL text depends on:

- the shape and the names of its dates (the configuration is in the shape),
- the store's engine and the columns of every table of its schema (name and type, in order),
- Aftercare's own source (every module of the package, by content), and the versions of
  Ibis and sqlglot, which write the SQL.

So a file is only ever read back for the same query text: any change to the code, the
configuration, the store's tables or the SQL writer is another name (a miss: the plan is
compiled and written again). The stand-in dates are those of
:func:`aftercare.store.plans.sentinel_dates`, fixed by the names of the dates, so they are
not kept. A file that cannot be read or parsed is a miss; one that cannot be written is
skipped. Nothing here is needed for a correct result, only for a fast one.

Where: ``$AFTERCARE_CACHE_DIR/plans`` (default ``$XDG_CACHE_HOME/aftercare`` or
``~/.cache/aftercare``); ``AFTERCARE_PLAN_CACHE=off`` turns it off. At most
:data:`MAX_FILES` templates are kept; the least recently written go first.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Hashable
from pathlib import Path

import pyarrow as pa

from aftercare.store.connect import Store
from aftercare.store.transaction import CompiledQuery, fetch_rows

CACHE_ENV = "AFTERCARE_CACHE_DIR"
SWITCH_ENV = "AFTERCARE_PLAN_CACHE"
#: Templates kept at most (a run of the engine compiles about ten; a score run one).
MAX_FILES = 400
_FORMAT = 1


def enabled() -> bool:
    """Whether compiled plans are kept on disk (``AFTERCARE_PLAN_CACHE`` is not ``off``)."""
    return os.environ.get(SWITCH_ENV, "").strip().lower() not in ("off", "0", "false", "no")


def cache_dir() -> Path:
    """The folder of the kept plans (see the module docstring)."""
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root) / "plans"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "aftercare" / "plans"


@functools.cache
def code_fingerprint() -> str:
    """A hash of Aftercare's source and of the versions of the libraries that write SQL."""
    import ibis
    import sqlglot

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"ibis {ibis.__version__} sqlglot {sqlglot.__version__}".encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def schema_fingerprint(store: Store) -> str:
    """A hash of the store's engine and of its tables' columns (name and type, in order)."""
    rows = fetch_rows(
        store,
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
    )
    digest = hashlib.sha256(store.kind.encode())
    for row in rows:
        digest.update("\x1f".join(str(v) for v in row).encode() + b"\x1e")
    return digest.hexdigest()


def _path(store: Store, key: Hashable) -> Path:
    name = hashlib.sha256(
        "\n".join([code_fingerprint(), schema_fingerprint(store), repr(key)]).encode()
    ).hexdigest()
    return cache_dir() / f"{name}.json"


def load(store: Store, key: Hashable) -> CompiledQuery | None:
    """The template kept for ``key`` on ``store``'s kind of store and tables, or None."""
    if not enabled():
        return None
    try:
        kept = json.loads(_path(store, key).read_text(encoding="utf-8"))
        if kept.get("format") != _FORMAT:
            return None
        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(kept["schema"])))
        return CompiledQuery(kept["sql"], schema)
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None


def save(store: Store, key: Hashable, query: CompiledQuery) -> None:
    """Keep ``query`` (a template with stand-in dates) for ``key``; skipped on any error."""
    if not enabled() or query.expr is not None:
        return
    try:
        path = _path(store, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps(
            {
                "format": _FORMAT,
                "key": repr(key),
                "sql": query.sql,
                "schema": base64.b64encode(query.schema.serialize().to_pybytes()).decode(),
            }
        )
        # Written whole, then renamed: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body)
        os.replace(tmp, path)
        _prune(path.parent)
    except OSError:
        return


def _prune(folder: Path) -> None:
    """Delete the least recently written templates beyond :data:`MAX_FILES`."""
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
    for old in files[:-MAX_FILES]:
        old.unlink(missing_ok=True)
