"""Gamma-Gamma: how much a customer will spend per purchase."""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from i18n import N_
from kpis.clv.common import ModelError, as_array, compress, distinct, maximise, objective, warm_start

NAMES = ("p", "q", "gamma")
MIN_REPEAT_BUYERS = 10  # fewer repeat buyers with a positive value cannot pin down three parameters


class GammaGamma:
    """The Gamma-Gamma model of average transaction value (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

    References: P. S. Fader, B. G. S. Hardie, K. L. Lee, "RFM and CLV: using iso-value curves for customer base
    analysis", Journal of Marketing Research 42(4), 2005, 415–430; P. S. Fader, B. G. S. Hardie, "The
    Gamma-Gamma model of monetary value" (note, 2013), whose likelihood and conditional expectation are used.

    Assumptions:

    1. The values of a customer's transactions vary randomly around their own mean transaction value.
    2. Each transaction value is Gamma(shape p, rate ν); so a customer's mean value is p/ν and the average m̄ of
       x transactions is Gamma(shape p·x, rate ν·x).
    3. ν varies across customers as Gamma(shape q, rate γ); the population mean value is p·γ/(q − 1), which
       exists only when q > 1 (a fit with q ≤ 1 is refused).
    4. Spend is independent of the purchase process: the model says nothing about *how often* a customer buys,
       and pairing it with BG/NBD assumes mean value and frequency are uncorrelated across customers (check it
       before trusting CLV: a clear correlation means the pairing is wrong).

    The fit uses only customers with at least one repeat purchase and a positive mean repeat value (lifetimes'
    monetary_value, which excludes the first purchase): the others carry no information on p and are ignored.
    The marginal density of m̄ given x (ν integrated out) is maximised over (ln p, ln q, ln γ) with its analytic
    gradient, on the unique (x, m̄) rows weighted by their number of customers.
    """

    def __init__(self, params: dict | None = None):
        self.params: dict[str, float] | None = None if params is None else {k: float(params[k]) for k in NAMES}
        self.log_likelihood: float | None = None
        self.standard_errors: dict[str, float] | None = None  # asymptotic, from the observed information
        self.log_covariance: np.ndarray | None = None  # of the log-parameters (NAMES order); None unless fitted
        self.customers: float | None = None  # repeat buyers fitted on

    def __repr__(self) -> str:
        shown = "unfitted" if self.params is None else ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"GammaGamma({shown})"

    def fit(self, frequency, monetary_value, weights=None) -> GammaGamma:
        """Maximum-likelihood fit on repeat buyers with a positive monetary value (others ignored)."""
        x = as_array("frequency", frequency)
        m = as_array("monetary_value", monetary_value, x.size)
        w = np.ones(x.size) if weights is None else as_array("weights", weights, x.size)
        if np.any(x != np.round(x)):
            raise ModelError("frequency must count whole repeat purchases")
        used = (x > 0) & (m > 0) & (w > 0)
        if w[used].sum() < MIN_REPEAT_BUYERS:
            raise ModelError(N_("Gamma-Gamma: {count} repeat buyers with a positive value; at least {needed} are "
                                "needed"), count=f"{w[used].sum():g}", needed=MIN_REPEAT_BUYERS)
        (x, m), w = compress(x[used], m[used], weights=w[used])
        if np.all(m == m[0]):
            raise ModelError(N_("Gamma-Gamma: every repeat buyer has the same mean value: no spread to fit"))
        total = w.sum()
        start = np.log([1.0, 2.0, np.dot(w, m) / total])

        data = _Data(x, m, w)
        start = warm_start(_Data, (x, m, w), start)
        theta, cov = maximise(objective(data), start, NAMES, "Gamma-Gamma", total)
        self.standard_errors = dict(zip(NAMES, (np.exp(theta) * np.sqrt(np.diag(cov))).tolist(), strict=True))
        params = dict(zip(NAMES, np.exp(theta).tolist(), strict=True))
        if params["q"] <= 1:
            raise ModelError(N_("Gamma-Gamma: fitted q = {q} ≤ 1, so the mean spend is infinite: values are too "
                                "heavy-tailed for this model"), q=f"{params['q']:.3g}")
        self.params, self.log_covariance = params, cov
        self.log_likelihood = data.loglik(np.exp(theta))
        self.customers = float(total)
        return self

    def _p(self) -> tuple[float, float, float]:
        if self.params is None:
            raise ModelError("Gamma-Gamma: fit the model (or give its parameters) first")
        return tuple(self.params[k] for k in NAMES)

    @property
    def mean_spend(self) -> float:
        """Population mean transaction value p·γ/(q − 1)."""
        p, q, gamma = self._p()
        return p * gamma / (q - 1)

    def expected_spend(self, frequency, monetary_value) -> np.ndarray:
        """E[mean transaction value | x, m̄] = p(γ + x·m̄)/(p·x + q − 1); the population mean when x = 0."""
        p, q, gamma = self._p()
        x, m = np.broadcast_arrays(np.asarray(frequency, dtype=float), np.asarray(monetary_value, dtype=float))
        return p * (gamma + x * m) / (p * x + q - 1)


class _Data:
    """Fitting data; `loglik` is the weighted log-density of m̄ given x and its gradient in (ln p, ln q, ln γ)."""

    def __init__(self, x, m, w):
        self.ix, self.ux = distinct(x)  # gamma functions are needed per distinct x only
        self.m, self.w = m, w
        self.wx = np.bincount(self.ix, weights=w, minlength=self.ux.size)
        self.sum_log_m = np.bincount(self.ix, weights=w * np.log(m), minlength=self.ux.size)  # Σ w ln m̄ per x
        self.mx = m * x
        self.total = float(w.sum())

    def loglik(self, params: np.ndarray, gradient: bool = False):
        p, q, gamma = params
        ux, wx = self.ux, self.wx
        px = p * ux
        log_gm = np.log(gamma + self.mx)
        w_log_gm = np.bincount(self.ix, weights=self.w * log_gm, minlength=ux.size)  # Σ w ln(γ + m̄x) per x
        ll = (wx @ (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma) + px * np.log(ux))
              + (px - 1) @ self.sum_log_m - (px + q) @ w_log_gm)
        if not gradient:
            return float(ll)
        psi = digamma(px + q)
        d_p = ux @ (wx * (psi - digamma(px) + np.log(ux)) + self.sum_log_m - w_log_gm)
        d_q = wx @ (psi - digamma(q) + np.log(gamma)) - w_log_gm.sum()
        d_gamma = wx.sum() * q / gamma - (px + q)[self.ix] @ (self.w / (gamma + self.mx))
        return float(ll), np.array([d_p, d_q, d_gamma]) * params
