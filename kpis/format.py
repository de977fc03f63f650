"""Numbers as people read them, by the unit the registry declares, in the current language (i18n.formats)."""

from __future__ import annotations

from i18n import _, language
from i18n.formats import number, percent
from kpis.registry import Unit

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
PREFIXED = {"USD", "GBP"}  # in English; French writes every symbol after the amount
# Thousands, millions, billions: 1.2M € / 1,2 M€ (French: "Md" for milliard, a narrow no-break space before).
COMPACT = {"en": ((1e9, "B"), (1e6, "M"), (1e3, "k")), "fr": ((1e9, "\u202fMd"), (1e6, "\u202fM"), (1e3, "\u202fk"))}


def _with_symbol(amount: str, currency: str, compact: bool = False) -> str:
    symbol = SYMBOLS.get(currency, currency)
    if language() == "fr":
        return f"{amount}{symbol}" if compact and symbol == "€" else f"{amount}\u00a0{symbol}"
    return f"{symbol}{amount}" if currency in PREFIXED else f"{amount} {symbol}"


def money(value: float, currency: str, digits: int = 0) -> str:
    return _with_symbol(number(value, digits), currency)


def compact_money(value: float, currency: str, digits: int = 1) -> str:
    """1.2M € / 1,2 M€ for big tiles (more digits for the two ends of an interval)."""
    for limit, suffix in COMPACT[language()]:
        if abs(value) >= limit:
            return _with_symbol(number(value / limit, digits) + suffix, currency, compact=True)
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
        return percent(value, 1)
    if unit is Unit.COUNT:
        return number(value)
    if unit is Unit.MONTHS:
        return _("{months} months").format(months=number(value, 1))
    if unit is Unit.SCORE:
        return number(value, sign=True) if abs(value) >= 10 else number(value, 2)
    return number(value, 2)


def delta(change, unit: Unit, currency: str = "EUR") -> str | None:
    """A change as text (percentage points for rates); None when there is nothing to compare."""
    if change is None:
        return None
    if unit is Unit.PERCENT:
        return _("{change} pts").format(change=number(100 * change, 1, sign=True))
    if unit is Unit.CURRENCY:
        # An ASCII minus: st.metric reads the sign to pick the arrow and colour.
        return ("+" if change >= 0 else "-") + money(abs(change), currency, 2 if abs(change) < 1000 else 0)
    if unit is Unit.COUNT:
        return number(change, sign=True)
    if unit is Unit.SCORE:
        return number(change, 1, sign=True)
    return number(change, 2, sign=True)
