"""What a KPI is computed over: a period and a customer segment, as filtered Ibis tables."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property

import ibis

from kpis.periods import Period, add_months
from kpis.sources import ACTIVITY, ACTIVITY_COLUMNS, FACTS, WHEN


def _ts(day: date) -> ibis.Expr:
    return ibis.timestamp(datetime(day.year, day.month, day.day))


@dataclass(frozen=True)
class Segment:
    """Validated customer filters: column filters (column -> values) and acquisition cohorts."""

    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cohorts: tuple[Period, ...] = ()
    tiers: tuple[str, ...] = ()

    @property
    def is_everyone(self) -> bool:
        return not (self.columns or self.cohorts or self.tiers)

    @property
    def only_channels(self) -> bool:
        """True when acquisition channel is the only filter: spend can then be attributed."""
        return not (self.cohorts or self.tiers) and set(self.columns) <= {"acquisition_channel"}


@dataclass
class Scope:
    tables: dict[str, ibis.Table]
    period: Period
    segment: Segment
    data_end: date  # day of the last order in the database
    params: dict = field(default_factory=dict)

    def at(self, period: Period) -> Scope:
        """The same segment and parameters over another period."""
        return replace(self, period=period)

    def carries(self, source: str, column: str) -> bool:
        """Whether the rows of `source` carry the customer's column (kpis.sources.facts): the fact tables carry every
        segment column but an attribute named like one of their own columns (a customer "channel")."""
        if source in ("customers", "acquired"):
            return column in self.tables["customers"].columns
        own = ACTIVITY_COLUMNS if source == "activity" else self.tables[source].columns
        return column in self.tables[ACTIVITY if source == "activity" else FACTS[source]].columns and column not in own

    def _in_segment(self, rows: ibis.Table, source: str = "customers") -> ibis.Table:
        """The rows of `source` (customers, or a fact table) of the segment's customers, filtered on the customer
        columns they carry; a row without a customer (an anonymous answer) is in no segment."""
        joined = {}
        for column, values in self.segment.columns.items():
            if self.carries(source, column):
                rows = rows.filter(rows[column].isin(values))
            else:
                joined[column] = values
        if self.segment.cohorts:
            rows = rows.filter(ibis.or_(*[(rows.acquired_at >= p.start) & (rows.acquired_at < p.end)
                                          for p in self.segment.cohorts]))
        if self.segment.tiers and source not in ("customers", "acquired"):
            rows = rows.filter(rows.value_tier.isin(self.segment.tiers))
        elif self.segment.tiers:
            v = self.tables["customer_value"]
            rows = rows.semi_join(v.filter(v.value_tier.isin(self.segment.tiers)), "customer_id")
        if joined:
            c = self.tables["customers"]
            rows = rows.semi_join(c.filter(*[c[k].isin(v) for k, v in joined.items()]), "customer_id")
        return rows

    @cached_property
    def customers(self) -> ibis.Table:
        """Customers of the segment."""
        return self._in_segment(self.tables["customers"])

    def activity_between(self, start: date, end: date) -> ibis.Table:
        """The segment's customers' activity (kpis.sources.activity) in the periods of the scope's grain starting in
        [start, end): a row per customer and period in which they bought."""
        a = self.tables[ACTIVITY]
        a = a.filter((a.grain == self.period.grain) & (a.start >= start) & (a.start < end))
        return self._in_segment(a, "activity")

    @property
    def activity(self) -> ibis.Table:
        return self.activity_between(self.period.start, self.period.end)

    def orders_between(self, start: date, end: date) -> ibis.Table:
        """Orders of the segment's customers placed in [start, end), with their customer's segment columns
        (kpis.sources.facts)."""
        o = self.tables[FACTS["orders"]]
        return self._in_segment(o.filter((o.ordered_at >= _ts(start)) & (o.ordered_at < _ts(end))), "orders")

    @property
    def orders(self) -> ibis.Table:
        return self.orders_between(self.period.start, self.period.end)

    @property
    def orders_to_date(self) -> ibis.Table:
        """Every order of the segment up to the end of the period."""
        return self.orders_between(date(1900, 1, 1), self.period.end)

    def feedback_between(self, start: date, end: date) -> ibis.Table:
        """Survey answers given in [start, end) by the segment's customers (anonymous answers only when the
        segment is everyone), restricted to one journey step when params["touchpoint"] is given."""
        f = self.tables[FACTS["feedback"]]
        f = self._in_segment(f.filter((f.answered_at >= _ts(start)) & (f.answered_at < _ts(end))), "feedback")
        touchpoint = self.params.get("touchpoint")
        return f if touchpoint is None else f.filter(f.touchpoint == touchpoint)

    @property
    def feedback(self) -> ibis.Table:
        """Survey answers of the period (see feedback_between)."""
        return self.feedback_between(self.period.start, self.period.end)

    def acquired_between(self, start: date, end: date) -> ibis.Table:
        """Customers of the segment acquired in [start, end)."""
        c = self.customers
        return c.filter((c.acquired_at >= start) & (c.acquired_at < end))

    @property
    def acquired(self) -> ibis.Table:
        """Customers of the segment acquired during the period."""
        return self.acquired_between(self.period.start, self.period.end)

    def spend_between(self, start: date, end: date) -> ibis.Table | None:
        """Acquisition spend of the months in [start, end); None when the segment cannot be matched to spend
        channels."""
        if not self.segment.only_channels:
            return None
        s = self.tables["marketing_spend"]
        s = s.filter((s.month >= start) & (s.month < end))
        channels = self.segment.columns.get("acquisition_channel")
        return s.filter(s.channel.isin(channels)) if channels else s

    @property
    def spend(self) -> ibis.Table | None:
        """Acquisition spend of the period (see spend_between)."""
        return self.spend_between(self.period.start, self.period.end)

    def rows_between(self, source: str, start: date, end: date) -> ibis.Table | None:
        """The rows a measure of `source` aggregates ("orders", "acquired", "spend", "feedback", "activity"), in
        [start, end)."""
        return {"orders": self.orders_between, "acquired": self.acquired_between, "spend": self.spend_between,
                "feedback": self.feedback_between, "activity": self.activity_between}[source](start, end)

    def period_index(self, source: str, rows: ibis.Table, periods: list[Period]) -> ibis.Expr:
        """For rows of consecutive `periods` (rows_between their span): the index of the period each row falls in."""
        when = rows[WHEN[source]]
        bound = _ts if when.type().is_timestamp() else ibis.literal
        if len(periods) == 1:
            return ibis.literal(0, "int64")
        return ibis.cases(*[(when < bound(p.end), i) for i, p in enumerate(periods[:-1])],
                          else_=len(periods) - 1).cast("int64")

    def observed_until(self, months: int, days: int = 0) -> bool:
        """Whether every customer acquired in the period has been observed this long (cohort old enough)."""
        horizon = add_months(self.period.end, months)
        return date.fromordinal(horizon.toordinal() + days - 1) <= self.data_end
