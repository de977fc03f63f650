"""Customer experience pays (DOMAIN.md point 8): the value of promoters, passives and detractors.

Definitions, for a period P and a window of `months` months (12 by default) ending with P:
  window       [end of P − months, end of P)
  respondents  the segment's customers with an NPS answer in the window; each is in the group of their
               latest answer in it (promoter 9–10, passive 7–8, detractor 0–6)
  retention    share of the group's customers who placed an order after their answer, by the end of P
               ("still buying")
  orders, revenue  the group's orders and revenue in the window
  purchase_frequency   orders ÷ customers of the group (customers without an order count, as zero)
  average_order_value  revenue ÷ orders
  revenue_per_customer revenue ÷ customers  (= purchase frequency × average order value)
  revenue at risk      the window's revenue of the detractors
Anonymous NPS answers count in the NPS but cannot be joined to any order: their number in the window is
given as `anonymous_answers` (0 for a segment other than everyone, which never holds anonymous answers).
Predictive CLV is another module's job: pass `clv`, a mapping customer id → CLV, and the table gains
clv_per_customer (mean over the group's customers present in the mapping) and clv_customers (how many).
No customer id ever leaves this module.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis

from kpis.database import scope as scope_of
from kpis.periods import add_months
from kpis.scope import _ts
from kpis.voice.declarations import SCORE_GROUPS, group_expr

NPS_GROUPS = ("promoter", "passive", "detractor")
assert set(NPS_GROUPS) == {g for g, _, _ in SCORE_GROUPS["nps"]}


def _respondents(scope, start, end) -> tuple[ibis.Table, ibis.Table]:
    """(the latest NPS answer of each known customer in [start, end): customer_id, answered_at, group;
    every NPS answer in the window)."""
    f = scope.feedback_between(start, end)
    f = f.filter(f.survey == "nps")
    known = f.filter(f.customer_id.notnull())
    ranked = known.mutate(rank=ibis.row_number().over(
        group_by="customer_id", order_by=[ibis.desc("answered_at"), ibis.desc("feedback_id")]))
    latest = ranked.filter(ranked["rank"] == 0)
    return latest.select("customer_id", "answered_at", group=group_expr(latest)), f


def value_by_nps_group(db, period, months: int = 12, clv: Mapping[str, float] | None = None,
                       filters: dict | None = None) -> dict:
    """Retention and spend of promoters, passives and detractors, and the revenue at risk.

    Returns dict(table, revenue_at_risk, revenue_at_risk_share, respondents, anonymous_answers,
    window_start, window_end): table has one row per group (promoter, passive, detractor) with customers,
    retention, orders, revenue, purchase_frequency, average_order_value, revenue_per_customer (and
    clv_per_customer, clv_customers when clv is given); window_end is exclusive. See the module docstring.
    """
    scope = scope_of(db, period, filters, None)
    end = scope.period.end
    start = add_months(end, -months)
    latest, answers = _respondents(scope, start, end)
    o = db.tables["orders"]
    o = o.filter((o.ordered_at >= _ts(start)) & (o.ordered_at < _ts(end)))
    o = o.join(latest.select("customer_id", answer_at="answered_at"), "customer_id")
    per = o.group_by("customer_id").aggregate(
        orders=o.count(), revenue=o.revenue.cast("float64").sum(), after=o.count(where=o.ordered_at > o.answer_at))
    j = latest.left_join(per, latest.customer_id == per.customer_id)
    j = j.select("group", orders=j.orders.fill_null(0), revenue=j.revenue.fill_null(0.0),
                 retained=ibis.ifelse(j.after.fill_null(0) > 0, 1, 0))
    groups = j.group_by("group").aggregate(customers=j.count(), retained=j.retained.sum(),
                                           orders=j.orders.sum(), revenue=j.revenue.sum())
    frame = db.frame(groups).set_index("group").reindex(list(NPS_GROUPS))
    frame[["customers", "retained", "orders"]] = frame[["customers", "retained", "orders"]].fillna(0).astype("int64")
    frame["revenue"] = frame["revenue"].fillna(0.0).astype("float64")
    customers = frame["customers"].where(frame["customers"] > 0)
    frame["retention"] = frame["retained"] / customers
    frame["purchase_frequency"] = frame["orders"] / customers
    frame["average_order_value"] = frame["revenue"] / frame["orders"].where(frame["orders"] > 0)
    frame["revenue_per_customer"] = frame["revenue"] / customers
    columns = ["customers", "retention", "orders", "revenue", "purchase_frequency", "average_order_value",
               "revenue_per_customer"]
    if clv is not None:
        who = db.frame(latest.select("customer_id", "group"))
        who["clv"] = who["customer_id"].map(dict(clv)).astype("float64")
        known = who.dropna(subset=["clv"]).groupby("group")["clv"]
        frame["clv_per_customer"] = known.mean().reindex(frame.index)
        frame["clv_customers"] = known.count().reindex(frame.index).fillna(0).astype("int64")
        columns += ["clv_per_customer", "clv_customers"]
    table = frame[columns].rename_axis("group").reset_index()
    total = float(frame["revenue"].sum())
    at_risk = float(frame.loc["detractor", "revenue"])
    return {
        "table": table,
        "revenue_at_risk": at_risk,
        "revenue_at_risk_share": at_risk / total if total else None,
        "respondents": int(frame["customers"].sum()),
        "anonymous_answers": db.row(answers.aggregate(n=answers.count(where=answers.customer_id.isnull())))["n"],
        "window_start": start,
        "window_end": end,
    }
