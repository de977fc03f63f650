"""Events: dated notes ("Spring campaign", "price rise", "site outage") drawn on every time chart they touch.

An event is a day or a range of days, in a category, for all customers or one segment. A chart of periods shows
it on each period it touches; a view shows it unless its segment is one the view's filters leave out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from i18n import N_, _, formats
from kpis.database import Database
from kpis.decisions import cell, check_rows, parse_day, parse_segment, shows
from kpis.periods import Period

# category (stored in the settings store, typed in files and commands) -> its name for people (category_label)
CATEGORIES = {"campaign": N_("Campaign"), "price": N_("Price"), "incident": N_("Incident"), "product": N_("Product"),
              "other": N_("Other")}
LABEL_LENGTH = 80  # what a chart's tooltip and the PDF's line hold


def category_label(category: str) -> str:
    """An event category's name in the current language ("Campaign" / "Campagne"); an unknown one as stored."""
    return _(CATEGORIES[category]) if category in CATEGORIES else category


@dataclass(frozen=True)
class Event:
    id: int
    start: date
    until: date | None  # the last day of a range (included); None for a single day
    label: str
    category: str
    segment: str

    @property
    def last(self) -> date:
        return self.until or self.start

    @property
    def dates(self) -> str:
        """"2 Mar 2026" or "2 Mar – 31 Mar 2026" (French: "2 mars – 31 mars 2026"), in the current language."""
        if self.until is None or self.until == self.start:
            return formats.date(self.start)
        first = formats.day_month(self.start) if self.start.year == self.until.year else formats.date(self.start)
        return f"{first} – {formats.date(self.until)}"

    @property
    def text(self) -> str:
        """The line listed under a chart: "2 Mar – 31 Mar 2026 · Campaign · Spring campaign (search)"."""
        where = f" ({self.segment.partition('=')[2]})" if self.segment else ""
        return f"{self.dates} · {category_label(self.category)} · {self.label}{where}"


def events_of(frame: pd.DataFrame) -> list[Event]:
    """The settings store's events table as Events, in date order."""
    out = []
    for row in frame.to_dict("records"):
        until = row.get("until")
        out.append(Event(int(row["id"]), pd.Timestamp(row["start"]).date(),
                         None if until is None or pd.isna(until) else pd.Timestamp(until).date(),
                         row["label"], row["category"], row["segment"] or ""))
    return sorted(out, key=lambda e: (e.start, e.id))


def touching(events: list[Event], first: date, end: date, filters: dict | None = None) -> list[Event]:
    """Events of the view (segment) with a day in [first, end)."""
    return [e for e in events if e.start < end and e.last >= first and shows(e.segment, filters)]


def on_periods(events: list[Event], periods: list, filters: dict | None = None) -> pd.DataFrame:
    """A row per event and period it touches (period as "2026-03", number: the event's place on this chart from 1,
    label, category, text, range: a range of days or a single day), for a chart whose axis is those periods."""
    periods = [Period.parse(p) for p in periods]
    rows = []
    if periods:
        shown = touching(events, min(p.start for p in periods), max(p.end for p in periods), filters)
        for number, event in enumerate(shown, start=1):
            for p in periods:
                if event.start < p.end and event.last >= p.start:
                    rows.append({"period": str(p), "number": number, "event": event.id, "label": event.label,
                                 "category": category_label(event.category), "text": event.text,
                                 "range": event.until is not None and event.until != event.start})
    return pd.DataFrame(rows, columns=["period", "number", "event", "label", "category", "text", "range"])


def on_days(events: list[Event], first: date, end: date, filters: dict | None = None) -> pd.DataFrame:
    """A row per event in [first, end) for a chart with a time axis: start, end (the day after its last), number…"""
    rows = [{"start": pd.Timestamp(e.start), "end": pd.Timestamp(e.last + timedelta(days=1)), "number": number,
             "event": e.id, "label": e.label, "category": category_label(e.category), "text": e.text,
             "range": e.until is not None and e.until != e.start}
            for number, e in enumerate(touching(events, first, end, filters), start=1)]
    return pd.DataFrame(rows, columns=["start", "end", "number", "event", "label", "category", "text", "range"])


def legend(marks: pd.DataFrame) -> list[str]:
    """The lines listed under a chart: "1. 2 Mar – 31 Mar 2026 · Campaign · Spring campaign", one per event."""
    firsts = marks.drop_duplicates("number").sort_values("number")
    return [f"{n}. {text}" for n, text in zip(firsts["number"], firsts["text"], strict=True)]


def listed(marks: pd.DataFrame) -> str | None:
    """The caption under a chart naming its events ("Events: 1. … · 2. …"); None when it draws none."""
    return _("Events: {events}").format(events=" · ".join(legend(marks))) if not marks.empty else None


def parse_event(row: dict, db: Database) -> dict:
    """One event (date, label; optional until, category, segment) as the store keeps it."""
    start = parse_day(row.get("date") or row.get("start") or "", "date")
    until_text = cell(row.get("until"))
    until = parse_day(until_text, "until") if until_text else None
    if until is not None and until < start:
        raise ValueError(_("the event ends ({until}) before it starts ({start})").format(until=until, start=start))
    label = " ".join(str(row.get("label") or "").split())
    if not label:
        raise ValueError(_("no label given"))
    if len(label) > LABEL_LENGTH:
        raise ValueError(_("label of {length} characters: at most {most}").format(length=len(label),
                                                                                  most=LABEL_LENGTH))
    category = str(row.get("category") or "other").strip().lower()
    if category not in CATEGORIES:
        raise ValueError(_("unknown category {category}: use one of {categories}").format(
            category=repr(category), categories=", ".join(CATEGORIES)))
    return {"start": start, "until": None if until == start else until, "label": label, "category": category,
            "segment": parse_segment(row.get("segment"), db)}


def parse_events(rows: list[dict], db: Database, where: str = "") -> list[dict]:
    return check_rows(rows, lambda row: parse_event(row, db), where)
