"""What a KPI is computed over: a period and a customer segment, as filtered Ibis tables."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property

import ibis

from kpis.periods import Period, add_months


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

    @cached_property
    def customers(self) -> ibis.Table:
        """Customers of the segment."""
        c = self.tables["customers"]
        for column, values in self.segment.columns.items():
            c = c.filter(c[column].isin(values))
        if self.segment.cohorts:
            c = c.filter(ibis.or_(*[(c.acquired_at >= p.start) & (c.acquired_at < p.end)
                                    for p in self.segment.cohorts]))
        if self.segment.tiers:
            v = self.tables["customer_value"]
            c = c.semi_join(v.filter(v.value_tier.isin(self.segment.tiers)), "customer_id")
        return c

    def orders_between(self, start: date, end: date) -> ibis.Table:
        """Orders of the segment's customers placed in [start, end)."""
        o = self.tables["orders"]
        o = o.filter((o.ordered_at >= _ts(start)) & (o.ordered_at < _ts(end)))
        return o if self.segment.is_everyone else o.semi_join(self.customers, "customer_id")

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
        f = self.tables["feedback"]
        f = f.filter((f.answered_at >= _ts(start)) & (f.answered_at < _ts(end)))
        if not self.segment.is_everyone:
            f = f.semi_join(self.customers, "customer_id")  # an anonymous answer (NULL) never matches
        touchpoint = self.params.get("touchpoint")
        return f if touchpoint is None else f.filter(f.touchpoint == touchpoint)

    @property
    def feedback(self) -> ibis.Table:
        """Survey answers of the period (see feedback_between)."""
        return self.feedback_between(self.period.start, self.period.end)

    @property
    def acquired(self) -> ibis.Table:
        """Customers of the segment acquired during the period."""
        c = self.customers
        return c.filter((c.acquired_at >= self.period.start) & (c.acquired_at < self.period.end))

    @property
    def spend(self) -> ibis.Table | None:
        """Acquisition spend of the period; None when the segment cannot be matched to spend channels."""
        if not self.segment.only_channels:
            return None
        s = self.tables["marketing_spend"]
        s = s.filter((s.month >= self.period.start) & (s.month < self.period.end))
        channels = self.segment.columns.get("acquisition_channel")
        return s.filter(s.channel.isin(channels)) if channels else s

    def observed_until(self, months: int, days: int = 0) -> bool:
        """Whether every customer acquired in the period has been observed this long (cohort old enough)."""
        horizon = add_months(self.period.end, months)
        return date.fromordinal(horizon.toordinal() + days - 1) <= self.data_end
