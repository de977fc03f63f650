"""Why it moved: the revenue and equity bridges and the segment contributions, by hand on the 20-customer fixture
(tests/kpi_fixture.py), and their adding-up properties on a demo."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

import kpis
from kpis.clv import bridge
from kpis.clv import model as model_module
from kpis.clv.bgnbd import BetaGeo
from kpis.clv.gammagamma import GammaGamma
from kpis.clv.model import POOLED, ValueModel
from kpis.clv.rfm import rfm_summary
from kpis.clv.value import customer_clv
from kpis.decompose import log_mean
from tests import kpi_fixture


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return kpis.connect(kpi_fixture.build_database(tmp_path_factory.mktemp("why_fixture")))


@pytest.fixture(scope="module")
def demo(demo_base):
    return kpis.connect(demo_base(4_000, 11))


# --- by hand: February 2024 against January 2024 -----------------------------------------------------------------
# Jan 2024: o21 c12 35 · o22 c13 110 · o23 c01 120 · o24 c14 20; acquired in January: c13 (01-08), c14 (01-30).
#   new 110 + 20 = 130; returning c12 35, c01 120: 2 buyers, 2 orders, 155.
# Feb 2024: o25 c13 55 · o26 c10 100 · o27 c11 40 · o28 c04 45 · o29 c15 75; acquired in February: c15 (02-29).
#   new 75; returning c13 55, c10 100, c11 40, c04 45: 4 buyers, 4 orders, 240. Revenue 285 → 315: +30.
L_RETURNING = (240 - 155) / math.log(240 / 155)  # 194.41
REVENUE_BRIDGE = [
    ("new_customers", 75 - 130),  # −55
    ("returning_buyers", L_RETURNING * math.log(4 / 2)),  # +134.76
    ("orders_per_buyer", 0.0),  # 1 order per buyer both months: ln 1 = 0
    ("revenue_per_order", L_RETURNING * math.log(60 / 77.5)),  # 240/4 = 60 vs 155/2 = 77.5: −49.76
]


def test_revenue_bridge_by_hand(db):
    frame = kpis.revenue_bridge(db, "2024-02")
    assert list(frame["part"]) == [p for p, _ in REVENUE_BRIDGE]
    assert list(frame["value"]) == pytest.approx([v for _, v in REVENUE_BRIDGE], abs=1e-9)
    assert (frame.attrs["reference"], frame.attrs["value"]) == (285, 315)
    assert frame["value"].sum() == pytest.approx(30, abs=1e-9)
    assert frame.attrs["now"]["returning_buyers"] == 4 and frame.attrs["before"]["new_revenue"] == 130


def test_revenue_bridge_with_nobody_before(db):
    """Search customers in Feb 2023 vs Jan 2023: Jan's c01 100 and c02 40 + 60 were all new (acquired in January);
    in February only c01 returns (50). No returning buyer before: the returning change all goes to buyers."""
    frame = kpis.revenue_bridge(db, "2023-02", filters={"acquisition_channel": ["search"]}).set_index("part")
    assert frame.loc["new_customers", "value"] == pytest.approx(0 - 200)  # no new search customer in February
    assert frame.loc["returning_buyers", "value"] == pytest.approx(50)
    assert frame.loc["orders_per_buyer", "value"] == 0 and frame.loc["revenue_per_order", "value"] == 0
    assert not frame["value"].isna().any()


# Revenue by acquisition channel (customers: c01 c11 c13 search · c04 c10 c14 referral · c12 c15 social):
#   search  Jan c13 110 + c01 120 = 230 → Feb c13 55 + c11 40 = 95: −135
#   referral Jan c14 20 → Feb c10 100 + c04 45 = 145: +125 · social Jan c12 35 → Feb c15 75: +40; total +30
@pytest.mark.parametrize("segment, reference, value, contribution", [
    ("referral", 20, 145, 125), ("search", 230, 95, -135), ("social", 35, 75, 40),
])
def test_revenue_contributions_by_channel(db, segment, reference, value, contribution):
    frame = kpis.contributions(db, "revenue", "2024-02", "acquisition_channel").set_index("segment")
    assert (frame.loc[segment, "reference"], frame.loc[segment, "value"]) == (reference, value)
    assert frame.loc[segment, "contribution"] == contribution
    assert frame["contribution"].sum() == pytest.approx(frame.attrs["total"]) == pytest.approx(30)


# Retention by channel, Feb 2024 (of January's buyers: search c13 c01, social c12, referral c14, only c13 came back:
# 1/4) against Jan 2024 (of December's only buyer, social c12, who came back: 1). Weights (previous buyers):
# before social 1 (share 1); after search 0.5, social 0.25, referral 0.25; R0 = 1, R1 = 0.25, R̄ = 0.625.
#   social   rate (1.25/2)(0 − 1) = −0.625, mix ((1 + 0)/2 − 0.625)(0.25 − 1) = +0.09375
#   search   absent before: rate 0, mix (0.5 − 0.625)(0.5 − 0) = −0.0625
#   referral absent before: rate 0, mix (0 − 0.625)(0.25 − 0) = −0.15625;  Σ = −0.75 = 0.25 − 1
@pytest.mark.parametrize("segment, rate_effect, mix_effect", [
    ("social", -0.625, 0.09375), ("search", 0.0, -0.0625), ("referral", 0.0, -0.15625),
])
def test_retention_rate_and_mix_by_channel(db, segment, rate_effect, mix_effect):
    frame = kpis.contributions(db, "retention_rate", "2024-02", "acquisition_channel").set_index("segment")
    assert frame.loc[segment, "rate_effect"] == pytest.approx(rate_effect, abs=1e-12)
    assert frame.loc[segment, "mix_effect"] == pytest.approx(mix_effect, abs=1e-12)
    assert frame["contribution"].sum() == pytest.approx(-0.75, abs=1e-12)
    assert (frame.attrs["value"], frame.attrs["reference"]) == (0.25, 1.0)


@pytest.mark.parametrize("key, by, message", [
    ("top_customer_share", "region", "does not split"),
    ("revenue", "cohort", "cannot split by 'cohort'"),
    ("revenue", "colour", "cannot split by 'colour'"),
])
def test_contributions_refuse_what_does_not_split(db, key, by, message):
    with pytest.raises(kpis.KPIError, match=message):
        kpis.contributions(db, key, "2024-02", by)


# --- the equity bridge, customer by customer ----------------------------------------------------------------------

@pytest.mark.parametrize("before, after, expected", [
    # V 2·3 = 6 → 4·3 = 12: L(12, 6) = 6 / ln 2 = 8.6562; first factor ln 2 → 6, second 0
    ([[2, 3]], [[4, 3]], [[6.0, 0.0]]),
    # V 2·3 = 6 → 1·12 = 12: L = 8.6562; ln(1/2) → −6, ln 4 → +12; Σ = 6
    ([[2, 3]], [[1, 12]], [[-6.0, 12.0]]),
    # V 0·3 → 2·3 = 6: zero before, the whole change to the zero factor
    ([[0, 3]], [[2, 3]], [[6.0, 0.0]]),
    # V 0·0 → 0·5: zero at both ends, nothing moved
    ([[0, 0]], [[0, 5]], [[0.0, 0.0]]),
    # V 2·2 = 4 → 0·0: zero after in both factors: −4 shared equally
    ([[2, 2]], [[0, 0]], [[-2.0, -2.0]]),
])
def test_lmdi_rows_by_hand(before, after, expected):
    out = bridge.lmdi_rows(np.array(before, dtype=float), np.array(after, dtype=float))
    assert out[0].tolist() == pytest.approx(expected[0], abs=1e-12)


def test_lmdi_rows_add_up_and_match_the_scalar_formula():
    rng = np.random.default_rng(3)
    before, after = rng.uniform(0.1, 5, (200, 4)), rng.uniform(0.1, 5, (200, 4))
    out = bridge.lmdi_rows(before, after)
    assert np.allclose(out.sum(axis=1), after.prod(axis=1) - before.prod(axis=1), rtol=1e-12, atol=1e-12)
    v0, v1 = before[0].prod(), after[0].prod()
    assert out[0, 2] == pytest.approx(log_mean(v1, v0) * math.log(after[0, 2] / before[0, 2]), rel=1e-12)


FIXED = {"bg": {"r": 0.25, "alpha": 4.4, "a": 0.8, "b": 2.4}, "gg": {"p": 6.25, "q": 3.74, "gamma": 15.44}}


def fixed_model(database, end):
    """The value model of `end` with FIXED parameters for everyone (one pooled group), nothing fitted."""
    summary = rfm_summary(database, end, "W")
    margin = model_module._margin_rate(database, end)
    bg, gg = BetaGeo(FIXED["bg"]), GammaGamma(FIXED["gg"])
    frame = summary.join(customer_clv(bg, gg, summary, margin, 36, 0.10)).assign(fit_group=POOLED, revenue_12m=0.0)
    return ValueModel(end, {POOLED: (bg, gg)}, margin, None, database, frame)


def test_equity_bridge_with_fixed_parameters(db, monkeypatch):
    """The same fixed BG/NBD + Gamma-Gamma parameters at both dates (no fitting): the model update is exactly 0,
    the customers first seen in between are the acquired part, and every customer's parts add up to ΔV."""
    monkeypatch.setattr(bridge, "value_model", fixed_model)
    fresh = kpis.connect(db.name)
    t0, t1 = date(2024, 1, 31), date(2024, 2, 29)
    parts = bridge.customer_parts(fresh, t0, t1)
    frame = parts.frame.set_index("customer_id")
    # First orders by 2024-01-31: c01..c14 (c12 in Dec 2023, c13 and c14 in January); c15's first order is on
    # 02-29 at 23:30: the only customer first seen in February.
    assert sorted(frame.index[~frame["existing"]]) == ["c15"]
    assert frame.loc["c15", "acquired"] == frame.loc["c15", "value"] > 0
    assert frame["model_update"].abs().max() < 1e-9  # θ1 = θ0
    assert np.allclose(frame[list(bridge.LEVERS)].sum(axis=1), frame["value"] - frame["reference"], rtol=1e-9,
                       atol=1e-9)
    quiet = frame.loc["c02"]  # last order in 2023: no new purchase, the same Gamma-Gamma spend
    assert quiet["spend"] == pytest.approx(0, abs=1e-12)
    # Margin rate: Σ(revenue − cost) ÷ Σ revenue of the orders by each date; January 2024 to February 2024 adds
    # o25..o29 (revenue 315, cost 165), so g moves and the margin part of a quiet customer is L·ln(g1/g0).
    g0, g1 = (model_module._margin_rate(fresh, t) for t in (t0, t1))
    v0, v1 = quiet["reference"], quiet["reference"] + quiet[list(bridge.FACTORS)].sum()
    assert quiet["margin"] == pytest.approx(log_mean(v1, v0) * math.log(g1 / g0), rel=1e-9)


# --- properties on a demo -------------------------------------------------------------------------------------

VIEWS = [("2026-09", "previous", None), ("2026-09", "year_ago", None), ("2026-Q3", "previous", None),
         ("2026-08", "previous", {"region": ["FR"]}), ("2026-08", "year_ago", {"acquisition_channel": ["search"]})]


@pytest.mark.parametrize("period, compare, filters", VIEWS)
def test_bridges_add_up_to_the_change(demo, period, compare, filters):
    revenue = kpis.revenue_bridge(demo, period, compare, filters)
    table = kpis.compare(demo, ["revenue", "customer_equity"], period, filters=filters)
    change = table.loc["revenue", "value"] - table.loc["revenue", compare]
    assert revenue["value"].sum() == pytest.approx(change, rel=1e-9, abs=1e-6)
    equity = kpis.equity_bridge(demo, period, compare, filters)
    assert equity.attrs["value"] == pytest.approx(table.loc["customer_equity", "value"], rel=1e-9)
    assert equity.attrs["reference"] == pytest.approx(table.loc["customer_equity", compare], rel=1e-9)
    assert equity["value"].sum() == pytest.approx(equity.attrs["value"] - equity.attrs["reference"], rel=1e-9)
    assert list(equity["part"]) == list(bridge.LEVERS) and not equity["value"].isna().any()


@pytest.mark.parametrize("key", ["revenue", "orders", "active_customers", "gross_margin", "customer_equity",
                                 "retention_rate", "average_order_value", "nps", "csat", "gross_margin_rate"])
@pytest.mark.parametrize("by", ["acquisition_channel", "region", "value_tier"])
def test_contributions_add_up_to_the_change(demo, key, by):
    frame = kpis.contributions(demo, key, "2026-09", by, "previous")
    table = kpis.compare(demo, [key], "2026-09")
    assert frame.attrs["total"] == pytest.approx(table.loc[key, "value"] - table.loc[key, "previous"], rel=1e-9,
                                                 abs=1e-9)
    assert frame["contribution"].sum() == pytest.approx(frame.attrs["total"], rel=1e-9, abs=1e-9)
    if "rate_effect" in frame:
        assert np.allclose(frame["rate_effect"] + frame["mix_effect"], frame["contribution"], rtol=1e-12)


def test_the_headline_tells_only_changes_beyond_the_noise(demo):
    from kpis.story import headline, nps_sentence

    sentences = headline(demo, "2026-09", "previous")
    assert 3 <= len(sentences) <= 5 and sentences[0].startswith("Revenue ")
    change = kpis.change_with_margin(demo, "nps", "2026-09", "previous")
    said = nps_sentence(demo, "2026-09", "previous", None)
    assert ("within the margin of error" in said) is change["within_noise"]


def test_the_builds_bridges_equal_a_fresh_computation(demo):
    """Every build stores the default view's two equity bridges (clv_parts): the same parts as computing them."""
    pairs = bridge.default_pairs(demo)
    assert len(pairs) == 2
    for t0, t1 in pairs:
        stored = bridge.customer_parts(kpis.connect(demo.name), t0, t1)
        assert "clv_parts_" not in demo.sql(stored.table)  # read from the build, not registered at view time
        fresh = bridge._compute(demo, t0, t1).sort_values("customer_id", ignore_index=True)
        got = stored.frame.sort_values("customer_id", ignore_index=True)
        assert list(got["customer_id"]) == list(fresh["customer_id"])
        for column in bridge.PARTS_SCHEMA:
            if column != "customer_id":
                assert np.allclose(got[column].astype(float), fresh[column].astype(float), rtol=1e-12), column


@pytest.mark.parametrize("compare", ["previous", "year_ago"])
def test_the_build_stores_the_default_headline(demo, compare):
    """The default view's sentences are written with the build: a fresh process reads what it would compute."""
    from kpis.story import _sentences, headline

    fresh = kpis.connect(demo.name)  # the demo's data end on 2026-10-31: October is the last complete month
    assert fresh.cursor().execute("SELECT count(*) FROM story_headlines").fetchone()[0] == 2
    assert headline(fresh, "2026-10", compare) == _sentences(fresh, "2026-10", compare, None)
