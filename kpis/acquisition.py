"""How many customers will be acquired: new customers per month forecast by a log-linear regression whose trend is
damped, with prediction intervals and a holdout check.

Model. ln N_t = β₀ + β₁·t + Σ_{k=Feb…Dec} γ_k·[month of t = k] + ε_t, ε_t independent N(0, σ²), t = 0 … n − 1 the
months of the history: a multiplicative trend with month-of-year seasonality, i.e. a linear regression with a trend
and seasonal dummies (Hyndman & Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed., 2021, §7.4) on the
log of the counts, fitted by least squares (numpy.linalg.lstsq) on the last MAX_MONTHS months at most (the recent
growth, not a decade-old one) and MIN_MONTHS at least (every month of the year seen twice: 13 parameters, 11 degrees
of freedom left). Every month needs a customer (ln 0): a segment with empty months is refused.

Extrapolation. A linear trend in ln N compounds for ever: ten years of a growth of 20 % a year multiply acquisitions
by e² ≈ 7.4, from a growth seen over a few years. So the trend is damped (FPP §8.2, Gardner & McKenzie, "Forecasting
trends in time series", Management Science 31(10), 1985): h months after the history's last month the trend term is
β₁·(t_n + φ + φ² + … + φ^h) = β₁·(t_n + φ(1 − φ^h)/(1 − φ)), with φ = DAMPING = 0.98 a month — each month's growth
is 98 % of the month before's, half of it is gone after 34 months (ln ½ / ln 0.98), and all the growth still to come,
over any horizon, is at most φ/(1 − φ) = 49 months of today's (a decline is damped alike). φ is a stated choice, not
estimated (a few years of history cannot tell how fast growth fades): the upper end of the range FPP restricts an
estimated φ to (0.8–0.98, closer to 1 being indistinguishable from no damping), the least damping it allows.
Seasonality goes on unchanged.

Intervals. With x_h the design row of future month h (its trend term damped as above) the log count has the classical
prediction interval x_h'β̂ ± t_{n−p}·s·√(1 + x_h'(XᵀX)⁻¹x_h), s² the residual variance, p = 13; its bounds are
exponentiated, and the point is the lognormal mean exp(x_h'β̂ + s²/2). Paths (for sums over months) come from the
same model's predictive distribution under the flat prior (Gelman et al., "Bayesian Data Analysis", 3rd ed., 2013,
§14.2): σ² ~ (n − p)s²/χ²_{n−p}, β | σ² ~ N(β̂, σ²(XᵀX)⁻¹), ε_h ~ N(0, σ²) month by month, whose marginal quantiles are
the classical intervals. Assumed: residuals independent and of constant variance on the log scale; the damping is
taken as known (its own uncertainty is not in the intervals); nothing the history does not show (a new channel, a
budget cut) is forecast.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from i18n import N_, _, formats
from kpis.database import KPIError
from kpis.periods import add_months

DAMPING = 0.98  # φ per month (module docstring)
MIN_MONTHS = 24  # history needed to fit: every month of the year twice
MAX_MONTHS = 60  # history used at most: the last five years
HOLDOUT_MONTHS = 12
LEVEL = 0.9
PATHS = 2_000  # predictive paths of a forecast's sums
_DESCRIPTION = N_("log-linear regression of new customers per month on a linear trend and month-of-year dummies, its "
                  "trend damped by φ = {damping} a month beyond the history")


def description() -> str:
    """The model in words, in the current language (the valuation's assumptions)."""
    return _(_DESCRIPTION).format(damping=formats.number(DAMPING, 2))


def too_little_history(months: int) -> str:
    """Why a fit is refused: fewer than MIN_MONTHS months."""
    return _("too little history to fit acquisition: {months} months, {needed} needed").format(months=months,
                                                                                               needed=MIN_MONTHS)


def too_little_for_holdout(months: int, held: int = HOLDOUT_MONTHS) -> str:
    """Why a holdout check is refused: fewer than MIN_MONTHS months before the `held` ones."""
    return _("too little history for a holdout check: {months} months, {needed} + {held} needed").format(
        months=months, needed=MIN_MONTHS, held=held)


@dataclass(frozen=True)
class AcquisitionModel:
    """The fitted regression (module docstring): history months (first days), counts, β̂, (XᵀX)⁻¹, s²."""

    months: tuple[date, ...]
    counts: np.ndarray
    coefficients: np.ndarray
    inverse: np.ndarray
    variance: float
    damping: float = DAMPING

    @property
    def dof(self) -> int:
        return len(self.counts) - len(self.coefficients)

    @property
    def monthly_growth(self) -> float:
        """β₁: the history's trend, in log points a month."""
        return float(self.coefficients[1])

    def future_months(self, horizon: int) -> list[date]:
        return [add_months(self.months[-1], h) for h in range(1, horizon + 1)]

    def future_design(self, horizon: int) -> np.ndarray:
        """Design rows of the `horizon` months after the history, their trend damped."""
        h = np.arange(1, horizon + 1)
        phi = self.damping
        ahead = h if phi == 1 else phi * (1 - phi ** h) / (1 - phi)
        return design(len(self.months) - 1 + ahead, [m.month for m in self.future_months(horizon)], len(self.months))

    def fitted(self) -> pd.DataFrame:
        """The history: month, actual, fitted (the lognormal mean of each month)."""
        x = design(np.arange(len(self.months)), [m.month for m in self.months], len(self.months))
        return pd.DataFrame({"month": list(self.months), "actual": self.counts,
                             "fitted": np.exp(x @ self.coefficients + self.variance / 2)})

    def forecast(self, horizon: int, level: float = LEVEL) -> pd.DataFrame:
        """month, forecast (lognormal mean), low, high (prediction interval at `level`) for each future month."""
        x = self.future_design(horizon)
        centre = x @ self.coefficients
        spread = np.sqrt(self.variance * (1 + np.einsum("ij,jk,ik->i", x, self.inverse, x)))
        z = stats.t.ppf((1 + level) / 2, self.dof)
        return pd.DataFrame({"month": self.future_months(horizon), "forecast": np.exp(centre + self.variance / 2),
                             "low": np.exp(centre - z * spread), "high": np.exp(centre + z * spread)})

    def paths(self, horizon: int, draws: int = PATHS, seed=0) -> np.ndarray:
        """draws × horizon predictive paths of the monthly counts (module docstring)."""
        rng = np.random.default_rng(seed)
        x = self.future_design(horizon)
        sigma2 = self.dof * self.variance / rng.chisquare(self.dof, draws)
        factor = np.linalg.cholesky(self.inverse)
        beta = self.coefficients + np.sqrt(sigma2)[:, None] * (rng.standard_normal((draws, x.shape[1])) @ factor.T)
        noise = np.sqrt(sigma2)[:, None] * rng.standard_normal((draws, horizon))
        return np.exp(beta @ x.T + noise)


def design(trend: np.ndarray, calendar_months, n: int) -> np.ndarray:
    """Rows [1, t − (n − 1)/2, [month = Feb], …, [month = Dec]] (the trend centred on the history's middle)."""
    trend = np.asarray(trend, dtype=float)
    dummies = np.asarray(calendar_months)[:, None] == np.arange(2, 13)[None, :]
    return np.column_stack([np.ones(trend.size), trend - (n - 1) / 2, dummies.astype(float)])


def fit(months, counts, damping: float = DAMPING) -> AcquisitionModel:
    """Fit on consecutive months (first days) and their new-customer counts (the last MAX_MONTHS at most)."""
    months, counts = list(months)[-MAX_MONTHS:], np.asarray(counts, dtype=float)[-MAX_MONTHS:]
    if len(months) != len(counts):
        raise KPIError("one count per month is needed")
    if len(months) < MIN_MONTHS:
        raise KPIError(too_little_history(len(months)))
    if any(add_months(a, 1) != b for a, b in zip(months, months[1:], strict=False)):
        raise KPIError("acquisition months must be consecutive")
    if np.any(counts <= 0):
        empty = [f"{m:%Y-%m}" for m, c in zip(months, counts, strict=True) if c <= 0]
        raise KPIError(_("no new customer in {months}: the log-linear acquisition model needs at least one a month "
                         "(choose a larger segment)").format(months=", ".join(empty[:6]) + (" …" if len(empty) > 6
                                                                                          else "")))
    if not 0 < damping <= 1:
        raise KPIError("the damping must be in (0, 1]")
    x = design(np.arange(len(months)), [m.month for m in months], len(months))
    y = np.log(counts)
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    residuals = y - x @ beta
    dof = len(y) - x.shape[1]
    return AcquisitionModel(tuple(months), counts, beta, np.linalg.inv(x.T @ x), float(residuals @ residuals / dof),
                            damping)


def combined(models: dict[str, AcquisitionModel], horizon: int, level: float = LEVEL, draws: int = PATHS,
             seed: int = 0) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The sum of independent series (one per acquisition channel): month, forecast (Σ of the lognormal means), low,
    high (quantiles of the summed paths, at `level`); and each series' paths (draws × horizon, seeded by its name)."""
    paths = {name: m.paths(horizon, draws, seed=[seed, zlib.crc32(name.encode())]) for name, m in models.items()}
    total = sum(paths.values())
    low, high = np.quantile(total, [(1 - level) / 2, (1 + level) / 2], axis=0)
    first = next(iter(models.values()))
    frame = pd.DataFrame({"month": first.future_months(horizon),
                          "forecast": sum(m.forecast(horizon, level)["forecast"].to_numpy() for m in models.values()),
                          "low": low, "high": high})
    return frame, paths


def holdout(months, counts: dict[str, np.ndarray], held: int = HOLDOUT_MONTHS, level: float = LEVEL,
            seed: int = 0) -> pd.DataFrame:
    """The last `held` months forecast from fits of each series on the months before: month, actual, forecast, low,
    high (combined), within. attrs: actual, forecast, low, high and within for the held-out months' total."""
    months = list(months)
    if len(months) - held < MIN_MONTHS:
        raise KPIError(too_little_for_holdout(len(months), held))
    models = {name: fit(months[:-held], np.asarray(c, dtype=float)[:-held]) for name, c in counts.items()}
    frame, paths = combined(models, held, level, seed=seed)
    actual = sum(np.asarray(c, dtype=float)[-held:] for c in counts.values())
    frame.insert(1, "actual", actual)
    frame["within"] = (frame["low"] <= frame["actual"]) & (frame["actual"] <= frame["high"])
    low, high = np.quantile(sum(paths.values()).sum(axis=1), [(1 - level) / 2, (1 + level) / 2])
    total = float(actual.sum())
    frame.attrs.update(actual=total, forecast=float(frame["forecast"].sum()), low=float(low), high=float(high),
                       within=bool(low <= total <= high), calibration_months=len(months) - held)
    return frame
