"""Which advisor a person means: an advisor id or an advisor's exact name (issue 10).

``aftercare actions --advisor 杨芳诗`` and ``--advisor SZ01-SA03`` name the same advisor; a key
that names nobody is refused with the list of known advisors, never answered with an empty
call list.
"""

from __future__ import annotations

from typing import NamedTuple

from aftercare.errors import AftercareError
from aftercare.store.connect import Store

#: Advisors an "unknown advisor" message lists; beyond, the first ones and a count.
ADVISORS_LISTED = 20


class Advisor(NamedTuple):
    """One advisor: id and name (``None`` when the DMS gave none)."""

    advisor_id: str
    name: str | None

    def __str__(self) -> str:
        return f"{self.advisor_id} {self.name}" if self.name else self.advisor_id


def _listing(rows: list[dict[str, str | None]]) -> str:
    """``id name, id name, …`` of ``rows`` (the first :data:`ADVISORS_LISTED`, then a count)."""
    shown = [f"{r['advisor_id']} {r['name'] or ''}".rstrip() for r in rows[:ADVISORS_LISTED]]
    more = len(rows) - len(shown)
    return ", ".join(shown) + (f" … and {more} more" if more else "")


def resolve_advisor(store: Store, key: str) -> Advisor:
    """The advisor that ``key`` names: an advisor id, else an advisor's exact name.

    An id wins over a name (an advisor named like another's id is reached by the id). Names
    are compared exactly, after trimming spaces around ``key``.

    Parameters
    ----------
    store
        The open store (its ``advisors`` table).
    key
        An advisor id (``SZ01-SA03``) or name (``杨芳诗``).

    Returns
    -------
    Advisor
        The advisor's id and name.

    Raises
    ------
    AftercareError
        When no advisor has that id or name (the message lists the known advisors, id and
        name, at most :data:`ADVISORS_LISTED` of them and a count of the rest), or when two or
        more advisors share that name (the message lists them).
    """
    wanted = key.strip()
    advisors = store.table("advisors")
    hits = (
        advisors.filter((advisors.advisor_id == wanted) | (advisors.name == wanted))
        .select("advisor_id", "name")
        .order_by("advisor_id")
        .to_pyarrow()
        .to_pylist()
    )
    by_id = [r for r in hits if r["advisor_id"] == wanted]
    if by_id or len(hits) == 1:
        found = (by_id or hits)[0]
        return Advisor(str(found["advisor_id"]), found["name"])
    if hits:
        raise AftercareError(
            f"{len(hits)} advisors are named {wanted}: {_listing(hits)}; give the advisor id"
        )
    known = advisors.select("advisor_id", "name").order_by("advisor_id").to_pyarrow().to_pylist()
    if not known:
        raise AftercareError(f"unknown advisor {wanted}: the store has no advisors")
    raise AftercareError(
        f"unknown advisor {wanted}; the {len(known)} known advisors: {_listing(known)}"
    )
