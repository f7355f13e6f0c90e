"""Building blocks of the typed configuration: the frozen base, merging over defaults, and
problems that name the key they are about (so :func:`aftercare.config.load_config` can
point at its line).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

TierName = Literal["platinum", "gold", "silver", "regular", "lapsed"]
TIER_ORDER: tuple[TierName, ...] = ("platinum", "gold", "silver", "regular", "lapsed")

_V = TypeVar("_V")

#: Error type of :func:`problem`; its ``ctx["at"]`` is the key path below the failing model.
PROBLEM_TYPE = "aftercare_config"


class Frozen(BaseModel):
    """Base of every config section: immutable, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def problem(message: str, *at: str | int) -> PydanticCustomError:
    """A validation error about the key ``at`` below the model that raises it.

    Parameters
    ----------
    message
        What is wrong, in plain words.
    at
        Path of the key below the validated model (e.g. ``"rules", "A-WELCOME", "channel"``).

    Returns
    -------
    PydanticCustomError
        To be raised from a validator; the loader adds ``at`` to the error's location.
    """
    return PydanticCustomError(PROBLEM_TYPE, "{detail}", {"detail": message, "at": list(at)})


def merge_over_defaults(
    value: Any, defaults: Mapping[str, Any], bases: Mapping[str, Any] | None = None
) -> Any:
    """A user's mapping laid over the default mapping, entry by entry and field by field.

    Entries the user does not name keep their default; an entry whose default is a config
    model and whose user value is a mapping keeps every field the user does not set; an empty
    entry (``None``) is its default. ``bases`` adds defaults for keys that are not present
    unless named (optional entries, e.g. the A-TRADE-IN rule).

    Parameters
    ----------
    value
        The user's value (anything else than a mapping is returned as is, for the validator
        to refuse).
    defaults
        The default entries, kept when not overridden.
    bases
        Extra defaults used only for the keys the user names.

    Returns
    -------
    Any
        The merged mapping (not yet validated).
    """
    if not isinstance(value, Mapping):
        return value
    known = {**(bases or {}), **defaults}
    merged: dict[Any, Any] = dict(defaults)
    for key, entry in value.items():
        base = known.get(key)
        if entry is None and base is not None:
            merged[key] = base
        elif isinstance(base, BaseModel) and isinstance(entry, Mapping):
            merged[key] = {**base.model_dump(), **entry}
        else:
            merged[key] = entry
    return merged


def over_field_default(model: type[BaseModel], field: str, value: Any) -> Any:
    """:func:`merge_over_defaults` of ``value`` over the default of ``model.field``.

    For ``mode="before"`` field validators of mapping fields whose default is a mapping
    (tier tables, margins by category, stage ages): naming one entry keeps the others.
    """
    default = model.model_fields[field].get_default(call_default_factory=True)
    return merge_over_defaults(value, default)


def per_tier(*values: _V) -> Callable[[], dict[TierName, _V]]:
    """A ``default_factory`` of one value per tier, given platinum first … lapsed last."""
    return lambda: dict(zip(TIER_ORDER, values, strict=True))
