"""How a command reports waiting for another run on its store (issue 9, item 6).

One writer at a time per store (:mod:`aftercare.store.locks`): a command that has to wait for
another ``actions``, ``score`` or import on the same store says so once, through the notifier
its edge installs here, instead of hanging silently.
"""

from __future__ import annotations

from aftercare.store.locks import TIMEOUT_ENV, WAITING_NOTE, StoreBusyError, reporting_waits

__all__ = ["TIMEOUT_ENV", "WAITING_NOTE", "StoreBusyError", "reporting_waits"]
