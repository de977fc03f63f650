"""The KPI catalog: every indicator declared once (DOMAIN.md, "The KPI catalog")."""

from __future__ import annotations

import ibis

from kpis.clv.declarations import CLV_KPIS
from kpis.registry import KPI, PREVIOUS_BUYERS, Derived, Group, Measure, Query, Ratio, Unit, build_registry
from kpis.scope import Scope
from kpis.voice.declarations import VOICE_KPIS

EQUITY, VOLUME = Group.EQUITY, Group.VOLUME
TOP_SHARE = 0.15  # default share of customers in top_customer_share (one retail study: 15% bring 60%)


def _money(column) -> ibis.Expr:
    return column.cast("float64")


def _share(condition, total) -> ibis.Expr:
    """condition-count ÷ total, NULL (undefined) when there is nobody to count."""
    return ibis.ifelse(total > 0, condition / total, ibis.null("float64"))


def _retention(s: Scope):
    before = s.activity_between(s.period.previous().start, s.period.start)  # the previous period's buyers
    return before.aggregate(value=_share(before.next_active.cast("int64").sum(), before.count()))


def _retention_over(scopes: list[Scope]):
    """Retention of consecutive periods in one pass: the previous periods' buyers, grouped by period."""
    first, previous = scopes[0], [s.period.previous() for s in scopes]
    before = first.activity_between(previous[0].start, previous[-1].end)
    before = before.mutate(_scope=first.period_index("activity", before, previous))
    per = before.group_by("_scope").aggregate(value=_share(before.next_active.cast("int64").sum(), before.count()))
    return per.select("_scope", "value")


def _repeat_90d(s: Scope):
    if not s.observed_until(0, days=90):
        return None  # the cohort's last members have not had 90 days yet
    cohort = s.acquired.select("customer_id")
    o = s.tables["orders"].semi_join(cohort, "customer_id")
    first = o.group_by("customer_id").aggregate(first=o.ordered_at.min())
    o = o.join(first, "customer_id")
    early = o.filter(o.ordered_at < o.first + ibis.interval(days=90))
    per = early.group_by("customer_id").aggregate(n=early.count())
    return per.aggregate(value=_share((per.n >= 2).sum(), per.count()))


def _historical_clv(s: Scope):
    if not s.observed_until(12):
        return None  # some of the cohort has not yet had twelve months
    cohort = s.acquired.select("customer_id", "acquired_at")
    o = s.tables["orders"]
    margins = o.join(cohort, "customer_id")
    margins = margins.filter(margins.ordered_at < margins.acquired_at.cast("timestamp") + ibis.interval(months=12))
    per = margins.group_by("customer_id").aggregate(margin=_money(margins.revenue - margins.cost).sum())
    j = cohort.left_join(per, "customer_id")
    return j.aggregate(value=_share(j.margin.sum(), j.count()))


def _top_share(s: Scope):
    share = float(s.params.get("top_share", TOP_SHARE))
    a = s.activity  # a row per buyer of the period
    ranked = a.mutate(
        rank=ibis.row_number().over(order_by=[ibis.desc("revenue"), "customer_id"]),  # 0-based
        buyers=a.customer_id.count().over(),
    )
    top = ibis.ifelse(ranked.rank < (ranked.buyers * share).ceil(), _money(ranked.revenue), 0.0)
    return ranked.aggregate(value=_share(top.sum(), _money(ranked.revenue).sum()))


CATALOG = [
    # --- customer equity -------------------------------------------------------------------------
    KPI("active_customers", "Active customers",
        "Customers who placed at least one order in the period.",
        "count of distinct customers with an order in the period",
        Unit.COUNT, True, EQUITY, Measure("activity", lambda a: a.count()), additive=True),
    KPI("new_customers", "New customers",
        "Customers acquired during the period (their first order, unless the customer file says otherwise).",
        "count of customers whose acquisition date falls in the period",
        Unit.COUNT, True, EQUITY, Measure("acquired", lambda c: c.count()), base="new_customers", additive=True,
        sums_over_time=True),
    KPI("retention_rate", "Retention rate",
        "Of the customers who bought in the previous period, the share who bought again in this one.",
        "customers active in both the previous and this period ÷ customers active in the previous period",
        Unit.PERCENT, True, EQUITY, Query(_retention, _retention_over), base=PREVIOUS_BUYERS, weight=PREVIOUS_BUYERS),
    KPI("churn_rate", "Churn rate",
        "Of the customers who bought in the previous period, the share who did not buy in this one.",
        "1 − retention rate",
        Unit.PERCENT, False, EQUITY, Derived(("retention_rate",), lambda r: 1 - r), base=PREVIOUS_BUYERS,
        weight=PREVIOUS_BUYERS),
    KPI("repeat_purchase_rate", "Repeat purchase rate",
        "Of the period's buyers, the share who have ordered at least twice in their lifetime so far.",
        "buyers of the period with ≥ 2 orders up to the period's end ÷ buyers of the period",
        Unit.PERCENT, True, EQUITY, Measure("activity", lambda a: _share(a.repeat.cast("int64").sum(), a.count())),
        short="Repeat rate", weight="active_customers"),
    KPI("repeat_rate_90d", "Repeat within 90 days",
        "Of the customers acquired in the period, the share who ordered again within 90 days of their first "
        "order. Shown only once the whole cohort has had 90 days.",
        "cohort customers with a 2nd order < 90 days after the 1st ÷ cohort customers with an order",
        Unit.PERCENT, True, EQUITY, Query(_repeat_90d), short="Repeat in 90 days", base="new_customers"),
    KPI("purchase_frequency", "Purchase frequency",
        "Orders per active customer in the period: how often customers come back.",
        "orders ÷ active customers",
        Unit.RATIO, True, EQUITY, Ratio("orders", "active_customers")),
    KPI("average_order_value", "Average order value",
        "Average basket: revenue per order in the period.",
        "revenue ÷ orders",
        Unit.CURRENCY, True, EQUITY, Ratio("revenue", "orders"), short="Avg order value"),
    KPI("categories_per_customer", "Categories per customer",
        "Average number of distinct product categories each active customer bought in the period (cross-sell).",
        "mean over active customers of their distinct categories in the period",
        Unit.RATIO, True, EQUITY, Measure("activity", lambda a: a.categories.mean()), short="Categories/customer",
        weight="active_customers"),
    KPI("revenue_per_customer", "Revenue per customer",
        "Revenue of the period per active customer.",
        "revenue ÷ active customers",
        Unit.CURRENCY, True, EQUITY, Ratio("revenue", "active_customers"), short="Revenue/customer"),
    KPI("historical_clv_12m", "12-month customer value",
        "Gross margin a customer acquired in the period brought in their first twelve months, on average. "
        "Shown only once the whole cohort has had twelve months.",
        "Σ (revenue − cost) of the cohort's orders within 12 months of acquisition ÷ customers acquired",
        Unit.CURRENCY, True, EQUITY, Query(_historical_clv), short="12-month value", base="new_customers",
        weight="new_customers"),
    KPI("cac", "Customer acquisition cost",
        "Acquisition spend per new customer. Spend is known per channel only, so it is not shown for "
        "other segments.",
        "marketing spend ÷ new customers",
        Unit.CURRENCY, False, EQUITY, Ratio("marketing_spend", "new_customers"), short="CAC", base="new_customers"),
    KPI("historical_clv_cac", "12-month value ÷ CAC",
        "Gross margin a customer acquired in the period brought in their first twelve months, per unit of what it "
        "cost to acquire them: above 1, the first year alone paid back acquisition. Shown once the cohort has had "
        "twelve months, and for acquisition-channel segments only (spend is known per channel).",
        "12-month customer value ÷ customer acquisition cost",
        Unit.RATIO, True, EQUITY, Ratio("historical_clv_12m", "cac"), short="12-month value ÷ CAC",
        base="new_customers"),
    KPI("top_customer_share", "Top 15% customers' share",
        "Share of the period's revenue brought by the 15% of its buyers who spent most: how concentrated "
        "value is.",
        "revenue of the top ⌈15% × buyers⌉ buyers ÷ revenue (the 15% is a parameter, top_share)",
        Unit.PERCENT, False, EQUITY, Query(_top_share), short="Top 15% share"),
    # --- volume and cost -------------------------------------------------------------------------
    KPI("revenue", "Revenue",
        "Amount paid by customers for the period's orders.",
        "Σ order revenue",
        Unit.CURRENCY, True, VOLUME, Measure("activity", lambda a: _money(a.revenue).sum()), additive=True,
        sums_over_time=True),
    KPI("orders", "Orders",
        "Number of orders placed in the period.",
        "count of orders",
        Unit.COUNT, True, VOLUME, Measure("activity", lambda a: a.orders.sum().fill_null(0)), additive=True,
        sums_over_time=True),
    KPI("cost_of_sales", "Cost of sales",
        "Cost of the goods and service behind the period's orders.",
        "Σ order cost (orders of unknown cost are left out)",
        Unit.CURRENCY, False, VOLUME, Measure("activity", lambda a: _money(a.cost).sum()), additive=True,
        sums_over_time=True),
    KPI("gross_margin", "Gross margin",
        "Revenue minus the cost of goods and service, for the period's orders.",
        "Σ (revenue − cost) over orders of known cost",
        Unit.CURRENCY, True, VOLUME, Measure("activity", lambda a: _money(a.margin).sum()), additive=True,
        sums_over_time=True),
    KPI("gross_margin_rate", "Gross margin rate",
        "Share of revenue left after the cost of goods and service.",
        "gross margin ÷ revenue",
        Unit.PERCENT, True, VOLUME, Ratio("gross_margin", "revenue")),
    KPI("marketing_spend", "Marketing spend",
        "Acquisition spend of the period. Known per channel only, so not shown for other segments.",
        "Σ monthly acquisition spend",
        Unit.CURRENCY, False, VOLUME, Measure("spend", lambda s: _money(s.spend).sum()), base=None, additive=True,
        sums_over_time=True),
    KPI("cost_per_order", "Cost per order",
        "Cost of goods and service per order: the cost to serve.",
        "cost of sales ÷ orders",
        Unit.CURRENCY, False, VOLUME, Ratio("cost_of_sales", "orders")),
]

# Voice of the customer: kpis/voice/declarations.py; predictive value: kpis/clv/declarations.py.
REGISTRY = build_registry(CATALOG + VOICE_KPIS + CLV_KPIS)
