"""Customer equity from one observation end to the next, customer by customer, in parts that add up exactly.

Each customer is valued as a product of four factors (kpis.clv.value.customer_clv):

    V_i(t, θ) = P_i × A_i × S_i × g,   P = P(alive), A = Σ_m discount_m · E[purchases in month m | alive]
                                       (activity over the horizon), S = Gamma-Gamma spend, g = margin rate,

with history up to t and model parameters θ (the fits of the customer's group as of t). Between t0 < t1, with
A the customers already in the base at t0 and N those first seen in (t0, t1]:

    E1 − E0 = Σ_N V_i(t1, θ1)                          acquired                      (acquire)
            + Σ_A [V_i(t1, θ1) − V_i(t1, θ0)]          model update                  (not behaviour)
            + Σ_A [V_i(t1, θ0) − V_i(t0, θ0)]          existing customers, same model

and the last line splits over the four factors by additive LMDI (Ang 2005, "The LMDI approach to decomposition
analysis: a practical guide", Energy Policy 33; kpis.decompose.lmdi): ΔV_i = Σ_k L(V_i1, V_i0) · ln(f_k1 / f_k0).
Factors: P → retention (keep longer), A → activity (buy more often; it includes the horizon rolling forward),
S → spend (sell more), g → margin (serve at lower cost). θ0 is the fit of the customer's own group at t0 (so a
channel that grew past the size for a fit of its own is still valued by the pooled fit it had). Zeros follow lmdi's
rule, customer by customer: a value that is zero at one end hands its whole change to the factor(s) that are zero
there (split equally); zero at both ends, nothing. The parts of every customer sum to V_i(t1, θ1) − V_i(t0, θ0)
to rounding, so any segment's sum does too. Assumption: the model of each date is the one the KPIs read (stored
with the build, else fitted), so the bridge ends on the tiles' customer equity.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd

from i18n import N_
from kpis.clv.common import ModelError, unique_rows
from kpis.clv.model import (
    ANNUAL_DISCOUNT,
    HORIZON_MONTHS,
    TIME_UNIT,
    build_has,
    dashboard_observation_ends,
    observation_end_of,
    order_margin,
    value_model,
)
from kpis.clv.value import month_ends
from kpis.periods import last_complete

LEVERS = {  # part -> its label (translated where shown: kpis.bridges)
    "acquired": N_("Customers acquired"),
    "retention": N_("Retention (still active)"),
    "activity": N_("Purchase frequency"),
    "spend": N_("Spend per purchase"),
    "margin": N_("Margin rate (cost to serve)"),
    "model_update": N_("Model update (refit, not behaviour)"),
}
FACTORS = ("retention", "activity", "spend", "margin")
PARTS_SCHEMA = {"customer_id": "string", "existing": "boolean", "reference": "float64", "value": "float64",
                **dict.fromkeys(LEVERS, "float64"), "expected_margin": "float64", "realised_margin": "float64"}
# expected_margin: what the t0 model expected an existing customer's margin to be in (t0, t1]; realised_margin: what
# it was (orders of that window; 0 for customers first seen in it). Memo lines beside the bridge, not parts of it.
_lock = threading.Lock()


STORED_PARTS = "clv_parts"  # a build's bridges of the dashboard's default comparisons (store_default_parts)


@dataclass
class CustomerParts:
    """The per-customer bridge from t0 to t1, queryable in the engine (`table`) and as a frame."""

    reference_end: date
    observation_end: date
    table: ibis.Table
    db: object = field(repr=False, default=None)
    _frame: pd.DataFrame | None = field(repr=False, default=None)

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = self.db.frame(self.table.order_by("customer_id"))
        return self._frame


def activity(bg, frequency: np.ndarray, T: np.ndarray, observation_end: date, horizon_months: int = HORIZON_MONTHS,
             annual_discount: float = ANNUAL_DISCOUNT) -> np.ndarray:
    """A_i: the discounted expected purchases over the horizon if alive, month by month as customer_clv counts them."""
    bounds = np.concatenate([[0.0], month_ends(observation_end, horizon_months, TIME_UNIT)])
    discount = (1 + annual_discount) ** (-np.arange(1, horizon_months + 1) / 12)
    (ux, ut), inverse, _ = unique_rows(frequency, T)
    cumulative = bg.expected_purchases_if_alive(bounds[None, :], ux[:, None], ut[:, None])
    return (np.diff(cumulative, axis=1) @ discount)[inverse]


def lmdi_rows(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Additive LMDI customer by customer: factors (n, k) at both ends → contributions (n, k) summing to
    Π after − Π before per row (kpis.decompose.lmdi's rule for zeros)."""
    v0, v1 = before.prod(axis=1), after.prod(axis=1)
    out = np.zeros_like(before, dtype=float)
    both = (v0 > 0) & (v1 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(after[both]) - np.log(before[both])
        diff = np.log(v1[both]) - np.log(v0[both])
        weight = np.where(np.abs(diff) > 1e-12, (v1[both] - v0[both]) / diff, v0[both])
    out[both] = weight[:, None] * log_ratio
    one = (v0 > 0) != (v1 > 0)
    if one.any():
        ends = np.where((v0 == 0)[one][:, None], before[one], after[one])
        zeros = ends == 0
        out[one] = zeros * ((v1[one] - v0[one]) / zeros.sum(axis=1))[:, None]
    return out


def _factors(fits: dict, groups: np.ndarray, x, tx, t, m, margin_rate: float, end: date) -> np.ndarray:
    """(n, 4) factors P, A, S, g of customers valued with their groups' fits as of `end`."""
    out = np.empty((len(x), 4))
    out[:, 3] = margin_rate
    for g in pd.unique(groups):
        rows = groups == g
        bg, gg = fits[g]
        out[rows, 0] = bg.p_alive(x[rows], tx[rows], t[rows])
        out[rows, 1] = activity(bg, x[rows], t[rows], end)
        out[rows, 2] = gg.expected_spend(x[rows], m[rows])
    return out


def _stored_factors(scores: pd.DataFrame, margin_rate: float) -> np.ndarray:
    """(n, 4) factors of customers as their scores value them: P(alive), activity = CLV ÷ (P × S × g), spend S, g;
    activity is NaN where P × S × g is 0 (computed from the fit instead)."""
    p, s = scores["p_alive"].to_numpy(dtype=float), scores["expected_spend"].to_numpy(dtype=float)
    scale = p * s * margin_rate
    with np.errstate(divide="ignore", invalid="ignore"):
        activity = np.where(scale > 0, scores["clv"].to_numpy(dtype=float) / scale, np.nan)
    return np.column_stack([p, activity, s, np.full(len(p), margin_rate)])


def _expected_margin(fits, groups, x, tx, t, m, margin_rate, days: float) -> np.ndarray:
    """What the t0 model expected each customer's margin to be over the next `days` days (undiscounted)."""
    out = np.empty(len(x))
    horizon = days / 7.0  # TIME_UNIT weeks
    for g in pd.unique(groups):
        rows = groups == g
        bg, gg = fits[g]
        purchases = bg.p_alive(x[rows], tx[rows], t[rows]) * bg.expected_purchases_if_alive(horizon, x[rows], t[rows])
        out[rows] = purchases * gg.expected_spend(x[rows], m[rows]) * margin_rate
    return out


def customer_parts(db, reference_end: date, observation_end: date) -> CustomerParts:
    """The per-customer bridge from `reference_end` to `observation_end` (module docstring), computed once per
    database and pair of dates and registered with the engine (a table named clv_parts_<t0>_<t1>)."""
    cache = db.__dict__.setdefault("_clv_parts", {})
    key = (reference_end, observation_end)
    with _lock:
        if key not in cache:
            cache[key] = _stored(db, reference_end, observation_end) or _registered(db, reference_end, observation_end)
    return cache[key]


def default_pairs(db) -> list[tuple[date, date]]:
    """The (t0, t1) of the dashboard's default view: the last complete month against the month before and against
    the same month a year earlier."""
    if db.data_end is None:
        return []
    month = last_complete(db.data_end, "month")
    t1 = observation_end_of(db, month)
    ends = [observation_end_of(db, p) for p in (month.previous(), month.year_ago())]
    return [(t0, t1) for t0 in ends if t0 is not None and t1 is not None and t0 < t1]


def store_default_parts(db, con) -> None:
    """Compute the default view's bridges and write them into the build being made (`con`, read-write), so that a
    fresh dashboard sums them in SQL instead of valuing a million customers twice on its first page."""
    columns = ", ".join(f'"{c}" {_SQL[t]}' for c, t in PARTS_SCHEMA.items())
    con.execute(f"CREATE OR REPLACE TABLE {STORED_PARTS} (reference_end DATE, observation_end DATE, {columns})")
    stored = set(dashboard_observation_ends(db))
    for t0, t1 in default_pairs(db):
        if not {t0, t1} <= stored:
            continue
        try:
            frame = _compute(db, t0, t1)
        except ModelError:
            continue
        con.register("new_parts", frame)
        con.execute(f"INSERT INTO {STORED_PARTS} SELECT ?, ?, * FROM new_parts", [t0, t1])
        con.unregister("new_parts")


_SQL = {"string": "VARCHAR", "boolean": "BOOLEAN", "float64": "DOUBLE"}


def _stored(db, t0: date, t1: date) -> CustomerParts | None:
    if not build_has(db, STORED_PARTS):
        return None
    found = db.cursor().execute(f"SELECT count(*) FROM {STORED_PARTS} WHERE reference_end = ? AND "
                                "observation_end = ?", [t0, t1]).fetchone()[0]
    if not found:
        return None
    t = ibis.table({"reference_end": "date", "observation_end": "date", **PARTS_SCHEMA}, name=STORED_PARTS)
    table = t.filter((t.reference_end == ibis.literal(t0)) & (t.observation_end == ibis.literal(t1)))
    return CustomerParts(t0, t1, table.select(*PARTS_SCHEMA), db)


def _registered(db, t0: date, t1: date) -> CustomerParts:
    frame = _compute(db, t0, t1)
    name = f"clv_parts_{t0:%Y%m%d}_{t1:%Y%m%d}"
    db.register_frame(name, frame)
    return CustomerParts(t0, t1, ibis.table(PARTS_SCHEMA, name=name), db, frame)


def _compute(db, t0: date, t1: date) -> pd.DataFrame:
    m0, m1 = value_model(db, t0), value_model(db, t1)
    before, after = m0.customers, m1.customers
    position = before.index.get_indexer(after.index)  # a hash join (Index.isin on Arrow strings loops in Python)
    existing = position >= 0
    old = after[existing]
    then = before.iloc[position[existing]]
    columns = ("frequency", "recency", "T", "monetary_value")
    x1, tx1, t1_, mv1 = (old[c].to_numpy(dtype=float) for c in columns)
    x0, tx0, t0_, mv0 = (then[c].to_numpy(dtype=float) for c in columns)
    groups = then["fit_group"].to_numpy()
    f0 = _stored_factors(then, m0.margin_rate)  # the t0 scores already hold P(alive), spend and CLV
    missing = ~np.isfinite(f0[:, 1])
    if missing.any():
        f0[missing] = _factors(m0.fits, groups[missing], x0[missing], tx0[missing], t0_[missing], mv0[missing],
                               m0.margin_rate, t0)
    f1 = _factors(m0.fits, groups, x1, tx1, t1_, mv1, m1.margin_rate, t1)  # same model θ0, history to t1
    levers = lmdi_rows(f0, f1)
    value = after["clv"].to_numpy(dtype=float)
    parts = pd.DataFrame({"customer_id": after.index.to_numpy(), "existing": existing,
                          "reference": 0.0, "value": value, **dict.fromkeys(LEVERS, 0.0), "expected_margin": 0.0})
    parts.loc[~existing, "acquired"] = value[~existing]
    parts.loc[existing, "reference"] = then["clv"].to_numpy(dtype=float)
    for i, name in enumerate(FACTORS):
        parts.loc[existing, name] = levers[:, i]
    parts.loc[existing, "model_update"] = value[existing] - f1.prod(axis=1)
    parts.loc[existing, "expected_margin"] = _expected_margin(m0.fits, groups, x0, tx0, t0_, mv0, m0.margin_rate,
                                                              (t1 - t0).days)
    o = db.tables["orders"]
    o = o.filter((o.ordered_at >= ibis.timestamp(t0 + timedelta(days=1)))
                 & (o.ordered_at < ibis.timestamp(t1 + timedelta(days=1))))
    realised = db.arrow(o.group_by("customer_id").aggregate(m=order_margin(db, o).sum())).to_pandas()
    margin = realised.set_index("customer_id")["m"].reindex(parts["customer_id"]).fillna(0.0).to_numpy()
    parts["realised_margin"] = np.where(existing, margin, 0.0)
    return parts
