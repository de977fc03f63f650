"""Predictive-value KPIs in the registry: consistent with the models, partitioned by segment, None when unfittable."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest

import kpis
from kpis.build import build_demo
from kpis.clv import BetaGeo, GammaGamma, ModelError, customer_clv, rfm_summary
from kpis.clv.model import (
    MIN_CUSTOMERS_PER_FIT,
    POOLED,
    cells_of,
    channel_of,
    default_observation_ends,
    fitted_scores,
    value_model,
)
from store.demo import CHANNELS
from tests import kpi_fixture

CLV_KEYS = ["predictive_clv", "customer_equity", "new_customer_value", "clv_cac", "cac_payback_months",
            "customers_at_risk", "value_at_risk"]
PERIOD = "2025-10"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("clv_demo") / "demo.duckdb"
    build_demo(path, customers=8_000, seed=5)
    return kpis.connect(path)


@pytest.fixture(scope="module")
def model(db):
    return value_model(db, date(2025, 10, 31))


def test_one_fit_per_channel(db, model):
    # 8,000 customers over five channels: every channel has over 200 customers (referral, the smallest, 462
    # by Oct 2025), so none is pooled.
    assert set(model.fits) == set(CHANNELS) and POOLED not in model.fits
    assert model.observation_end == date(2025, 10, 31)
    assert set(model.customers["fit_group"]) == set(CHANNELS)


def test_each_channel_fit_finds_its_generating_dropout(model):
    # E[p] = a / (a + b) per channel (demo parameters); estimates within 35% at this size (≈1,000–2,500
    # customers a channel): a loose but discriminating band — social (≈0.26) and referral (≈0.04) differ 6×.
    for channel, params in CHANNELS.items():
        bg = model.fits[channel][0]
        fitted = bg.params["a"] / (bg.params["a"] + bg.params["b"])
        assert fitted == pytest.approx(params.a / (params.a + params.b), rel=0.35), channel


def test_equity_is_the_sum_of_customer_values(db, model):
    equity = kpis.evaluate(db, "customer_equity", PERIOD)
    assert equity == pytest.approx(model.customers["clv"].sum(), rel=1e-9)
    assert kpis.evaluate(db, "predictive_clv", PERIOD) == pytest.approx(equity / len(model.customers), rel=1e-9)


def test_channels_partition_customer_equity(db):
    total = kpis.evaluate(db, "customer_equity", PERIOD)
    parts = sum(kpis.evaluate(db, "customer_equity", PERIOD, filters={"acquisition_channel": ch}) for ch in CHANNELS)
    assert parts == pytest.approx(total, rel=1e-9)


def test_clv_cac_is_value_of_a_new_customer_over_cac(db):
    v = kpis.evaluate_many(db, ["new_customer_value", "cac", "clv_cac"], PERIOD,
                           filters={"acquisition_channel": "search"})
    assert v["clv_cac"] == pytest.approx(v["new_customer_value"] / v["cac"], rel=1e-12)


def test_referral_is_worth_more_per_euro_than_social(db):
    # Referral: loyal (E[p] ≈ 0.04) and cheap (18 €); social: churny (E[p] ≈ 0.26) for 30 €.
    referral = kpis.evaluate(db, "clv_cac", "2025-Q3", filters={"acquisition_channel": "referral"})
    social = kpis.evaluate(db, "clv_cac", "2025-Q3", filters={"acquisition_channel": "social"})
    assert referral > 3 * social > 0


def test_at_risk_customers_are_valuable_and_fading(db, model):
    at_risk = kpis.evaluate(db, "customers_at_risk", PERIOD)
    valuable = {r[0] for r in db.cursor().execute(
        "SELECT customer_id FROM customer_value WHERE value_tier IN ('top 10%', 'next 20%')").fetchall()}
    fading = set(model.customers.index[model.customers["p_alive"] < 0.5])
    assert at_risk == len(valuable & fading) > 0
    assert at_risk < len(valuable)  # most valuable customers are still active
    assert kpis.evaluate(db, "value_at_risk", PERIOD) > 0


def test_payback_is_undefined_without_a_cac(db):
    # spend is per channel only
    assert kpis.evaluate(db, "cac_payback_months", PERIOD, filters={"region": "FR"}) is None
    months = kpis.evaluate(db, "cac_payback_months", PERIOD, filters={"acquisition_channel": "search"})
    assert months is not None and 1 <= months <= 36


def test_comparison_periods_refit_as_of_their_own_end(db):
    table = kpis.compare(db, ["customer_equity"], PERIOD)
    assert table.loc["customer_equity", "previous"] != table.loc["customer_equity", "value"]
    assert date(2025, 9, 30) in db._value_models and date(2024, 10, 31) in db._value_models


def test_clv_kpis_are_none_when_the_base_cannot_be_modelled(tmp_path):
    # The 20-customer known-answer fixture has 10 repeat buyers: too few for Gamma-Gamma, so no model —
    # every predictive KPI is undefined (None) rather than a made-up number, and nothing crashes.
    small = kpis.connect(kpi_fixture.build_database(tmp_path))
    assert kpis.evaluate_many(small, CLV_KEYS, "2024-11") == dict.fromkeys(CLV_KEYS)


def test_a_build_stores_the_default_views_models_and_they_equal_a_refit(db):
    # Demo data end 2026-10-31: the default view is Oct 2026, compared with Sep 2026 and Oct 2025; the default
    # model check (26-week holdout) calibrates up to 2026-10-31 − 182 days = 2026-05-02.
    assert default_observation_ends(db) == [date(2025, 10, 31), date(2026, 5, 2), date(2026, 9, 30),
                                            date(2026, 10, 31)]
    stored = db.cursor().execute("SELECT DISTINCT observation_end FROM clv_fits ORDER BY 1").fetchall()
    assert [r[0] for r in stored] == default_observation_ends(db)
    end = date(2026, 9, 30)
    model = value_model(kpis.connect(db.name), end)  # a fresh process's view: read, not fitted
    assert "clv_scores_" not in db.sql(model.scores)  # the build's table, not a registered frame
    fits, margin_rate, scores = fitted_scores(db, end)
    assert margin_rate == pytest.approx(model.margin_rate, rel=1e-12)
    for group, (bg, gg) in fits.items():
        assert bg.params == pytest.approx(model.fits[group][0].params, rel=1e-12)
        assert gg.params == pytest.approx(model.fits[group][1].params, rel=1e-12)
    refit = scores.set_index("customer_id").sort_index()
    assert refit.index.equals(model.customers.index)
    assert np.allclose(refit["clv"], model.customers["clv"], rtol=1e-12)


def test_a_date_not_stored_is_fitted_once_and_queried_in_the_engine(db):
    end = date(2026, 3, 31)
    assert end not in default_observation_ends(db)
    total = kpis.evaluate(db, "customer_equity", "2026-03")
    model = db._value_models[end]
    assert "clv_scores_20260331" in db.sql(model.scores)  # the registered frame of the fit
    assert total == pytest.approx(model.customers["clv"].sum(), rel=1e-9)
    parts = sum(kpis.evaluate(db, "customer_equity", "2026-03", filters={"acquisition_channel": ch}) for ch in CHANNELS)
    assert parts == pytest.approx(total, rel=1e-9)
    at_risk = kpis.evaluate(db, "customers_at_risk", "2026-03", filters={"region": "FR"})
    assert 0 < at_risk < kpis.evaluate(db, "customers_at_risk", "2026-03")


def test_the_model_check_reads_the_stored_calibration_fit_and_finds_what_a_refit_finds(db, monkeypatch):
    monkeypatch.setattr("kpis.clv.check._stored_check", lambda *args: None)  # the check itself is computed
    stored = kpis.holdout_check(db, 26)
    monkeypatch.setattr("kpis.clv.check.stored_model", lambda *args: None)
    refit = kpis.holdout_check(kpis.connect(db.name), 26)
    assert stored["holdout"]["predicted"] == pytest.approx(refit["holdout"]["predicted"], rel=1e-9)
    assert stored["holdout"]["actual"] == refit["holdout"]["actual"]
    assert np.allclose(stored["parameters"]["value"], refit["parameters"]["value"], rtol=1e-9)
    assert np.allclose(stored["parameters"]["standard_error"], refit["parameters"]["standard_error"], rtol=1e-6)


def test_monthly_expected_margin_equals_the_customer_by_customer_sum(db, model):
    # Payback sums E[purchases in month m] × expected spend × margin rate over a cohort; computed on distinct
    # (x, T) pairs, it must equal the plain per-customer evaluation of eq. 10.
    from kpis.clv.model import HORIZON_MONTHS, TIME_UNIT, month_ends

    members = model.customers.reset_index().head(3000)
    bounds = np.concatenate([[0.0], month_ends(model.observation_end, HORIZON_MONTHS, TIME_UNIT)])
    expected = np.zeros(HORIZON_MONTHS)
    for _, c in members.iterrows():
        bg = model.fits[c["fit_group"]][0]
        cumulative = bg.expected_purchases(bounds, c["frequency"], c["recency"], c["T"])
        expected += np.diff(cumulative) * c["expected_spend"] * model.margin_rate
    assert np.allclose(model.monthly_expected_margin(members), expected, rtol=1e-10)
    # payback reads the same sums per (fit group, x, T), grouped in the engine
    cells = db.frame(cells_of(model.scores.filter(model.scores.customer_id.isin(members["customer_id"].tolist()))))
    assert len(cells) < len(members)
    assert np.allclose(model.monthly_margin_of(cells), expected, rtol=1e-10)


# --- fitted from aggregates, scored in the engine ------------------------------------------------------------------


def customer_by_customer(db, end, spend_sample=None):
    """The models as a per-customer summary in Python gives them (what the value model did before it fitted from the
    engine's aggregates): a fit per channel of 200 customers or more on its rows, the channels the models cannot
    identify and the small ones pooled, the pooled fit on every customer; Gamma-Gamma on the `spend_sample`
    customers of smallest MD5(customer_id) among a group's repeat buyers when given; customer_clv per group."""
    summary = rfm_summary(db, end, "W")
    channel = channel_of(db, summary.index)
    group = channel.where(channel.map(channel.value_counts()) >= MIN_CUSTOMERS_PER_FIT, POOLED)

    def fit(members):
        spenders = members[(members["frequency"] > 0) & (members["monetary_value"] > 0)]
        if spend_sample is not None:
            digest = pd.Series([hashlib.md5(i.encode()).hexdigest() for i in spenders.index], spenders.index)
            spenders = spenders.loc[digest.sort_values().index[:spend_sample]].sort_index()
        return (BetaGeo().fit(members["frequency"], members["recency"], members["T"]),
                GammaGamma().fit(spenders["frequency"], spenders["monetary_value"]))

    fits = {}
    for g in sorted(set(group) - {POOLED}):
        try:
            fits[g] = fit(summary[group == g])
        except ModelError:
            group = group.where(group != g, POOLED)
    if (group == POOLED).any():
        fits[POOLED] = fit(summary)
    margin_rate = value_model(db, end).margin_rate
    values = pd.concat(customer_clv(*fits[g], members, margin_rate, 36, 0.10) for g, members in summary.groupby(group))
    return fits, summary.assign(fit_group=group).join(values)


@pytest.mark.parametrize("end, groups", [
    (date(2024, 12, 31), ["search", POOLED]),  # the other channels have fewer than 200 customers
    (date(2025, 3, 31), ["organic", POOLED]),  # affiliate (207) and search (339) cannot be identified yet
    (date(2025, 6, 30), ["affiliate", "organic", "search", "social", POOLED]),  # referral: 129 customers
    (date(2026, 3, 31), ["affiliate", "organic", "referral", "search", "social"]),
])
def test_fits_from_aggregates_and_batch_scores_are_the_customer_by_customer_ones(demo_base, monkeypatch, end, groups):
    # The fits read patterns and spend values with their counts, in their first customer's order: the same
    # numbers as fits on every customer's row, bit for bit; the scores, computed 250 customers a batch, too.
    monkeypatch.setattr("kpis.database.BATCH_ROWS", 250)
    db = kpis.connect(demo_base(2_500, 3))
    fits, margin_rate, scores = fitted_scores(db, end)
    expected_fits, expected = customer_by_customer(db, end)
    assert list(fits) == list(expected_fits) == groups
    for g, (bg, gg) in fits.items():
        assert (bg.params, gg.params) == (expected_fits[g][0].params, expected_fits[g][1].params), g
    scores = scores.set_index("customer_id")
    assert scores.index.equals(expected.index)
    pd.testing.assert_frame_equal(scores[expected.columns], expected, check_exact=False, rtol=1e-12, atol=0)
    o = db.tables["orders"]
    o = o.filter((o.ordered_at >= ibis.timestamp(end - timedelta(days=364))) & (o.ordered_at < ibis.timestamp(
        end + timedelta(days=1))))
    revenue = db.frame(o.group_by("customer_id").aggregate(r=o.revenue.sum().cast("float64")))
    assert np.allclose(scores["revenue_12m"], revenue.set_index("customer_id")["r"].reindex(scores.index).fillna(0.0),
                       rtol=1e-12)
    v = db.tables["customer_value"]
    valuable = db.frame(v.filter(v.value_tier.isin(["top 10%", "next 20%"])))
    assert set(scores.index[scores["valuable"]]) == set(valuable["customer_id"]) & set(scores.index)


@pytest.mark.parametrize("end", [date(2025, 3, 31), date(2026, 3, 31)])  # with a pooled fit; channels only
def test_spend_is_fitted_on_a_hash_sample_of_a_large_group(demo_base, monkeypatch, end):
    # With at most 250 repeat buyers a group, Gamma-Gamma reads those of smallest MD5(customer_id): the fit is that of
    # their rows; BG/NBD still reads every customer.
    monkeypatch.setattr("kpis.clv.model.SPEND_SAMPLE", 250)
    db = kpis.connect(demo_base(2_500, 3))
    fits = fitted_scores(db, end)[0]
    expected = customer_by_customer(db, end, spend_sample=250)[0]
    assert list(fits) == list(expected)
    for g, (bg, gg) in fits.items():
        assert (bg.params, gg.params) == (expected[g][0].params, expected[g][1].params), g
        assert gg.customers == expected[g][1].customers <= 250
    assert max(gg.customers for bg, gg in fits.values()) == 250
