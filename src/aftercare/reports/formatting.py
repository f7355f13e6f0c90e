"""Number formats shared by the report's tables and charts (display only, never for sums)."""

from __future__ import annotations

import math

CURRENCY_SYMBOLS = {"CNY": "¥", "RMB": "¥", "USD": "$", "EUR": "€"}


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_int(value: float | None) -> str:
    """``20000`` → ``20,000``; missing → ``—``."""
    if _missing(value):
        return "—"
    return f"{round(value):,}"  # type: ignore[arg-type]


def fmt_signed(value: float | None) -> str:
    """An integer change with its sign: ``+12``, ``−3``, ``0``."""
    if _missing(value):
        return "—"
    n = round(value)  # type: ignore[arg-type]
    if n > 0:
        return f"+{n:,}"
    return f"−{-n:,}" if n < 0 else "0"


def fmt_pct(share: float | None, digits: int = 1) -> str:
    """A share (0.123) as a percentage: ``12.3%``."""
    if _missing(share):
        return "—"
    text = f"{share * 100:.{digits}f}%"  # type: ignore[operator]
    return "−" + text[1:] if text.startswith("-") else text


def fmt_pct_value(pct: float | None, digits: int = 1) -> str:
    """A value already in percent (95.3) as ``95.3%``."""
    if _missing(pct):
        return "—"
    return f"{pct:.{digits}f}%"


def fmt_signed_pct(pct: float | None, digits: int = 1) -> str:
    """A change already in percent with its sign: ``+27.2%``."""
    if _missing(pct):
        return "—"
    if round(pct, digits) == 0:  # type: ignore[arg-type]
        return f"{0:.{digits}f}%"
    sign = "+" if pct > 0 else "−"  # type: ignore[operator]
    return f"{sign}{abs(pct):.{digits}f}%"  # type: ignore[arg-type]


def fmt_money(value: float | None, currency: str = "CNY") -> str:
    """Whole currency units with the currency's symbol: ``¥1,234`` (``−¥240`` when negative)."""
    if _missing(value):
        return "—"
    n = round(value)  # type: ignore[arg-type]
    symbol = CURRENCY_SYMBOLS.get(currency)
    body = f"{symbol}{abs(n):,}" if symbol else f"{abs(n):,} {currency}"
    return f"−{body}" if n < 0 else body


def fmt_money_short(value: float | None, currency: str = "CNY") -> str:
    """Money for chart labels: ``¥4.6M``, ``¥12.3k``, ``¥950``."""
    if _missing(value):
        return "—"
    symbol = CURRENCY_SYMBOLS.get(currency, "")
    size = abs(value)  # type: ignore[arg-type]
    if size >= 1_000_000:
        body = f"{size / 1_000_000:.1f}M"
    elif size >= 10_000:
        body = f"{size / 1_000:.1f}k"
    else:
        body = f"{size:,.0f}"
    sign = "−" if value < 0 and round(size) else ""  # type: ignore[operator]
    return f"{sign}{symbol}{body}"
