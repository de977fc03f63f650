"""BG/NBD: how many purchases a customer will make, and the probability that they are still a customer."""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from i18n import N_
from kpis.clv.common import ModelError, check_rfm, compress, distinct, maximise, objective, warm_start

NAMES = ("r", "alpha", "a", "b")


class BetaGeo:
    """The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

    Reference: P. S. Fader, B. G. S. Hardie, K. L. Lee, "'Counting your customers' the easy way: an alternative
    to the Pareto/NBD model", Marketing Science 24(2), 2005, 275–284; their notes "Computing P(alive) using the
    BG/NBD model" and "Overcoming the BG/NBD model's #NUM! error problem" (brucehardie.com), the latter for the
    log-space likelihood used here.

    Assumptions (per customer, time measured from their first purchase):

    1. While alive, a customer buys following a Poisson process of rate λ (purchases per time unit).
    2. λ varies across customers as Gamma(shape r, rate α).
    3. Right after each *repeat* purchase the customer drops out for good with probability p; nobody drops out
       before their first repeat purchase (so P(alive) = 1 for a customer with frequency 0, however long ago
       their only purchase was: a known quirk of the model).
    4. p varies across customers as Beta(a, b).
    5. λ and p are independent across customers.

    Data are lifetimes' summary per customer: frequency x = repeat purchase days, recency t_x = age at the last
    purchase, T = age at the end of observation (`kpis.clv.rfm_summary`). The likelihood of one customer is
    L = A1·A2·(A3 + [x > 0]·A4) with ln A1 = lnΓ(r+x) − lnΓ(r) + r ln α, ln A2 = ln B(a, b+x) − ln B(a, b),
    ln A3 = −(r+x) ln(α+T), ln A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x); the sum is taken with logaddexp, so
    any frequency works without overflow. The fit maximises it over (ln r, ln α, ln a, ln b) with the analytic
    gradient, on the unique (x, t_x, T) rows weighted by their number of customers.

    The Gaussian hypergeometric functions of eqs. 9–10 are evaluated after Euler's transformation,
    (1−z)^(r+x)·₂F₁(r+x, b+x; a+b+x−1; z) = (1−z)^(a−1)·₂F₁(a+b−1−r, a−1; a+b+x−1; z), whose terms stay
    moderate for large x (the untransformed product is 0·∞ there). The formulas divide by a − 1: a fit with a
    within ~1e-6 of 1 loses precision in the expectations.
    """

    def __init__(self, params: dict | None = None):
        self.params: dict[str, float] | None = None if params is None else {k: float(params[k]) for k in NAMES}
        self.log_likelihood: float | None = None
        self.standard_errors: dict[str, float] | None = None  # asymptotic, from the observed information
        self.log_covariance: np.ndarray | None = None  # of the log-parameters (NAMES order); None unless fitted
        self.customers: float | None = None

    def __repr__(self) -> str:
        shown = "unfitted" if self.params is None else ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"BetaGeo({shown})"

    def fit(self, frequency, recency, T, weights=None, *, compress_rows: bool = True) -> BetaGeo:
        """Maximum-likelihood fit; `weights` counts customers per row (compressed data)."""
        x, tx, t, w = check_rfm(frequency, recency, T, weights)
        if compress_rows:
            (x, tx, t), w = compress(x, tx, t, weights=w)
        if not np.any((x > 0) & (w > 0)):
            raise ModelError(N_("BG/NBD: no repeat buyers, so nothing tells how customers repeat and drop out"))
        if not np.any(t > 0):
            raise ModelError(N_("BG/NBD: every customer is observed for zero time"))
        total = w.sum()
        rate = np.sum(w * x) / np.sum(w * t)
        start = np.log([1.0, 1.0 / rate, 1.0, 3.0])

        data = _Data(x, tx, t, w)
        start = warm_start(_Data, (x, tx, t, w), start)
        theta, cov = maximise(objective(data), start, NAMES, "BG/NBD", total)
        self.standard_errors = dict(zip(NAMES, (np.exp(theta) * np.sqrt(np.diag(cov))).tolist(), strict=True))
        self.log_covariance = cov
        self.params = dict(zip(NAMES, np.exp(theta).tolist(), strict=True))
        self.log_likelihood = data.loglik(np.exp(theta))
        self.customers = float(total)
        return self

    def _p(self) -> tuple[float, float, float, float]:
        if self.params is None:
            raise ModelError("BG/NBD: fit the model (or give its parameters) first")
        return tuple(self.params[k] for k in NAMES)

    def loglik(self, frequency, recency, T, weights=None) -> float:
        """Total log-likelihood of the data under the current parameters."""
        x, tx, t, w = check_rfm(frequency, recency, T, weights)
        return _Data(x, tx, t, w).loglik(np.array(self._p()))

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        """P(alive at T | x, t_x, T) = 1 / (1 + [x > 0]·a/(b+x−1)·((α+T)/(α+t_x))^(r+x)); 1 when x = 0."""
        r, alpha, a, b = self._p()
        x, tx, t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
        return np.where(x > 0, expit(-log_odds), 1.0)

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[purchases in (T, T+t] | x, t_x, T] (paper, eq. 10); arguments broadcast together."""
        t, x, tx, big_t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, frequency, recency, T)))
        return self.p_alive(x, tx, big_t) * self.expected_purchases_if_alive(t, x, big_t)

    def expected_purchases_if_alive(self, t, frequency, T) -> np.ndarray:
        """E[purchases in (T, T+t] | x, T, alive at T]: eq. 10 without P(alive); it does not depend on t_x."""
        t, x, big_t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, frequency, T)))
        if np.any(t < 0):
            raise ModelError("the forecast horizon t must be ≥ 0")
        return expected_if_alive(*self._p(), t, x, big_t)

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)]: expected repeat purchases of a new customer in (0, t] (paper, eq. 9)."""
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype=float)
        if np.any(t < 0):
            raise ModelError("the forecast horizon t must be ≥ 0")
        z = t / (alpha + t)
        return (a + b - 1) / (a - 1) * (1 - np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b - 1, z))


def expected_if_alive(r, alpha, a, b, t, x, T):
    """E[purchases in (T, T+t] | x, T, alive at T] (eq. 10 after Euler's transformation, see BetaGeo); every
    argument broadcasts, the parameters too (uncertainty.py evaluates many parameter sets at once).

    Where that form overflows — large a and b, a fit running towards the limit in which every customer has the same
    dropout probability p = a/(a+b), makes (1 − z)^(a−1) underflow while the 2F1 overflows — Pfaff's transformation
    gives the same value from 2F1(r+x, a−1; a+b+x−1; −t/(α+T)), which stays finite; and where that too fails (x = 0
    and a short history with huge a, b), the limit a, b → ∞ at fixed p: (1/p)·(1 − (1 + p·t/(α+T))^−(r+x)), whose
    relative error is of order 1/(a+b). Never a NaN where the model is defined."""
    r, alpha, a, b, t, x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (r, alpha, a, b, t, x, T)))
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):
        hyp = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        out = np.array((a + b + x - 1) / (a - 1) * (1 - np.exp((a - 1) * np.log1p(-z)) * hyp), dtype=float)
        bad = ~np.isfinite(out)
        if bad.any():
            r, alpha, a, b, t, x, T = (v[bad] for v in (r, alpha, a, b, t, x, T))
            pfaff = (a + b + x - 1) / (a - 1) * (1 - hyp2f1(r + x, a - 1, a + b + x - 1, -t / (alpha + T)))
            p = a / (a + b)
            limit = (1 - (1 + p * t / (alpha + T)) ** -(r + x)) / p
            out[bad] = np.where(np.isfinite(pfaff), pfaff, limit)
    return out


class _Data:
    """Fitting data; `loglik` is the weighted log-likelihood and its gradient in (ln r, ln α, ln a, ln b).

    Per row, ln L = head(x) + ln A3 + softplus(d) with d = ln A4 − ln A3 = ln a − ln(b+x−1) − (r+x)(ln(α+t_x) −
    ln(α+T)) (d = −∞ when x = 0). Everything that depends on x alone is computed per distinct x, everything that
    depends on T or t_x alone per distinct time (a few thousand at most), and the sums of ln A3 come from
    per-time totals of the weights; only d, its softplus and its logistic are computed per row.
    """

    def __init__(self, x, tx, t, w):
        ix, self.ux = distinct(x)  # gamma functions are needed per distinct x only
        self.wx = np.bincount(ix, weights=w, minlength=self.ux.size)
        it, self.ut = distinct(t)
        self.w_t = np.bincount(it, weights=w, minlength=self.ut.size)  # Σ w per distinct T
        self.wx_t = np.bincount(it, weights=w * x, minlength=self.ut.size)  # Σ w·x per distinct T
        repeat = x > 0  # rows with A4; for the others the likelihood's last factor is A3 alone
        itx, self.utx = distinct(tx[repeat])
        self.rows = (ix[repeat], it[repeat], itx, x[repeat], w[repeat])
        self.total = float(w.sum())

    def loglik(self, params: np.ndarray, gradient: bool = False):
        r, alpha, a, b = params
        ux, wx = self.ux, self.wx
        ix, it, itx, x, w = self.rows
        b1 = np.maximum(b + ux - 1, np.finfo(float).tiny)  # b + x − 1, used for x > 0 only
        head = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux) - betaln(a, b)
        log_t, log_tx = np.log(alpha + self.ut), np.log(alpha + self.utx)
        sum_ln_a3 = -log_t @ (r * self.w_t + self.wx_t)  # Σ w·(−(r+x)·ln(α+T)) over every row
        rx = x + r  # from here on, repeat buyers' rows only
        spread = log_tx[itx] - log_t[it]  # ln(α+t_x) − ln(α+T) ≤ 0
        d = (np.log(a) - np.log(b1))[ix] - rx * spread
        e = np.exp(-np.abs(d))  # softplus(d) = ln(1 + e^d) and logistic(d) from one exponential
        ll = float(wx @ head + sum_ln_a3 + w @ (np.maximum(d, 0.0) + np.log1p(e)))
        if not gradient:
            return ll
        ws = w * np.where(d >= 0, 1.0, e) / (1.0 + e)  # weight × logistic(d): the share of A4 in A3 + A4
        inv_t, inv_tx = 1 / (alpha + self.ut), 1 / (alpha + self.utx)
        psi_abx = digamma(a + b + ux)
        d_r = wx @ (digamma(r + ux) - digamma(r) + np.log(alpha)) - log_t @ self.w_t - ws @ spread
        d_alpha = (wx.sum() * r / alpha - inv_t @ (r * self.w_t + self.wx_t)
                   + (ws * rx) @ (inv_t[it] - inv_tx[itx]))
        d_a = wx @ (digamma(a + b) - psi_abx) + ws.sum() / a
        d_b = wx @ (digamma(b + ux) - digamma(b) + digamma(a + b) - psi_abx) - ws @ (1 / b1)[ix]
        return ll, np.array([d_r, d_alpha, d_a, d_b]) * params
