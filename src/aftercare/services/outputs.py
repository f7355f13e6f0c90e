"""Files a command writes (``--out``, ``--rejects``, ``--call-sheets``): checked, then whole.

"Exit 1: nothing changed" holds only if an output path that cannot be written is found
before anything is read, computed or stored: :func:`check_output_path` creates and removes a
probe file in the path's folder (the only test that also holds for root and read-only
file systems), and says in one line what is wrong. :func:`staged_output` then writes beside
the target and renames into place only when the writer finished, so a failed write leaves
neither a half file nor a lost old one, and its error is one line too.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from aftercare.errors import AftercareError


class OutputPathError(AftercareError):
    """An output file cannot be written where it was asked for (nothing was changed)."""


def check_output_path(path: Path, *, option: str, suffixes: Sequence[str] | None = None) -> Path:
    """Check that ``path`` can be written, before anything else happens.

    Parameters
    ----------
    path
        The file a command is asked to write (it may exist: it will be replaced).
    option
        The option that named it (``--out``, ``--rejects``, ``--call-sheets``), for the message.
    suffixes
        The file endings accepted (lower case, with the dot); ``None``: any.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputPathError
        A wrong ending, a folder that does not exist, is not a folder or cannot be written
        in, or a path that is a folder or a file that cannot be replaced.
    """
    path = Path(path)
    where = f"{option} {path}"
    if suffixes is not None and path.suffix.lower() not in suffixes:
        endings = " or ".join(filter(None, (", ".join(suffixes[:-1]), suffixes[-1])))
        raise OutputPathError(f"{where}: use a file ending in {endings}")
    try:
        problem = _why_not_writable(path)
    except OSError as exc:  # a name too long, a loop of links …: still one line
        problem = exc.strerror or str(exc)
    if problem is not None:
        raise OutputPathError(f"{where}: {problem}")
    return path


def _why_not_writable(path: Path) -> str | None:
    """What stops ``path`` from being written, or ``None``."""
    if path.is_dir():
        return "is a folder; give a file name"
    folder = path.parent
    if not folder.exists():
        return f"folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file exists and cannot be written"
    try:
        handle, probe = tempfile.mkstemp(prefix=".aftercare-probe-", dir=folder)
    except OSError as exc:
        return f"cannot write in folder {folder} ({exc.strerror or exc})"
    os.close(handle)
    os.unlink(probe)
    return None


@contextlib.contextmanager
def staged_output(path: Path, *, option: str = "output") -> Iterator[Path]:
    """Give a temporary path beside ``path``; on success rename it to ``path``.

    The temporary file keeps ``path``'s suffix (writers that choose a format by it still
    do). When the body raises, the temporary file is removed and ``path`` is left as it
    was; an ``OSError`` (disk full, folder gone) becomes a one-line :class:`OutputPathError`.
    """
    path = Path(path)
    # A short name whatever the target's: the target's own length was checked by the caller.
    staged = path.with_name(f".{path.stem[:64]}.{uuid.uuid4().hex[:8]}.part{path.suffix}")
    try:
        yield staged
        os.replace(staged, path)
    except OSError as exc:
        raise OutputPathError(
            f"{option} {path}: could not write it ({exc.strerror or exc})"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            staged.unlink(missing_ok=True)


@contextlib.contextmanager
def optional_output(path: Path | None, *, option: str) -> Iterator[Path | None]:
    """:func:`check_output_path` then :func:`staged_output` for ``path``; ``None`` if not given.

    For an optional file written alongside a store change (``import --rejects``): the file
    is written into the staged path before the change, and renamed into place after it.
    """
    if path is None:
        yield None
        return
    check_output_path(Path(path), option=option)
    with staged_output(Path(path), option=option) as staged:
        yield staged
