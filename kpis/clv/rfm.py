"""Per-customer frequency, recency, age and mean repeat value (lifetimes' conventions), computed in DuckDB."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from kpis.clv.common import compress

# Length of one time unit in days. "M" is the mean Gregorian month (365.25 / 12 days), a fixed length, so that
# model times stay proportional to elapsed days; calendar months only matter for CLV month boundaries.
TIME_UNITS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}

_SQL = """
WITH days AS (
    SELECT o.customer_id, CAST(o.ordered_at AS DATE) AS day, sum(o.revenue) AS value
    FROM orders o
    WHERE o.ordered_at < CAST(? AS DATE) + INTERVAL 1 DAY {where}
    GROUP BY ALL
)
SELECT customer_id,
       count(*) - 1 AS frequency,
       date_diff('day', min(day), max(day)) / ? AS recency,
       date_diff('day', min(day), CAST(? AS DATE)) / ? AS T,
       CASE WHEN count(*) > 1 THEN CAST((sum(value) - arg_min(value, day)) AS DOUBLE) / (count(*) - 1)
            ELSE 0 END AS monetary_value
FROM days
GROUP BY customer_id
ORDER BY customer_id
"""


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


def rfm_summary(db, observation_end, time_unit: str = "W", **filters) -> pd.DataFrame:
    """Frequency, recency, T and monetary_value per customer as of `observation_end` (orders that day included).

    Purchases are counted on distinct days (same-day orders merge, values summed); frequency = repeat purchase
    days; recency = days from first to last purchase day, T = days from first purchase day to observation_end,
    both in `time_unit`; monetary_value = mean value of the repeat purchase days (0 without one), as lifetimes.
    `db` is a `kpis.engine.Database` or a DuckDB connection; `filters` (Database only) are the KPI catalog's
    customer filters (acquisition_channel, region, cohort, value_tier, attributes), validated the same way.
    """
    end = as_date(observation_end)
    unit = time_unit_days(time_unit)
    where, params = _segment_sql(db, filters)
    sql = _SQL.format(where=where)
    cursor = db.cursor()
    frame = cursor.execute(sql, [end, *params, unit, end, unit]).df()
    frame = frame.set_index("customer_id")
    frame["frequency"] = frame["frequency"].astype(np.int64)
    frame = frame.astype({c: float for c in ("recency", "T", "monetary_value")})
    frame.attrs.update(observation_end=end, time_unit=time_unit)
    return frame


def rfm_compressed(summary: pd.DataFrame) -> pd.DataFrame:
    """Unique (frequency, recency, T) rows of a summary with `weight` = number of customers; what fitters use."""
    (x, tx, t), w = compress(*(summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")),
                             weights=np.ones(len(summary)))
    out = pd.DataFrame({"frequency": x.astype(np.int64), "recency": tx, "T": t, "weight": w.astype(np.int64)})
    out.attrs.update(summary.attrs)
    return out


def _segment_sql(db, filters: dict) -> tuple[str, list]:
    """SQL restricting orders to a validated customer segment, and its bound parameters."""
    filters = {k: v for k, v in filters.items() if v is not None and v != [] and v != ()}
    if not filters:
        return "", []
    from kpis.engine import Database, segment  # late: kpis.engine imports the whole catalog

    if not isinstance(db, Database):
        raise ValueError("customer filters need a kpis Database (kpis.connect), not a bare connection")
    seg = segment(db, filters)
    conditions, params = [], []
    for column, values in seg.columns.items():  # names validated by segment(): declared columns or attributes
        conditions.append(f'c."{column}" IN ({", ".join("?" * len(values))})')
        params += list(values)
    if seg.cohorts:
        conditions.append("(" + " OR ".join("(c.acquired_at >= ? AND c.acquired_at < ?)" for _ in seg.cohorts) + ")")
        params += [d for p in seg.cohorts for d in (p.start, p.end)]
    if seg.tiers:
        conditions.append(
            f"c.customer_id IN (SELECT customer_id FROM customer_value WHERE value_tier IN "
            f"({', '.join('?' * len(seg.tiers))}))"
        )
        params += list(seg.tiers)
    where = " AND o.customer_id IN (SELECT c.customer_id FROM customers c WHERE " + " AND ".join(conditions) + ")"
    return where, params
