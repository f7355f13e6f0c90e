"""Header mapping: which column of a DMS export feeds which canonical field (SPEC §1).

A :class:`HeaderMapping` holds source header -> canonical field and, per field, source value
-> canonical value. :func:`builtin_mapping` is SPEC §1's Chinese mapping; :func:`load_mapping`
reads a user's YAML file whose entries come *before* the built-in ones (they override and
extend it). :func:`resolve_columns` matches one file's headers against one table.

Mapping file shape::

    table: service_orders        # optional: check fields against this table only
    columns:
      单据编号: order_id          # source header -> canonical field
      备注: null                  # null: ignore this header even if a built-in entry maps it
    values:
      category:
        快修: repair             # source value -> canonical value (enum-checked)
    empty_clears: [phone]        # R-IN-8: an empty cell clears the stored value (default: keeps)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from aftercare.errors import MappingError
from aftercare.ingest.builtin_mapping import (
    BUILTIN_HEADERS,
    BUILTIN_TABLE_HEADERS,
    BUILTIN_VALUES,
)
from aftercare.ingest.parse import FALSE_WORDS, TRUE_WORDS
from aftercare.schema import TABLES, TableSpec

_NULL_TAG = "tag:yaml.org,2002:null"
_TOP_KEYS = ("table", "columns", "values", "empty_clears")
#: R-IN-8: consent changes only by an explicit value, so an empty cell never clears these.
CONSENT_FIELDS = ("do_not_contact", "marketing_consent")


@dataclass(frozen=True)
class HeaderMapping:
    """Source header -> canonical field, and per field source value -> canonical value.

    Parameters
    ----------
    headers
        Source header -> canonical field; earlier entries win when a file has two headers
        for the same field.
    values
        Canonical field -> {source value -> canonical value}, matched case-insensitively.
    ignored
        Source headers never mapped (a mapping file's ``header: null``).
    table_headers
        Table -> {source header -> canonical field}: headers that map for that table only,
        after ``headers``.
    empty_clears
        Fields whose empty cell clears the stored value on a re-import (R-IN-8; by default an
        empty cell keeps it). Never a consent field.
    """

    headers: dict[str, str]
    values: dict[str, dict[str, str]]
    ignored: frozenset[str] = field(default_factory=frozenset)
    table_headers: dict[str, dict[str, str]] = field(default_factory=dict)
    empty_clears: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ColumnResolution:
    """How one file's headers feed one canonical table.

    Parameters
    ----------
    fields
        Canonical field -> the source header that feeds it (spec column order).
    ignored
        Source headers feeding nothing: unknown, explicitly ignored, or shadowed.
    shadowed
        Source header -> field it also maps to, which a higher-priority header feeds
        (e.g. 实收金额 when 结算金额 is present).
    """

    fields: dict[str, str]
    ignored: tuple[str, ...]
    shadowed: dict[str, str]


def normalise_header(text: str) -> str:
    """Header matching key: case-insensitive; whitespace (full-width too), ``_``, ``-`` removed."""
    return re.sub(r"[\s\ufeff_\-]+", "", text).casefold()


def builtin_mapping() -> HeaderMapping:
    """SPEC §1's built-in Chinese header and value mapping."""
    return HeaderMapping(
        headers=dict(BUILTIN_HEADERS),
        values={name: dict(table) for name, table in BUILTIN_VALUES.items()},
        table_headers={name: dict(table) for name, table in BUILTIN_TABLE_HEADERS.items()},
    )


def resolve_columns(
    headers: Iterable[str],
    spec: TableSpec,
    mapping: HeaderMapping,
    *,
    source_file: str | None = None,
) -> ColumnResolution:
    """Decide which source header feeds each canonical field of ``spec``.

    Parameters
    ----------
    headers
        The file's headers, in file order.
    spec
        The canonical table the file is loaded into.
    mapping
        Header mapping (built-in, or a user's file over it).
    source_file
        Name used in error messages.

    Returns
    -------
    ColumnResolution
        Fields found, and headers that feed nothing (never fatal).

    Raises
    ------
    MappingError
        When a required field, or every field of a ``one_of_required`` group, has no column.
    """
    headers = tuple(headers)
    ignored_keys = {normalise_header(h) for h in mapping.ignored}
    priority: dict[str, tuple[str, int]] = {}
    entries = [*mapping.headers.items(), *mapping.table_headers.get(spec.name, {}).items()]
    for order, (source, field_name) in enumerate(entries):
        priority.setdefault(normalise_header(source), (field_name, order))
    canonical_rank = len(priority)
    wanted = set(spec.column_names)
    canonical = {normalise_header(name): name for name in spec.column_names}
    best: dict[str, tuple[int, str]] = {}
    ignored: list[str] = []
    candidates: list[tuple[str, str, int]] = []
    for header in headers:
        key = normalise_header(header)
        mapped = priority.get(key)
        target: str | None = mapped[0] if mapped else canonical.get(key)
        rank = mapped[1] if mapped else canonical_rank
        if key in ignored_keys:
            target = None
        if target is None or target not in wanted:
            ignored.append(header)
            continue
        candidates.append((header, target, rank))
        if target not in best or rank < best[target][0]:
            best[target] = (rank, header)
    shadowed = {h: t for h, t, _ in candidates if best[t][1] != h}
    fields = {name: best[name][1] for name in spec.column_names if name in best}
    where = f"{source_file}: " if source_file else ""
    for col in spec.columns:
        if col.required and col.name not in fields:
            looked = ", ".join(_synonyms(col.name, mapping))
            raise MappingError(
                f"{where}no column for required field {col.name} (looked for: {looked})"
            )
    for group in spec.one_of_required:
        if not any(name in fields for name in group):
            looked = ", ".join(s for name in group for s in _synonyms(name, mapping))
            raise MappingError(
                f"{where}no column for any of {', '.join(group)} (looked for: {looked})"
            )
    return ColumnResolution(
        fields=fields,
        ignored=tuple(h for h in headers if h in ignored or h in shadowed),
        shadowed=shadowed,
    )


def _synonyms(name: str, mapping: HeaderMapping) -> list[str]:
    found = [h for h, target in mapping.headers.items() if target == name]
    return [*found, name]


def load_mapping(path: Path) -> HeaderMapping:
    """Read a YAML mapping file over the built-in mapping.

    Parameters
    ----------
    path
        The YAML file (shape in the module docstring).

    Returns
    -------
    HeaderMapping
        The file's entries first (they win), then the built-in ones they do not override.

    Raises
    ------
    MappingError
        Naming the file, the line and the problem, for every problem found.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot read mapping file ({exc})") from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingError(f"{path}: {where}not valid YAML ({problem})") from None
    reader = _MappingReader(path)
    if root is not None:
        reader.read(root)
    if reader.problems:
        # One line (exit 1 prints one line), naming the file once and each problem's line.
        first, *more = reader.problems
        rest = [problem.removeprefix(f"{path}: ") for problem in more]
        raise MappingError("; ".join([first, *rest]))
    builtin = builtin_mapping()
    overridden = {normalise_header(h) for h in (*reader.headers, *reader.ignored)}
    headers = dict(reader.headers)
    for source, target in builtin.headers.items():
        if normalise_header(source) not in overridden:
            headers.setdefault(source, target)
    values = {name: dict(table) for name, table in reader.values.items()}
    for name, table in builtin.values.items():
        merged = values.setdefault(name, {})
        for source, target in table.items():
            merged.setdefault(source, target)
    return HeaderMapping(
        headers=headers,
        values=values,
        ignored=frozenset(reader.ignored),
        table_headers=builtin.table_headers,
        empty_clears=frozenset(reader.empty_clears),
    )


class _MappingReader:
    """Walks a composed YAML tree, collecting entries and line-numbered problems."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []
        self.headers: dict[str, str] = {}
        self.ignored: list[str] = []
        self.values: dict[str, dict[str, str]] = {}
        self.empty_clears: list[str] = []
        self.tables = list(TABLES.values())

    def problem(self, node: yaml.Node, message: str) -> None:
        self.problems.append(f"{self.path}: line {node.start_mark.line + 1}: {message}")

    def pairs(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping")
            return []
        seen: set[str] = set()
        out = []
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                self.problem(key, f"{what}: keys must be plain text")
                continue
            if key.value in seen:
                self.problem(key, f"{what}: duplicate key {key.value!r}")
            seen.add(key.value)
            out.append((key, value))
        return out

    def read(self, root: yaml.Node) -> None:
        pairs = self.pairs(root, "the mapping file")
        by_key = {k.value: (k, v) for k, v in pairs}
        for key, _ in pairs:
            if key.value not in _TOP_KEYS:
                self.problem(key, f"unknown key {key.value!r} (expected: {', '.join(_TOP_KEYS)})")
        if "table" in by_key:
            key, node = by_key["table"]
            if not isinstance(node, yaml.ScalarNode) or node.value not in TABLES:
                self.problem(node, f"unknown table; known tables: {', '.join(TABLES)}")
            else:
                self.tables = [TABLES[node.value]]
        if "columns" in by_key:
            self.read_columns(by_key["columns"][1])
        if "values" in by_key:
            self.read_values(by_key["values"][1])
        if "empty_clears" in by_key:
            self.read_empty_clears(by_key["empty_clears"][1])

    def read_empty_clears(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "empty_clears must be a list of canonical fields")
            return
        for item in node.value:
            name = self.known_field(item)
            if name in CONSENT_FIELDS:
                self.problem(
                    item,
                    f"empty_clears: {name} is a consent field; an empty cell never changes it "
                    "(R-IN-8: only an explicit value does)",
                )
            elif name is not None:
                self.empty_clears.append(name)

    def known_field(self, node: yaml.Node) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL_TAG:
            self.problem(node, "the canonical field must be a name")
            return None
        if not any(node.value in t.column_names for t in self.tables):
            where = self.tables[0].name if len(self.tables) == 1 else "any table"
            self.problem(node, f"unknown canonical field {node.value!r} (not a column of {where})")
            return None
        return node.value

    def read_columns(self, node: yaml.Node) -> None:
        for key, value in self.pairs(node, "columns"):
            if isinstance(value, yaml.ScalarNode) and value.tag == _NULL_TAG:
                self.ignored.append(key.value)
            elif (target := self.known_field(value)) is not None:
                self.headers[key.value] = target

    def read_values(self, node: yaml.Node) -> None:
        for key, table in self.pairs(node, "values"):
            name = self.known_field(key)
            if name is None:
                continue
            allowed = self.allowed_values(name)
            entries = self.values.setdefault(name, {})
            for source, target in self.pairs(table, f"values.{name}"):
                if not isinstance(target, yaml.ScalarNode) or target.tag == _NULL_TAG:
                    self.problem(target, f"values.{name}.{source.value}: must be a value")
                elif allowed is not None and target.value.lower() not in allowed:
                    self.problem(
                        target,
                        f"unknown {name} value {target.value!r} "
                        f"(allowed: {', '.join(sorted(set(allowed.values())))})",
                    )
                else:
                    entries[source.value] = (
                        allowed[target.value.lower()] if allowed else target.value
                    )

    def allowed_values(self, name: str) -> dict[str, str] | None:
        """Lower-cased -> canonical target values of field ``name``; None when free text."""
        allowed: dict[str, str] = {}
        for spec in self.tables:
            if name not in spec.column_names:
                continue
            col = spec.column(name)
            if col.enum is not None:
                allowed.update({v.lower(): v for v in col.enum})
            elif col.type == "bool":
                allowed.update({w: w for w in (*TRUE_WORDS, *FALSE_WORDS)})
            else:
                return None
        return allowed


def lookup(
    text: pa.Array | pa.ChunkedArray, table: Mapping[str, str]
) -> pa.Array | pa.ChunkedArray:
    """Translate values through ``table`` (case-insensitive keys); NULL where not found."""
    if not table:
        return pa.nulls(len(text), pa.string())
    folded: dict[str, str] = {}
    for key, target in table.items():
        folded.setdefault(key.lower(), target)  # first entry wins, as in the mapping's order
    keys = pa.array(list(folded), pa.string())
    targets = pa.array(list(folded.values()), pa.string())
    return pc.take(targets, pc.index_in(pc.utf8_lower(text), value_set=keys))


def translate(
    text: pa.Array | pa.ChunkedArray, table: Mapping[str, str]
) -> pa.Array | pa.ChunkedArray:
    """Replace values found in ``table`` (case-insensitive); keep every other value as is."""
    if not table:
        return text
    return pc.coalesce(lookup(text, table), text)
