"""A base's value over any horizon and discount rate, and under changed parameters, fast enough for a page.

The value is customer_clv's, summed: Σ over customers of μ·P(alive)·F(x, T)·E[spend | x, m̄], F the discounted
month sum of E[purchases | alive] over the horizon. The customers are compressed per fit group into patterns (x, t_x,
T) carrying W (customers) and S (Σ x·m̄), and cells (x, T): Gamma-Gamma's expected spend p(γ + x·m̄)/(p·x + q − 1) is
linear in m̄, so a pattern's Σ spend is c₁·W + c₂·S (as in kpis.clv.uncertainty). A 1M-customer base has ~160,000
cells; their month sums, exact, would take 120 evaluations each over ten years: instead F is summed by the Chebyshev
rule of kpis.clv.uncertainty (E is smooth in ln(1 + t/(α + T)), `_month_rule`: a few nodes per cell instead of one per
month), each rule checked against the exact month sums on a spread of cells and given more nodes until they agree to
RULE_TOLERANCE — so the totals are customer_clv's to ~1e-6. The rule depends on the discount rate only through its
weights, so the purchases at the nodes are computed once per set of BG/NBD parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpis.clv.bgnbd import NAMES as BG_NAMES
from kpis.clv.bgnbd import BetaGeo, expected_if_alive
from kpis.clv.common import unique_rows
from kpis.clv.gammagamma import GammaGamma
from kpis.clv.rfm import time_unit_days
from kpis.clv.uncertainty import RULE_NODES, RULE_TOLERANCE, _month_rule
from kpis.clv.value import month_ends

CHECK_CELLS = 200  # cells per fit group on which each rule is checked against the exact month sums


def start_nodes(months: int) -> int:
    """The rules' first number of nodes: more for long horizons (measured on demo fits: 6 suffice for 3 years, 8
    for 10, 10 for 30), so that the first rule usually passes its check."""
    return RULE_NODES + 2 * (months > 36) + 2 * (months > 180)


class Base:
    """Customers (rows of a value model's scores: fit_group, frequency, recency, T, monetary_value) as patterns and
    cells per fit group, valued as of `observation_end` (time unit: the fits')."""

    def __init__(self, customers: pd.DataFrame, observation_end, time_unit: str = "W"):
        self.observation_end, self.time_unit = observation_end, time_unit
        self.groups: dict[str, dict] = {}
        self._memo: dict = {}  # the rules, the purchases at their nodes and the checks' exact ones
        self._values: dict = {}  # (group, parameters, margin, months, rate) -> value
        for group, members in customers.groupby("fit_group", sort=True):
            x, tx, t = (members[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
            (px, ptx, pt), inverse, count = unique_rows(x, tx, t)
            spend = np.bincount(inverse, weights=x * members["monetary_value"].to_numpy(dtype=float),
                                minlength=px.size)
            (cx, ct), cell, _ = unique_rows(px, pt)
            times, it = np.unique(ct, return_inverse=True)
            self.groups[str(group)] = {"x": px, "tx": ptx, "t": pt, "w": count.astype(float), "s": spend,
                                       "cell": cell, "cx": cx, "ct": ct, "times": times, "it": it}

    @property
    def customers(self) -> float:
        return float(sum(g["w"].sum() for g in self.groups.values()))

    def values(self, fits: dict[str, tuple[BetaGeo, GammaGamma]], margin_rate: float, months: int,
               annual_discount: float) -> dict[str, float]:
        """Each fit group's total value: Σ customer_clv over `months` months at `annual_discount` a year."""
        out = {}
        for g in self.groups:
            bg, gg = fits[g]
            key = (g, tuple(bg.params.values()), tuple(gg.params.values()), margin_rate, months, annual_discount)
            if key not in self._values:
                self._values[key] = self._value(g, bg, gg, margin_rate, months, annual_discount)
            out[g] = self._values[key]
        return out

    def _value(self, group: str, bg: BetaGeo, gg: GammaGamma, margin: float, months: int, rate: float) -> float:
        data = self.groups[group]
        f = self.month_sums(group, bg, months, rate)
        p, q, _ = (gg.params[k] for k in ("p", "q", "gamma"))
        denominator = p * data["x"] + q - 1
        c1, c2 = gg.params["gamma"] * p / denominator, p / denominator
        alive = bg.p_alive(data["x"], data["tx"], data["t"])
        return float(margin * np.sum(alive * f[data["cell"]] * (c1 * data["w"] + c2 * data["s"])))

    def month_sums(self, group: str, bg: BetaGeo, months: int, rate: float) -> np.ndarray:
        """F of every cell of the group: Σ_m δ^m·(E[Y(t_m) | alive] − E[Y(t_{m−1}) | alive]), by checked rules (exact
        for a group of no more than CHECK_CELLS cells)."""
        data = self.groups[group]
        bounds = month_ends(self.observation_end, months, self.time_unit)
        discount = (1 + rate) ** (-np.arange(1, months + 1) / 12)
        weights = discount - np.append(discount[1:], 0.0)  # F = Σ_m (δ^m − δ^(m+1))·E[Y(t_m)]
        params = np.array([bg.params[k] for k in BG_NAMES])
        key = ("exact", group, tuple(params), months)
        if key not in self._memo:
            self._memo[key] = self._exact(data, bg, bounds)
        check, cumulative = self._memo[key]
        exact = np.diff(cumulative, axis=1) @ discount
        if check.size == data["cx"].size:
            return exact
        for nodes in range(start_nodes(months), months, 2):
            rule = ("rule", group, params[1], months, rate, nodes)  # depends on α only: shared by dropout variants
            if rule not in self._memo:
                self._memo[rule] = _month_rule(params[1] + data["times"], bounds, weights, nodes)
            times, beta = self._memo[rule]
            key = ("nodes", group, tuple(params), months, nodes)
            if key not in self._memo:
                cx, ct = data["cx"][:, None], data["ct"][:, None]
                self._memo[key] = expected_if_alive(*params, times[data["it"]], cx, ct)
            e = self._memo[key]
            f = np.sum(e * beta[data["it"]], axis=1)
            if np.all(np.abs(f[check] - exact) <= RULE_TOLERANCE * np.abs(exact)):
                return f
        e = expected_if_alive(*params, bounds[None, :], data["cx"][:, None], data["ct"][:, None])
        return e @ weights

    @staticmethod
    def _exact(data: dict, bg: BetaGeo, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(check cells: a spread of at most CHECK_CELLS, their E[Y(t) | alive] at 0 and the month ends)."""
        check = np.unique(np.linspace(0, data["cx"].size - 1, min(CHECK_CELLS, data["cx"].size)).astype(int))
        return check, bg.expected_purchases_if_alive(np.concatenate([[0.0], bounds])[None, :],
                                                     data["cx"][check, None], data["ct"][check, None])


def new_customer_margins(bg_params: np.ndarray, gg_params: np.ndarray, margin_rate: float, months: int,
                         time_unit: str = "W") -> tuple[np.ndarray, np.ndarray]:
    """Expected margin of a brand-new customer of a fit group, per parameter set (rows: K × BG/NBD NAMES, K ×
    Gamma-Gamma NAMES): (at acquisition (K,), in each month after it (K × months)).

    At acquisition: the first purchase, valued at the population's mean spend p·γ/(q − 1) (Gamma-Gamma models every
    purchase's value; the first is assumed to be like the others). Month m: the expected repeat purchases E[X(t_m)] −
    E[X(t_{m−1})] of a customer just acquired (BG/NBD eq. 9: the conditional expectation at x = 0, T = 0), times the
    same mean spend; months are average calendar months (365.25/12 days). All times the margin rate.
    """
    bg_params, gg_params = np.atleast_2d(bg_params), np.atleast_2d(gg_params)
    r, alpha, a, b = (c[:, None] for c in bg_params.T)
    p, q, gamma = gg_params.T
    times = np.arange(months + 1) * (365.25 / 12) / time_unit_days(time_unit)
    purchases = np.diff(expected_if_alive(r, alpha, a, b, times[None, :], 0.0, 0.0), axis=1)
    spend = margin_rate * p * gamma / (q - 1)
    return spend, spend[:, None] * purchases


def monthly_margins(customers: pd.DataFrame, fits: dict, margin_rate: float, observation_end, months: int,
                    by: str, time_unit: str = "W") -> dict:
    """Expected margin of these customers (fit_group, frequency, recency, T, expected_spend and the column `by`) in
    each of the next `months` calendar months, per value of `by` (value -> array): ValueModel.monthly_expected_margin's,
    with E[Y(t) | alive] interpolated at Chebyshev nodes in σ = ln(1 + t/(α + T)) (as `_month_rule` does) instead of
    evaluated at every month end, checked per fit group on a spread of cells against the exact values to
    RULE_TOLERANCE of their largest, more nodes until it passes."""
    bounds = month_ends(observation_end, months, time_unit)
    labels, keys = pd.factorize(customers[by], sort=True)
    total = np.zeros((keys.size, months))
    for _, rows in customers.groupby("fit_group").indices.items():
        members = customers.iloc[rows]
        bg = fits[members["fit_group"].iloc[0]][0]
        params = np.array([bg.params[k] for k in BG_NAMES])
        x, tx, t = (members[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
        (cx, ct, cl), cell, _ = unique_rows(x, t, labels[rows].astype(float))
        weight = np.bincount(cell, weights=bg.p_alive(x, tx, t) * members["expected_spend"].to_numpy(dtype=float),
                             minlength=cx.size)
        times, it = np.unique(ct, return_inverse=True)
        check = np.unique(np.linspace(0, cx.size - 1, min(CHECK_CELLS, cx.size)).astype(int))
        exact = expected_if_alive(*params, bounds[None, :], cx[check, None], ct[check, None])
        cumulative = None
        for nodes in range(start_nodes(months), months, 2):
            points, basis = _interpolation(params[1] + times, bounds, nodes)
            e = expected_if_alive(*params, points[it], cx[:, None], ct[:, None])  # cells × nodes
            near = np.einsum("cmn,cn->cm", basis[it[check]], e[check])
            if np.all(np.abs(near - exact) <= RULE_TOLERANCE * np.abs(exact).max(axis=1, keepdims=True)):
                by_time = np.zeros((keys.size, times.size, nodes))
                np.add.at(by_time, (cl.astype(int), it), weight[:, None] * e)
                cumulative = np.einsum("tmn,ktn->km", basis, by_time)
                break
        if cumulative is None:
            cumulative = np.zeros((keys.size, months))
            np.add.at(cumulative, cl.astype(int),
                      weight[:, None] * expected_if_alive(*params, bounds[None, :], cx[:, None], ct[:, None]))
        total += np.diff(cumulative, axis=1, prepend=0.0)
    return dict(zip(keys, total * margin_rate, strict=True))


def _interpolation(scale: np.ndarray, times: np.ndarray, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per scale α + T: the times of the Chebyshev-Lobatto points of σ on (0, σ(t_M)] (rows × nodes) and the
    barycentric basis (rows × times × nodes) with E(times_m) ≈ Σ_n basis_mn·E(point_n); E(0) = 0 drops the first."""
    sigma = np.log1p(times[None, :] / scale[:, None])
    k = np.arange(nodes + 1)
    points = sigma[:, -1:] / 2 * (1 - np.cos(k * np.pi / nodes))
    barycentric = (-1.0) ** k
    barycentric[[0, -1]] /= 2
    gap = sigma[:, :, None] - points[:, None, :]
    on_point = gap == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        basis = barycentric / gap
        basis /= basis.sum(axis=-1, keepdims=True)
    hit = on_point.any(axis=-1)
    basis[hit] = on_point[hit]
    return scale[:, None] * np.expm1(points[:, 1:]), basis[:, :, 1:]
