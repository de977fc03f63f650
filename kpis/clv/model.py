"""The fitted value model of a database as of one date, cached, and the per-customer figures KPIs read.

One BG/NBD + Gamma-Gamma fit per acquisition channel (channels differ in customer quality, and a brand-new
customer is only known by the population it comes from), with a pooled fit for channels too small to fit,
per observation end (the last day of the data, or of an earlier period for comparisons). Segments are sums
over their customers, not separate fits.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from kpis.clv.bgnbd import BetaGeo
from kpis.clv.common import ModelError
from kpis.clv.gammagamma import GammaGamma
from kpis.clv.rfm import rfm_summary
from kpis.clv.value import customer_clv, month_ends

HORIZON_MONTHS = 36
ANNUAL_DISCOUNT = 0.10
TIME_UNIT = "W"
AT_RISK_P_ALIVE = 0.5  # a valuable customer is "at risk" once P(alive) falls below this
VALUABLE_TIERS = ("top 10%", "next 20%")
MIN_CUSTOMERS_PER_FIT = 200  # smaller channels use the pooled fit (unidentifiable ones too)
POOLED = "all customers"
_lock = threading.Lock()


@dataclass
class ValueModel:
    """BG/NBD + Gamma-Gamma fits on every customer's history up to `observation_end`, per fit group."""

    observation_end: date
    fits: dict[str, tuple[BetaGeo, GammaGamma]]  # fit group (acquisition channel, or POOLED) -> models
    margin_rate: float
    customers: pd.DataFrame  # customer_id → group, frequency, recency, T, monetary_value, p_alive, clv, …

    def monthly_expected_margin(self, ids, months: int = HORIZON_MONTHS) -> np.ndarray:
        """Expected (undiscounted) margin of these customers in each of the next `months` calendar months."""
        c = self.customers.loc[self.customers.index.intersection(ids)]
        bounds = np.concatenate([[0.0], month_ends(self.observation_end, months, TIME_UNIT)])
        total = np.zeros(months)
        for group, members in c.groupby("group"):
            bg = self.fits[group][0]
            cumulative = bg.expected_purchases(bounds[None, :], members["frequency"].to_numpy()[:, None],
                                               members["recency"].to_numpy()[:, None], members["T"].to_numpy()[:, None])
            total += (np.diff(cumulative, axis=1) * members["expected_spend"].to_numpy()[:, None]).sum(axis=0)
        return total * self.margin_rate


def observation_end_of(db, period) -> date | None:
    """The last day a period's figures may see: its last day, or the data's last day if earlier."""
    end = min(period.end - timedelta(days=1), db.data_end)
    return end if end >= db.data_start else None


def value_model(db, observation_end: date) -> ValueModel:
    """The fitted model as of `observation_end`, fitted once per database and date."""
    cache = db.__dict__.setdefault("_value_models", {})
    with _lock:  # one fit at a time: concurrent fits of the same date would double the work
        if observation_end not in cache:
            cache[observation_end] = _fit(db, observation_end)
    model = cache[observation_end]
    if isinstance(model, ModelError):
        raise model
    return model


def _fit(db, observation_end: date) -> ValueModel | ModelError:
    try:
        summary = rfm_summary(db, observation_end, TIME_UNIT)
        margin_rate = _margin_rate(db, observation_end)
        if margin_rate is None:
            raise ModelError("orders carry no cost: margin, and so value, is unknown")
        summary, fits = fit_groups(db, summary)
        values = [customer_clv(*fits[g], members, margin_rate, HORIZON_MONTHS, ANNUAL_DISCOUNT)
                  for g, members in summary.groupby("group")]
        return ValueModel(observation_end, fits, margin_rate, summary.join(pd.concat(values)))
    except ModelError as error:  # remembered, so an unfittable date is not refitted on every call
        return error


def fit_groups(db, summary: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, tuple[BetaGeo, GammaGamma]]]:
    """Give each customer a fit group — its acquisition channel, or POOLED for channels too small or that the
    models cannot identify — and fit each group (the pooled fit uses every customer). ModelError when even the
    pooled fit fails."""
    channels = db.cursor().execute("SELECT customer_id, acquisition_channel FROM customers").df()
    summary = summary.copy()
    summary["channel"] = channels.set_index("customer_id")["acquisition_channel"].reindex(summary.index)
    summary["channel"] = summary["channel"].fillna(POOLED)
    sizes = summary["channel"].value_counts()
    summary["group"] = summary["channel"].where(summary["channel"].map(sizes) >= MIN_CUSTOMERS_PER_FIT, POOLED)
    fits, parts = {}, []
    for group, members in summary.groupby("group"):
        if group != POOLED:
            try:
                fits[group] = _fit_group(members)
            except ModelError:  # a channel the models cannot identify falls back to the pooled fit
                members = members.assign(group=POOLED)
        parts.append(members)
    summary = pd.concat(parts)
    if (summary["group"] == POOLED).any():
        fits[POOLED] = _fit_group(summary)
    return summary, fits


def _fit_group(summary: pd.DataFrame) -> tuple[BetaGeo, GammaGamma]:
    bg = BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
    gg = GammaGamma().fit(summary["frequency"], summary["monetary_value"])
    return bg, gg


def _margin_rate(db, observation_end: date) -> float | None:
    """Gross margin ÷ revenue of every order of known cost up to the observation end."""
    margin, revenue = db.cursor().execute(
        "SELECT sum(revenue - cost)::DOUBLE, sum(revenue)::DOUBLE FROM orders "
        "WHERE cost IS NOT NULL AND ordered_at < ?", [observation_end + timedelta(days=1)]).fetchone()
    return None if not revenue else min(max(margin / revenue, 0.0), 1.0)
