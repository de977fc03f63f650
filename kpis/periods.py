"""Reporting periods: "2024-03" (month), "2024-Q1" (quarter), "2024" (year)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from i18n import _, formats

GRAINS = {"month": 1, "quarter": 3, "year": 12}
COMPARES = ("previous", "year_ago")  # what a period is compared with: the period before, the same one a year earlier
_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE), "quarter"),
    (re.compile(r"^(\d{4})$"), "year"),
)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter or year: [start, end) with end exclusive."""

    start: date
    grain: str

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        if isinstance(text, Period):
            return text
        for pattern, grain in _PATTERNS:
            match = pattern.match(str(text).strip())
            if match:
                year = int(match.group(1))
                if grain == "year":
                    return cls(date(year, 1, 1), grain)
                number = int(match.group(2))
                if grain == "month" and not 1 <= number <= 12:
                    break
                month = number if grain == "month" else 3 * number - 2
                return cls(date(year, month, 1), grain)
        raise ValueError(_("unknown period '{text}': use 2024-03 (month), 2024-Q1 (quarter) or 2024 (year)").format(
            text=text))

    @classmethod
    def containing(cls, day: date, grain: str) -> Period:
        """The period of the given grain that contains `day`."""
        if grain not in GRAINS:
            raise ValueError(_("unknown grain '{grain}': use {grains}").format(grain=grain, grains=", ".join(GRAINS)))
        first = (day.month - 1) // GRAINS[grain] * GRAINS[grain] + 1
        return cls(date(day.year, first, 1), grain)

    @property
    def months(self) -> int:
        return GRAINS[self.grain]

    @property
    def end(self) -> date:
        """First day after the period."""
        return add_months(self.start, self.months)

    def shift(self, steps: int) -> Period:
        """The period `steps` periods later (earlier when negative)."""
        return Period(add_months(self.start, steps * self.months), self.grain)

    def previous(self) -> Period:
        return self.shift(-1)

    def year_ago(self) -> Period:
        return Period(add_months(self.start, -12), self.grain)

    def reference(self, compare: str) -> Period:
        """The period this one is compared with: "previous" or "year_ago" (COMPARES)."""
        if compare not in COMPARES:
            raise ValueError(_("unknown comparison '{compare}': use {compares}").format(
                compare=compare, compares=" or ".join(COMPARES)))
        return self.previous() if compare == "previous" else self.year_ago()

    @property
    def label(self) -> str:
        """For people, in the current language: "Oct 2026" / "oct. 2026", "Q3 2026" / "T3 2026", "2026"."""
        if self.grain == "month":
            return formats.month(self.start)
        if self.grain == "quarter":
            return formats.quarter(self.start)
        return str(self.start.year)

    def __str__(self) -> str:
        if self.grain == "month":
            return f"{self.start:%Y-%m}"
        if self.grain == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"


def last_complete(data_end: date, grain: str) -> Period:
    """The latest period of the grain that data ending on `data_end` covers to its end (else the one in progress):
    the dashboard's default period."""
    current = Period.containing(data_end, grain)
    return current.previous() if current.end > data_end + timedelta(days=1) else current


def period_range(first: str | Period, last: str | Period, grain: str | None = None) -> list[Period]:
    """Every period of the grain from the one containing `first` to the one containing `last`."""
    first, last = Period.parse(first), Period.parse(last)
    grain = grain or first.grain
    current, stop = Period.containing(first.start, grain), Period.containing(last.start, grain)
    out = []
    while current <= stop:
        out.append(current)
        current = current.shift(1)
    return out
