"""The few errors Aftercare raises on purpose.

Library code raises these; the CLI turns them into a one-line message and an exit status,
the web layer into a response. Anything else escaping is a bug.
"""

from __future__ import annotations


class AftercareError(Exception):
    """Base of every error Aftercare raises on purpose."""

    exit_code: int = 1


class InputFileError(AftercareError):
    """A file to import is missing, unreadable, or not in a format we can read."""


class MappingError(AftercareError):
    """A header-mapping file is invalid, or a required column cannot be mapped."""


class ConfigError(AftercareError):
    """A configuration file is invalid (the message names the line and the key)."""


class StoreError(AftercareError):
    """The store URL is invalid, or the engine behind it cannot be reached."""


class NotBuiltError(AftercareError):
    """A feature that is planned but not built yet; the CLI says so plainly."""
