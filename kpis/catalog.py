"""The KPI catalog: every indicator declared once (DOMAIN.md, "The KPI catalog"), in English and in French.

The French words follow French typography: a no-break space (U+00A0) before « : ; ? ! % » and inside « »
(tests/test_registry_fr.py checks every declaration)."""

from __future__ import annotations

import ibis

from kpis.clv.declarations import CLV_KPIS
from kpis.registry import KPI, PREVIOUS_BUYERS, Derived, Group, Measure, Query, Ratio, Text, Unit, build_registry
from kpis.scope import Scope
from kpis.voice.declarations import VOICE_KPIS

EQUITY, VOLUME = Group.EQUITY, Group.VOLUME
TOP_SHARE = 0.15  # default share of customers in top_customer_share (one retail study: 15% bring 60%)


def _money(column) -> ibis.Expr:
    return column.cast("float64")


def _total(column) -> ibis.Expr:
    """An exact sum of decimal amounts, as a double: the same to the last bit whatever order rows are stored in."""
    return column.sum().cast("float64")


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
    per = margins.group_by("customer_id").aggregate(margin=_total(margins.revenue - margins.cost))
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
    KPI("active_customers",
        Text("Active customers",
             "Customers who placed at least one order in the period.",
             "count of distinct customers with an order in the period"),
        Text("Clients actifs",
             "Clients ayant passé au moins une commande sur la période.",
             "nombre de clients distincts ayant commandé sur la période"),
        Unit.COUNT, True, EQUITY, Measure("activity", lambda a: a.count()), additive=True),
    KPI("new_customers",
        Text("New customers",
             "Customers acquired during the period (their first order, unless the customer file says otherwise).",
             "count of customers whose acquisition date falls in the period"),
        Text("Nouveaux clients",
             "Clients acquis sur la période : à leur première commande, sauf si le fichier clients indique une "
             "autre date d'acquisition.",
             "nombre de clients dont la date d'acquisition se situe dans la période"),
        Unit.COUNT, True, EQUITY, Measure("acquired", lambda c: c.count()), base="new_customers", additive=True,
        sums_over_time=True),
    KPI("retention_rate",
        Text("Retention rate",
             "Of the customers who bought in the previous period, the share who bought again in this one.",
             "customers active in both the previous and this period ÷ customers active in the previous period"),
        Text("Taux de rétention",
             "Part des clients ayant acheté sur la période précédente qui ont de nouveau acheté sur celle-ci.",
             "clients actifs à la fois sur la période précédente et sur celle-ci ÷ clients actifs sur la période "
             "précédente"),
        Unit.PERCENT, True, EQUITY, Query(_retention, _retention_over), base=PREVIOUS_BUYERS, weight=PREVIOUS_BUYERS),
    KPI("churn_rate",
        Text("Churn rate",
             "Of the customers who bought in the previous period, the share who did not buy in this one.",
             "1 − retention rate"),
        Text("Taux d'attrition",
             "Part des clients ayant acheté sur la période précédente qui n'ont pas racheté sur celle-ci.",
             "1 − taux de rétention"),
        Unit.PERCENT, False, EQUITY, Derived(("retention_rate",), lambda r: 1 - r), base=PREVIOUS_BUYERS,
        weight=PREVIOUS_BUYERS),
    KPI("repeat_purchase_rate",
        Text("Repeat purchase rate",
             "Of the period's buyers, the share who have ordered at least twice in their lifetime so far.",
             "buyers of the period with ≥ 2 orders up to the period's end ÷ buyers of the period",
             short="Repeat rate"),
        Text("Taux de réachat",
             "Part des acheteurs de la période qui ont passé au moins deux commandes depuis qu'ils sont clients.",
             "acheteurs de la période ayant passé ≥ 2 commandes à la fin de la période ÷ acheteurs de la période",
             short="Taux de réachat"),
        Unit.PERCENT, True, EQUITY, Measure("activity", lambda a: _share(a.repeat.cast("int64").sum(), a.count())),
        weight="active_customers"),
    KPI("repeat_rate_90d",
        Text("Repeat within 90 days",
             "Of the customers acquired in the period, the share who ordered again within 90 days of their first "
             "order. Shown only once the whole cohort has had 90 days.",
             "cohort customers with a 2nd order < 90 days after the 1st ÷ cohort customers with an order",
             short="Repeat in 90 days"),
        Text("Réachat sous 90 jours",
             "Part des clients acquis sur la période qui ont commandé de nouveau dans les 90 jours suivant leur "
             "première commande. Affiché seulement quand toute la cohorte a 90 jours d'ancienneté.",
             "clients de la cohorte ayant passé une 2e commande moins de 90 jours après la 1re ÷ clients de la "
             "cohorte ayant commandé",
             short="Réachat à 90 j"),
        Unit.PERCENT, True, EQUITY, Query(_repeat_90d), base="new_customers"),
    KPI("purchase_frequency",
        Text("Purchase frequency",
             "Orders per active customer in the period: how often customers come back.",
             "orders ÷ active customers"),
        Text("Fréquence d'achat",
             "Nombre de commandes par client actif sur la période : la fréquence à laquelle les clients reviennent.",
             "commandes ÷ clients actifs"),
        Unit.RATIO, True, EQUITY, Ratio("orders", "active_customers")),
    KPI("average_order_value",
        Text("Average order value",
             "Average basket: revenue per order in the period.",
             "revenue ÷ orders",
             short="Avg order value"),
        Text("Panier moyen",
             "Chiffre d'affaires moyen par commande sur la période.",
             "chiffre d'affaires ÷ commandes",
             short="Panier moyen"),
        Unit.CURRENCY, True, EQUITY, Ratio("revenue", "orders")),
    KPI("categories_per_customer",
        Text("Categories per customer",
             "Average number of distinct product categories each active customer bought in the period (cross-sell).",
             "mean over active customers of their distinct categories in the period",
             short="Categories/customer"),
        Text("Catégories par client",
             "Nombre moyen de catégories de produits différentes achetées par chaque client actif sur la période "
             "(vente croisée).",
             "moyenne, sur les clients actifs, du nombre de catégories distinctes achetées sur la période",
             short="Catégories/client"),
        Unit.RATIO, True, EQUITY, Measure("activity", lambda a: a.categories.mean()), weight="active_customers"),
    KPI("revenue_per_customer",
        Text("Revenue per customer",
             "Revenue of the period per active customer.",
             "revenue ÷ active customers",
             short="Revenue/customer"),
        Text("Chiffre d'affaires par client",
             "Chiffre d'affaires de la période par client actif.",
             "chiffre d'affaires ÷ clients actifs",
             short="CA/client"),
        Unit.CURRENCY, True, EQUITY, Ratio("revenue", "active_customers")),
    KPI("historical_clv_12m",
        Text("12-month customer value",
             "Gross margin a customer acquired in the period brought in their first twelve months, on average. "
             "Shown only once the whole cohort has had twelve months.",
             "Σ (revenue − cost) of the cohort's orders within 12 months of acquisition ÷ customers acquired",
             short="12-month value"),
        Text("Valeur client à 12 mois",
             "Marge brute moyenne dégagée par un client acquis sur la période au cours de ses douze premiers mois. "
             "Affichée seulement quand toute la cohorte a douze mois d'ancienneté.",
             "Σ (chiffre d'affaires − coût) des commandes de la cohorte dans les 12 mois suivant l'acquisition "
             "÷ clients acquis",
             short="Valeur à 12 mois"),
        Unit.CURRENCY, True, EQUITY, Query(_historical_clv), base="new_customers", weight="new_customers"),
    KPI("cac",
        Text("Customer acquisition cost",
             "Acquisition spend per new customer. Spend is known per channel only, so it is not shown for "
             "other segments.",
             "marketing spend ÷ new customers",
             short="CAC"),
        Text("Coût d'acquisition client (CAC)",
             "Dépenses d'acquisition par nouveau client. Ces dépenses ne sont connues que par canal d'acquisition : "
             "le CAC n'est donc pas affiché pour les autres segments.",
             "dépenses marketing ÷ nouveaux clients",
             short="CAC"),
        Unit.CURRENCY, False, EQUITY, Ratio("marketing_spend", "new_customers"), base="new_customers"),
    KPI("historical_clv_cac",
        Text("12-month value ÷ CAC",
             "Gross margin a customer acquired in the period brought in their first twelve months, per unit of what "
             "it cost to acquire them: above 1, the first year alone paid back acquisition. Shown once the cohort has "
             "had twelve months, and for acquisition-channel segments only (spend is known per channel).",
             "12-month customer value ÷ customer acquisition cost",
             short="12-month value ÷ CAC"),
        Text("Valeur à 12 mois ÷ CAC",
             "Marge brute dégagée par un client acquis sur la période au cours de ses douze premiers mois, rapportée "
             "à ce qu'a coûté son acquisition : au-dessus de 1, la première année suffit à rentabiliser "
             "l'acquisition. Affiché quand la cohorte a douze mois d'ancienneté, et seulement pour les segments par "
             "canal d'acquisition (les dépenses ne sont connues que par canal).",
             "valeur client à 12 mois ÷ coût d'acquisition client",
             short="Valeur à 12 mois ÷ CAC"),
        Unit.RATIO, True, EQUITY, Ratio("historical_clv_12m", "cac"), base="new_customers"),
    KPI("top_customer_share",
        Text("Top 15% customers' share",
             "Share of the period's revenue brought by the 15% of its buyers who spent most: how concentrated "
             "value is.",
             "revenue of the top ⌈15% × buyers⌉ buyers ÷ revenue (the 15% is a parameter, top_share)",
             short="Top 15% share"),
        Text("Part des 15 % meilleurs clients",
             "Part du chiffre d'affaires de la période réalisée par les 15 % d'acheteurs qui ont le plus dépensé. "
             "Elle mesure la concentration de la valeur.",
             "chiffre d'affaires des ⌈15 % × acheteurs⌉ plus gros acheteurs ÷ chiffre d'affaires (les 15 % sont un "
             "paramètre, top_share)",
             short="Part top 15 %"),
        Unit.PERCENT, False, EQUITY, Query(_top_share)),
    # --- volume and cost -------------------------------------------------------------------------
    KPI("revenue",
        Text("Revenue",
             "Amount paid by customers for the period's orders.",
             "Σ order revenue"),
        Text("Chiffre d'affaires",
             "Montant payé par les clients pour les commandes de la période.",
             "Σ chiffre d'affaires des commandes"),
        Unit.CURRENCY, True, VOLUME, Measure("activity", lambda a: _total(a.revenue)), additive=True,
        sums_over_time=True),
    KPI("orders",
        Text("Orders",
             "Number of orders placed in the period.",
             "count of orders"),
        Text("Commandes",
             "Nombre de commandes passées sur la période.",
             "nombre de commandes"),
        Unit.COUNT, True, VOLUME, Measure("activity", lambda a: a.orders.sum().fill_null(0)), additive=True,
        sums_over_time=True),
    KPI("cost_of_sales",
        Text("Cost of sales",
             "Cost of the goods and service behind the period's orders.",
             "Σ order cost (orders of unknown cost are left out)"),
        Text("Coût des ventes",
             "Coût des marchandises et du service associés aux commandes de la période.",
             "Σ coût des commandes (les commandes de coût inconnu sont exclues)"),
        Unit.CURRENCY, False, VOLUME, Measure("activity", lambda a: _total(a.cost)), additive=True,
        sums_over_time=True),
    KPI("gross_margin",
        Text("Gross margin",
             "Revenue minus the cost of goods and service, for the period's orders.",
             "Σ (revenue − cost) over orders of known cost"),
        Text("Marge brute",
             "Chiffre d'affaires diminué du coût des marchandises et du service, pour les commandes de la période.",
             "Σ (chiffre d'affaires − coût) des commandes de coût connu"),
        Unit.CURRENCY, True, VOLUME, Measure("activity", lambda a: _total(a.margin)), additive=True,
        sums_over_time=True),
    KPI("gross_margin_rate",
        Text("Gross margin rate",
             "Share of revenue left after the cost of goods and service.",
             "gross margin ÷ revenue"),
        Text("Taux de marge brute",
             "Part du chiffre d'affaires qui reste une fois déduit le coût des marchandises et du service.",
             "marge brute ÷ chiffre d'affaires"),
        Unit.PERCENT, True, VOLUME, Ratio("gross_margin", "revenue")),
    KPI("marketing_spend",
        Text("Marketing spend",
             "Acquisition spend of the period. Known per channel only, so not shown for other segments.",
             "Σ monthly acquisition spend"),
        Text("Dépenses marketing",
             "Dépenses d'acquisition de la période. Connues seulement par canal d'acquisition, elles ne sont pas "
             "affichées pour les autres segments.",
             "Σ dépenses d'acquisition mensuelles"),
        Unit.CURRENCY, False, VOLUME, Measure("spend", lambda s: _total(s.spend)), base=None, additive=True,
        sums_over_time=True),
    KPI("cost_per_order",
        Text("Cost per order",
             "Cost of goods and service per order: the cost to serve.",
             "cost of sales ÷ orders"),
        Text("Coût par commande",
             "Coût des marchandises et du service par commande : le coût de service.",
             "coût des ventes ÷ commandes"),
        Unit.CURRENCY, False, VOLUME, Ratio("cost_of_sales", "orders")),
]

# Voice of the customer: kpis/voice/declarations.py; predictive value: kpis/clv/declarations.py.
REGISTRY = build_registry(CATALOG + VOICE_KPIS + CLV_KPIS)
