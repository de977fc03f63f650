"""Predictive CLV: RFM summaries in SQL, BG/NBD and Gamma-Gamma against published values, simulations and
hand-worked answers, and discounted CLV over calendar months."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import betaln, gammaln

import kpis
from kpis.clv import BetaGeo, GammaGamma, ModelError, customer_clv, month_ends, rfm_compressed, rfm_summary
from store.schema import create_tables

CDNOW = Path(__file__).parent / "data" / "cdnow_sample.csv"
CALIBRATION_END = "1997-09-30"  # 39 weeks after 1997-01-01; the holdout runs 1997-10-01 .. 1998-06-30 (39 weeks)


@pytest.fixture(scope="module")
def cdnow(cdnow_path, engine, on_engine):
    """CDNOW on each engine (tests/conftest.py): every test below reading it runs on DuckDB and on Spark."""
    return on_engine(cdnow_path, engine)


@pytest.fixture(scope="module")
def summary(cdnow):
    return rfm_summary(cdnow, observation_end=CALIBRATION_END, time_unit="W")


@pytest.fixture(scope="module")
def bg(summary):
    return BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])


@pytest.fixture(scope="module")
def gg(summary):
    return GammaGamma().fit(summary["frequency"], summary["monetary_value"])


def simulate_bgnbd(rng, n, r, alpha, a, b, T):
    """(x, t_x) of n BG/NBD customers observed for T (continuous time).

    Without dropout, purchases in (0, T] are K ~ Poisson(λT) uniform arrival times; a customer drops out after
    repeat purchase number L ~ Geometric(p), so x = min(K, L) and t_x is the x-th of K uniform order statistics,
    T·Beta(x, K − x + 1).
    """
    lam, p = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    k = rng.poisson(lam * T)
    x = np.minimum(k, rng.geometric(p))
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), k - x + 1), 0.0)
    return x, tx


def simulate_spend(rng, x, p, q, gamma):
    """Mean repeat value m̄ of customers with x repeat purchases under Gamma-Gamma (0 when x = 0)."""
    nu = rng.gamma(q, 1 / gamma, x.size)
    xx = np.maximum(x, 1)
    return np.where(x > 0, rng.gamma(p * xx, 1 / (nu * xx)), 0.0)


# --- RFM summary -----------------------------------------------------------------------------------------


def test_cdnow_summary_follows_the_papers_conventions(summary):
    assert len(summary) == 2357
    assert (summary["frequency"] > 0).sum() == 946
    # Customer 0001 bought on 1997-01-01, 01-18, 08-02 (and 12-12, after the calibration): x = 2,
    # t_x = 213 days = 30.43 weeks, T = 272 days = 38.86 weeks (Hardie's CDNOW file), m̄ = (29.73 + 14.96) / 2.
    first = summary.loc["0001"]
    assert first["frequency"] == 2
    assert first["recency"] == pytest.approx(213 / 7)
    assert first["T"] == pytest.approx(272 / 7)
    assert first["monetary_value"] == pytest.approx(22.345)
    assert summary.attrs == {"observation_end": date(1997, 9, 30), "time_unit": "W"}


def _tiny() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_tables(con)
    rows = [
        # c1: Jan 1 (10 + 5, same day: one purchase of 15), Jan 8 (20), Jan 15 (30 + 10: one purchase of 40)
        ("c1", "2024-01-01 10:00:00", 10), ("c1", "2024-01-01 18:00:00", 5), ("c1", "2024-01-08 09:00:00", 20),
        ("c1", "2024-01-15 23:59:00", 30), ("c1", "2024-01-15 08:00:00", 10),
        # c2: one purchase before the end, one after it (ignored)
        ("c2", "2024-01-10 12:00:00", 50), ("c2", "2024-02-05 12:00:00", 70),
        # c3: first purchase on the observation end day itself (counted)
        ("c3", "2024-01-29 23:30:00", 25),
        # c4: first purchase after the observation end: not a customer yet
        ("c4", "2024-01-30 00:00:00", 99),
        # c5: a repeat purchase in the last second of the observation end day
        ("c5", "2024-01-20 09:00:00", 12), ("c5", "2024-01-29 23:59:59", 8),
    ]
    con.executemany(
        "INSERT INTO orders (order_id, customer_id, ordered_at, revenue, category, channel) "
        "VALUES (?, ?, ?, ?, 'books', 'web')",
        [(f"o{i}", c, t, v) for i, (c, t, v) in enumerate(rows)],
    )
    return con


def test_rfm_summary_known_answer_on_a_hand_built_set():
    con = _tiny()
    days = rfm_summary(con, "2024-01-29", time_unit="D")
    assert list(days.index) == ["c1", "c2", "c3", "c5"]
    expected = pd.DataFrame(
        {
            # c1: purchase days Jan 1, 8, 15 → x = 2, t_x = 14, T = 28 (Jan 1 → Jan 29), m̄ = (20 + 40) / 2 = 30
            # c2: x = 0, t_x = 0, T = 19 (Jan 10 → Jan 29), m̄ = 0 (the February order is after the end)
            # c3: x = 0, T = 0 (first purchase on the end day)
            # c5: x = 1, t_x = T = 9 (Jan 20 → Jan 29), m̄ = 8
            "frequency": [2, 0, 0, 1], "recency": [14.0, 0, 0, 9], "T": [28.0, 19, 0, 9],
            "monetary_value": [30.0, 0, 0, 8],
        },
        index=pd.Index(["c1", "c2", "c3", "c5"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(days, expected, check_index_type=False)
    weeks = rfm_summary(con, date(2024, 1, 29), time_unit="W")
    assert weeks.loc["c1", "recency"] == 2 and weeks.loc["c1", "T"] == 4 and weeks.loc["c2", "T"] == 19 / 7
    months = rfm_summary(con, "2024-01-29", time_unit="M")
    assert months.loc["c1", "T"] == pytest.approx(28 / 30.4375)
    before = rfm_summary(con, "2024-01-14", time_unit="D")  # c1's Jan 15 purchase is not seen yet
    assert before.loc["c1"].tolist() == [1, 7.0, 13.0, 20.0] and list(before.index) == ["c1", "c2"]
    with pytest.raises(ValueError, match="kpis Database"):
        rfm_summary(con, "2024-01-29", filters={"region": "FR"})
    with pytest.raises(ValueError, match="time unit"):
        rfm_summary(con, "2024-01-29", time_unit="Y")


def test_rfm_summary_filters_by_segment_like_the_kpi_catalog(cdnow, summary):
    january = rfm_summary(cdnow, CALIBRATION_END, filters={"cohort": "1997-01"})
    first_day = cdnow.cursor().execute(
        "SELECT customer_id FROM orders GROUP BY 1 HAVING min(ordered_at) < DATE '1997-02-01'").df()
    assert len(january) == len(first_day) > 0
    pd.testing.assert_frame_equal(january, summary.loc[january.index])
    with pytest.raises(kpis.KPIError, match="unknown filter"):
        rfm_summary(cdnow, CALIBRATION_END, filters={"favourite_colour": "blue"})


def test_compressed_summary_counts_customers_per_pattern(summary):
    compressed = rfm_compressed(summary)
    assert compressed["weight"].sum() == len(summary)
    assert len(compressed) == len(summary[["frequency", "recency", "T"]].drop_duplicates()) < len(summary)
    one_timers = compressed[compressed["frequency"] == 0]
    assert one_timers["weight"].sum() == (summary["frequency"] == 0).sum()


# --- published values (CDNOW) ----------------------------------------------------------------------------


def test_bgnbd_reproduces_the_published_cdnow_fit(bg):
    # Fader, Hardie & Lee (2005): parameters given to 3 decimals (rounding: ≤ 0.2% on r), LL to 0.1.
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert bg.params[name] == pytest.approx(value, rel=0.01), name
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_reproduces_the_published_cdnow_fit(gg):
    # Fader & Hardie's note (and lifetimes' docs) on the 946 repeat buyers: p = 6.25, q = 3.74, γ = 15.44.
    assert gg.customers == 946
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert gg.params[name] == pytest.approx(value, rel=0.02), name


def test_holdout_forecasts_match_the_papers(cdnow, summary, bg):
    holdout = cdnow.cursor().execute("""
        SELECT customer_id, count(DISTINCT CAST(ordered_at AS DATE)) AS purchases FROM orders
        WHERE ordered_at >= DATE '1997-10-01' AND ordered_at < DATE '1998-07-01' GROUP BY 1""").df()
    actual = holdout.set_index("customer_id")["purchases"].reindex(summary.index, fill_value=0)
    one_timers = summary["frequency"] == 0
    # Customers without a repeat purchase in calibration: 0.24 actual holdout purchases, BG/NBD predicts 0.23.
    assert actual[one_timers].mean() == pytest.approx(0.24, abs=0.01)
    predicted = bg.expected_purchases(39, 0, 0, summary.loc[one_timers, "T"])
    assert predicted.mean() == pytest.approx(0.23, abs=0.01)
    # Over the 78 weeks the cumulative repeat-purchase forecast (eq. 9 per customer) falls about 4% short.
    full = rfm_summary(cdnow, "1998-06-30")
    shortfall = 1 - bg.expected_purchases_new(full["T"]).sum() / full["frequency"].sum()
    assert 0.03 < shortfall < 0.05


# --- numerical behaviour and model properties ------------------------------------------------------------


def _posterior_expectation(params, t, x, T):
    """E[purchases in (T, T+t] | x, T, alive] by quadrature over the posterior dropout p ~ Beta(a, b + x).

    Given alive, λ | data ~ Gamma(r + x, α + T) and E[purchases | λ, p] = (1 − e^(−λpt)) / p; integrating λ out
    gives (1 − ((α+T)/(α+T+pt))^(r+x)) / p. An independent route to eq. 10 (no hypergeometric function).
    """
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))

    def integrand(v):  # v = ln p
        p = np.exp(v)
        density = np.exp(a * v + (b + x - 1) * np.log1p(-p) - betaln(a, b + x))
        return density / p * -np.expm1(-(r + x) * np.log1p(p * t / (alpha + T)))

    points = sorted(q for q in {np.log((alpha + T) / t), -np.log(b + x), np.log(a / (a + b + x))} if -700 < q < 0)
    return quad(integrand, -700, 0, points=points, limit=500, epsabs=0, epsrel=1e-10)[0]


@pytest.mark.parametrize("x, T", [(0, 39.0), (2, 38.9), (30, 300.0), (2000, 1560.0)])
def test_conditional_expectation_agrees_with_direct_integration(bg, x, T):
    for t in (0.5, 39.0, 520.0):
        expected = _posterior_expectation(bg.params, t, x, T)
        assert bg.expected_purchases_if_alive(t, x, T) == pytest.approx(expected, rel=1e-7)
        alive = bg.p_alive(x, T, T)  # bought at T, yet may have dropped out right after: a/(b+x−1) odds
        assert bg.expected_purchases(t, x, T, T) == pytest.approx(alive * expected, rel=1e-7)


def test_a_very_frequent_buyer_stays_finite(bg, summary):
    x, tx, T = 2000, 1500.0, 1560.0  # about 1.3 purchases a week for 30 years
    assert np.isfinite(bg.loglik([x], [tx], [T]))
    alive = bg.p_alive(x, tx, T)
    assert 0 <= alive <= 1 and alive < 1e-6  # 60 weeks of silence is very long for such a buyer
    assert np.isfinite(bg.expected_purchases(52, x, tx, T))
    assert bg.expected_purchases(52, x, T, T) == pytest.approx(52 * (0.243 + x) / (4.414 + T), rel=0.05)
    heavy = BetaGeo().fit(np.r_[summary["frequency"], x], np.r_[summary["recency"], tx], np.r_[summary["T"], T])
    assert np.isfinite(heavy.log_likelihood)


def test_p_alive_properties(bg):
    x, tx, T = np.meshgrid(np.arange(0, 50), np.linspace(0, 60, 31), np.linspace(0, 80, 41), indexing="ij")
    tx = np.where(x == 0, 0.0, np.minimum(np.maximum(tx, 0.1), T))
    keep = (T > 0) | (x == 0)
    alive = bg.p_alive(x[keep], tx[keep], T[keep])
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(bg.p_alive(0, 0, [0.0, 10.0, 1000.0]) == 1)  # nobody drops out before a repeat purchase
    ages = np.linspace(10, 200, 50)
    assert np.all(np.diff(bg.p_alive(3, 10.0, ages)) < 0)  # the longer the silence, the less likely alive


def test_expected_purchases_properties(bg):
    t = np.linspace(0, 200, 41)
    for x, tx, T in [(0, 0.0, 20.0), (2, 30.0, 38.0), (10, 5.0, 38.0)]:
        e = bg.expected_purchases(t, x, tx, T)
        assert e[0] == 0 and np.all(np.diff(e) > 0)
    # a brand-new customer (T = 0) is what eq. 9 describes
    assert np.allclose(bg.expected_purchases(t, 0, 0, 0), bg.expected_purchases_new(t), rtol=1e-10)


def test_compressed_fit_equals_the_uncompressed_fit(summary, bg):
    raw = BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"], compress_rows=False)
    c = rfm_compressed(summary)
    compressed = BetaGeo().fit(c["frequency"], c["recency"], c["T"], weights=c["weight"])
    for model in (raw, compressed):
        assert model.params == pytest.approx(bg.params, rel=1e-6)
        assert model.log_likelihood == pytest.approx(bg.log_likelihood, abs=1e-6)


# --- errors ----------------------------------------------------------------------------------------------


def test_fits_refuse_data_that_cannot_identify_the_model():
    with pytest.raises(ModelError, match="no repeat buyers"):
        BetaGeo().fit([0, 0, 0], [0, 0, 0], [5.0, 10.0, 20.0])
    with pytest.raises(ModelError, match="do not identify"):
        BetaGeo().fit([1], [1.0], [2.0])
    with pytest.raises(ModelError, match="no customers"):
        BetaGeo().fit([], [], [])
    with pytest.raises(ModelError, match="at least 10"):
        GammaGamma().fit([1, 2, 0, 3], [10.0, 20.0, 0.0, 15.0])
    # Heavy-tailed values: ν ~ Gamma(q = 0.6) has no finite mean spend; the fit must say so, not extrapolate.
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, 3000)
    with pytest.raises(ModelError, match=r"q = 0\.\d+ ≤ 1"):
        GammaGamma().fit(x, simulate_spend(rng, x, 6.0, 0.6, 15.0))


def test_fits_refuse_inconsistent_data():
    with pytest.raises(ModelError, match="recency > T"):
        BetaGeo().fit([1, 2], [5.0, 12.0], [10.0, 10.0])
    with pytest.raises(ModelError, match="negative"):
        BetaGeo().fit([-1, 2], [0.0, 5.0], [10.0, 10.0])
    with pytest.raises(ModelError, match="whole"):
        BetaGeo().fit([1.5, 2], [3.0, 5.0], [10.0, 10.0])
    with pytest.raises(ModelError, match="missing"):
        GammaGamma().fit([1, 2], [np.nan, 3.0])
    with pytest.raises(ModelError, match="fit the model"):
        BetaGeo().p_alive(1, 1.0, 2.0)


# --- CLV -------------------------------------------------------------------------------------------------


def test_months_are_calendar_months():
    # From 2024-01-31: Feb 29 (29 days, leap year), Mar 31 (60), Apr 30 (90): clamped, not 30-day months.
    assert month_ends("2024-01-31", 3, "D").tolist() == [29.0, 60.0, 90.0]
    assert month_ends("2023-01-31", 1, "W").tolist() == [28 / 7]


def test_one_month_clv_is_purchases_times_spend_times_margin(bg, gg, summary):
    clv = customer_clv(bg, gg, summary, margin_rate=0.3, horizon_months=1, annual_discount=0.0)
    x, tx, T, m = (summary[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    month = 30 / 7  # 1997-09-30 → 1997-10-30
    purchases = bg.expected_purchases(month, x, tx, T)
    spend = np.where(x > 0, 6.25 * (15.44 + x * m) / (6.25 * x + 3.74 - 1), 6.25 * 15.44 / 2.74)
    np.testing.assert_allclose(clv["expected_purchases_horizon"], purchases, rtol=1e-12)
    np.testing.assert_allclose(clv["expected_spend"], spend, rtol=0.02)  # published parameters, rounded
    np.testing.assert_allclose(clv["clv"], purchases * clv["expected_spend"] * 0.3, rtol=1e-10)
    np.testing.assert_allclose(clv["p_alive"], bg.p_alive(x, tx, T))


def test_clv_sums_discounted_calendar_months(bg, gg, summary):
    some = summary.iloc[::97]
    clv = customer_clv(bg, gg, some, margin_rate=0.25, horizon_months=36, annual_discount=0.10)
    start = pd.Timestamp(CALIBRATION_END)
    ends = [(start + pd.DateOffset(months=m) - start).days / 7 for m in range(37)]
    x, tx, T = (some[c].to_numpy() for c in ("frequency", "recency", "T"))
    cumulative = [bg.expected_purchases(t, x, tx, T) for t in ends]
    spend = gg.expected_spend(x, some["monetary_value"].to_numpy())
    by_hand = sum((cumulative[m] - cumulative[m - 1]) * spend * 0.25 / 1.1 ** (m / 12) for m in range(1, 37))
    np.testing.assert_allclose(clv["clv"], by_hand, rtol=1e-10)
    undiscounted = customer_clv(bg, gg, some, margin_rate=0.25, horizon_months=36, annual_discount=0.0)
    assert np.all(clv["clv"] < undiscounted["clv"])
    shorter = customer_clv(bg, gg, some, margin_rate=0.25, horizon_months=12, annual_discount=0.10)
    assert np.all(shorter["clv"] < clv["clv"])


def test_clv_checks_its_settings(bg, gg, summary):
    with pytest.raises(ModelError, match="time_unit"):
        customer_clv(bg, gg, summary, margin_rate=0.3, time_unit="D")
    with pytest.raises(ModelError, match="margin_rate"):
        customer_clv(bg, gg, summary, margin_rate=1.5)
    bare = summary.copy()
    bare.attrs = {}
    with pytest.raises(ModelError, match="observation_end"):
        customer_clv(bg, gg, bare, margin_rate=0.3)
    explicit = customer_clv(bg, gg, bare, margin_rate=0.3, time_unit="W", observation_end=CALIBRATION_END)
    pd.testing.assert_frame_equal(explicit, customer_clv(bg, gg, summary, margin_rate=0.3))
    # per-customer margins: a Series is aligned on customer_id, whatever its order
    margins = pd.Series(np.where(summary["frequency"] > 2, 0.5, 0.2), index=summary.index)
    mixed = customer_clv(bg, gg, summary, margin_rate=margins.iloc[::-1])
    np.testing.assert_allclose(mixed["clv"], explicit["clv"] / 0.3 * margins, rtol=1e-12)


# --- parameter recovery ----------------------------------------------------------------------------------


def test_fits_recover_simulated_parameters():
    # 50,000 customers observed 1–78 weeks with CDNOW-like parameters. Over 60 seeds the estimates'
    # (θ̂ − θ) / SE, with SE from the fit's observed information, had mean ≤ 0.23 and sd 0.84–1.02 for all
    # seven parameters: the asymptotic SEs hold, so |θ̂ − θ| < 4 SE fails by chance ~1 in 15,000 per parameter.
    # The SEs are 1–5% of the values (r 1.1%, α 1.8%, a 4%, b 5%, p 4%, q 1.6%, γ 5%).
    rng = np.random.default_rng(2024)
    n, truth, spend = 50_000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, {"p": 6.0, "q": 4.0, "gamma": 15.0}
    T = rng.uniform(1, 78, n)
    x, tx = simulate_bgnbd(rng, n, *truth.values(), T)
    bg = BetaGeo().fit(x, tx, T)
    gg = GammaGamma().fit(x, simulate_spend(rng, x, *spend.values()))
    for model, true in ((bg, truth), (gg, spend)):
        for name, value in true.items():
            se = model.standard_errors[name]
            assert se < 0.08 * value, f"{name}: SE {se:.3g} too wide for the test to mean anything"
            assert abs(model.params[name] - value) < 4 * se, f"{name}: {model.params[name]:.4g} vs {value}"


def test_fits_recover_a_demo_channel(demo_base):
    db = kpis.connect(demo_base(20_000, 7))
    meta = db.metadata
    truth = meta["demo"]["channels"]["search"]
    assert meta["demo"]["time_unit"] == "day"
    summary = rfm_summary(db, meta["period"]["end"], time_unit="D",
                          filters={"acquisition_channel": "search"})
    bg = BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
    gg = GammaGamma().fit(summary["frequency"], summary["monetary_value"])
    # ~6,000 customers. Over 20 demo seeds (search channel) the estimates had these means and sds:
    #   r/α (mean purchase rate) −4.4% ± 1.1%; a/(a+b) (mean dropout) −0.3% ± 3.0%; r +3% ± 2.1%;
    #   α +7.7% ± 2.2%; q +0.1% ± 2.1%; p·γ/(q−1) (mean spend) +1.9% ± 1.3%; a, b, p, γ alone ±10–17%.
    # The biases are the distinct-day convention, not the fit: the demo buys in continuous time at ~0.04/day,
    # so same-day purchases merge (fewer, bigger purchases) and day-0 repeats vanish; an exact BG/NBD
    # simulation counted the same way shows the same −4% on r/α. Tolerances: bias + ~3 sd.
    rate, true_rate = bg.params["r"] / bg.params["alpha"], truth["r"] / truth["alpha"]
    drop, true_drop = bg.params["a"] / (bg.params["a"] + bg.params["b"]), truth["a"] / (truth["a"] + truth["b"])
    assert rate == pytest.approx(true_rate, rel=0.08)
    assert drop == pytest.approx(true_drop, rel=0.10)
    assert bg.params["r"] == pytest.approx(truth["r"], rel=0.10)
    assert bg.params["alpha"] == pytest.approx(truth["alpha"], rel=0.15)
    assert gg.params["q"] == pytest.approx(truth["q"], rel=0.08)
    assert gg.mean_spend == pytest.approx(truth["mean_order_value"], rel=0.06)


def test_bgnbd_loglik_equals_the_papers_formula_customer_by_customer():
    # The fit's likelihood groups work by distinct x, T and t_x; here each customer's L = A1·A2·(A3 + δ·A4)
    # (Fader, Hardie & Lee 2005, eq. 6) is written out directly and summed, zero-frequency customers included.
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, 400).astype(float)
    T = rng.choice([10.0, 20.0, 30.0, 52.0], 400)
    tx = np.where(x > 0, np.round(rng.uniform(0.1, 1.0, 400) * T, 1), 0.0)
    r, alpha, a, b = 0.8, 4.0, 0.9, 2.5
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = (alpha + T) ** -(r + x)
    a4 = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * (alpha + tx) ** -(r + x), 0.0)
    expected = float(np.sum(a1 + a2 + np.log(a3 + a4)))
    bg = BetaGeo({"r": r, "alpha": alpha, "a": a, "b": b})
    assert bg.loglik(x, tx, T) == pytest.approx(expected, rel=1e-12)
    # and its gradient in (ln r, ln α, ln a, ln b) is the finite-difference one
    from kpis.clv.bgnbd import _Data

    data = _Data(x, tx, T, np.ones(x.size))
    theta = np.log([r, alpha, a, b])
    _, grad = data.loglik(np.exp(theta), gradient=True)
    h = 1e-6
    numeric = [(data.loglik(np.exp(theta + h * e)) - data.loglik(np.exp(theta - h * e))) / (2 * h) for e in np.eye(4)]
    assert grad == pytest.approx(numeric, rel=1e-5)


@pytest.mark.parametrize("mix", ["real", "colliding"])
def test_unique_rows_are_exact_even_when_hashes_collide(monkeypatch, mix):
    # Rows are grouped by a 64-bit hash, then checked; a hash that sends every row to one key must fall back to
    # the exact column-by-column grouping and give the same answer.
    from kpis.clv import common

    if mix == "colliding":
        monkeypatch.setattr(common, "_mix", lambda z: np.zeros_like(z))
    rng = np.random.default_rng(8)
    x = rng.integers(0, 4, 5000).astype(float)
    t = rng.integers(0, 30, 5000) / 7
    (ux, ut), inverse, counts = common.unique_rows(x, t)
    expected = {(a, b) for a, b in zip(x, t, strict=True)}
    assert set(zip(ux, ut, strict=True)) == expected and len(ux) == len(expected)
    assert np.array_equal(ux[inverse], x) and np.array_equal(ut[inverse], t)
    assert counts.sum() == 5000 and np.array_equal(np.bincount(inverse), counts)


@pytest.mark.parametrize("a, b", [(5e3, 1.2e5), (497_437.0, 11_790_386.0)])
@pytest.mark.parametrize("x, T", [(0, 10.0), (3, 152.0), (26, 151.7), (100, 300.0)])
def test_expectations_stay_finite_as_a_and_b_run_off(a, b, x, T):
    """A fit running towards a, b → ∞ (every customer the same dropout probability p = a/(a+b)) overflows the
    Euler form of eq. 10; the value is then the limit (1/p)(1 − (1 + p t/(α+T))^−(r+x)) to O(1/(a+b))."""
    bg = BetaGeo({"r": 1.49, "alpha": 6.14, "a": a, "b": b})
    t = 156.0
    p = a / (a + b)
    limit = (1 - (1 + p * t / (6.14 + T)) ** -(1.49 + x)) / p
    value = bg.expected_purchases_if_alive(t, x, T)
    assert np.isfinite(value) and value == pytest.approx(limit, rel=(x + 50) / (a + b))  # measured: ≤ x/(a+b)
