"""Predictive-value KPIs (BG/NBD + Gamma-Gamma) in the registry: CLV, customer equity, CLV/CAC, payback, at risk."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import numpy as np
from ibis import _ as deferred

from i18n import formats, use
from kpis.clv.common import ModelError
from kpis.clv.model import (
    ANNUAL_DISCOUNT,
    AT_RISK_P_ALIVE,
    HORIZON_MONTHS,
    ValueModel,
    cells_of,
    observation_end_of,
    order_margin,
    stored_group_sums,
    value_model,
)
from kpis.registry import KPI, Computed, Group, Ratio, Text, Unit
from kpis.scope import Scope

EQUITY = Group.EQUITY
_HOW = (f"BG/NBD purchases × Gamma-Gamma spend × margin rate, over {HORIZON_MONTHS} months, discounted "
        f"{ANNUAL_DISCOUNT:.0%} a year")
with use("fr"):  # the French words' numbers: 10 %, 50 %, 0,5
    _HOW_FR = (f"achats prévus (BG/NBD) × dépense par achat (Gamma-Gamma) × taux de marge, sur {HORIZON_MONTHS} "
               f"mois, actualisés à {formats.percent(ANNUAL_DISCOUNT, 0)} par an")
    _AT_RISK_FR, _P_ALIVE_FR = formats.percent(AT_RISK_P_ALIVE, 0), formats.number(AT_RISK_P_ALIVE, 1)


def _model(db, scope: Scope) -> ValueModel | None:
    end = observation_end_of(db, scope.period)
    if end is None:
        return None
    try:
        return value_model(db, end)
    except ModelError:
        return None  # kpis.clv.check tells why a base cannot be modelled


SUMS = ("customers", "equity", "at_risk", "at_risk_revenue")


def score_sums(db, scope: Scope, model: ValueModel) -> dict[str, dict[str, float]]:
    """Per fit group, the segment's customers in the model's scores, their CLV, and the valuable ones at risk (count
    and 12-month revenue): what predicted CLV, equity, the customers at risk and their revenue are totals of, and what
    their intervals scale (kpis.intervals). One grouped query, remembered per database, date and segment; all
    customers' stored with the build for its dates."""
    memo = db.__dict__.setdefault("_score_sums", {})
    tag = (model.observation_end, repr(scope.segment))
    if tag in memo:
        return memo[tag]
    stored = stored_group_sums(db, model.observation_end) if scope.segment.is_everyone else None
    if stored is None:
        scores = model.scores
        base = scores if scope.segment.is_everyone else scores.semi_join(scope.customers, "customer_id")
        risk = (base.p_alive < AT_RISK_P_ALIVE) & base.valuable
        stored = db.frame(base.group_by("fit_group").aggregate(
            customers=base.count(), equity=base.clv.sum(), at_risk=risk.cast("int64").sum(),
            at_risk_revenue=base.revenue_12m.sum(where=risk)))
    memo[tag] = {c: {g: float(v or 0.0) for g, v in zip(stored["fit_group"], stored[c], strict=True)} for c in SUMS}
    return memo[tag]


def _total(db, scope: Scope, column: str) -> float | None:
    model = _model(db, scope)
    return None if model is None else float(sum(score_sums(db, scope, model)[column].values()))


def _mean_clv(db, scope):
    customers = _total(db, scope, "customers")
    return None if not customers else _total(db, scope, "equity") / customers


def _equity(db, scope):
    equity = _total(db, scope, "equity")
    return None if equity is None or not _total(db, scope, "customers") else equity


def _realized_margin(db, scope: Scope, cohort, until: date) -> float:
    o = scope.orders_between(date(1900, 1, 1), until + timedelta(days=1)).semi_join(cohort, "customer_id")
    return db.row(o.aggregate(m=order_margin(db, o).sum()))["m"] or 0.0


def _new_customer_value(db, scope):
    model = _model(db, scope)
    if model is None:
        return None
    cohort = scope.acquired.select("customer_id")
    size = db.row(cohort.aggregate(n=deferred.count()))["n"]
    if not size:
        return None
    future = db.row(model.scores.semi_join(cohort, "customer_id").aggregate(v=deferred.clv.sum()))["v"] or 0.0
    return (_realized_margin(db, scope, cohort, model.observation_end) + future) / size


def _payback(db, scope, cac):
    """Months from acquisition until the cohort's cumulative margin per customer covers its CAC."""
    model = _model(db, scope)
    cohort = scope.acquired.select("customer_id", "acquired_at")
    size = db.row(cohort.aggregate(n=deferred.count()))["n"]
    if model is None or cac is None or not size:
        return None
    o = scope.tables["orders"].join(cohort, "customer_id")
    o = o.filter(o.ordered_at < ibis.timestamp(model.observation_end + timedelta(days=1)))
    start = scope.period.start
    age = (o.ordered_at.year() - start.year) * 12 + o.ordered_at.month() - start.month
    by_age = db.frame(o.group_by(age=age).aggregate(m=order_margin(db, o).sum()))
    observed = (model.observation_end.year - start.year) * 12 + model.observation_end.month - start.month + 1
    realized = np.zeros(observed)
    for a, m in zip(by_age["age"], by_age["m"], strict=True):
        realized[int(a)] += m or 0.0
    cells = db.frame(cells_of(model.scores.semi_join(cohort, "customer_id")))  # per (fit group, x, T), not customer
    cumulative = np.cumsum(np.concatenate([realized, model.monthly_margin_of(cells)])) / size
    reached = np.nonzero(cumulative >= cac)[0]
    return float(reached[0] + 1) if len(reached) else None


def _customers_at_risk(db, scope):
    at_risk = _total(db, scope, "at_risk")
    return None if at_risk is None else int(at_risk)


def _value_at_risk(db, scope):
    return _total(db, scope, "at_risk_revenue")


CLV_KPIS = [
    KPI("predictive_clv",
        Text("Predicted customer value",
             f"Margin a current customer is expected to bring over the next {HORIZON_MONTHS} months, discounted, on "
             "average: how many more purchases they will make if still active, times what they spend, times the "
             "margin rate.",
             f"mean over customers acquired by the period's end of: {_HOW}",
             short="Predicted CLV"),
        Text("Valeur vie client prédictive",
             f"Marge qu'un client actuel devrait dégager en moyenne sur les {HORIZON_MONTHS} prochains mois, "
             "actualisée : le nombre d'achats qu'il fera encore s'il reste actif, multiplié par sa dépense "
             "moyenne par achat et par le taux de marge.",
             f"moyenne, sur les clients acquis avant la fin de la période, de : {_HOW_FR}",
             short="CLV prédictive"),
        Unit.CURRENCY, True, EQUITY, Computed(_mean_clv), model_based=True),
    KPI("customer_equity",
        Text("Customer equity",
             f"What the current customer base is worth: the sum of every customer's predicted margin over the next "
             f"{HORIZON_MONTHS} months, discounted.",
             f"Σ over customers acquired by the period's end of: {_HOW}"),
        Text("Capital client",
             "Ce que vaut la clientèle actuelle : la somme des marges prédites de chaque client sur les "
             f"{HORIZON_MONTHS} prochains mois, actualisées.",
             f"Σ, sur les clients acquis avant la fin de la période, de : {_HOW_FR}"),
        Unit.CURRENCY, True, EQUITY, Computed(_equity), model_based=True, additive=True),
    KPI("new_customer_value",
        Text("Value of a new customer",
             "Margin a customer acquired in the period has brought so far plus the margin they are predicted to "
             f"bring over the next {HORIZON_MONTHS} months, on average.",
             "(realized margin of the period's new customers + their predicted value) ÷ new customers",
             short="New-customer value"),
        Text("Valeur d'un nouveau client",
             "Marge moyenne qu'un client acquis sur la période a déjà dégagée, plus celle qu'il devrait dégager sur "
             f"les {HORIZON_MONTHS} prochains mois.",
             "(marge réalisée par les nouveaux clients de la période + leur valeur prédite) ÷ nouveaux clients",
             short="Valeur nouveau client"),
        Unit.CURRENCY, True, EQUITY, Computed(_new_customer_value), model_based=True, base="new_customers",
        weight="new_customers"),
    KPI("clv_cac",
        Text("CLV / CAC",
             "How many euros of margin each euro of acquisition spend brings back over a customer's life (realized "
             "plus predicted). Below 1, acquisition destroys value; 3 or more is usually considered healthy.",
             "value of a new customer ÷ customer acquisition cost"),
        Text("Ratio CLV / CAC",
             "Nombre d'euros de marge que rapporte chaque euro dépensé en acquisition, sur la durée de vie d'un "
             "client (marge réalisée plus marge prédite). En dessous de 1, l'acquisition détruit de la valeur ; "
             "à partir de 3, le ratio est généralement jugé sain.",
             "valeur d'un nouveau client ÷ coût d'acquisition client"),
        Unit.RATIO, True, EQUITY, Ratio("new_customer_value", "cac"), model_based=True, base="new_customers"),
    KPI("cac_payback_months",
        Text("CAC payback",
             "Months after acquisition until the margin of the period's new customers covers what it cost to "
             "acquire them (realized margin first, then the predicted one).",
             "first month m where cumulative margin per new customer (realized, then predicted) ≥ CAC",
             short="CAC payback"),
        Text("Délai de récupération du CAC",
             "Nombre de mois qu'il faut, après l'acquisition, pour que la marge des nouveaux clients de la période "
             "couvre ce qu'a coûté leur acquisition (marge réalisée d'abord, puis marge prédite).",
             "premier mois m où la marge cumulée par nouveau client (réalisée, puis prédite) ≥ CAC",
             short="Récupération du CAC"),
        Unit.MONTHS, False, EQUITY, Computed(_payback, inputs=("cac",)), model_based=True, base="new_customers"),
    KPI("customers_at_risk",
        Text("Valuable customers at risk",
             f"Customers among the 30% most valuable (lifetime revenue) whose probability of still being active has "
             f"fallen below {AT_RISK_P_ALIVE:.0%}: the ones to win back first.",
             f"count of top-30% customers with P(alive) < {AT_RISK_P_ALIVE} (BG/NBD) at the period's end",
             short="Customers at risk"),
        Text("Clients de valeur à risque",
             "Clients parmi les 30 % à plus forte valeur (chiffre d'affaires cumulé depuis leur acquisition) dont "
             f"la probabilité d'être encore actifs est passée sous {_AT_RISK_FR} : ceux à reconquérir en priorité.",
             f"nombre de clients du top 30 % dont P(actif) < {_P_ALIVE_FR} (BG/NBD) à la fin de la période",
             short="Clients à risque"),
        Unit.COUNT, False, EQUITY, Computed(_customers_at_risk), model_based=True, base="customers_at_risk",
        additive=True),
    KPI("value_at_risk",
        Text("Revenue of customers at risk",
             "Revenue of the last twelve months brought by the valuable customers at risk: what leaves if they are "
             "gone.",
             "Σ revenue of the 12 months to the period's end of the valuable customers at risk"),
        Text("Chiffre d'affaires à risque",
             "Chiffre d'affaires des douze derniers mois réalisé par les clients de valeur à risque : ce qui serait "
             "perdu s'ils partaient.",
             "Σ chiffre d'affaires des 12 mois précédant la fin de la période, pour les clients de valeur à risque"),
        Unit.CURRENCY, False, EQUITY, Computed(_value_at_risk), model_based=True, base="customers_at_risk",
        additive=True),
]
