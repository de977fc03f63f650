"""Customer-based valuation (kpis.valuation): the arithmetic, the acquisition model and the unit economics by hand,
the horizon's value against customer_clv, and on demo bases with known generating parameters."""


from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

import kpis
from kpis import acquisition
from kpis.periods import add_months

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
