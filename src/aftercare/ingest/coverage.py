"""R-IN-8: a file that is not a file of the table it is imported into is refused.

``aftercare import customers vehicles.xlsx`` maps one header (客户编号) onto customers and
ignores the eight others: loading it would touch 20,000 customers with nothing of theirs. A file
is taken for the wrong file when most of its headers feed nothing in the table *and* what they
feed is a small part of the table (a two-column update file, 客户编号 + 姓名, is a legitimate
partial file: every header of it maps).
"""

from __future__ import annotations

from aftercare.ingest.validate import ValidatedFile
from aftercare.schema import TableSpec


def coverage_problem(
    validated: ValidatedFile, spec: TableSpec, *, source_file: str, min_share: float
) -> str | None:
    """Why ``validated`` does not look like a file of ``spec`` (``None`` when it does).

    Parameters
    ----------
    validated
        The validated file (its headers and the columns they feed).
    spec
        The table it is imported into.
    source_file
        The file's name, for the message.
    min_share
        ``ingest.min_mapped_share``: the file is refused when fewer than this share of its
        headers map to the table and they feed fewer than this share of the table's columns.

    Returns
    -------
    str or None
        A one-line message naming the columns, or ``None``.
    """
    headers = validated.headers
    mapped = validated.columns
    if not headers:
        return None
    header_share = len(mapped) / len(headers)
    table_share = len(mapped) / len(spec.columns)
    if header_share >= min_share or table_share >= min_share:
        return None
    used = ", ".join(f"{header} → {name}" for name, header in mapped.items()) or "none"
    unused = ", ".join(h for h in headers if h not in mapped.values())
    verb = "maps" if len(mapped) == 1 else "map"
    return (
        f"{source_file} does not look like a {spec.name} file: {len(mapped)} of its "
        f"{len(headers)} headers {verb} to {spec.name} ({used}), {len(mapped)} of the table's "
        f"{len(spec.columns)} columns; not used: {unused}"
    )
