"""Aftercare: customer tiers, churn risk and the weekly call list for car service centres."""

from __future__ import annotations

__version__ = "0.1.0"
