"""A user's own playbook rule: a small condition over the customer scores (SPEC §6).

The condition is Python-like text from the config file, e.g.
``tier == 'gold' and recency_days > 120 and risk_level in ['medium', 'high']``. It is parsed
with :mod:`ast` and translated node by node into an Ibis boolean expression; it is never
evaluated and never pasted into SQL, so a condition cannot inject SQL or run code.

Allowed: comparisons (``== != < <= > >=``, chained ``a < b < c``), ``in`` / ``not in`` a list
or tuple of literals, ``and``, ``or``, ``not``, parentheses, column names of the score table,
string / number / ``True`` / ``False`` literals (a leading ``-`` on a number). Anything else
(function calls, attributes, subscripts, arithmetic, unknown names, SQL text outside a string
literal) is a :class:`~aftercare.errors.ConfigError` naming the rule and the problem.
A comparison with a NULL value is false (a customer never visited has no ``recency_days``).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable
from typing import Any

import ibis.expr.types as ir

from aftercare.errors import ConfigError

#: Longest condition accepted (a condition is a short rule, not a program).
MAX_CONDITION_CHARS = 1000

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


class _Problem(Exception):
    """A reason the condition is refused (turned into a ConfigError with the rule id)."""


def _literal(node: ast.AST) -> str | int | float | bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value
    raise _Problem(f"only string, number or True/False literals are allowed, not {_show(node)}")


def _show(node: ast.AST) -> str:
    try:
        return repr(ast.unparse(node))
    except Exception:  # unparse of an odd node: name its kind instead
        return type(node).__name__


class _Translator:
    """Turns a parsed condition into an Ibis expression over one table."""

    def __init__(self, table: ir.Table, columns: Iterable[str]) -> None:
        self.table = table
        self.columns = set(columns)

    def operand(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            if node.id not in self.columns:
                known = ", ".join(sorted(self.columns))
                raise _Problem(f"unknown column {node.id!r}; columns: {known}")
            return self.table[node.id]
        return _literal(node)

    def boolean(self, node: ast.AST) -> ir.BooleanValue:
        if isinstance(node, ast.BoolOp):
            parts = [self.boolean(v) for v in node.values]
            combined = parts[0]
            for part in parts[1:]:
                combined = combined & part if isinstance(node.op, ast.And) else combined | part
            return combined
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~self.boolean(node.operand)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name) and node.id in self.columns:
            column = self.table[node.id]
            if not column.type().is_boolean():
                raise _Problem(f"column {node.id!r} is not true/false; compare it with a value")
            return column.fill_null(False)
        raise _Problem(f"{_show(node)} is not a comparison")

    def compare(self, node: ast.Compare) -> ir.BooleanValue:
        result: ir.BooleanValue | None = None
        left_node = node.left
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            left = self.operand(left_node)
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(right_node, ast.List | ast.Tuple) or not right_node.elts:
                    raise _Problem("'in' needs a non-empty [list] of literals")
                if not isinstance(left, ir.Value):
                    raise _Problem("the left side of 'in' must be a column")
                values = [_literal(e) for e in right_node.elts]
                term = left.isin(values) if isinstance(op, ast.In) else ~left.isin(values)
            elif type(op) in _COMPARE:
                right = self.operand(right_node)
                if not isinstance(left, ir.Value) and not isinstance(right, ir.Value):
                    raise _Problem("a comparison needs at least one column")
                term = _COMPARE[type(op)](left, right)
            else:
                raise _Problem(f"operator {type(op).__name__} is not allowed")
            result = term if result is None else result & term
            left_node = right_node
        assert result is not None  # ast.Compare always has at least one operator
        return result


def condition_filter(
    rule_id: str, condition: str, table: ir.Table, *, columns: Iterable[str] | None = None
) -> ir.BooleanValue:
    """The Ibis boolean expression of a custom rule's condition over ``table``.

    Parameters
    ----------
    rule_id
        The custom rule's id (named in every error).
    condition
        The condition text from the config.
    table
        The score table the condition reads (one row per customer).
    columns
        Column names the condition may use (default: all of ``table``).

    Returns
    -------
    ir.BooleanValue
        True where the condition holds; NULL comparisons count as false.

    Raises
    ------
    ConfigError
        The condition is empty, too long, not valid syntax, or uses anything but the
        allowed comparisons, columns and literals.
    """
    where = f"custom rule {rule_id}: condition {condition!r}"
    if not condition or not condition.strip():
        raise ConfigError(f"{where}: the condition is empty")
    if len(condition) > MAX_CONDITION_CHARS:
        raise ConfigError(f"{where}: longer than {MAX_CONDITION_CHARS} characters")
    try:
        tree = ast.parse(condition.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"{where}: not a valid condition ({exc.msg})") from None
    allowed = set(table.columns) if columns is None else set(columns) & set(table.columns)
    try:
        expr = _Translator(table, allowed).boolean(tree.body)
    except _Problem as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except Exception as exc:  # Ibis refused the types, e.g. tier > 5
        raise ConfigError(f"{where}: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    return expr.fill_null(False)


def validate_condition(rule_id: str, condition: str, table: ir.Table) -> None:
    """Raise :class:`ConfigError` when the condition would be refused; return quietly if not."""
    condition_filter(rule_id, condition, table)
