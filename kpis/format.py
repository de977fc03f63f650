"""Numbers as people read them, by the unit the registry declares."""

from __future__ import annotations

from kpis.registry import Unit

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
PREFIXED = {"USD", "GBP"}


def _with_symbol(number: str, currency: str) -> str:
    symbol = SYMBOLS.get(currency, currency)
    return f"{symbol}{number}" if currency in PREFIXED else f"{number} {symbol}"


def money(value: float, currency: str, digits: int = 0) -> str:
    return _with_symbol(f"{value:,.{digits}f}", currency)


def compact_money(value: float, currency: str, digits: int = 1) -> str:
    """1.2M €-style amounts for big tiles (more digits for the two ends of an interval)."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return _with_symbol(f"{value / limit:,.{digits}f}{suffix}", currency)
    return money(value, currency)


def value(value, unit: Unit, currency: str = "EUR", compact: bool = False) -> str:
    """A KPI value as text; an em dash when undefined."""
    if value is None:
        return "—"
    if unit is Unit.CURRENCY:
        if compact:
            return compact_money(value, currency)
        return money(value, currency, 2 if abs(value) < 1000 else 0)
    if unit is Unit.PERCENT:
        return f"{100 * value:.1f} %"
    if unit is Unit.COUNT:
        return f"{value:,.0f}"
    if unit is Unit.MONTHS:
        return f"{value:.1f} months"
    if unit is Unit.SCORE:
        return f"{value:+.0f}" if abs(value) >= 10 else f"{value:.2f}"
    return f"{value:,.2f}"


def delta(change, unit: Unit, currency: str = "EUR") -> str | None:
    """A change as text (percentage points for rates); None when there is nothing to compare."""
    if change is None:
        return None
    if unit is Unit.PERCENT:
        return f"{100 * change:+.1f} pts"
    if unit is Unit.CURRENCY:
        # An ASCII minus: st.metric reads the sign to pick the arrow and colour.
        return ("+" if change >= 0 else "-") + money(abs(change), currency, 2 if abs(change) < 1000 else 0)
    if unit is Unit.COUNT:
        return f"{change:+,.0f}"
    if unit is Unit.SCORE:
        return f"{change:+.1f}"
    return f"{change:+,.2f}"
