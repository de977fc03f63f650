"""Intervals from the fits' parameter uncertainty (kpis.clv.uncertainty): the point estimates are customer_clv's,
every draw is the model with the draw's parameters, the sampled bootstrap is close to the exact one, and the
intervals behave as asymptotic theory says (collapse without uncertainty, shrink as 1/√n)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpis.clv import BetaGeo, GammaGamma, ModelError, customer_clv
from kpis.clv.bgnbd import NAMES as BG_NAMES
from kpis.clv.gammagamma import NAMES as GG_NAMES
from kpis.clv.uncertainty import RULE_NODES, RULE_TOLERANCE, _Group, _month_rule, _systematic, draw_values
from kpis.clv.value import month_ends
from tests.test_clv import simulate_bgnbd, simulate_spend

END = "2024-06-30"
MARGIN = 0.3
# CDNOW-like (weeks) and a churnier, busier group
TRUTH = {"loyal": ((0.25, 4.0, 0.8, 2.5), (6.0, 4.0, 15.0)), "churny": ((0.6, 5.0, 1.6, 3.0), (5.0, 3.0, 20.0))}


def simulated(n: int, seed: int, groups=("loyal",)) -> pd.DataFrame:
    """Scores-like frame of n customers split over `groups`, first purchases on a day grid over 78 weeks."""
    rng = np.random.default_rng(seed)
    group = np.array(groups)[rng.integers(0, len(groups), n)]
    frame = []
    for g in groups:
        k = int(np.sum(group == g))
        (r, alpha, a, b), spend = TRUTH[g]
        T = rng.integers(1, 78 * 7, k) / 7
        x, tx = simulate_bgnbd(rng, k, r, alpha, a, b, T)
        tx = np.where(x > 0, np.minimum(np.ceil(tx * 7) / 7, T), 0.0)  # whole days, as rfm_summary counts them
        m = simulate_spend(rng, x, *spend)
        frame.append(pd.DataFrame({"fit_group": g, "frequency": x, "recency": tx, "T": T, "monetary_value": m,
                                   "revenue_12m": m * np.minimum(x, 3)}))
    return pd.concat(frame, ignore_index=True)


def fitted(scores: pd.DataFrame) -> dict:
    return {g: (BetaGeo().fit(c["frequency"], c["recency"], c["T"]), GammaGamma().fit(c["frequency"],
                                                                                   c["monetary_value"]))
            for g, c in scores.groupby("fit_group")}


@pytest.fixture(scope="module")
def base():
    scores = simulated(5000, 1, ("loyal", "churny"))
    return scores, fitted(scores)


def options(scores: pd.DataFrame) -> dict:
    """The totals a build asks for: the 30% highest revenues may be at risk, the last 8 weeks' newcomers."""
    return {"at_risk": (scores["revenue_12m"] >= scores["revenue_12m"].quantile(0.7)).to_numpy(),
            "revenue": "revenue_12m", "subsets": {"new": (scores["T"] < 8).to_numpy()}}


def clv_of(fits: dict, scores: pd.DataFrame, margin=MARGIN) -> pd.DataFrame:
    """customer_clv of every customer, group by group, in the frame's order."""
    parts = [customer_clv(*fits[g], c, margin.loc[c.index] if isinstance(margin, pd.Series) else margin,
                          time_unit="W", observation_end=END) for g, c in scores.groupby("fit_group")]
    return pd.concat(parts).reindex(scores.index)


# --- the fits' covariance -------------------------------------------------------------------------------------


def test_fits_keep_the_covariance_of_their_log_parameters(base):
    _, fits = base
    for model, names in ((fits["loyal"][0], BG_NAMES), (fits["loyal"][1], GG_NAMES)):
        cov = model.log_covariance
        assert cov.shape == (len(names), len(names)) and np.allclose(cov, cov.T) and np.all(np.linalg.eigvalsh(cov) > 0)
        for i, name in enumerate(names):  # the standard errors are the delta method's on the same matrix
            assert model.standard_errors[name] == pytest.approx(model.params[name] * np.sqrt(cov[i, i]), rel=1e-12)
    # in NAMES order: ln r and ln α move together (a higher shape with a higher scale keeps the mean rate r/α);
    # over 20 simulated bases their correlation was 0.755–0.759
    cov = fits["loyal"][0].log_covariance
    assert cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]) > 0.5
    assert BetaGeo({"r": 1, "alpha": 1, "a": 1, "b": 1}).log_covariance is None
    assert GammaGamma({"p": 1, "q": 2, "gamma": 1}).log_covariance is None


# --- point estimates and draws are the model's -----------------------------------------------------------------


def test_point_estimates_are_customer_clvs(base):
    scores, fits = base
    margin = pd.Series(np.where(scores["frequency"] > 2, 0.4, 0.25), index=scores.index)  # per customer
    opts = options(scores)
    d = draw_values(fits, scores, margin, END, draws=20, **opts)
    clv = clv_of(fits, scores, margin)
    assert d.point["equity"] == pytest.approx(clv["clv"].sum(), rel=1e-12)
    assert d.point["mean_clv"] == pytest.approx(clv["clv"].mean(), rel=1e-12)
    assert d.point["new"] == pytest.approx(clv["clv"][opts["subsets"]["new"]].sum(), rel=1e-12)
    at_risk = opts["at_risk"] & (clv["p_alive"] < 0.5).to_numpy()
    assert 0 < d.point["at_risk"] == at_risk.sum()
    assert d.point["at_risk_revenue"] == pytest.approx(scores["revenue_12m"][at_risk].sum(), rel=1e-12)


def test_every_draw_is_the_model_with_the_draws_parameters(base):
    # Rebuild each draw's models by hand and score every customer with customer_clv: the exact bootstrap
    # (no sampling) must give the same totals, to its month-sum rules' 1e-6; the at-risk counts are exact even
    # with the default sampling.
    scores, fits = base
    opts = options(scores)
    exact = draw_values(fits, scores, MARGIN, END, draws=4, cells=None, patterns=None, **opts)
    sampled = draw_values(fits, scores, MARGIN, END, draws=4, **opts)
    for k in range(4):
        models = {g: (BetaGeo(dict(zip(BG_NAMES, bg[k], strict=True))), GammaGamma(dict(zip(GG_NAMES, gg[k],
                                                                                             strict=True))))
                  for g, (bg, gg) in exact.parameters.items()}
        clv = clv_of(models, scores)
        assert exact.draws["equity"][k] == pytest.approx(clv["clv"].sum(), rel=1e-6)
        assert exact.draws["new"][k] == pytest.approx(clv["clv"][opts["subsets"]["new"]].sum(), rel=1e-6)
        at_risk = opts["at_risk"] & (clv["p_alive"] < 0.5).to_numpy()
        for d in (exact, sampled):
            assert d.draws["at_risk"][k] == at_risk.sum()
            assert d.draws["at_risk_revenue"][k] == pytest.approx(scores["revenue_12m"][at_risk].sum(), rel=1e-12)
    assert np.ptp(exact.draws["at_risk"]) > 0  # the draws did move customers across the threshold


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_sampled_bootstrap_is_close_to_the_exact_one(seed):
    # 4,000 customers: ~1,700 cells, of which CELLS = 200 are sampled, and 500 of ~3,900 patterns (forced small
    # so that both samples act). Same draws (same seed), so the gap is the samples' error alone. Over 20 seeds
    # the endpoints' gap was ≤ 1.2% of the interval's width (sd of the per-draw error ≤ 2.1% of the draws'
    # sd); K = 200's own Monte Carlo error is ~4.5% of the width at each end. Bounds: 4% and 6%.
    scores = simulated(4000, seed)
    fits = fitted(scores)
    exact = draw_values(fits, scores, MARGIN, END, seed=seed, cells=None, patterns=None)
    sampled = draw_values(fits, scores, MARGIN, END, seed=seed, patterns=500)
    low, high = exact.interval("equity")
    assert max(abs(a - b) for a, b in zip(sampled.interval("equity"), (low, high), strict=True)) < 0.04 * (high - low)
    assert np.std(sampled.draws["equity"] - exact.draws["equity"]) < 0.06 * np.std(exact.draws["equity"])
    assert sampled.point == exact.point


# --- how the intervals behave ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["equity", "mean_clv", "new", "at_risk", "at_risk_revenue"])
def test_intervals_contain_the_point_estimate(base, name):
    scores, fits = base
    d = draw_values(fits, scores, MARGIN, END, **options(scores))
    low, high = d.interval(name)
    assert low <= d.point[name] <= high and low < high
    wider = d.interval(name, level=0.98)
    assert wider[0] <= low and high <= wider[1]
    assert d.frame().loc[name].tolist() == [d.point[name], low, high]


def test_parameter_draws_follow_the_fits_covariance(base):
    # ln(draw / fit) ~ N(0, log_covariance): with K = 2,000 a variance is estimated within √(2/K) = 3.2%
    # (sd), a correlation within (1 − ρ²)/√K ≤ 2.2%; bounds: 4 sd.
    scores, fits = base
    few = scores[scores["fit_group"] == "loyal"].head(300)
    d = draw_values(fits, few, MARGIN, END, draws=2000)
    for model, drawn in zip(fits["loyal"], d.parameters["loyal"], strict=True):
        fitted = np.array(list(model.params.values()))
        sample = np.cov(np.log(drawn / fitted), rowvar=False)
        sd, sample_sd = np.sqrt(np.diag(model.log_covariance)), np.sqrt(np.diag(sample))
        assert sample_sd == pytest.approx(sd, rel=4 * 0.032 / 2)  # an sd is within half its variance's error
        assert np.abs(sample / np.outer(sample_sd, sample_sd) - model.log_covariance / np.outer(sd, sd)).max() < 0.09
        assert np.abs(np.log(drawn / fitted).mean(axis=0)).max() < 4 * sd.max() / np.sqrt(2000)


def test_draws_are_deterministic_for_a_seed(base):
    scores, fits = base
    one, again = (draw_values(fits, scores, MARGIN, END, draws=50, seed=7, **options(scores)) for _ in range(2))
    other = draw_values(fits, scores, MARGIN, END, draws=50, seed=8, **options(scores))
    for name in one.draws:
        assert np.array_equal(one.draws[name], again.draws[name])
        assert not np.array_equal(one.draws[name], other.draws[name])
    # a group's draws come from (seed, its name): scoring another group alongside does not change them
    loyal = scores[scores["fit_group"] == "loyal"]
    alone = draw_values(fits, loyal, MARGIN, END, draws=50, seed=7)
    assert np.array_equal(alone.parameters["loyal"][0], one.parameters["loyal"][0])


def test_interval_width_shrinks_as_one_over_root_n():
    # The same generator makes 3,000 and then 30,000 customers; the models' standard errors shrink as 1/√n, and
    # so should the interval of the mean CLV (equity itself grows with n). Over 20 seeds, (width ratio)·√10 had
    # mean 1.01, sd 0.12 and range 0.82–1.29 (the sd: the smaller base's information varies, and each width
    # carries K = 200's Monte Carlo error). Bounds [0.6, 1.6] leave 3.5 sd below and 5 above, and still fail for
    # a width that does not shrink (√10 = 3.2) or shrinks as 1/n (0.32).
    widths = []
    for n in (3000, 30_000):
        scores = simulated(n, 11)
        low, high = draw_values(fitted(scores), scores, MARGIN, END, seed=11).interval("mean_clv")
        widths.append(high - low)
    assert 0.6 < widths[1] / widths[0] * np.sqrt(10) < 1.6


@pytest.mark.parametrize("scale", [0.0, 1e-6])
def test_without_uncertainty_the_interval_collapses(base, scale):
    # Covariance × 0: every draw is the fit, so the interval is the point. × 1e-6 (sds × 1e-3): the totals are
    # linear in such small moves, so the intervals shrink by 1e-3 exactly enough (0.988 on this base, because
    # the full-size draws are a little non-linear).
    scores, fits = base
    full = draw_values(fits, scores, MARGIN, END, **options(scores))
    shrunk = {}
    for g, (bg, gg) in fits.items():
        b, m = BetaGeo(bg.params), GammaGamma(gg.params)
        b.log_covariance, m.log_covariance = bg.log_covariance * scale, gg.log_covariance * scale
        shrunk[g] = (b, m)
    d = draw_values(shrunk, scores, MARGIN, END, **options(scores))
    assert d.point == full.point
    for name in ("equity", "mean_clv", "new"):
        low, high = d.interval(name)
        width = np.subtract(*full.interval(name)[::-1])
        if scale == 0:
            assert low == pytest.approx(d.point[name], rel=1e-12) and high == pytest.approx(d.point[name], rel=1e-12)
        else:
            assert (high - low) / width == pytest.approx(np.sqrt(scale), rel=0.05)
    if scale == 0:
        assert d.interval("at_risk") == (d.point["at_risk"], d.point["at_risk"])


# --- the pieces ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("degree", [0, 1, 3, 6])
def test_month_rule_is_exact_for_polynomials_in_sigma(degree):
    # The rule sums an interpolant at 6 points (7 with t = 0) of σ = ln(1 + t/scale): for a polynomial in σ of
    # degree ≤ 6 that vanishes at t = 0 it is the exact weighted sum over the month ends.
    times = month_ends(END, 36, "W")
    weights = np.linspace(1.0, 0.5, 36)
    scale = np.array([4.0, 60.0])
    nodes, beta = _month_rule(scale, times, weights, 6)
    def f(t, s):  # σ^degree, minus 1 for degree 0: f(0) = 0
        return np.log1p(t / s) ** degree - (degree == 0)

    exact = [weights @ f(times, s) for s in scale]
    assert np.sum(beta * f(nodes, scale[:, None]), axis=1) == pytest.approx(exact, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("params, nodes, bound", [
    ((0.243, 4.414, 0.793, 2.426), 6, 2e-9),  # CDNOW (Fader, Hardie & Lee 2005), weeks: 1.2e-9
    ((1.5, 38 / 7, 2.4, 40.0), 6, 1e-7),  # the demo's search channel, weeks: 6.2e-8
    ((0.3, 0.1, 0.5, 1.5), 8, 1e-7),  # very spread rates (α = 0.1 week): 9.5e-9 with 8 points (1.5e-6 with 6)
])
def test_month_rule_gives_the_month_sums(params, nodes, bound):
    bg = BetaGeo(dict(zip(BG_NAMES, params, strict=True)))
    times = month_ends(END, 36, "W")
    discount = 1.1 ** (-np.arange(1, 37) / 12)
    x, T = np.array([0.0, 1, 5, 40]), np.array([0.0, 10, 52, 78])
    exact = np.diff(bg.expected_purchases_if_alive(np.r_[0, times][None, :], x[:, None], T[:, None]), axis=1) @ discount
    at, beta = _month_rule(params[1] + T, times, discount - np.append(discount[1:], 0), nodes)
    rule = np.sum(bg.expected_purchases_if_alive(at, x[:, None], T[:, None]) * beta, axis=1)
    assert np.max(np.abs(rule / exact - 1)) < bound


@pytest.mark.parametrize("alpha, nodes", [(4.414, RULE_NODES), (0.1, RULE_NODES + 2)])
def test_month_rule_takes_more_points_where_the_check_fails(alpha, nodes):
    # A new customer (x = 0, T = 0) with α = 0.1 week is the case above where 6 points miss by 1.5e-6 > 1e-6.
    bg, gg = BetaGeo({"r": 0.3, "alpha": alpha, "a": 0.5, "b": 1.5}), GammaGamma({"p": 6, "q": 4, "gamma": 15})
    bounds = np.r_[0, month_ends(END, 36, "W")]
    one = np.ones((1, 1))
    group = _Group(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1), one, one, bounds,
                   1.1 ** (-np.arange(1, 37) / 12), bg, gg, 0.5)
    group.sample(None, None, np.random.default_rng(0))
    assert group.nodes.shape == (1, nodes)
    assert abs(group.f0_chosen[0] / group.f0[0] - 1) <= RULE_TOLERANCE


@pytest.mark.parametrize("size, n, start, units, weights", [
    # sizes 1, 1, 2 and n = 2: step 2; the point in (0, 2] picks unit 0 or 1, the next one (2 further) unit 2
    ([1.0, 1.0, 2.0], 2, 0.5, [0, 2], [2.0, 1.0]),
    ([1.0, 1.0, 2.0], 2, 1.5, [1, 2], [2.0, 1.0]),
    # sizes 5, 1, 1, 1, 1, 1 and n = 5: step 2; points 1, 3, 5, 7, 9 hit unit 0 (cumulated 0–5) three times and
    # units 2 (6–7) and 4 (8–9) once; points 2, 4, 6, 8, 10 hit unit 0 twice and units 1, 3 and 5 once
    ([5.0, 1.0, 1.0, 1.0, 1.0, 1.0], 5, 1.0, [0, 2, 4], [1.2, 2.0, 2.0]),
    ([5.0, 1.0, 1.0, 1.0, 1.0, 1.0], 5, 2.0, [0, 1, 3, 5], [0.8, 2.0, 2.0, 2.0]),
    ([5.0, 1.0, 1.0, 1.0, 1.0, 1.0], 6, 1.0, [0, 1, 2, 3, 4, 5], [1.0] * 6),  # n ≥ units: every unit, weight 1
])
def test_systematic_sample_known_answers(size, n, start, units, weights):
    step = sum(size) / n

    class Fixed:  # _systematic starts at step·(1 − random())
        def random(self):
            return 1 - start / step

    chosen, w = _systematic(np.array(size), np.arange(len(size)), n, Fixed())
    assert chosen.tolist() == units and w.tolist() == pytest.approx(weights)
    assert w @ np.array(size)[chosen] == pytest.approx(sum(size))  # its estimate of the sizes' total is exact


@pytest.mark.parametrize("change, message", [
    ({"subsets": {"equity": None}}, "taken"),
    ({"draws": 1}, "draws"),
    ({"at_risk": "revenue_12m"}, "booleans"),
    ({"fits": "hand-given"}, "no covariance"),
    ({"fits": "missing"}, "no fit for the groups"),
])
def test_draw_values_refuses(base, change, message):
    scores, fits = base
    change = dict(change)
    if change.get("fits") == "hand-given":
        change["fits"] = {g: (BetaGeo(bg.params), gg) for g, (bg, gg) in fits.items()}
    elif change.get("fits") == "missing":
        change["fits"] = {"loyal": fits["loyal"]}
    with pytest.raises(ModelError, match=message):
        draw_values(**{"fits": fits, "customers": scores, "margin_rate": MARGIN, "observation_end": END, **change})
