"""Stable action ids (R-ACT-CATCHUP); the playbook's tables are declared in
:mod:`aftercare.schema.playbook`."""

from __future__ import annotations

import hashlib


def action_id(rule_id: str, trigger_key: str) -> str:
    """The stable id of the action a rule takes for one trigger (Python side, for tests/CLI).

    Engines compute the same id in SQL as the first 16 hex digits of the MD5 of
    ``rule_id || '|' || trigger_key``, prefixed ``A``.
    """
    # MD5 makes an id here, not a security token.
    digest = hashlib.md5(f"{rule_id}|{trigger_key}".encode()).hexdigest()
    return "A" + digest[:16]
