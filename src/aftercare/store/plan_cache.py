"""The per-store cache of compiled SQL (:mod:`aftercare.store.plans` fills and reads it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PlanCache:
    """Compiled SQL templates of one open store, by shape, and how often each path ran.

    ``compiled``: templates built (a first run of a shape); ``loaded``: templates read from
    an earlier process's (:mod:`aftercare.store.plan_store`); ``reused``: runs that
    substituted their dates into a template this process holds; ``uncached``: runs that
    compiled directly because the template could not be trusted (see
    :func:`aftercare.store.plans.compiled`).
    """

    templates: dict[Any, Any] = field(default_factory=dict)
    compiled: int = 0
    loaded: int = 0
    reused: int = 0
    uncached: int = 0
