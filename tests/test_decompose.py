"""Known answers: exact splits of a change (kpis.decompose), worked out by hand in comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpis.decompose import describe_movers, lmdi, log_mean, rate_mix, revenue_parts, top_movers

E = math.e
LN2, LN3, LN15 = math.log(2), math.log(3), math.log(1.5)


# --- the logarithmic mean ------------------------------------------------------------------------

@pytest.mark.parametrize(
    "a, b, expected",
    [
        (1, 1, 1.0),  # L(a, a) = a
        (5, 5, 5.0),
        (2, 1, 1 / LN2),  # (2 − 1) / (ln 2 − 0) = 1.442695
        (1, 2, 1 / LN2),  # symmetric
        (E, 1, E - 1),  # (e − 1) / (1 − 0) = 1.718282
        (E * E, E, E * (E - 1)),  # (e² − e) / (2 − 1) = 4.670774
        (4, 1, 3 / math.log(4)),  # 3 / 1.386294 = 2.164043
        # close values: L ≈ (a + b) / 2 (to (a − b)² / 12b); ln a − ln b cancels here, naively 999.90
        (1000 + 1e-9, 1000, 1000 + 5e-10),
    ],
)
def test_log_mean(a, b, expected):
    assert log_mean(a, b) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("a, b", [(0, 1), (1, 0), (-1, 2), (math.nan, 1), (math.inf, 1)])
def test_log_mean_needs_positive_finite_numbers(a, b):
    with pytest.raises(ValueError, match="positive finite"):
        log_mean(a, b)


# --- LMDI --------------------------------------------------------------------------------------------

LMDI = [
    # V = a·b: 2·3 = 6 → 4·3 = 12; L(12, 6) = 6 / ln 2; a: (6 / ln 2)·ln 2 = 6, b: ln 1 = 0
    ({"a": 2, "b": 3}, {"a": 4, "b": 3}, {"a": 6.0, "b": 0.0}),
    # 10·2 = 20 → 20·3 = 60; L(60, 20) = 40 / ln 3; a: 40 ln 2 / ln 3 = 25.23719, b: 40 ln 1.5 / ln 3 = 14.76281
    ({"a": 10, "b": 2}, {"a": 20, "b": 3}, {"a": 40 * LN2 / LN3, "b": 40 * LN15 / LN3}),
    # 1·1 = 1 → e·e = e²; L(e², 1) = (e² − 1) / 2 = 3.194528 for each factor (ln e = 1): sum e² − 1
    ({"a": 1, "b": 1}, {"a": E, "b": E}, {"a": (E * E - 1) / 2, "b": (E * E - 1) / 2}),
    # 2·5·10 = 100 → 4·5·5 = 100: L(100, 100) = 100; a: 100 ln 2 = 69.3147, b: 0, c: 100 ln ½ = −69.3147
    ({"a": 2, "b": 5, "c": 10}, {"a": 4, "b": 5, "c": 5}, {"a": 100 * LN2, "b": 0.0, "c": -100 * LN2}),
    # --- zeros (the δ → 0 limits) ---------------------------------------------------------------------
    # 0·3 = 0 → 4·3 = 12: the whole +12 to a, the factor that was zero
    ({"a": 0, "b": 3}, {"a": 4, "b": 3}, {"a": 12.0, "b": 0.0}),
    # b moves too, yet a zero before takes everything: 0·3 → 4·6 = 24
    ({"a": 0, "b": 3}, {"a": 4, "b": 6}, {"a": 24.0, "b": 0.0}),
    # two zeros before: 0·0·2 → 2·3·5 = 30, split equally: 15 and 15, c 0
    ({"a": 0, "b": 0, "c": 2}, {"a": 2, "b": 3, "c": 5}, {"a": 15.0, "b": 15.0, "c": 0.0}),
    # a zero after: 2·3 = 6 → 0·5 = 0: −6 to a
    ({"a": 2, "b": 3}, {"a": 0, "b": 5}, {"a": -6.0, "b": 0.0}),
    # both ends zero (different factors, or the same one): nothing changed, all 0
    ({"a": 0, "b": 3}, {"a": 4, "b": 0}, {"a": 0.0, "b": 0.0}),
    ({"a": 0, "b": 3}, {"a": 0, "b": 5}, {"a": 0.0, "b": 0.0}),
    ({}, {}, {}),  # no factor: V = 1 at both ends
]


@pytest.mark.parametrize("before, after, expected", LMDI)
def test_lmdi(before, after, expected):
    result = lmdi(before, after)
    assert list(result) == list(before)
    assert result == pytest.approx(expected, rel=1e-12, abs=1e-12)
    v0, v1 = math.prod(before.values()), math.prod(after.values())
    assert sum(result.values()) == pytest.approx(v1 - v0, rel=1e-12, abs=1e-12)


def test_lmdi_zero_rule_is_the_small_delta_limit():
    # 0·3 → 4·6 with the zero replaced by δ = 1e-300 and the usual formula: L(24, 3δ) = (24 − 3δ) / ln(8 / δ);
    # a: L·ln(4 / δ) = 24 × 692.16 / 692.86 = 23.976, b: L·ln 2 = 24 × 0.693 / 692.86 = 0.024 → (24, 0) as δ → 0.
    delta = 1e-300
    weight = log_mean(24, 3 * delta)
    assert weight * math.log(4 / delta) == pytest.approx(lmdi({"a": 0, "b": 3}, {"a": 4, "b": 6})["a"], rel=2e-3)
    assert weight * LN2 == pytest.approx(0.024, abs=1e-3)


@pytest.mark.parametrize(
    "before, after, message",
    [
        ({"a": -1, "b": 2}, {"a": 1, "b": 2}, "≥ 0"),
        ({"a": 1}, {"a": math.nan}, "≥ 0"),
        ({"a": 1}, {"a": math.inf}, "≥ 0"),
        ({"a": 1, "b": 2}, {"a": 1, "c": 2}, "same factors"),
    ],
)
def test_lmdi_rejects(before, after, message):
    with pytest.raises(ValueError, match=message):
        lmdi(before, after)


def _random_factors(rng, k, zeros):
    values = rng.lognormal(0.0, 2.0, size=k)
    if zeros:
        values[rng.random(k) < 0.3] = 0.0
    return {f"f{i}": float(v) for i, v in enumerate(values)}


@pytest.mark.parametrize("zeros", [False, True])
def test_lmdi_sums_exactly_on_random_inputs(zeros):
    rng = np.random.default_rng(20240301)
    for _ in range(500):
        k = int(rng.integers(1, 7))
        before, after = _random_factors(rng, k, zeros), _random_factors(rng, k, zeros)
        result = lmdi(before, after)
        change = math.prod(after.values()) - math.prod(before.values())
        assert sum(result.values()) == pytest.approx(change, rel=1e-9, abs=1e-12)
        reverse = lmdi(after, before)  # time reversal: the way back is the exact opposite
        assert {key: -v for key, v in reverse.items()} == pytest.approx(result, rel=1e-9, abs=1e-12)


# --- the revenue bridge --------------------------------------------------------------------------------

PARTS = ["new_customers", "returning_buyers", "orders_per_buyer", "revenue_per_order"]
REVENUE_PARTS = [
    # New 100 → 150: +50. Returning 10 buyers × 2 orders × 50 = 1000 → 20 × 3 × 50 = 3000: +2000,
    # L(3000, 1000) = 2000 / ln 3; buyers 2000 ln 2 / ln 3 = 1261.860, orders/buyer 2000 ln 1.5 / ln 3 = 738.140,
    # revenue/order 0. Total 2050 = (150 + 3000) − (100 + 1000).
    (100, 150, (10, 20, 1000), (20, 60, 3000), [50.0, 2000 * LN2 / LN3, 2000 * LN15 / LN3, 0.0]),
    # Same buyers and orders, dearer orders: 10 × 2 × 50 → 10 × 2 × 75, +1000 all to revenue/order
    (0, 0, (10, 20, 1000), (10, 20, 1500), [0.0, 0.0, 0.0, 500.0]),
    # --- zero bases --------------------------------------------------------------------------------------
    # No returning buyers before: 0 → 12 × 2.5 × 60 = 1800; the whole +1800 to returning buyers
    (100, 150, (0, 0, 0), (12, 30, 1800), [50.0, 1800.0, 0.0, 0.0]),
    # None after: 1000 → 0, −1000 to returning buyers
    (100, 400, (10, 20, 1000), (0, 0, 0), [300.0, -1000.0, 0.0, 0.0]),
    # None at either end: only new customers move
    (100, 90, (0, 0, 0), (0, 0, 0), [-10.0, 0.0, 0.0, 0.0]),
    # Free orders before (revenue/order 0): 10 × 2 × 0 → 10 × 2 × 25 = 500, all to revenue/order
    (0, 0, (10, 20, 0), (10, 20, 500), [0.0, 0.0, 0.0, 500.0]),
]


@pytest.mark.parametrize("new_before, new_after, returning_before, returning_after, expected", REVENUE_PARTS)
def test_revenue_parts(new_before, new_after, returning_before, returning_after, expected):
    parts = revenue_parts(new_before, new_after, returning_before, returning_after)
    assert [key for key, _ in parts] == PARTS
    assert [value for _, value in parts] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    total = (new_after + returning_after[2]) - (new_before + returning_before[2])
    assert sum(value for _, value in parts) == pytest.approx(total, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "returning_before, returning_after, message",
    [
        ((10, 20, -5), (10, 20, 100), "≥ 0"),
        ((0, 3, 100), (10, 20, 100), "orders need buyers"),
        ((10, 0, 100), (10, 20, 100), "revenue needs orders"),
        ((10, 20, math.nan), (10, 20, 100), "finite"),
    ],
)
def test_revenue_parts_rejects(returning_before, returning_after, message):
    with pytest.raises(ValueError, match=message):
        revenue_parts(0, 0, returning_before, returning_after)


def test_revenue_parts_sum_exactly_on_random_inputs():
    rng = np.random.default_rng(7)
    for _ in range(500):
        buyers = rng.integers(1, 5000, size=2)
        orders = buyers * rng.uniform(1, 4, size=2)
        revenue = orders * rng.lognormal(4, 1, size=2)
        new = rng.uniform(0, 1e6, size=2)
        parts = revenue_parts(new[0], new[1], (buyers[0], orders[0], revenue[0]), (buyers[1], orders[1], revenue[1]))
        total = (new[1] + revenue[1]) - (new[0] + revenue[0])
        assert sum(value for _, value in parts) == pytest.approx(total, rel=1e-9)


# --- rate and mix --------------------------------------------------------------------------------------

def _rates(rows):
    return pd.DataFrame(rows, columns=["segment", "weight_before", "rate_before", "weight_after", "rate_after"])


def test_rate_mix_two_segments_by_hand():
    # Shares: before A ½, B ½; after A 100/400 = ¼, B ¾. R0 = ½·0.10 + ½·0.30 = 0.20,
    # R1 = ¼·0.20 + ¾·0.30 = 0.275, R̄ = 0.2375, R1 − R0 = 0.075.
    # A: rate w̄ Δr = 0.375 × 0.10 = 0.0375; mix (r̄ − R̄) Δw = (0.15 − 0.2375)(−0.25) = +0.021875 (a worse
    #    than average segment losing share lifts the total); contribution 0.059375.
    # B: rate 0.625 × 0 = 0; mix (0.30 − 0.2375)(+0.25) = +0.015625 (better than average, growing).
    # Sum 0.059375 + 0.015625 = 0.075 = R1 − R0.
    result = rate_mix(_rates([("A", 100, 0.10, 100, 0.20), ("B", 100, 0.30, 300, 0.30)]))
    assert list(result.columns) == ["segment", "rate_before", "rate_after", "weight_share_before",
                                    "weight_share_after", "rate_effect", "mix_effect", "contribution"]
    assert list(result["segment"]) == ["A", "B"]
    assert list(result["weight_share_before"]) == pytest.approx([0.5, 0.5])
    assert list(result["weight_share_after"]) == pytest.approx([0.25, 0.75])
    assert list(result["rate_effect"]) == pytest.approx([0.0375, 0.0], abs=1e-15)
    assert list(result["mix_effect"]) == pytest.approx([0.021875, 0.015625], abs=1e-15)
    assert list(result["contribution"]) == pytest.approx([0.059375, 0.015625], abs=1e-15)
    assert result["contribution"].sum() == pytest.approx(0.075, abs=1e-15)


def test_rate_mix_segment_absent_before():
    # C is new: weight 0 and no rate before. Shares before ½ ½ 0, after 0.2 0.6 0.2.
    # R0 = 0.20, R1 = 0.04 + 0.18 + 0.10 = 0.32, R̄ = 0.26. C takes its after rate (0.5) for before: rate effect 0,
    # mix (0.5 − 0.26)(0.2 − 0) = 0.048. A: 0.35 × 0.1 = 0.035 + (0.15 − 0.26)(−0.3) = 0.033 → 0.068.
    # B: 0 + (0.30 − 0.26)(0.1) = 0.004. D is absent at both ends: 0. Sum 0.068 + 0.004 + 0.048 = 0.12.
    result = rate_mix(_rates([("A", 100, 0.1, 100, 0.2), ("B", 100, 0.3, 300, 0.3), ("C", 0, None, 100, 0.5),
                              ("D", 0, math.nan, 0, None)])).set_index("segment")
    assert list(result["rate_effect"]) == pytest.approx([0.035, 0.0, 0.0, 0.0], abs=1e-15)
    assert list(result["mix_effect"]) == pytest.approx([0.033, 0.004, 0.048, 0.0], abs=1e-15)
    assert result["contribution"].sum() == pytest.approx(0.12, abs=1e-15)
    assert math.isnan(result.loc["C", "rate_before"]) and result.loc["C", "rate_after"] == 0.5
    assert not result[["rate_effect", "mix_effect", "contribution"]].isna().any().any()


def test_rate_mix_segment_absent_after():
    # B closes: before A 100 @ 0.1, B 100 @ 0.3 (R0 = 0.2); after A 50 @ 0.1 alone (R1 = 0.1), R̄ = 0.15.
    # A: rate 0.75 × 0 = 0, mix (0.1 − 0.15)(+0.5) = −0.025. B: rate 0, mix (0.3 − 0.15)(−0.5) = −0.075. Sum −0.1.
    result = rate_mix(_rates([("A", 100, 0.1, 50, 0.1), ("B", 100, 0.3, 0, None)]))
    assert list(result["rate_effect"]) == pytest.approx([0.0, 0.0], abs=1e-15)
    assert list(result["mix_effect"]) == pytest.approx([-0.025, -0.075], abs=1e-15)


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("A", 10, 0.1, 10, 0.2), ("A", 5, 0.1, 5, 0.2)], "once"),
        ([("A", -1, 0.1, 10, 0.2)], "≥ 0"),
        ([("A", 0, 0.1, 10, 0.2)], "no weight before"),
        ([("A", 10, None, 10, 0.2)], "needs a finite rate_before"),
    ],
)
def test_rate_mix_rejects(rows, message):
    with pytest.raises(ValueError, match=message):
        rate_mix(_rates(rows))


def test_rate_mix_needs_its_columns():
    with pytest.raises(ValueError, match="weight_after, rate_after"):
        rate_mix(pd.DataFrame({"segment": ["A"], "weight_before": [1], "rate_before": [0.1]}))


def test_rate_mix_sums_exactly_on_random_inputs():
    rng = np.random.default_rng(11)
    for _ in range(300):
        k = int(rng.integers(1, 9))
        weights = rng.integers(0, 1000, size=(2, k)).astype(float)
        weights[:, 0] += 1  # each period has some weight
        rates = rng.uniform(0, 1, size=(2, k))
        rates[weights == 0] = np.nan
        frame = _rates(list(zip(range(k), weights[0], rates[0], weights[1], rates[1], strict=True)))
        result = rate_mix(frame)
        aggregate = [np.nansum(weights[e] * rates[e]) / weights[e].sum() for e in (0, 1)]
        assert result["contribution"].sum() == pytest.approx(aggregate[1] - aggregate[0], rel=1e-9, abs=1e-12)
        assert np.allclose(result["contribution"], result["rate_effect"] + result["mix_effect"], rtol=0, atol=0)


# --- the movers, in words ------------------------------------------------------------------------------

CHANNELS = pd.DataFrame({"segment": ["Search", "Social", "Email", "Referral", "Display"],
                         "contribution": [12_300.0, 4_100.0, 0.0, -2_000.0, 50.0]})


def test_top_movers():
    up, down = top_movers(CHANNELS, n=2)
    assert list(up["segment"]) == ["Search", "Social"]  # Display's +50 is third; Email's 0 is neither
    assert list(down["segment"]) == ["Referral"]


def _frame(pairs):
    return pd.DataFrame(pairs, columns=["segment", "contribution"])


@pytest.mark.parametrize(
    "frame, n, fmt, expected",
    [
        (CHANNELS, 2, None, "Search (+12,300) and Social (+4,100) drove the rise; Referral (-2,000) held it back."),
        (CHANNELS, 1, lambda v: f"{v / 1000:+.1f}k €",
         "Search (+12.3k €) drove the rise; Referral (-2.0k €) held it back."),
        (_frame([("Search", -5000), ("Social", 1000)]), 3, None,
         "Search (-5,000) drove the fall; Social (+1,000) softened it."),
        (_frame([("A", 1), ("B", 2), ("C", 3)]), 3, None, "C (+3), B (+2) and A (+1) drove the rise."),
        (_frame([("A", 5), ("B", -5)]), 3, None, "A (+5) and B (-5) cancelled out."),
        (_frame([("A", 0.0), ("B", 0.0)]), 3, None, "Nothing moved."),
    ],
)
def test_describe_movers(frame, n, fmt, expected):
    kwargs = {"fmt": fmt} if fmt else {}
    assert describe_movers(frame, n=n, **kwargs) == expected


def test_describe_a_revenue_bridge():
    # The revenue bridge of the first REVENUE_PARTS row, named by part: +1,262 + 738 + 50 − 0.
    parts = pd.DataFrame(revenue_parts(100, 150, (10, 20, 1000), (20, 60, 3000)), columns=["part", "amount"])
    assert describe_movers(parts, "amount", n=2, label="part") == \
        "returning_buyers (+1,262) and orders_per_buyer (+738) drove the rise."
