"""How sure: intervals on model-based totals (customer equity, CLV of a set of customers, customers at risk) from
the fits' parameter uncertainty, by a parametric bootstrap.

Assumptions. The maximum-likelihood estimates of the log-parameters are asymptotically normal around the true
ones, with the inverse observed information as covariance (`log_covariance` of each fit); so K parameter sets are
drawn per fit group from N(θ̂, Σ̂) — BG/NBD and Gamma-Gamma independently (separate likelihoods: Gamma-Gamma's
independence assumption makes the joint one factorise), fit groups independently (disjoint customers) — every total
is evaluated with each set, and the interval is the percentile one (the (1 − level)/2 and (1 + level)/2 quantiles
of the K totals). This is *parameter* uncertainty only: the models are taken as right (no misspecification, no
change of behaviour after the observation end), and the totals stay expectations, so the randomness of which
purchases actually happen is not in the intervals either. Draws outside a model's domain (Gamma-Gamma q ≤ 1: no
finite mean spend; BG/NBD a within 1e-9 of 1, where its formulas divide by a − 1) are redrawn: the normal is
truncated to the domain. With K = 200 each end of a 90% interval carries a Monte Carlo error of about 0.15 σ (σ:
the sd of the total; sd of a 5% quantile ≈ √(0.05·0.95/K)/φ(1.645)), i.e. ~9% of the half-width.

How it is computed fast (K = 200 draws of a 1M-customer base take a few seconds: bench/uncertainty.py). A
customer with frequency x, recency t_x, age T, mean repeat value m̄ and margin rate μ has CLV = μ·P·F·(c₁ + c₂·x·m̄):
P = P(alive | x, t_x, T); F(x, T) = Σ_m δᵐ·(E[Y(t_m) | alive] − E[Y(t_{m−1}) | alive]), customer_clv's discounted
month sum; Gamma-Gamma's expected spend p(γ + x·m̄)/(p·x + q − 1) split as c₁(x) = p·γ/(p·x + q − 1) and c₂(x) =
p/(p·x + q − 1). So a total over customer weights w is Q = Σ_c F(c)·G(c) over cells c = distinct (x, T), with
G(c) = Σ over the cell's patterns (distinct (x, t_x, T)) of P·(c₁·W + c₂·S), W = Σ w·μ and S = Σ w·μ·x·m̄ over the
pattern's customers (summed once). Everything is exact with the fitted parameters (k = 0: the point estimates are
customer_clv's). For a draw k,

    Q_k = Q_0 · R^G_k · R^F_k,   R^G_k = Σ_c F_0·G_k / Σ_c F_0·G_0,   R^F_k = Σ_c F_k·G_k / Σ_c F_0·G_k,

R^G being the change due to P(alive) and spend (month sums held at the fit's), R^F the one due to the month sums.
Each is a ratio of totals that parameter changes move smoothly and alike across customers, and is estimated on a
fixed sample: R^G on PATTERNS patterns, R^F on CELLS cells (F_k and G_k computed exactly there), per fit group and
total, drawn by systematic sampling with probability ∝ the unit's contribution to Q_0, along units in serpentine
(x, T) order (an implicit stratification over frequency and age), with Horvitz-Thompson weights; the samples' error
comes only from how the draw/point ratio varies across units. The same samples serve every draw (common random
numbers: the draws differ by their parameters, not by their sample), and a total with no more units than the
sample size is summed exactly. On simulated bases (bench/uncertainty.py --exact, tests/test_uncertainty.py) the
sampled draws were within 1–2% of the draws' sd of the exact bootstrap's, small beside K's own 0.15 σ.

The month sums of the draws use 6 evaluations per cell instead of one per month: E is smooth in σ = ln(1 + t/(α̂ +
T)), so the sum of its values at the month ends is that of its interpolant at Chebyshev points (`_month_rule`;
checked against the exact sums with the fitted parameters, more points where that check fails). The at-risk counts
are exact: a draw is evaluated only on the patterns whose odds it could move across the threshold (`_at_risk`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpis.clv.bgnbd import NAMES as BG_NAMES
from kpis.clv.bgnbd import BetaGeo, expected_if_alive
from kpis.clv.common import ModelError, as_array, check_rfm, distinct, unique_rows
from kpis.clv.gammagamma import NAMES as GG_NAMES
from kpis.clv.gammagamma import GammaGamma
from kpis.clv.value import month_ends

DRAWS = 200  # parameter sets per fit group
CELLS = 200  # cells (distinct (x, T)) per fit group and total whose month sums are recomputed per draw
PATTERNS = 20_000  # patterns (distinct (x, t_x, T)) per fit group and total whose P(alive), spend are redrawn
TOTALS = ("equity", "mean_clv", "at_risk", "at_risk_revenue")  # the named totals besides the subsets
RULE_NODES, RULE_TOLERANCE = 6, 1e-6  # month sums of the draws: nodes per cell, and their check (_month_rule)
_DRAW_BLOCK = 25  # draws whose month sums are evaluated together (memory: block × cells × months)


@dataclass(frozen=True)
class Draws:
    """Named totals with the fitted parameters (`point`) and with each parameter draw (`draws`: arrays of K),
    and the draws' parameters per fit group (`parameters`: K × NAMES arrays for BG/NBD, then Gamma-Gamma).

    Names: "equity" (Σ CLV), "mean_clv" (equity ÷ customers), "at_risk" (customers with P(alive) below the
    threshold), "at_risk_revenue" (Σ of their revenue, when a revenue was given), and one Σ CLV per subset.
    Draw k of every total uses the same parameters, so functions of several totals have their draws too.
    """

    point: dict[str, float]
    draws: dict[str, np.ndarray]
    parameters: dict[str, tuple[np.ndarray, np.ndarray]]

    def interval(self, name: str, level: float = 0.9) -> tuple[float, float]:
        """The percentile interval of a total: the (1 − level)/2 and (1 + level)/2 quantiles of its draws."""
        if not 0 < level < 1:
            raise ValueError("level must be in (0, 1)")
        low, high = np.quantile(self.draws[name], [(1 - level) / 2, (1 + level) / 2])
        return float(low), float(high)

    def frame(self, level: float = 0.9) -> pd.DataFrame:
        """One row per total: point, low, high."""
        rows = {name: (self.point[name], *self.interval(name, level)) for name in self.point}
        return pd.DataFrame.from_dict(rows, orient="index", columns=["point", "low", "high"])


def draw_values(
    fits: dict[str, tuple[BetaGeo, GammaGamma]], customers: pd.DataFrame, margin_rate, observation_end,
    horizon_months: int = 36, annual_discount: float = 0.10, draws: int = DRAWS, seed: int = 0, at_risk=None,
    revenue=None, subsets: dict | None = None, weights=None, at_risk_below: float = 0.5, time_unit: str = "W",
    cells: int | None = CELLS, patterns: int | None = PATTERNS,
) -> Draws:
    """Totals over `customers` with the fitted parameters and with `draws` parameter sets per fit group.

    `customers` has columns fit_group (a key of `fits`), frequency, recency, T and monetary_value (model.py's
    scores). `margin_rate`, `observation_end`, `horizon_months`, `annual_discount` and `time_unit` mean what they
    mean for customer_clv. Per customer, given as an array in the frame's order or as a column name: `weights`
    (customers the row stands for; 1 by default), `at_risk` (booleans: who may count as at risk; everyone by
    default) and `revenue` (summed over the customers at risk), and `subsets`, {name: booleans}, each giving a
    Σ CLV (e.g. the period's new customers, for the value of a new customer). The at-risk ones are those with
    P(alive) < `at_risk_below`. `seed` makes the draws reproducible (each group's come from (seed, group name));
    `cells` and `patterns`: the sample sizes (module docstring); None for all of them: the exact bootstrap
    (to the month-sum rules' 1e-6).
    """
    subsets = dict(subsets or {})
    if clash := [n for n in subsets if n in TOTALS]:
        raise ModelError(f"subset names {clash} are taken by the totals {TOTALS}")
    if not isinstance(draws, int | np.integer) or draws < 2:
        raise ModelError("draws must be a whole number ≥ 2")
    if (cells is not None and cells < 1) or (patterns is not None and patterns < 1):
        raise ModelError("cells and patterns must be ≥ 1 (or None for all of them)")
    if not isinstance(horizon_months, int | np.integer) or horizon_months < 1:
        raise ModelError("horizon_months must be a whole number ≥ 1")
    if not (np.isfinite(annual_discount) and annual_discount > -1):
        raise ModelError("annual_discount must be a rate > −100%")
    if not 0 < at_risk_below <= 1:
        raise ModelError("at_risk_below must be a probability in (0, 1]")
    n = len(customers)
    x, tx, t, w = check_rfm(customers["frequency"], customers["recency"], customers["T"],
                            _column(customers, weights, "weights"))
    spend = x * as_array("monetary_value", customers["monetary_value"], n)  # x·m̄
    margin = (margin_rate.reindex(customers.index) if isinstance(margin_rate, pd.Series)
              else np.broadcast_to(np.asarray(margin_rate, dtype=float), (n,)))
    margin = np.asarray(margin, dtype=float)
    if not np.all((margin >= 0) & (margin <= 1)):
        raise ModelError("margin_rate must be a rate in [0, 1] for every customer")
    masks = [np.ones(n, dtype=bool)] + [_column(customers, s, f"subset {name}", bool) for name, s in subsets.items()]
    mass = (w * margin)[:, None] * np.column_stack(masks)  # per customer and CLV total: w·μ
    eligible = np.ones(n) if at_risk is None else _column(customers, at_risk, "at_risk", bool).astype(float)
    risk = [w * eligible]
    if revenue is not None:
        risk.append(w * eligible * as_array("revenue", _column(customers, revenue, "revenue"), n))
    risk = np.column_stack(risk)

    bounds = np.concatenate([[0.0], month_ends(observation_end, horizon_months, time_unit)])
    discount = (1 + annual_discount) ** (-np.arange(1, horizon_months + 1) / 12)  # (1 + d)^−m
    groups = customers["fit_group"].to_numpy()
    if missing := sorted(set(map(str, pd.unique(groups))) - set(fits)):
        raise ModelError(f"no fit for the groups {missing}")
    point, sums = np.zeros(mass.shape[1] + risk.shape[1]), np.zeros((draws, mass.shape[1] + risk.shape[1]))
    parameters = {}
    codes, names = distinct(groups)
    for g in sorted(range(names.size), key=lambda i: str(names[i])):  # fixed order: the same sums for a seed
        rows = codes == g
        bg, gg = fits[str(names[g])]
        key = zlib.crc32(str(names[g]).encode())
        rng = np.random.default_rng([seed, key])
        bg_draws = _draw(rng, bg, BG_NAMES, draws, lambda p: np.abs(p[:, 2] - 1) > 1e-9)
        gg_draws = _draw(rng, gg, GG_NAMES, draws, lambda p: p[:, 1] > 1)
        group = _Group(x[rows], tx[rows], t[rows], spend[rows], mass[rows], risk[rows], bounds, discount, bg, gg,
                       at_risk_below)
        group.sample(cells, patterns, np.random.default_rng([seed, key, 1]))
        p, d = group.totals(bg_draws, gg_draws)
        parameters[str(names[g])] = bg_draws, gg_draws
        point += p
        sums += d

    k = mass.shape[1]
    named = {"equity": 0, **{name: j for j, name in enumerate(subsets, start=1)}}
    point_totals = {name: point[j] for name, j in named.items()}
    draw_totals = {name: sums[:, j] for name, j in named.items()}
    customers_count = float(w.sum())
    point_totals["mean_clv"], draw_totals["mean_clv"] = point[0] / customers_count, sums[:, 0] / customers_count
    point_totals["at_risk"], draw_totals["at_risk"] = point[k], sums[:, k]
    if revenue is not None:
        point_totals["at_risk_revenue"], draw_totals["at_risk_revenue"] = point[k + 1], sums[:, k + 1]
    return Draws({n: float(v) for n, v in point_totals.items()}, draw_totals, parameters)


def _column(frame: pd.DataFrame, value, what: str, dtype=float) -> np.ndarray | None:
    """A per-customer vector given as a column name or as values in the frame's order (None stays None)."""
    if value is None:
        return None
    values = frame[value] if isinstance(value, str) else value
    values = np.asarray(values.reindex(frame.index) if isinstance(values, pd.Series) else values)
    if values.shape != (len(frame),):
        raise ModelError(f"{what} has {values.size} values, expected {len(frame)}")
    if dtype is bool and values.dtype != bool:
        raise ModelError(f"{what} must be booleans, one per customer")
    return values.astype(dtype)


def bgnbd_draws(bg: BetaGeo, group: str, draws: int = DRAWS, seed: int = 0) -> np.ndarray:
    """The BG/NBD parameter draws draw_values makes for a fit group (draws × NAMES): the same seed, the same sets."""
    rng = np.random.default_rng([seed, zlib.crc32(str(group).encode())])
    return _draw(rng, bg, BG_NAMES, draws, lambda p: np.abs(p[:, 2] - 1) > 1e-9)


def _draw(rng: np.random.Generator, model, names: tuple[str, ...], k: int, valid) -> np.ndarray:
    """k parameter sets θ̂·exp(δ), δ ~ N(0, log_covariance), redrawing those `valid` rejects (k × len(names))."""
    if model.params is None or model.log_covariance is None:
        raise ModelError(f"{model!r} has no covariance (its parameters were given, not fitted): nothing to draw")
    values, vectors = np.linalg.eigh(np.asarray(model.log_covariance, dtype=float))
    factor = vectors * np.sqrt(np.clip(values, 0, None))  # factor @ factor.T = covariance (PSD, zero allowed)
    fitted = np.array([model.params[n] for n in names])
    params = fitted * np.exp(rng.standard_normal((k, len(names))) @ factor.T)
    for _ in range(20):
        bad = ~valid(params)
        if not bad.any():
            return params
        params[bad] = fitted * np.exp(rng.standard_normal((int(bad.sum()), len(names))) @ factor.T)
    raise ModelError(f"{model!r}: too many parameter draws fall outside the model (the fit is too uncertain)")


def _month_rule(scale: np.ndarray, times: np.ndarray, weights: np.ndarray, nodes: int):
    """Per cell, `nodes` times t_n and weights β_n with Σ_n β_n·E(t_n) ≈ Σ_m weights_m·E(times_m) for smooth E.

    E[Y(t) | alive] is smooth in σ = ln(1 + t/scale), scale = α + T (its singularities lie at |Im σ| = π), so it
    is interpolated at the Chebyshev-Lobatto points of [0, σ(t_M)] (E = 0 at the first: t = 0, not evaluated) and
    the weighted sum of the interpolant taken: β = weights · (Lagrange basis at the times), by the barycentric
    formula. Rows: cells (scale), columns: nodes."""
    sigma = np.log1p(times[None, :] / scale[:, None])  # cells × months
    k = np.arange(nodes + 1)
    points = sigma[:, -1:] / 2 * (1 - np.cos(k * np.pi / nodes))  # cells × (nodes + 1), from 0 to σ(t_M)
    barycentric = (-1.0) ** k
    barycentric[[0, -1]] /= 2
    gap = sigma[:, :, None] - points[:, None, :]  # cells × months × points
    on_point = gap == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        basis = barycentric / gap
        basis /= basis.sum(axis=-1, keepdims=True)
    hit = on_point.any(axis=-1)
    basis[hit] = on_point[hit]  # a time on a point: that point's value
    beta = np.einsum("m,cmn->cn", weights, basis)
    return scale[:, None] * np.expm1(points[:, 1:]), beta[:, 1:]


def _systematic(size: np.ndarray, order: np.ndarray, n: int | None, rng: np.random.Generator):
    """(units, Horvitz-Thompson weights) of a systematic sample of n units along `order`, with probability ∝ size
    (units of size 0 never drawn); every unit of positive size, weight 1, when n is None or not smaller."""
    units = order[size[order] > 0]
    if n is None or units.size <= n:
        return units, np.ones(units.size)
    v = size[units]
    cumulative = np.cumsum(v)
    step = cumulative[-1] / n
    start = step * (1 - rng.random())  # in (0, step]: the first of n points step apart
    hits = np.diff(np.floor((cumulative - start) / step) + 1, prepend=0.0)  # points falling in each unit
    keep = hits > 0
    return units[keep], hits[keep] * step / v[keep]


class _Group:
    """One fit group's customers as patterns (x, t_x, T) and cells (x, T); see the module's docstring."""

    def __init__(self, x, tx, t, spend, mass, risk, bounds, discount, bg: BetaGeo, gg: GammaGamma, below: float):
        (px, ptx, pt), inverse, _ = unique_rows(x, tx, t)
        size = px.size
        self.w = np.column_stack([np.bincount(inverse, weights=c, minlength=size) for c in mass.T])  # W per total
        self.s = np.column_stack([np.bincount(inverse, weights=c * spend, minlength=size) for c in mass.T])  # S
        risk = np.column_stack([np.bincount(inverse, weights=c, minlength=size) for c in risk.T])
        self.ix, self.ux = distinct(px)
        self.it, self.ut = distinct(pt)
        self.itx, self.utx = distinct(ptx)
        (self.cx, self.ct), self.cell, _ = unique_rows(px, pt)
        # patterns and cells in serpentine order: by x, then by T ascending for every other x, descending between
        odd = np.unique(px, return_inverse=True)[1] % 2 == 1
        self.order = np.lexsort((ptx, np.where(odd, -pt, pt), px))
        odd = np.unique(self.cx, return_inverse=True)[1] % 2 == 1
        self.cell_order = np.lexsort((np.where(odd, -self.ct, self.ct), self.cx))
        self.bounds, self.discount, self.below = bounds, discount, below
        self.fitted = (np.array([bg.params[k] for k in BG_NAMES]), np.array([gg.params[k] for k in GG_NAMES]))
        # the point: month sums on every cell with the fitted parameters, computed as customer_clv computes them
        cumulative = bg.expected_purchases_if_alive(bounds[None, :], self.cx[:, None], self.ct[:, None])
        self.f0 = np.diff(cumulative, axis=1) @ discount
        everyone = np.arange(size)
        log_odds, c1, c2 = self._evaluate(*(p[None, :] for p in self.fitted), everyone)
        self.contribution = self.f0[self.cell, None] * (c1.T * self.w + c2.T * self.s)  # F_0·P_0·(c₁W + c₂S)
        self.q0 = self.contribution.sum(axis=0)
        eligible = np.nonzero((px > 0) & risk.any(axis=1))[0]  # P(alive) = 1 without a repeat purchase
        self.eligible, self.risk, self.log_odds0 = eligible, risk[eligible], log_odds[0, eligible]
        self.at_risk0 = self._alive(self.log_odds0) < below

    def _tables(self, bg_params: np.ndarray, gg_params: np.ndarray):
        """Per parameter set (rows): the per-x, per-T and per-t_x pieces of ln odds(dead) and of c₁, c₂."""
        r, alpha, a, b = (c[:, None] for c in bg_params.T)
        p, q, gamma = (c[:, None] for c in gg_params.T)
        ux = self.ux[None, :]
        head = np.log(a) - np.log(np.maximum(b + ux - 1, np.finfo(float).tiny))
        head[:, self.ux == 0] = -np.inf  # nobody drops out before a repeat purchase: P(alive) = 1
        denominator = p * ux + q - 1
        return head, r + ux, np.log(alpha + self.ut), np.log(alpha + self.utx), p * gamma / denominator, p / denominator

    @staticmethod
    def _alive(log_odds: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return 1 / (1 + np.exp(log_odds))

    def _evaluate(self, bg_params, gg_params, rows: np.ndarray):
        """ln odds(dead), P(alive)·c₁ and P(alive)·c₂ of the patterns `rows` per parameter set (sets × rows)."""
        head, rx, log_t, log_tx, c1, c2 = self._tables(bg_params, gg_params)
        ix = self.ix[rows]
        log_odds = head[:, ix] + rx[:, ix] * (log_t[:, self.it[rows]] - log_tx[:, self.itx[rows]])
        alive = self._alive(log_odds)
        return log_odds, alive * c1[:, ix], alive * c2[:, ix]

    def sample(self, cells: int | None, patterns: int | None, rng: np.random.Generator) -> None:
        """Each CLV total's samples: cells ∝ F_0·G_0 and patterns ∝ their F_0·P_0·(c₁W + c₂S)."""
        totals = self.w.shape[1]
        cell_size = np.column_stack([np.bincount(self.cell, weights=self.contribution[:, j], minlength=self.cx.size)
                                     for j in range(totals)])
        by_cell = [_systematic(cell_size[:, j], self.cell_order, cells, rng) for j in range(totals)]
        by_pattern = [_systematic(self.contribution[:, j], self.order, patterns, rng) for j in range(totals)]
        self.chosen = np.unique(np.concatenate([c for c, _ in by_cell]))
        self.cell_weights = np.zeros((self.chosen.size, totals))
        for j, (c, weight) in enumerate(by_cell):
            self.cell_weights[np.searchsorted(self.chosen, c), j] = weight
        in_chosen = np.isin(self.cell, self.chosen)
        members = np.nonzero(in_chosen)[0]
        members = members[np.argsort(self.cell[members], kind="stable")]  # grouped by cell, cells in chosen order
        self.cell_starts = np.searchsorted(self.cell[members], self.chosen)
        self.member_w, self.member_s = self.w[members], self.s[members]
        # every pattern a draw is evaluated on: the chosen cells' and the sampled ones
        self.rows, position = np.unique(np.concatenate([members, *(p for p, _ in by_pattern)]), return_inverse=True)
        self.member_at = position[:members.size]
        self.pattern_at, self.pattern_terms, self.pattern_point = [], [], []
        offset = members.size
        for j, (p, weight) in enumerate(by_pattern):
            self.pattern_at.append(position[offset:offset + p.size])
            offset += p.size
            f = weight * self.f0[self.cell[p]]
            self.pattern_terms.append((f * self.w[p, j], f * self.s[p, j]))
            self.pattern_point.append(weight @ self.contribution[p, j])  # the sample's estimate of Q_0
        self._rule()

    def _rule(self) -> None:
        """The chosen cells' month-sum rules: RULE_NODES nodes, two more until the rule gives the fitted month sums
        to within RULE_TOLERANCE (the month bounds themselves once that is no fewer evaluations)."""
        times, cells = self.bounds[1:], self.chosen.size
        weights = self.discount - np.append(self.discount[1:], 0.0)  # F = Σ_m (δ^m − δ^(m+1))·E[Y(t_m)]
        scale, exact = self.fitted[0][1] + self.ct[self.chosen], self.f0[self.chosen]
        nodes = RULE_NODES
        while nodes < times.size:
            self.nodes, self.node_weights = _month_rule(scale, times, weights, nodes)
            self.f0_chosen = self._month_sums(self.fitted[0][None, :])[0]
            if np.all(np.abs(self.f0_chosen - exact) <= RULE_TOLERANCE * exact):
                return
            nodes += 2
        self.nodes, self.node_weights = np.tile(times, (cells, 1)), np.tile(weights, (cells, 1))
        self.f0_chosen = self._month_sums(self.fitted[0][None, :])[0]

    def _month_sums(self, bg_params: np.ndarray) -> np.ndarray:
        """F on the chosen cells for each parameter set (rows of bg_params) by their rules: sets × chosen cells."""
        x, t = self.cx[self.chosen][None, :, None], self.ct[self.chosen][None, :, None]
        r, alpha, a, b = (c[:, None, None] for c in bg_params.T)
        return np.sum(expected_if_alive(r, alpha, a, b, self.nodes[None], x, t) * self.node_weights[None], axis=-1)

    def totals(self, bg_draws: np.ndarray, gg_draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point totals, draws × totals): the CLV totals, then the at-risk ones."""
        clv = np.concatenate([self._clv(bg_draws[k:k + _DRAW_BLOCK], gg_draws[k:k + _DRAW_BLOCK])
                              for k in range(0, bg_draws.shape[0], _DRAW_BLOCK)])
        point = np.concatenate([self.q0, self.at_risk0 @ self.risk])
        return point, np.column_stack([clv, self._at_risk(bg_draws, gg_draws)])

    def _clv(self, bg_params, gg_params) -> np.ndarray:
        """CLV totals per parameter set: Q_0 × R^G × R^F (module docstring), sets × totals."""
        _, c1, c2 = self._evaluate(bg_params, gg_params, self.rows)
        f0, fk = self.f0_chosen, self._month_sums(bg_params)
        m1, m2 = c1[:, self.member_at], c2[:, self.member_at]
        out = np.empty((bg_params.shape[0], self.w.shape[1]))
        for j in range(self.w.shape[1]):
            at, (a, b) = self.pattern_at[j], self.pattern_terms[j]
            change_g = (c1[:, at] @ a + c2[:, at] @ b) / self.pattern_point[j]  # R^G: Σ F_0·G_k / Σ F_0·G_0
            g = np.add.reduceat(m1 * self.member_w[:, j] + m2 * self.member_s[:, j], self.cell_starts, axis=1)
            g *= self.cell_weights[:, j]
            numerator, denominator = (fk * g).sum(axis=1), g @ f0
            change_f = np.divide(numerator, denominator, out=np.ones_like(numerator), where=denominator > 0)
            out[:, j] = self.q0[j] * change_g * change_f if self.q0[j] > 0 else 0.0
        return out

    def _at_risk(self, bg_draws, gg_draws) -> np.ndarray:
        """At-risk totals per draw, exact: only the patterns whose ln odds could cross the threshold are evaluated.

        ln odds = h(x) + (r + x)·s with h = ln a − ln(b + x − 1) and s = ln(α + T) − ln(α + t_x); so a draw moves it
        by at most |Δh(x)| + |Δr|·(s_0 + |Δs|) + (r_0 + x)·|Δs|, |Δs| ≤ D(T) + D(t_x), D(u) = |Δ ln(α + u)|, all
        maxima over the draws. A pattern farther than that from the threshold keeps its point status."""
        if self.eligible.size == 0:
            return np.zeros((bg_draws.shape[0], self.risk.shape[1]))
        head, rx, log_t, log_tx, _, _ = self._tables(bg_draws, gg_draws)
        head0, rx0, log_t0, log_tx0, _, _ = self._tables(*(p[None, :] for p in self.fitted))
        finite = self.ux > 0
        dh = np.zeros(self.ux.size)
        dh[finite] = np.max(np.abs(head[:, finite] - head0[:, finite]), axis=0)
        dr = np.max(np.abs(rx[:, 0] - rx0[0, 0]))
        d_t, d_tx = np.max(np.abs(log_t - log_t0), axis=0), np.max(np.abs(log_tx - log_tx0), axis=0)
        e = self.eligible
        ix, s0 = self.ix[e], log_t0[0, self.it[e]] - log_tx0[0, self.itx[e]]
        ds = d_t[self.it[e]] + d_tx[self.itx[e]]
        reach = dh[ix] + dr * (s0 + ds) + rx0[0, ix] * ds
        reach += 1e-9 * (1 + np.abs(head0[0, ix]) + rx0[0, ix] * s0 + reach)  # room for rounding
        threshold = np.log(1 / self.below - 1) if self.below < 1 else np.inf
        near = np.nonzero(np.abs(self.log_odds0 - threshold) <= reach)[0] if self.below < 1 else np.arange(e.size)
        fixed = np.delete(self.at_risk0, near) @ np.delete(self.risk, near, axis=0)
        out = np.empty((bg_draws.shape[0], self.risk.shape[1]))
        for k in range(0, bg_draws.shape[0], _DRAW_BLOCK):
            log_odds, _, _ = self._evaluate(bg_draws[k:k + _DRAW_BLOCK], gg_draws[k:k + _DRAW_BLOCK], e[near])
            out[k:k + _DRAW_BLOCK] = fixed + (self._alive(log_odds) < self.below) @ self.risk[near]
        return out
