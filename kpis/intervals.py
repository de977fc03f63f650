"""How sure: 90 % intervals on the model-based KPIs from the fits' parameter uncertainty, for any segment.

Every build stores, for the dashboard's own dates, each fit group's totals with the fitted parameters and with K
parameter draws (kpis.clv.model.group_draws; other dates are drawn once when first asked). A segment's draw k is
its part of each fit group scaled by that group's draw-to-point ratio: Σ_g segment_g × total_gk / total_g0 — exact
for whole fit groups (every acquisition channel, all customers), and for a segment cut across groups the
assumption that its customers move with their group's parameters as the group's total does. Then

    customer equity          Σ_g equity_g × r_gk (equity ratios)      predicted CLV   the same ÷ customers
    customers at risk        Σ_g at_risk_g × r_gk (at-risk ratios)    revenue at risk  with the at-risk revenue
    value of a new customer  (realised margin + Σ_g new customers' CLV_g × r_gk) ÷ new customers
    CLV / CAC                the value of a new customer's draws ÷ CAC (spend is data, not a model)

and the interval is the draws' (1 − level)/2 and (1 + level)/2 quantiles. A change between two periods is "within
the model's uncertainty" when the interval of the paired differences (draw k of the one date minus draw k of the
other) covers zero. Draw k of every date comes from the same standard-normal variates (the seeds are per fit
group), which couples the two fits' errors: the two fits read mostly the same history (one month apart, all but a
month of it), so their estimation errors move together; treating them as independent would overstate the change's
uncertainty about √2 × the level's, and call nearly every change noise. The coupling is an assumption, stated here.
Parameter uncertainty is not model error: the model check tells how well the models forecast.
"""

from __future__ import annotations

import numpy as np
from ibis import _ as deferred

from kpis.catalog import REGISTRY
from kpis.clv.declarations import score_sums
from kpis.clv.model import model_draws, observation_end_of, value_model
from kpis.database import Database, KPIError, scope
from kpis.evaluate import evaluate_scope
from kpis.periods import COMPARES
from kpis.scope import Scope

LEVEL = 0.9
INTERVAL_KPIS = ("customer_equity", "predictive_clv", "new_customer_value", "clv_cac", "customers_at_risk",
                 "value_at_risk")


def _ratios(draws, total: str) -> dict[str, np.ndarray]:
    """Per fit group: its K draws of a total ÷ its point (0 where the point is 0)."""
    out = {}
    for group, rows in draws.groupby("fit_group"):
        point = float(rows.loc[rows["draw"] == -1, total].iloc[0])
        values = rows.loc[rows["draw"] >= 0].sort_values("draw")[total].to_numpy(dtype=float)
        out[group] = values / point if point else np.zeros_like(values)
    return out


def _scaled(parts: dict[str, float], ratios: dict[str, np.ndarray]) -> np.ndarray:
    size = len(next(iter(ratios.values())))
    return sum((value * ratios[g] for g, value in parts.items() if g in ratios and value), np.zeros(size))


def _per_group(db: Database, table) -> dict[str, float]:
    return dict(db.frame(table.group_by("fit_group").aggregate(v=deferred.v.sum())).itertuples(index=False))


def kpi_draws(db: Database, key: str, where: Scope) -> np.ndarray | None:
    """The K parameter draws of a model-based KPI for a scope (module docstring), None where it has none."""
    if key not in INTERVAL_KPIS:
        raise KPIError(f"no model interval for '{key}': use one of {', '.join(INTERVAL_KPIS)}")
    end = observation_end_of(db, where.period)
    if end is None or evaluate_scope(db, [key], where)[key] is None:
        return None
    draws = model_draws(db, end)
    if draws is None:
        return None
    sums = score_sums(db, where, value_model(db, end))
    if key in ("customer_equity", "predictive_clv"):
        equity = _scaled(sums["equity"], _ratios(draws, "equity"))
        return equity if key == "customer_equity" else equity / sum(sums["customers"].values())
    if key == "customers_at_risk":
        return _scaled(sums["at_risk"], _ratios(draws, "at_risk"))
    if key == "value_at_risk":
        return _scaled(sums["at_risk_revenue"], _ratios(draws, "at_risk_revenue"))
    scores = value_model(db, end).scores
    value, cac = (evaluate_scope(db, [k], where)[k] for k in ("new_customer_value", "cac"))
    cohort = where.acquired.select("customer_id")
    new = scores.semi_join(cohort, "customer_id")
    future = _per_group(db, new.mutate(v=new.clv))
    size = db.row(cohort.aggregate(n=deferred.count()))["n"]
    realised = value * size - sum(future.values())  # new_customer_value = (realised + Σ future) ÷ size
    per_customer = (realised + _scaled(future, _ratios(draws, "equity"))) / size
    if key == "new_customer_value":
        return per_customer
    return None if not cac else per_customer / cac


def _quantiles(draws: np.ndarray | None, level: float) -> tuple[float, float] | None:
    if draws is None:
        return None
    if not 0 < level < 1:
        raise KPIError("level must be in (0, 1)")
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def interval(db: Database, key: str, period, level: float = LEVEL, filters: dict | None = None):
    """(low, high): the KPI's interval at `level` from the models' parameter uncertainty; None where undefined."""
    return _quantiles(kpi_draws(db, key, scope(db, period, filters)), level)


def change_interval(db: Database, key: str, period, compare: str = "previous", filters: dict | None = None,
                    level: float = LEVEL):
    """(low, high) of the change from the comparison period, from paired draws of the two dates; None when either
    has no draws (so a change can be called within the models' uncertainty when the interval covers 0)."""
    if compare not in COMPARES:
        raise KPIError(f"unknown comparison '{compare}': use {' or '.join(COMPARES)}")
    now = scope(db, period, filters)
    pair = [kpi_draws(db, key, w) for w in (now, now.at(now.period.reference(compare)))]
    if any(d is None for d in pair) or len(pair[0]) != len(pair[1]):
        return None
    return _quantiles(pair[0] - pair[1], level)


def with_intervals(db: Database, table, period, filters: dict | None = None, level: float = LEVEL):
    """A kpis.compare table with low / high (this period's interval) and change_low / change_high columns for the
    rows of model-based KPIs (None elsewhere)."""
    table = table.copy()
    for column in ("low", "high", "change_low_previous", "change_high_previous", "change_low_year_ago",
                   "change_high_year_ago"):
        table[column] = None
    for key in table.index:
        if key not in INTERVAL_KPIS or not REGISTRY[key].model_based:
            continue
        bounds = interval(db, key, period, level, filters)
        if bounds:
            table.loc[key, ["low", "high"]] = bounds
        for compare in COMPARES:
            change = change_interval(db, key, period, compare, filters, level)
            if change:
                table.loc[key, [f"change_low_{compare}", f"change_high_{compare}"]] = change
    return table
