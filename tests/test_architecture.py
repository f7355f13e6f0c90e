"""One door per layer: the package's imports run one way, and only ``store/`` speaks SQL.

The direction is ``cli → services → {pipeline, playbook, models, reports, ingest, store, demo}
→ {schema, config, errors}``; inside the middle layer only ``playbook`` and ``models`` build on
``pipeline``. These tests read the source (ast), so a new arrow back up, a cycle between files,
or SQL text outside ``store/`` fails here before anyone runs it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "aftercare"

BOTTOM = {"schema", "config", "errors"}
#: What each top-level package (or root module) may import besides itself.
ALLOWED: dict[str, set[str]] = {
    "cli": {"services"} | BOTTOM,
    "services": {"pipeline", "playbook", "models", "reports", "ingest", "store", "demo"} | BOTTOM,
    "pipeline": BOTTOM,
    "playbook": {"pipeline"} | BOTTOM,
    "models": {"pipeline"} | BOTTOM,
    "reports": BOTTOM,
    "ingest": BOTTOM,
    "store": BOTTOM,
    "demo": BOTTOM,
    "config": {"schema", "errors"},
    "schema": set(),
    "errors": set(),
    "__init__": set(),
}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(("aftercare", *parts)), path


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every ``aftercare.*`` module that ``module`` imports, with the line (lazy ones too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "aftercare":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] != "aftercare":
                continue
            for alias in node.names:  # `from aftercare.x import y`: module x.y, or a name of x
                yield f"{target}.{alias.name}", node.lineno


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _known(modules: dict[str, Path], target: str) -> str | None:
    """The module of ours that ``target`` names (``a.b.c`` may be a name inside ``a.b``)."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def _graph() -> dict[str, dict[str, int]]:
    modules = dict(_modules())
    graph: dict[str, dict[str, int]] = {m: {} for m in modules}
    for module, path in modules.items():
        for target, line in _imports(module, path):
            found = _known(modules, target)
            if found and found != module:
                graph[module].setdefault(found, line)
    return graph


def test_every_package_has_a_declared_place():
    layers = {_layer(m) for m, _ in _modules()}
    assert layers <= set(ALLOWED), f"packages with no place in ALLOWED: {layers - set(ALLOWED)}"


def test_imports_run_one_way():
    wrong = [
        f"{module} (line {line}) imports {target}"
        for module, targets in _graph().items()
        for target, line in targets.items()
        if _layer(target) != _layer(module)
        and _layer(target) not in ALLOWED[_layer(module)]
        # a package may always import its own aftercare/<pkg>/__init__ and the root package
        and _layer(target) != "__init__"
    ]
    assert not wrong, "imports against the layer direction:\n" + "\n".join(wrong)


def test_no_import_cycle_between_files():
    graph = {m: set(t) for m, t in _graph().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not cycles, "files that import each other: " + "; ".join(map(", ".join, cycles))


#: SQL statements in a string literal (a docstring may mention them).
SQL_TEXT = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|CREATE\s+"
    r"(TABLE|INDEX|DATABASE|UNIQUE)|ALTER\s+TABLE|DROP\s+TABLE|BEGIN\s+TRANSACTION|"
    r"ON\s+CONFLICT|pg_advisory)",
    re.DOTALL,
)
ENGINE_CHECK = re.compile(
    r"\.con\.con\b|\braw_sql\b|isinstance\([^)]*(duckdb|psycopg)|\.kind\s*([!=]=|(not\s+)?in\b)|"
    r"^\s*(import|from)\s+(duckdb|psycopg)\b|\bibis\.(\w+\.)?connect\(",
    re.MULTILINE,
)
#: Modules allowed an engine connection outside store/, and why.
PRIVATE_ENGINES = {
    # Two column kernels Arrow lacks (64-bit hash, row to JSON) on a private in-memory
    # engine that is closed after each call; it never sees a store.
    "aftercare.ingest.inprocess": r"\bibis\.duckdb\.connect\(",
}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _literal_text(node: ast.AST) -> str | None:
    """A string literal's text; an f-string's with ``{}`` for each value (its pieces whole)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
    return None


def _outside_store() -> Iterator[tuple[str, Path]]:
    for module, path in _modules():
        if _layer(module) != "store":
            yield module, path


@pytest.mark.parametrize("check", ["sql text", "engine checks"])
def test_only_the_store_speaks_sql(check):
    found = []
    for module, path in _outside_store():
        text = path.read_text(encoding="utf-8")
        if check == "engine checks":
            allowed = PRIVATE_ENGINES.get(module)
            found += [
                f"{module} line {text[: m.start()].count(chr(10)) + 1}: {m.group(0).strip()}"
                for m in ENGINE_CHECK.finditer(text)
                if not (allowed and re.fullmatch(allowed, m.group(0)))
            ]
            continue
        tree = ast.parse(text)
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            literal = _literal_text(node)
            if literal is not None and id(node) not in skip and SQL_TEXT.search(literal):
                found.append(f"{module} line {node.lineno}: {literal[:60]!r}")
    assert not found, f"{check} outside store/:\n" + "\n".join(found)


def test_the_checks_see_what_they_forbid(tmp_path):
    """The patterns catch the forms they are meant to catch (else a pass proves nothing)."""
    assert SQL_TEXT.search('UPDATE actions SET status = "stopped" WHERE x')
    assert SQL_TEXT.search("INSERT INTO t (a) VALUES (1)")
    assert not SQL_TEXT.search("Select the customers who came back")
    assert ENGINE_CHECK.search("store.con.con.execute(sql)")
    assert ENGINE_CHECK.search('if store.kind == "duckdb":')
    assert ENGINE_CHECK.search("import duckdb\n")
    assert ENGINE_CHECK.search('if store.kind in ("duckdb", "postgres"):')
    assert ENGINE_CHECK.search("con = ibis.duckdb.connect(path)")
    assert ENGINE_CHECK.search("con = ibis.connect(url)")
    split = ast.parse('f"SELECT {cols} FROM {table}"').body[0].value  # type: ignore[attr-defined]
    assert SQL_TEXT.search(_literal_text(split) or "")
    module = tmp_path / "m.py"
    module.write_text("from aftercare.store import open_store\n", encoding="utf-8")
    graph_target = _known({"aftercare.store": module}, "aftercare.store.open_store")
    assert graph_target == "aftercare.store"
    assert ("aftercare.store.open_store", 1) in set(_imports("aftercare.cli.m", module))
