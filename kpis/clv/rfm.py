"""Per-customer frequency, recency, age and mean repeat value (lifetimes' conventions), computed in the engine.

One Ibis expression (`rfm_table`) compiled per engine (DuckDB, Spark): `rfm_summary` brings back one row per
customer, `rfm_patterns` only the distinct (frequency, recency, T) patterns with their number of customers.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ibis
import numpy as np
import pandas as pd

from kpis.clv.common import compress
from kpis.database import FIXED_FILTERS, Database, KPIError, segment
from kpis.scope import Scope
from kpis.sources import base_tables

# Length of one time unit in days. "M" is the mean Gregorian month (365.25 / 12 days), a fixed length, so that
# model times stay proportional to elapsed days; calendar months only matter for CLV month boundaries.
TIME_UNITS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def time_unit_days(time_unit: str) -> float:
    """Days in one time unit: D, W (7 days) or M (365.25/12 days)."""
    if time_unit not in TIME_UNITS:
        raise ValueError(f"unknown time unit {time_unit!r}: use {', '.join(TIME_UNITS)}")
    return TIME_UNITS[time_unit]


def as_date(value) -> date:
    """A date from a date, a midnight datetime or an ISO string."""
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise ValueError(f"observation end {value} is not a date")
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def rfm_table(tables: dict[str, ibis.Table], observation_end: date, unit_days: float,
              customers: ibis.Table | None = None) -> ibis.Table:
    """Per customer (unordered): frequency, recency_days, age_days, recency, T, monetary_value (see rfm_summary).

    `customers`, when given, restricts orders to those customers (a segment of the KPI catalog).
    """
    o = tables["orders"]
    end = datetime.combine(observation_end + timedelta(days=1), datetime.min.time())
    o = o.filter(o.ordered_at < ibis.timestamp(end))
    if customers is not None:
        o = o.semi_join(customers, "customer_id")
    days = o.group_by(["customer_id", o.ordered_at.date().name("day")]).aggregate(value=o.revenue.sum())
    per = days.group_by("customer_id").aggregate(
        n=days.count(), first=days.day.min(), last=days.day.max(), total=days.value.sum(),
        first_value=days.value.argmin(days.day),  # days are distinct per customer: the first day's value
    )
    frequency = (per.n - 1).cast("int64")
    recency_days = per["last"].delta(per["first"], unit="day").cast("int64")
    age_days = ibis.literal(observation_end).delta(per["first"], unit="day").cast("int64")
    repeat_value = (per.total - per.first_value).cast("float64") / (per.n - 1).nullif(0)
    return per.select(
        "customer_id", frequency=frequency, recency_days=recency_days, age_days=age_days,
        recency=recency_days / unit_days, T=age_days / unit_days,
        monetary_value=ibis.ifelse(per.n > 1, repeat_value, 0.0),
    )


def _rfm(db, observation_end, time_unit: str, filters: dict | None):
    """(rfm_table expression, run(expr) -> DataFrame, database or None, end date) for a Database or a connection."""
    end = as_date(observation_end)
    unit = time_unit_days(time_unit)
    if isinstance(db, Database):
        chosen = segment(db, filters)  # validated like every KPI filter; the segment's customers, whatever the period
        customers = None if chosen.is_everyone else Scope(db.tables, None, chosen, db.data_end).customers
        customers = None if customers is None else customers.select("customer_id")
        return rfm_table(db.tables, end, unit, customers), lambda expr: db.arrow(expr).to_pandas(), db, end
    if any(v not in (None, [], ()) for v in (filters or {}).values()):
        raise ValueError("customer filters need a kpis Database (kpis.connect), not a bare connection")
    run = lambda expr: db.cursor().execute(ibis.to_sql(expr, dialect="duckdb")).df()  # noqa: E731
    return rfm_table(base_tables(), end, unit), run, None, end


def rfm_summary(db, observation_end, time_unit: str = "W", filters: dict | None = None) -> pd.DataFrame:
    """Frequency, recency, T and monetary_value per customer as of `observation_end` (orders that day included).

    Purchases are counted on distinct days (same-day orders merge, values summed); frequency = repeat purchase
    days; recency = days from first to last purchase day, T = days from first purchase day to observation_end,
    both in `time_unit`; monetary_value = mean value of the repeat purchase days (0 without one), as lifetimes.
    `db` is a `kpis.database.Database` (DuckDB or Spark) or a DuckDB connection; `filters` (Database only) are the
    KPI catalog's customer filters (acquisition_channel, region, cohort, value_tier, attributes), validated the
    same way. One row per customer comes back: for a large base on a cluster, prefer `rfm_patterns`.
    """
    expr, run, _, end = _rfm(db, observation_end, time_unit, filters)
    frame = run(expr.select("customer_id", "frequency", "recency", "T", "monetary_value").order_by("customer_id"))
    frame = frame.set_index("customer_id")
    frame["frequency"] = frame["frequency"].astype(np.int64)
    frame = frame.astype({c: float for c in ("recency", "T", "monetary_value")})
    frame.attrs.update(observation_end=end, time_unit=time_unit)
    return frame


def rfm_patterns(db, observation_end, time_unit: str = "W", by: str | None = None,
                 filters: dict | None = None) -> pd.DataFrame:
    """The RFM summary compressed in the engine: distinct (frequency, recency, T) with `weight` = customers.

    What BG/NBD fits read (`BetaGeo().fit(..., weights=weight)`), as `rfm_compressed(rfm_summary(...))` gives it,
    grouped by the engine so that Python gets one row per pattern instead of one per customer. How much smaller
    that is depends on the base: times are whole days, so customers acquired over a few weeks share patterns
    (CDNOW: 2,357 customers, 1,016 patterns) while a base acquired over years has nearly one per customer (the
    1M-customer demo: 754k). `by` names a customer column (acquisition_channel, region, an attribute) to get
    patterns per value of it, as a first column; `filters` as for rfm_summary.
    """
    expr, run, database, end = _rfm(db, observation_end, time_unit, filters)
    keys = ["frequency", "recency_days", "age_days"]
    if by is not None:
        if database is None:
            raise ValueError("by= needs a kpis Database (kpis.connect), not a bare connection")
        allowed = [f for f in FIXED_FILTERS if f not in ("cohort", "value_tier")] + list(database.attributes)
        if by not in allowed:
            raise KPIError(f"unknown customer column '{by}' for by=: use one of {', '.join(allowed)}")
        c = database.tables["customers"]
        expr = expr.left_join(c.select("customer_id", **{by: c[by]}), "customer_id")
        keys = [by, *keys]
    grouped = expr.group_by(keys).aggregate(weight=expr.count(), recency=expr.recency.max(), T=expr["T"].max())
    frame = run(grouped.select(*keys, "recency", "T", "weight").order_by(keys))
    frame = frame.drop(columns=["recency_days", "age_days"])
    frame["frequency"] = frame["frequency"].astype(np.int64)
    frame["weight"] = frame["weight"].astype(np.int64)
    frame = frame.astype({"recency": float, "T": float}).reset_index(drop=True)
    frame.attrs.update(observation_end=end, time_unit=time_unit)
    return frame


def rfm_compressed(summary: pd.DataFrame) -> pd.DataFrame:
    """Unique (frequency, recency, T) rows of a summary with `weight` = number of customers; what fitters use."""
    (x, tx, t), w = compress(*(summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")),
                             weights=np.ones(len(summary)))
    out = pd.DataFrame({"frequency": x.astype(np.int64), "recency": tx, "T": t, "weight": w.astype(np.int64)})
    out = out.sort_values(["frequency", "recency", "T"], ignore_index=True)
    out.attrs.update(summary.attrs)
    return out
