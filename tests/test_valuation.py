"""Customer-based valuation (kpis.valuation): the arithmetic, the acquisition model and the unit economics by hand,
the horizon's value against customer_clv, and on demo bases with known generating parameters."""

from __future__ import annotations

import math
import shutil
from datetime import date

import duckdb
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
from kpis.unit_economics import irr, payback_months
from kpis.valuation import cohort_values, future_parts, valuation_total

PERIOD = "2026-10"


@pytest.fixture(scope="module")
def demo(demo_base):
    return kpis.connect(demo_base(20_000, 7))


@pytest.fixture(scope="module")
def value(demo):
    return kpis.valuation(demo, PERIOD)


@pytest.fixture(scope="module")
def by_channel(demo):
    return {c: kpis.valuation(demo, PERIOD, filters={"acquisition_channel": [c]})
            for c in demo.filter_values("acquisition_channel")}


# --- the arithmetic by hand ----------------------------------------------------------------------------------------
# Two future cohorts: 100 customers at the end of month 1, 120 at the end of month 2 (M = 2); a customer brings 10 of
# margin at acquisition and 4, then 3 in the months after it; CAC 12; existing customers 1,000.

@pytest.mark.parametrize("rate, values, future_value, future_spend, total", [
    # no discounting: v₁ = 10 + 4 (one month left) = 14, v₂ = 10 (none left)
    # FV = 100·14 + 120·10 = 2,600; spend = 220·12 = 2,640; total = 1,000 + 2,600 − 2,640 = 960
    (0.0, [14.0, 10.0], 2600.0, 2640.0, 960.0),
    # δ = 1/1.01 a month (yearly 1.01¹² − 1 = 12.68 %): v₁ = 10 + 4/1.01 = 13.960396, v₂ = 10
    # FV = 100·13.960396/1.01 + 120·10/1.01² = 1,382.2174 + 1,176.3552 = 2,558.5727
    # spend = 12·(100/1.01 + 120/1.0201) = 12·(99.009901 + 117.635526) = 2,599.7451; total = 958.8276
    (1.01 ** 12 - 1, [13.960396, 10.0], 2558.5727, 2599.7451, 958.8276),
])
def test_two_future_cohorts_by_hand(rate, values, future_value, future_spend, total):
    v = cohort_values(10.0, [4.0, 3.0], rate)
    assert v.tolist() == pytest.approx(values, abs=1e-6)
    fv, spend = future_parts([100, 120], v, 12.0, rate)
    assert (fv, spend) == pytest.approx((future_value, future_spend), abs=1e-4)
    assert valuation_total(1000.0, fv, spend) == pytest.approx(total, abs=1e-4)


def test_cohort_values_broadcast_over_draws():
    """Rows are parameter draws: each row is valued as on its own."""
    first, monthly = np.array([10.0, 20.0]), np.array([[4.0, 3.0], [1.0, 2.0]])
    v = cohort_values(first, monthly, 0.05)
    assert v[1].tolist() == pytest.approx(cohort_values(20.0, [1.0, 2.0], 0.05).tolist())
    assert v[:, -1].tolist() == [10.0, 20.0]  # acquired in the horizon's last month: its first purchase only


# --- unit economics by hand ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("cash_flows, expected", [
    ([-100, 110], 1.1 ** 12 - 1),  # 10 % a month: 1.1¹² − 1 = 213.8 % a year
    ([-100, 50, 50], 0.0),  # the margins only give CAC back
    # 60u + 60u² = 100 (u = 1/(1 + i)): u = (−1 + √(1 + 20/3))/2 = 0.884437, i = 13.066 % a month
    ([-100, 60, 60], (2 / (math.sqrt(1 + 20 / 3) - 1)) ** 12 - 1),
    ([0, 5, 5], None),  # nothing paid up front: no rate to earn
    ([-10, 0, 0], None),  # nothing comes back
    ([-100, 1, 1], None),  # u + u² = 100: i = −89.5 % a month, below −50 %: never repays
])
def test_irr_by_hand(cash_flows, expected):
    got = irr(cash_flows)
    assert got == (None if expected is None else pytest.approx(expected, rel=1e-9, abs=1e-12))


@pytest.mark.parametrize("cac, expected", [
    (25, 3.0),  # cumulative margins 10, 20, 30: 30 ≥ 25 in month 3
    (30, 3.0),  # covering exactly counts
    (31, None),  # never covered
    (0, 1.0),
])
def test_payback_by_hand(cac, expected):
    assert payback_months([10, 10, 10], cac) == expected


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


# --- on a demo with known generating parameters --------------------------------------------------------------------

def test_parts_add_up_within_their_interval(value):
    assert value.total == pytest.approx(value.existing + value.future_value - value.future_acquisition_spend,
                                        rel=1e-12)
    parts = value.parts.set_index("part")
    assert parts.loc["total", "value"] == value.total and (value.low, value.high) == tuple(parts.loc["total",
                                                                                                   ["low", "high"]])
    assert (parts["low"] < parts["value"]).all() and (parts["value"] < parts["high"]).all()
    assert len(value.acquisition) == 120 and value.acquisition["month"].iloc[0] == date(2026, 11, 1)


def test_existing_customers_over_ten_years_are_worth_more_than_over_36_months(demo, value):
    assert value.existing > kpis.evaluate(demo, "customer_equity", PERIOD)
    assert "not the dashboard's 36-month customer equity" in value.assumptions["existing customers"]


def test_the_held_out_year_falls_within_its_interval(value):
    holdout = value.acquisition_holdout
    assert holdout is not None and len(holdout) == 12 and holdout.attrs["calibration_months"] == 24
    assert holdout.attrs["low"] <= holdout.attrs["actual"] <= holdout.attrs["high"] and holdout.attrs["within"]
    assert holdout["within"].mean() >= 0.75  # 90 % intervals month by month: 9 of 12 at least here


def test_history_is_the_new_customers_kpi(demo, value):
    series = kpis.series(demo, "new_customers", "2023-11", PERIOD, "month")
    assert value.acquisition_history["actual"].tolist() == series["value"].tolist()


def test_acquisition_growth_and_cac_are_the_generating_ones(demo, value, by_channel):
    """Each channel's fitted trend is its generating log-growth within 3 standard errors; CAC (spend = new customers
    × CAC × lognormal noise of sd 15 % a month) within 10 % of the generating one (the 12-month mean's sd ≈ 4 %)."""
    channels = demo.metadata["demo"]["channels"]
    for row in value.channels.itertuples():
        history = by_channel[row.channel].acquisition_history["actual"].to_numpy()  # the channel's own: next test
        model = acquisition.fit(acquisition_months(), history)
        se = math.sqrt(model.variance * model.inverse[1, 1])
        assert abs(12 * model.monthly_growth - channels[row.channel]["growth"]) < 3 * 12 * se, row.channel
        assert row.yearly_growth == pytest.approx(math.expm1(12 * model.monthly_growth))
        assert row.cac == pytest.approx(channels[row.channel]["cac"], rel=0.10), row.channel


def acquisition_months() -> list[date]:
    return [add_months(date(2023, 11, 1), i) for i in range(36)]


def test_a_new_customer_is_worth_what_the_generating_parameters_say(demo, value):
    """Break-even CAC = a brand-new customer's discounted margin over the 10 years from its channel's fits; from the
    generating parameters (per day) it is within 10 % (measured: 0.1 % to 7 %)."""
    margin = value_model(demo, value.observation_end).margin_rate
    discount = 1.1 ** (-np.arange(1, 121) / 12)
    for row in value.channels.itertuples():
        c = demo.metadata["demo"]["channels"][row.channel]
        first, monthly = new_customer_margins(np.array([c["r"], c["alpha"], c["a"], c["b"]]),
                                              np.array([c["p"], c["q"], c["gamma"]]), margin, 120, "D")
        assert row.break_even_cac == pytest.approx(first[0] + monthly[0] @ discount, rel=0.10), row.channel
        assert row.break_even_cac > row.cac  # every demo channel pays for itself


@pytest.mark.parametrize("factor, rises", [
    ("retention", True),  # lower dropout: more value
    ("spend", True),
    ("volume", True),  # every demo channel's customers are worth more than their CAC
    ("cac", False),
    ("discount_rate", False),
])
def test_sensitivities_are_monotone(value, factor, rises):
    row = value.sensitivities.set_index("factor").loc[factor]
    assert (row["low_change"] < 0 < row["high_change"]) if rises else (row["high_change"] < 0 < row["low_change"])


def test_linear_sensitivities_by_hand(value):
    """Spend scales every margin: ±10 % of existing + future value; CAC ∓10 % of the spend; volume ±10 % of future
    value − spend. Sorted by range, largest first."""
    s = value.sensitivities.set_index("factor")
    assert s.loc["spend", "high_change"] == pytest.approx(0.1 * (value.existing + value.future_value), rel=1e-9)
    assert s.loc["cac", "low_change"] == pytest.approx(0.1 * value.future_acquisition_spend, rel=1e-9)
    assert s.loc["volume", "high_change"] == pytest.approx(0.1 * (value.future_value - value.future_acquisition_spend),
                                                           rel=1e-9)
    ranges = (value.sensitivities["high_change"] - value.sensitivities["low_change"]).abs()
    assert ranges.is_monotonic_decreasing


def test_cohorts_payback_is_the_kpi_and_irr_beats_the_rate_when_value_beats_cac(demo, value):
    cohorts = value.cohorts
    assert len(cohorts) == 12 and cohorts["cohort"].iloc[-1] == date(2026, 10, 1)
    for row in cohorts.iloc[[0, 5, 11]].itertuples():
        month = f"{row.cohort:%Y-%m}"
        assert row.payback_months == kpis.evaluate(demo, "cac_payback_months", month), month
        assert row.cac == pytest.approx(kpis.evaluate(demo, "cac", month)), month
    assert ((cohorts["value_cac"] > 1) == (cohorts["irr"] > value.discount_rate)).all()


def test_a_segment_is_valued_on_its_own(demo, value, by_channel):
    """Channels are the fit groups and the acquisition units: their existing customers and parts add up to all
    customers' exactly, and a channel's forecast is fitted on its own history only."""
    for part in ("existing", "future_value", "future_acquisition_spend", "total"):
        assert sum(getattr(v, part) for v in by_channel.values()) == pytest.approx(getattr(value, part), rel=1e-9)
    search = by_channel["search"]
    own = kpis.series(demo, "new_customers", "2023-11", PERIOD, "month", filters={"acquisition_channel": ["search"]})
    assert search.acquisition_history["actual"].tolist() == own["value"].tolist()
    assert search.acquisition["forecast"].tolist() == pytest.approx(
        acquisition.fit(acquisition_months(), own["value"].to_numpy(dtype=float)).forecast(120)["forecast"].tolist())
    assert search.channels["channel"].tolist() == ["search"]


def test_results_are_cached_per_assumptions(demo):
    assert kpis.valuation(demo, PERIOD) is kpis.valuation(demo, PERIOD, 10, 0.10)


# --- refused, with a reason ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("options, message", [
    ({"horizon_years": 0}, "above 0 and at most 30 years, not 0"),
    ({"horizon_years": -5}, "above 0 and at most 30 years"),
    ({"horizon_years": 31}, "above 0 and at most 30 years, not 31"),
    ({"horizon_years": 2.05}, "whole number of months"),
    ({"horizon_years": "10"}, "must be a number of years"),
    ({"discount_rate": -0.01}, "yearly rate from 0 to 1"),
    ({"discount_rate": 1.5}, "yearly rate from 0 to 1"),
    ({"discount_rate": float("nan")}, "yearly rate from 0 to 1"),
    ({"filters": {"region": ["FR"]}}, "segment filtered on region: .* per acquisition channel only"),
    ({"filters": {"acquisition_channel": ["search"], "cohort": ["2025"]}}, "segment filtered on cohort"),
    ({"filters": {"value_tier": ["top 10%"]}}, "segment filtered on value_tier"),
])
def test_bad_requests_are_refused(demo, options, message):
    with pytest.raises(kpis.KPIError, match=message):
        kpis.valuation(demo, PERIOD, **options)


def test_too_little_history_is_refused(demo):
    """June 2025: acquisitions from November 2023 are 20 months."""
    with pytest.raises(kpis.KPIError, match="too little history to fit acquisition: 20 months, 24 needed"):
        kpis.valuation(demo, "2025-06")


def test_a_channel_without_spend_has_no_cac(demo, tmp_path):
    db = _copy(demo, tmp_path, "DELETE FROM marketing_spend WHERE channel = 'social'")
    with pytest.raises(kpis.KPIError, match="no marketing spend recorded for social in the 12 months to 2026-10-31"):
        kpis.valuation(db, PERIOD)


def test_spend_without_customers_goes_on(demo, value, tmp_path):
    """1,200 a month on a channel that brought nobody: no CAC to put on a customer, so it is spent every month of the
    horizon, 1,200 × Σ_{j=1…120} 1.1^(−j/12) = 1,200 × 77.056 more spend; nothing else moves."""
    months = ", ".join(f"('{add_months(date(2025, 11, 1), i)}'::DATE, 'tv', 1200)" for i in range(12))
    db = _copy(demo, tmp_path, f"INSERT INTO marketing_spend VALUES {months}")
    more = kpis.valuation(db, PERIOD)
    extra = 1200 * float(np.sum(1.1 ** (-np.arange(1, 121) / 12)))
    assert more.future_acquisition_spend - value.future_acquisition_spend == pytest.approx(extra, rel=1e-9)
    assert (more.existing, more.future_value) == (value.existing, value.future_value)
    assert "1,200 a month) goes on" in more.assumptions["acquisition cost"]


def _copy(db, folder, sql: str):
    """The database's build copied, changed by `sql`, connected (without the valuation the build stored for the data
    before the change: a build never changes, so a changed copy must not read it)."""
    copy = folder / "changed.duckdb"
    shutil.copy(db.name, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(sql)
        con.execute("DROP TABLE IF EXISTS clv_valuations")
    return kpis.connect(copy)
