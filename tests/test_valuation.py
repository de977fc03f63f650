"""Customer-based valuation (kpis.valuation): the arithmetic, the acquisition model and the unit economics by hand,
the horizon's value against customer_clv, and on demo bases with known generating parameters."""


from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

import kpis
from kpis import acquisition
from kpis.clv.bgnbd import BetaGeo
from kpis.clv.horizon import Base, monthly_margins, new_customer_margins
from kpis.clv.model import observation_end_of, value_model
from kpis.clv.value import customer_clv
from kpis.database import scope
from kpis.periods import add_months

PERIOD = "2026-10"


@pytest.fixture(scope="module")
def demo(demo_base):
    return kpis.connect(demo_base(20_000, 7))


# --- the acquisition model -----------------------------------------------------------------------------------------

MONTHS = [add_months(date(2024, 1, 1), i) for i in range(24)]
SEASON = np.array([1.5 if m.month == 12 else 1.0 for m in MONTHS])


def test_damped_forecast_by_hand():
    """Counts exactly 100·e^(0.01·t) × (1.5 in December), t = 0 … 23 (2024-01 … 2025-12): the fit is exact (s² = 0).
    h months ahead the trend's position is 23 + φ(1 − φ^h)/(1 − φ), φ = 0.98:
      h = 1  (Jan 2026): 23 + 0.98 = 23.98                       → 100·e^0.2398 = 127.100
      h = 12 (Dec 2026): 23 + 49·(1 − 0.98¹²) = 23 + 10.5489     → 150·e^0.335489 = 209.794
      limit: 23 + 49 = 72 months                                 → at most 150·e^0.72 = 308.2 in a December."""
    model = acquisition.fit(MONTHS, 100 * np.exp(0.01 * np.arange(24)) * SEASON)
    assert model.variance == pytest.approx(0, abs=1e-20) and model.dof == 24 - 13
    assert model.monthly_growth == pytest.approx(0.01, abs=1e-12)
    forecast = model.forecast(360)
    assert forecast["month"].iloc[0] == date(2026, 1, 1) and forecast["month"].iloc[11] == date(2026, 12, 1)
    assert forecast["forecast"].iloc[0] == pytest.approx(100 * math.exp(0.2398), rel=1e-9)
    assert forecast["forecast"].iloc[11] == pytest.approx(150 * math.exp(0.01 * (23 + 49 * (1 - 0.98 ** 12))), rel=1e-9)
    assert forecast["forecast"].max() < 150 * math.exp(0.72)
    undamped = acquisition.fit(MONTHS, 100 * np.exp(0.01 * np.arange(24)) * SEASON, damping=1.0).forecast(12)
    assert undamped["forecast"].iloc[11] == pytest.approx(150 * math.exp(0.35), rel=1e-9)  # 23 + 12 = 35


def test_paths_give_the_classical_interval():
    """The paths' quantiles are the t prediction interval's (module docstring), to their Monte Carlo error: with
    2,000 paths a 5 % quantile of ln N is off by ~0.05 σ of it, here ~0.6 %; a 2 % tolerance."""
    noise = np.random.default_rng(5).normal(0, 0.1, 24)
    model = acquisition.fit(MONTHS, 100 * np.exp(0.01 * np.arange(24) + noise) * SEASON)
    forecast = model.forecast(24)
    low, high = np.quantile(model.paths(24, seed=1), [0.05, 0.95], axis=0)
    assert low == pytest.approx(forecast["low"].to_numpy(), rel=0.02)
    assert high == pytest.approx(forecast["high"].to_numpy(), rel=0.02)
    assert np.all(forecast["low"] < forecast["forecast"]) and np.all(forecast["forecast"] < forecast["high"])


@pytest.mark.parametrize("months, counts, message", [
    (MONTHS[:23], np.full(23, 50.0), "too little history to fit acquisition: 23 months, 24 needed"),
    (MONTHS, np.r_[np.full(20, 50.0), 0, 0, 50, 50], "no new customer in 2025-09, 2025-10"),
    (MONTHS[::2] + MONTHS[1::2], np.full(24, 50.0), "must be consecutive"),
])
def test_acquisition_refuses_what_it_cannot_fit(months, counts, message):
    with pytest.raises(kpis.KPIError, match=message):
        acquisition.fit(months, counts)


# --- the models over the valuation's horizon -----------------------------------------------------------------------

FIXED_BG, FIXED_GG = {"r": 0.25, "alpha": 4.4, "a": 0.8, "b": 2.4}, {"p": 6.25, "q": 3.74, "gamma": 15.44}


def test_a_new_customer_by_hand():
    """First purchase: margin 0.5 × mean spend p·γ/(q − 1) = 0.5 × 6.25·15.44/2.74 = 0.5 × 35.21898 = 17.60949; then
    each month's expected repeat purchases of a new customer (BG/NBD eq. 9) times the same."""
    first, monthly = new_customer_margins(np.array(list(FIXED_BG.values())), np.array(list(FIXED_GG.values())), 0.5,
                                          24, "W")
    assert first[0] == pytest.approx(17.60949, abs=1e-5)
    weeks = np.arange(25) * 365.25 / 12 / 7
    expected = np.diff(BetaGeo(FIXED_BG).expected_purchases_new(weeks)) * first[0]
    assert monthly[0] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("months, rate", [(120, 0.10), (60, 0.12), (360, 0.05)])
def test_base_value_is_customer_clv_summed(demo, months, rate):
    """kpis.clv.horizon.Base (checked Chebyshev rules: 1,500 customers have more cells than the check's 200) gives
    Σ customer_clv over any horizon to ~1e-6."""
    model = value_model(demo, observation_end_of(demo, scope(demo, PERIOD).period))
    frame = model.customers.reset_index().sample(1_500, random_state=1)
    base = Base(frame, model.observation_end)
    values = base.values(model.fits, model.margin_rate, months, rate)
    for group, members in frame.groupby("fit_group"):
        exact = customer_clv(*model.fits[group], members, model.margin_rate, months, rate, "W", model.observation_end)
        assert values[group] == pytest.approx(exact["clv"].sum(), rel=1e-6), group


def test_over_36_months_the_base_is_the_customer_equity_kpi(demo):
    model = value_model(demo, observation_end_of(demo, scope(demo, PERIOD).period))
    base = Base(demo.frame(model.scores), model.observation_end)
    equity = sum(base.values(model.fits, model.margin_rate, 36, 0.10).values())
    assert equity == pytest.approx(kpis.evaluate(demo, "customer_equity", PERIOD), rel=1e-6)


def test_monthly_margins_are_the_model_s(demo):
    model = value_model(demo, observation_end_of(demo, scope(demo, PERIOD).period))
    cohort = scope(demo, "2026-03").acquired.select("customer_id")
    members = demo.frame(model.scores.semi_join(cohort, "customer_id")).assign(cohort=1)
    fast = monthly_margins(members, model.fits, model.margin_rate, model.observation_end, 100, "cohort")[1]
    exact = model.monthly_expected_margin(members, 100)
    assert np.max(np.abs(fast - exact)) <= 1e-6 * exact.max()
