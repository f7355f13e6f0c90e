"""The data contract as a Markdown page, generated from :mod:`aftercare.schema`.

``docs/data-contract.md`` is this module's output; a test fails when the two differ, so the
page can never drift from the code. Regenerate it with::

    python -m aftercare.ingest.contract_doc > docs/data-contract.md
"""

from __future__ import annotations

from aftercare.ingest.builtin_mapping import BUILTIN_HEADERS, BUILTIN_TABLE_HEADERS, BUILTIN_VALUES
from aftercare.schema import TABLES, Column, TableSpec

_TYPE_NAMES = {
    "string": "text",
    "date": "date",
    "timestamp": "timestamp",
    "int64": "integer",
    "money": "money (decimal 14,2)",
    "bool": "yes/no",
    "float64": "number",
}
_UNKNOWN = {
    "reject": "row rejected (R-IN-1)",
    "other": "stored as `other`, original text kept in `{name}_raw` (R-IN-7)",
    "null": "stored empty, with a warning",
}


def _headers_for(table: str, field: str) -> list[str]:
    entries = [*BUILTIN_HEADERS.items(), *BUILTIN_TABLE_HEADERS.get(table, {}).items()]
    return [header for header, target in entries if target == field]


def _enum_text(col: Column) -> str:
    if col.enum is None:
        return ""
    values = ", ".join(f"`{v}`" for v in col.enum)
    synonyms = BUILTIN_VALUES.get(col.name, {})
    by_value: dict[str, list[str]] = {}
    for source, target in synonyms.items():
        by_value.setdefault(target, []).append(source)
    words = "; ".join(f"{'/'.join(src)} → `{v}`" for v, src in by_value.items())
    unknown = _UNKNOWN[col.on_unknown].format(name=col.name)
    return f"{values}. Unknown: {unknown}." + (f" Chinese: {words}." if words else "")


def _table_section(spec: TableSpec) -> list[str]:
    lines = [
        f"## `{spec.name}`",
        "",
        f"Grain: {spec.grain}. Key: {', '.join(f'`{k}`' for k in spec.key)}.",
    ]
    for group in spec.one_of_required:
        lines.append(f"Each row needs at least one of {', '.join(f'`{c}`' for c in group)}.")
    lines += [
        "",
        "| column | type | required | Chinese headers | values | default | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for col in spec.columns:
        default = "" if col.default is None else f"`{col.default}`"
        lines.append(
            f"| `{col.name}` | {_TYPE_NAMES[col.type]} | {'yes' if col.required else ''} "
            f"| {', '.join(_headers_for(spec.name, col.name))} | {_enum_text(col)} | {default} "
            f"| {col.description} |"
        )
    return [*lines, ""]


def render_data_contract() -> str:
    """The data contract page (Markdown) for every canonical table.

    Returns
    -------
    str
        One section per table of :data:`aftercare.schema.TABLES`: grain, key, and per column
        its type, whether it is required, the built-in Chinese headers that map onto it, its
        allowed values with their Chinese synonyms, its default and its meaning.
    """
    lines = [
        "# Data contract",
        "",
        "The canonical tables Aftercare imports (SPEC §1). Generated from "
        "`src/aftercare/schema/canonical.py` by `python -m aftercare.ingest.contract_doc`; "
        "do not edit by hand.",
        "Headers equal to a column name always map to it; a `--mapping` YAML file adds others.",
        "Every stored row also carries `source_file`, `source_row`, `load_id`, `loaded_at` and "
        "`row_hash` (where it came from).",
        "",
    ]
    for spec in TABLES.values():
        lines += _table_section(spec)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_data_contract(), end="")
