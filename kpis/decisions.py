"""What targets and events share: a segment in words ("region=FR"), and rows refused with their line and reason.

Targets and events are the company's decisions (kept by store.settings); a row reaches the store only once every
row of its file, form or command has passed, so a refused file writes nothing.
"""

from __future__ import annotations

from datetime import date

from i18n import _
from kpis.database import Database
from kpis.periods import Period

ALL_CUSTOMERS = ""  # the segment of a target or event for everyone


class Refused(ValueError):
    """Rows that cannot be stored: each problem names where it is (the file's line, the form's field) and why."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(_("nothing was written:") + "\n" + "\n".join(f"  {p}" for p in problems))


def parse_segment(text: str | None, db: Database) -> str:
    """A segment in the files' form ("region=FR"; empty for all customers), checked against the database."""
    text = (text or "").strip()
    if not text:
        return ALL_CUSTOMERS
    name, sep, value = (part.strip() for part in text.partition("="))
    names = db.filter_names
    if not sep or not name or not value:
        raise ValueError(_("segment {text}: write NAME=VALUE, e.g. region=FR").format(text=repr(text)))
    if name not in names:
        raise ValueError(_("unknown segment {name}: use one of {names}").format(name=repr(name),
                                                                                 names=", ".join(names)))
    if name == "cohort":
        try:
            cohort = Period.parse(value)
        except ValueError as error:
            raise ValueError(_("segment cohort: {error}").format(error=error)) from None
        if cohort.grain != "month":
            raise ValueError(_("segment cohort={value}: a cohort is a month, e.g. cohort=2025-03").format(value=value))
        value = str(cohort)
    elif value not in db.filter_values(name):
        known = db.filter_values(name)
        raise ValueError(_("unknown {name} {value}: the data has {known}").format(
            name=name, value=repr(value), known=", ".join(known[:12]) + (" …" if len(known) > 12 else "")))
    return f"{name}={value}"


def segment_of(filters: dict | None) -> str | None:
    """The view's segment in the files' form: "" for all customers, "region=FR" for one value of one name, None for
    any other view (two names, two values): no single target is about it."""
    chosen = {n: tuple(v) for n, v in (filters or {}).items() if v}
    if not chosen:
        return ALL_CUSTOMERS
    if len(chosen) == 1:
        ((name, values),) = chosen.items()
        if len(values) == 1:
            return f"{name}={values[0]}"
    return None


def shows(segment: str, filters: dict | None) -> bool:
    """Whether something about `segment` belongs in a view of `filters`: everything about all customers does; one
    segment's unless the view filters its name to other values (a search campaign is not in a view of e-mail)."""
    if not segment:
        return True
    name, _sep, value = segment.partition("=")
    chosen = (filters or {}).get(name)
    return not chosen or value in tuple(map(str, chosen))


def cell(value) -> str:
    """A file's, command's or form's value as text, stripped: "" when absent (None, or a blank pandas cell)."""
    return "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()


def parse_day(text, what: str) -> date:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValueError(_("{what} {value} is not a date: write YYYY-MM-DD, e.g. 2026-03-02").format(
            what=what, value=repr(str(text).strip()))) from None


def check_rows(rows: list[dict], parse, where: str, first_line: int = 2) -> list[dict]:
    """parse(row) for every row; Refused with every failing row's line ("targets.csv line 3: …") when any fails."""
    parsed, problems = [], []
    for line, row in enumerate(rows, start=first_line):
        try:
            parsed.append(parse(row))
        except ValueError as error:
            problems.append(_("{where} line {line}: {problem}").format(where=where, line=line, problem=error)
                            if where else str(error))
    if problems:
        raise Refused(problems)
    return parsed
