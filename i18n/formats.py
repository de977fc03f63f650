"""Numbers, dates and periods in the current language's conventions (Babel, CLDR): `1 234,5`, `71,4 %`,
`31 oct. 2026`, `T3 2026` in French; `1,234.5`, `71.4 %`, `31 Oct 2026`, `Q3 2026` in English.

French separates thousands with a narrow no-break space (U+202F) and puts a no-break space before `%` and `€`:
the PDF's DejaVu fonts have both glyphs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, get_decimal_symbol

from i18n import language, locale


def number(value: float, digits: int = 0, sign: bool = False) -> str:
    """1,234.5 / 1 234,5; with sign, +1,234.5 (a minus is U+2212 in neither: "-" so that st.metric reads it)."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    text = format_decimal(Decimal(float(value)), pattern, locale=locale())  # the exact float, rounded as f-strings do
    return ("+" + text) if sign and value >= 0 else text


def percent(share: float, digits: int = 1, sign: bool = False) -> str:
    """0.714 as 71.4 % (English, as the dashboard had it) / 71,4 % (French, a no-break space before %)."""
    space = "\u00a0" if language() == "fr" else " "
    return number(100 * share, digits, sign) + space + "%"


def _day(day: dt.date) -> str:
    """The day of the month as the language writes it in a date: French says "1er" for the first."""
    return "1er" if day.day == 1 and language() == "fr" else str(day.day)


def significant(value: float, digits: int) -> str:
    """A fitted parameter to `digits` significant digits, as `:.4g` writes it (0.0123, 1.23e+04), with the language's
    decimal sign (0,0123)."""
    return f"{value:.{digits}g}".replace(".", get_decimal_symbol(locale()))


def date(day: dt.date) -> str:
    """31 Oct 2026 / 31 oct. 2026 (1er nov. 2026)."""
    return f"{_day(day)} {format_date(day, 'MMM y', locale=locale())}"


def day_month(day: dt.date) -> str:
    """31 Oct / 31 oct. (1er nov.)."""
    return f"{_day(day)} {format_date(day, 'MMM', locale=locale())}"


def month(day: dt.date) -> str:
    """Oct 2026 / oct. 2026: the month a day falls in."""
    return format_date(day, "MMM y", locale=locale())


def quarter(day: dt.date) -> str:
    """Q3 2026 / T3 2026: the quarter a day falls in."""
    return format_date(day, "QQQ y", locale=locale())


def timestamp(moment: dt.datetime) -> str:
    """31 Oct 2026 14:05 / 31 oct. 2026 14:05."""
    return f"{date(moment)} {format_datetime(moment, 'HH:mm', locale=locale())}"


def month_name(month_number: int) -> str:
    """The month's abbreviated name in the current language ("Oct", "oct.")."""
    return Locale.parse(locale()).months["format"]["abbreviated"][month_number]


def chart_locale() -> dict | None:
    """The current language's d3 number and time formats, for Vega-Lite's `config.locale` and vl-convert (None
    in English: Vega's own defaults, as before)."""
    if language() == "en":
        return None
    babel = Locale.parse(locale())
    symbols = babel.number_symbols["latn"]
    months, days = babel.months["format"], babel.days["format"]
    return {
        "number": {"decimal": symbols["decimal"], "thousands": symbols["group"], "grouping": [3],
                   "currency": ["", "\u00a0€"], "percent": "\u00a0%", "minus": "-"},
        "time": {"dateTime": "%A %e %B %Y %X", "date": "%d/%m/%Y", "time": "%H:%M:%S", "periods": ["AM", "PM"],
                 "days": [days["wide"][(i - 1) % 7] for i in range(7)],  # d3 starts on Sunday, Babel on Monday (0)
                 "shortDays": [days["abbreviated"][(i - 1) % 7] for i in range(7)],
                 "months": [months["wide"][m] for m in range(1, 13)],
                 "shortMonths": [months["abbreviated"][m] for m in range(1, 13)]},
    }
