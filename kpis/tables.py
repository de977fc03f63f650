"""Table-valued indicators: the cohort retention matrix, value deciles, the concentration curve, and KPI
trends indexed to a common base."""

from __future__ import annotations

import ibis
import pandas as pd

from i18n import _
from kpis.catalog import REGISTRY
from kpis.database import Database
from kpis.database import scope as scope_of
from kpis.periods import Period


def cohort_retention(db: Database, first_cohort=None, last_cohort=None, filters: dict | None = None) -> pd.DataFrame:
    """Share of each acquisition-month cohort active in each month since acquisition.

    Columns: cohort ("2024-03"), age (0 = the acquisition month), customers (cohort size),
    active (cohort customers with an order that month), rate = active / customers.
    """
    c = scope_of(db, None, filters).customers  # the segment; period unused
    if first_cohort:
        c = c.filter(c.acquired_at >= Period.parse(first_cohort).start)
    if last_cohort:
        c = c.filter(c.acquired_at < Period.parse(last_cohort).end)
    c = c.select("customer_id", cohort=c.acquired_at.truncate("M"))
    sizes = c.group_by("cohort").aggregate(customers=c.count())
    o = db.tables["orders"].join(c, "customer_id")
    month = o.ordered_at.truncate("M").cast("date")
    o = o.mutate(age=(month.year() - o.cohort.year()) * 12 + month.month() - o.cohort.month())
    active = o.filter(o.age >= 0).group_by(["cohort", "age"]).aggregate(active=o.customer_id.nunique())
    table = active.join(sizes, "cohort").order_by(["cohort", "age"])
    frame = db.frame(table.select("cohort", "age", "customers", "active"))
    frame["cohort"] = pd.to_datetime(frame["cohort"]).dt.strftime("%Y-%m")
    # Every observable cell, zeros included: ages 0 .. months from the cohort to the data's last month.
    last = db.data_end.year * 12 + db.data_end.month
    cells = [(cohort, age, size) for cohort, size in frame.groupby("cohort")["customers"].first().items()
             for age in range(last - (int(cohort[:4]) * 12 + int(cohort[5:])) + 1)]
    full = pd.DataFrame(cells, columns=["cohort", "age", "customers"])
    full = full.merge(frame[["cohort", "age", "active"]], on=["cohort", "age"], how="left")
    full["active"] = full["active"].fillna(0).astype("int64")
    full["rate"] = full["active"] / full["customers"]
    return full


def _month_number(text: str) -> int:
    return int(text[:4]) * 12 + int(text[5:7])


def observed_cohorts(matrix: pd.DataFrame, last_month) -> pd.DataFrame:
    """A cohort_retention matrix without the cells of months after `last_month` (a month in progress is not a
    fair count)."""
    return matrix[matrix["cohort"].map(_month_number) + matrix["age"] <= _month_number(str(last_month))]


def retention_curve(matrix: pd.DataFrame) -> pd.DataFrame:
    """Retention by age over all the matrix's cohorts, each weighted by its size: Σ active ÷ Σ customers at each
    age. Columns: age, active, customers, cohorts (how many are that old), rate."""
    curve = matrix.groupby("age").agg(active=("active", "sum"), customers=("customers", "sum"),
                                      cohorts=("cohort", "nunique")).reset_index()
    curve["rate"] = curve["active"] / curve["customers"]
    return curve


def _ranked_buyers(db: Database, period, buckets: int, filters: dict) -> pd.DataFrame:
    """Buyers ranked by revenue (in the period, or over their lifetime) cut into equal-size buckets."""
    if period is None:  # lifetime: every order up to the end of the data's last year
        o = scope_of(db, db.data_end.strftime("%Y"), filters, None).orders_to_date
    else:
        o = scope_of(db, period, filters, None).orders
    per = o.group_by("customer_id").aggregate(
        revenue=o.revenue.cast("float64").sum(), margin=(o.revenue - o.cost).cast("float64").sum()
    )
    per = per.mutate(bucket=ibis.ntile(buckets).over(order_by=[ibis.desc("revenue"), "customer_id"]) + 1)
    grouped = per.group_by("bucket").aggregate(
        customers=per.count(), revenue=per.revenue.sum(), margin=per.margin.sum()
    ).order_by("bucket")
    frame = db.frame(grouped)
    total_customers, total_revenue = frame["customers"].sum(), frame["revenue"].sum()
    frame["customer_share"] = frame["customers"].cumsum() / total_customers
    frame["revenue_share"] = frame["revenue"] / total_revenue if total_revenue else None
    frame["cumulative_revenue_share"] = frame["revenue"].cumsum() / total_revenue if total_revenue else None
    return frame


def value_deciles(db: Database, period=None, filters: dict | None = None) -> pd.DataFrame:
    """Buyers in ten equal groups by revenue, decile 1 the most valuable: size, revenue, margin, shares."""
    frame = _ranked_buyers(db, period, 10, filters).rename(columns={"bucket": "decile"})
    frame["revenue_per_customer"] = frame["revenue"] / frame["customers"]
    return frame[["decile", "customers", "revenue", "margin", "revenue_per_customer", "revenue_share",
                  "cumulative_revenue_share"]]


def concentration_curve(db: Database, period=None, points: int = 100, filters: dict | None = None) -> pd.DataFrame:
    """The Lorenz-style curve read as "the top x% of customers bring y% of revenue" (x, y from 0 to 1)."""
    frame = _ranked_buyers(db, period, points, filters)
    curve = frame[["customer_share", "cumulative_revenue_share"]].rename(
        columns={"customer_share": "top_customer_share", "cumulative_revenue_share": "revenue_share"}
    )
    return pd.concat([pd.DataFrame({"top_customer_share": [0.0], "revenue_share": [0.0]}), curve],
                     ignore_index=True)


def rebased_trend(trend: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A trend (kpis.trend) as a long table of the KPIs indexed to 100 at their first period with a positive value.

    Columns: kpi (label), family (group), both in the current language, period, index, piece, base (the period =
    100). Undefined values are dropped (a gap), and each run of defined values gets its own `piece`, so that a line
    can break across a gap.
    """
    rows = []
    for key in keys:
        values = pd.to_numeric(trend[key], errors="coerce")
        positive = values[values > 0]
        if positive.empty:
            continue
        base_row = positive.index[0]
        pieces = values.isna().cumsum()
        for row, value in values.items():
            if pd.isna(value):
                continue
            rows.append({"kpi": REGISTRY[key].label, "family": _(REGISTRY[key].group.value),
                         "period": trend.at[row, "period"], "index": 100 * value / positive.iloc[0],
                         "piece": f"{key}:{pieces[row]}", "base": trend.at[base_row, "period"]})
    return pd.DataFrame(rows, columns=["kpi", "family", "period", "index", "piece", "base"])
