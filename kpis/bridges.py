"""Why revenue and customer equity moved between a period and its comparison: bridges whose parts add up exactly.

revenue_bridge   new customers' revenue, then returning customers' revenue as buyers × orders per buyer × revenue
                 per order (additive LMDI, kpis.decompose.revenue_parts)
equity_bridge    Markey's four levers (acquire, keep longer / buy more often, sell more, serve at lower cost) plus
                 the models' own update (kpis.clv.bridge)

Both return one row per part in display order — columns part (a stable key), label (in the current language), value
(currency) — whose values
sum to the KPI's value minus its comparison value; attrs carry the two values, the periods and the memo lines.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from i18n import N_, _, carried
from kpis.clv.bridge import LEVERS, customer_parts
from kpis.clv.model import observation_end_of
from kpis.database import Database, KPIError, scope
from kpis.decompose import revenue_parts
from kpis.periods import COMPARES
from kpis.scope import Scope

REVENUE_PARTS = {  # part -> its label (translated where a bridge is made)
    "new_customers": N_("New customers"),
    "returning_buyers": N_("Returning buyers (how many)"),
    "orders_per_buyer": N_("Orders per returning buyer"),
    "revenue_per_order": N_("Revenue per order (returning)"),
}
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bridges")


def _scopes(db: Database, period, compare: str, filters: dict | None) -> tuple[Scope, Scope]:
    if compare not in COMPARES:
        raise KPIError(f"unknown comparison '{compare}': use {' or '.join(COMPARES)}")
    now = scope(db, period, filters)
    return now, now.at(now.period.reference(compare))


def revenue_split(db: Database, where: Scope) -> dict:
    """The period's revenue of its new customers (acquired in it) and its returning buyers' buyers, orders, revenue."""
    o = where.orders  # with its customers' acquisition dates (kpis.sources.facts)
    new = (o.acquired_at >= where.period.start) & (o.acquired_at < where.period.end)
    row = db.row(o.aggregate(
        new_revenue=o.revenue.sum(where=new).cast("float64"),
        returning_buyers=o.customer_id.nunique(where=~new),
        returning_orders=o.count(where=~new),
        returning_revenue=o.revenue.sum(where=~new).cast("float64"),
    ))
    return {k: v or 0 for k, v in row.items()}


def revenue_bridge(db: Database, period, compare: str = "previous", filters: dict | None = None) -> pd.DataFrame:
    """The revenue change split into new customers and returning customers' buyers × orders per buyer × revenue per
    order (kpis.decompose.revenue_parts: additive LMDI, Ang 2005; no residual). attrs: value, reference (revenue
    of both periods), period, reference_period, and the counts behind each part (now, before)."""
    now, before = _scopes(db, period, compare, filters)
    after, ahead = (_POOL.submit(carried(revenue_split, db, w)) for w in (now, before))
    a, b = after.result(), ahead.result()
    parts = revenue_parts(b["new_revenue"], a["new_revenue"],
                          (b["returning_buyers"], b["returning_orders"], b["returning_revenue"]),
                          (a["returning_buyers"], a["returning_orders"], a["returning_revenue"]))
    frame = pd.DataFrame([{"part": k, "label": _(REVENUE_PARTS[k]), "value": v} for k, v in parts])
    frame.attrs.update(value=a["new_revenue"] + a["returning_revenue"],
                       reference=b["new_revenue"] + b["returning_revenue"], period=str(now.period),
                       reference_period=str(before.period), now=a, before=b)
    return frame


def equity_bridge(db: Database, period, compare: str = "previous", filters: dict | None = None) -> pd.DataFrame:
    """Customer equity at the comparison period's end → at the period's end, by Markey's levers and the model update.

    Parts (kpis.clv.bridge): acquired (value of the customers acquired in between), retention (P(alive)), activity
    (expected purchases if alive, over the horizon rolled forward), spend (expected spend per purchase), margin
    (margin rate: cost to serve), model_update (the refit between the two observation ends, valued on the same
    customers: never presented as customer behaviour). attrs: value, reference (equity at both ends), the
    observation ends, and the memo lines realised (margin the existing customers brought in between) and expected
    (what the earlier model expected of them).
    """
    now, before = _scopes(db, period, compare, filters)
    t1, t0 = observation_end_of(db, now.period), observation_end_of(db, before.period)
    if t1 is None or t0 is None:
        raise KPIError(_("no data by the end of {period}: nothing to bridge from").format(period=before.period.label))
    if t0 >= t1:
        raise KPIError(_("{reference} ends when {period}'s data ends: there is no change to bridge").format(
            reference=before.period.label, period=now.period.label))
    parts = customer_parts(db, t0, t1)
    table = parts.table if now.segment.is_everyone else parts.table.semi_join(now.customers, "customer_id")
    columns = ("reference", "value", *LEVERS, "realised_margin", "expected_margin")
    sums = db.row(table.aggregate(**{k: table[k].sum() for k in columns}))
    frame = pd.DataFrame([{"part": k, "label": _(label), "value": sums[k] or 0.0} for k, label in LEVERS.items()])
    frame.attrs.update(value=sums["value"] or 0.0, reference=sums["reference"] or 0.0, period=str(now.period),
                       reference_period=str(before.period), observation_end=t1, reference_end=t0,
                       realised=sums["realised_margin"] or 0.0, expected=sums["expected_margin"] or 0.0)
    return frame
