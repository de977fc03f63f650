"""Predictive CLV per customer: BG/NBD purchases × Gamma-Gamma spend × margin, discounted month by month."""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import pandas as pd

from kpis.clv.bgnbd import BetaGeo
from kpis.clv.common import ModelError, unique_rows
from kpis.clv.gammagamma import GammaGamma
from kpis.clv.rfm import as_date, time_unit_days


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, clamped to the month's last day (Jan 31 + 1 → Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_ends(observation_end, horizon_months: int, time_unit: str = "W") -> np.ndarray:
    """Times (in time units after observation_end) at which calendar months 1..horizon end."""
    start = as_date(observation_end)
    days = [(add_months(start, m) - start).days for m in range(1, horizon_months + 1)]
    return np.array(days, dtype=float) / time_unit_days(time_unit)


def customer_clv(
    bg: BetaGeo, gg: GammaGamma, summary: pd.DataFrame, margin_rate, horizon_months: int = 36,
    annual_discount: float = 0.10, time_unit: str | None = None, observation_end=None,
) -> pd.DataFrame:
    """Predictive CLV of every customer of an RFM summary over `horizon_months` calendar months.

    CLV = Σ_m (E[purchases by the end of month m] − E[… by its start]) × expected spend × margin / (1 + d)^m,
    with d = (1 + annual_discount)^(1/12) − 1 (each month's margin discounted at the month's end). Month m ends
    on the same day m calendar months after observation_end (clamped to month ends). `time_unit` and
    `observation_end` default to the summary's (set by rfm_summary) and must match the unit the BG/NBD was
    fitted in. `margin_rate` is a rate in [0, 1]: one for all, or per customer (a Series aligned on the index, or an
    array in the summary's order).
    """
    time_unit = _setting(summary, "time_unit", time_unit) or "W"
    end = _setting(summary, "observation_end", observation_end)
    if end is None:
        raise ModelError("give observation_end (the summary does not carry it)")
    if not isinstance(horizon_months, int | np.integer) or horizon_months < 1:
        raise ModelError("horizon_months must be a whole number ≥ 1")
    if not (np.isfinite(annual_discount) and annual_discount > -1):
        raise ModelError("annual_discount must be a rate > −100%")
    if isinstance(margin_rate, pd.Series):
        margin = margin_rate.reindex(summary.index).to_numpy(dtype=float)
    else:
        margin = np.broadcast_to(np.asarray(margin_rate, dtype=float), (len(summary),))
    if not np.all((margin >= 0) & (margin <= 1)):  # NaN fails too
        raise ModelError("margin_rate must be a rate in [0, 1] for every customer")

    x, tx, t = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    if np.any(tx > t) or np.any(x < 0):
        raise ModelError("invalid summary: negative frequency or recency > T")
    bounds = np.concatenate([[0.0], month_ends(end, horizon_months, time_unit)])
    discount = (1 + annual_discount) ** (-np.arange(1, horizon_months + 1) / 12)  # (1 + d)^−m

    # E[Y(t)] = P(alive) × E[Y(t) | alive]; the second factor depends on (x, T) only, shared by many customers.
    (ux, ut), inverse, _ = unique_rows(x, t)
    cumulative = bg.expected_purchases_if_alive(bounds[None, :], ux[:, None], ut[:, None])
    per_month = np.diff(cumulative, axis=1)
    factor = (per_month @ discount)[inverse]
    alive = bg.p_alive(x, tx, t)
    spend = gg.expected_spend(x, summary["monetary_value"].to_numpy(dtype=float))
    return pd.DataFrame({
        "expected_purchases_horizon": alive * cumulative[inverse, -1],
        "expected_spend": spend,
        "p_alive": alive,
        "clv": alive * factor * spend * margin,
    }, index=summary.index)


def _setting(summary: pd.DataFrame, key: str, given):
    """A setting given explicitly or carried by the summary; both must agree when both are present."""
    carried = summary.attrs.get(key)
    if given is None:
        return carried
    if carried is not None:
        same = as_date(given) == carried if key == "observation_end" else given == carried
        if not same:
            raise ModelError(f"{key} {given} differs from the summary's {carried}")
    return as_date(given) if key == "observation_end" else given
