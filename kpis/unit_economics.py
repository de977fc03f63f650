"""Unit economics of recent cohorts: what acquiring one customer returns — value ÷ CAC, payback, internal rate of
return — from the cohort's margin per customer month by month, realised until the observation end, then predicted.

Cash flows per customer of a cohort: −CAC at month 0, then the margin of each month of the customer's life (month 1
is its acquisition month, with the first purchase), received at the month's end, as the valuation counts months:
realised (the orders' margins) up to the observation end, then the value model's expectation
(ValueModel.monthly_expected_margin, computed as kpis.clv.horizon.monthly_margins) until the valuation's horizon,
counted from acquisition.
value     Σ_a margin_a·(1 + d)^(−a/12), a = 1 … M: the margins' present value at acquisition (d: the valuation's rate)
payback   the first month a whose cumulative margin covers CAC: kpis `cac_payback_months`'s rule, the predicted
          months running to the horizon instead of 36
IRR       the monthly rate i solving −CAC + Σ_a margin_a·(1 + i)^(−a) = 0 (one sign change, so one root: Brent's
          method), annualised as (1 + i)^12 − 1; so value ÷ CAC > 1 exactly when the IRR beats d. A cohort repaying
          CAC within a month or two has an IRR in the thousands of per cent a year: true, and best shown as such
          (or as "> 1,000 %"); None when CAC is 0 or the margins never repay it (below −50 % a month).
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
from scipy.optimize import brentq

from kpis.clv.horizon import monthly_margins
from kpis.clv.model import ValueModel, order_margin
from kpis.periods import add_months
from kpis.scope import Scope

COLUMNS = ("cohort", "new_customers", "cac", "value", "value_cac", "payback_months", "irr")
LOWEST_MONTHLY_RATE = -0.5  # an IRR below −50 % a month is reported as None (the cohort never repays CAC)


def irr(cash_flows) -> float | None:
    """The annualised internal rate of return of monthly cash flows (the first negative, the others ≥ 0), or None."""
    cf = np.asarray(cash_flows, dtype=float)
    if cf.size < 2 or cf[0] >= 0 or not np.any(cf[1:] > 0):
        return None
    months = np.arange(cf.size)

    def npv(rate):
        return float(cf @ np.exp(-months * np.log1p(rate)))

    if npv(LOWEST_MONTHLY_RATE) <= 0:
        return None
    high = 1.0
    while npv(high) > 0:  # a root beyond 100 % a month: widen the bracket
        high *= 4
    return float((1 + brentq(npv, LOWEST_MONTHLY_RATE, high, xtol=1e-12)) ** 12 - 1)


def payback_months(margins, cac: float) -> float | None:
    """The first month (from 1) whose cumulative margin per customer covers CAC; None if it never does."""
    reached = np.nonzero(np.cumsum(margins) >= cac)[0]
    return float(reached[0] + 1) if reached.size else None


def cohort_economics(db, where: Scope, model: ValueModel, cohorts: list[date], new: dict[date, float],
                     spend: dict[date, float] | None, months: int, annual_discount: float) -> pd.DataFrame:
    """One row per monthly cohort (first days): cohort, new_customers, cac, value, value_cac, payback_months, irr.
    `new` and `spend` give each month's new customers and acquisition spend (spend None: CAC unknown)."""
    end = model.observation_end
    first, stop = cohorts[0], add_months(cohorts[-1], 1)
    c = where.customers
    c = c.filter((c.acquired_at >= first) & (c.acquired_at < stop))
    c = c.select("customer_id", cohort=c.acquired_at.year() * 12 + c.acquired_at.month() - 1)
    o = db.tables["orders"].join(c, "customer_id")
    o = o.filter((o.ordered_at >= ibis.timestamp(first)) & (o.ordered_at < ibis.timestamp(end + timedelta(days=1))))
    age = o.ordered_at.year() * 12 + o.ordered_at.month() - 1 - o.cohort
    realised = db.frame(o.group_by(cohort=o.cohort, age=age).aggregate(m=order_margin(db, o).sum()))
    members = db.frame(model.scores.join(c, "customer_id")
                       .select("cohort", "fit_group", "frequency", "recency", "T", "expected_spend"))
    predicted = monthly_margins(members, model.fits, model.margin_rate, end, months, "cohort") if len(members) else {}
    discount = (1 + annual_discount) ** (-np.arange(1, months + 1) / 12)
    rows = []
    for month in cohorts:
        key = month.year * 12 + month.month - 1
        size = new.get(month, 0)
        if not size:
            rows.append({"cohort": month, "new_customers": 0, **dict.fromkeys(COLUMNS[2:])})
            continue
        observed = min(end.year * 12 + end.month - 1 - key + 1, months)
        margins = np.zeros(months)
        mine = realised[(realised["cohort"] == key) & (realised["age"] >= 0) & (realised["age"] < observed)]
        np.add.at(margins, mine["age"].to_numpy(dtype=int), mine["m"].to_numpy(dtype=float))
        if months > observed and key in predicted:
            margins[observed:] = predicted[key][:months - observed]
        margins = margins / size
        cac = spend[month] / size if spend is not None and month in spend else None
        value = float(margins @ discount)
        rows.append({"cohort": month, "new_customers": size, "cac": cac, "value": value,
                     "value_cac": value / cac if cac else None,
                     "payback_months": payback_months(margins, cac) if cac is not None else None,
                     "irr": irr(np.concatenate([[-cac], margins])) if cac is not None else None})
    return pd.DataFrame(rows, columns=list(COLUMNS))

