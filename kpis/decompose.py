"""Why a KPI moved: exact, residual-free splits of a change into named parts.

  lmdi          a product V = Π f_k: how much of V1 − V0 each factor carries (additive LMDI)
  revenue_parts a revenue bridge: new customers, then returning buyers × orders per buyer × revenue per order
  rate_mix      an aggregate rate R = Σ w_i r_i: each segment's rate effect and mix effect
  top_movers    the largest parts up and down, and one plain sentence naming them

Every split adds up to the whole change, so a bridge chart closes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from i18n import N_, _
from i18n.formats import number

RETURNING_FACTORS = ("returning_buyers", "orders_per_buyer", "revenue_per_order")
RATE_MIX_INPUT = ("segment", "weight_before", "rate_before", "weight_after", "rate_after")
RATE_MIX_OUTPUT = ("segment", "rate_before", "rate_after", "weight_share_before", "weight_share_after",
                   "rate_effect", "mix_effect", "contribution")


def log_mean(a: float, b: float) -> float:
    """The logarithmic mean L(a, b) = (a − b) / (ln a − ln b), with L(a, a) = a, for a, b > 0."""
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"the logarithmic mean needs two positive finite numbers, got {a!r} and {b!r}")
    if a == b:
        return float(a)
    x = (a - b) / b  # L = b·x / ln(1 + x): log1p keeps it accurate when a and b are close
    return b * x / math.log1p(x)


def lmdi(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """Additive LMDI-I: the change V1 − V0 of V = Π_k f_k split into one contribution per factor.

    Ang, B.W. (2005), "The LMDI approach to decomposition analysis: a practical guide", Energy Policy 33,
    867–871:  contribution_k = L(V1, V0) · ln(f_k1 / f_k0),  L the logarithmic mean (log_mean).
    The contributions sum to V1 − V0 exactly (Σ_k ln(f_k1/f_k0) = ln(V1/V0) and L·ln(V1/V0) = V1 − V0):
    no residual, and the split does not depend on the order of the factors.

    Zeros. Ang (2005) replaces a zero by δ and lets δ → 0; Ang & Liu (2007), "Handling zero values in the
    logarithmic mean Divisia index decomposition approach", Energy Policy 35, 238–246, give the limits.
    Here they are, applied exactly (never a NaN):
      • a zero at one end only (V0 = 0 < V1, or V1 = 0 < V0): the whole change V1 − V0 goes to the
        factor(s) that are zero at that end, split equally if there are several; every other factor gets 0
        (its term is L · finite with L → 0, while a zero factor's ln term grows like ln δ);
      • both ends zero (V0 = V1 = 0): every contribution is 0.
    Factors must be finite and ≥ 0 (a negative factor is a ValueError: LMDI is not defined for it), and
    both periods must name the same factors. Returned in the order of `before`.
    """
    if set(before) != set(after):
        raise ValueError(f"before and after must name the same factors: {sorted(before)} vs {sorted(after)}")
    for name in before:
        for label, value in (("before", before[name]), ("after", after[name])):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"factor '{name}' {label} is {value!r}: LMDI needs finite factors ≥ 0")
    v0 = math.prod(before[k] for k in before)
    v1 = math.prod(after[k] for k in before)
    if v0 == 0 and v1 == 0:
        return dict.fromkeys(before, 0.0)
    if v0 == 0 or v1 == 0:
        zero = [k for k in before if (before[k] if v0 == 0 else after[k]) == 0]
        share = (v1 - v0) / len(zero)
        return {k: share if k in zero else 0.0 for k in before}
    weight = log_mean(v1, v0)
    return {k: weight * math.log(after[k] / before[k]) for k in before}


def _ratio(top: float, bottom: float) -> float | None:
    """top / bottom, None for 0 / 0 (nothing to divide)."""
    return None if bottom == 0 else top / bottom


def revenue_parts(new_before: float, new_after: float, returning_before: tuple[float, float, float],
                  returning_after: tuple[float, float, float]) -> list[tuple[str, float]]:
    """A revenue bridge: (part, amount) in display order, the amounts summing to the total revenue change.

    new_*: revenue of the customers acquired in that period; returning_*: (buyers, orders, revenue) of the
    other buyers. Parts: "new_customers" = new_after − new_before, then the returning revenue change split
    by lmdi over buyers × orders/buyer × revenue/order: "returning_buyers", "orders_per_buyer",
    "revenue_per_order".
    Zero bases: a ratio with nothing to divide (no buyers, or no orders) takes the other period's value, so
    it moves nothing, and lmdi's zero rule hands the change to the factor that went to or from zero: with
    no returning buyers before (or none after), the whole returning change goes to "returning_buyers".
    Counts and revenue of returning buyers must be ≥ 0, with no orders without buyers and no revenue
    without orders (ValueError).
    """
    if not all(map(math.isfinite, (new_before, new_after, *returning_before, *returning_after))):
        raise ValueError("revenue_parts needs finite amounts")
    for label, (buyers, orders, revenue) in (("before", returning_before), ("after", returning_after)):
        if min(buyers, orders, revenue) < 0:
            raise ValueError(f"returning buyers, orders and revenue {label} must be ≥ 0")
        if (buyers == 0 and orders > 0) or (orders == 0 and revenue != 0):
            raise ValueError(f"returning {label}: orders need buyers and revenue needs orders")
    (b0, o0, r0), (b1, o1, r1) = returning_before, returning_after
    per_buyer = (_ratio(o0, b0), _ratio(o1, b1))
    per_order = (_ratio(r0, o0), _ratio(r1, o1))

    def filled(pair: tuple[float | None, float | None], end: int) -> float:
        own, other = pair[end], pair[1 - end]
        return own if own is not None else (other if other is not None else 1.0)

    factors = [{"returning_buyers": b, "orders_per_buyer": filled(per_buyer, end),
                "revenue_per_order": filled(per_order, end)} for end, b in enumerate((b0, b1))]
    returning = lmdi(*factors)
    return [("new_customers", float(new_after - new_before)), *((k, returning[k]) for k in RETURNING_FACTORS)]


def rate_mix(frame: pd.DataFrame) -> pd.DataFrame:
    """The change R1 − R0 of an aggregate rate R = Σ_i w_i r_i split per segment into rate and mix effects.

    Kitagawa, E.M. (1955), "Components of a Difference Between Two Rates", JASA 50(272), 1168–1194: the
    symmetric (midpoint) shift-share split, with bars the means of the two periods,
        rate_effect_i = w̄_i (r_i1 − r_i0)         the segment's own rate moved, at its average weight
        mix_effect_i  = (r̄_i − R̄)(w_i1 − w_i0)    its weight share moved, valued against the average rate
    Σ_i (w̄_i Δr_i + r̄_i Δw_i) = Σ_i (w_i1 r_i1 − w_i0 r_i0) = R1 − R0 exactly; measuring the mix against
    R̄ = (R0 + R1)/2 leaves the sum unchanged (Σ_i Δw_i = 0) and makes each segment read plainly: a segment
    that grows and is better than average lifts the total, one that grows and is worse drags it.

    Input columns: segment, weight_before, rate_before, weight_after, rate_after; the weights are the rate's
    denominators (counts ≥ 0, normalised here to shares w). A segment absent in one period (weight 0: its
    rate there is undefined, NaN/None, and ignored) takes its other-period rate for that period, so its rate
    effect is 0 and its whole effect is mix; absent in both, it contributes 0. A present segment without a
    rate, a negative weight, a period with no weight at all or a repeated segment is a ValueError.
    Output: segment, rate_before, rate_after (NaN where absent), weight_share_before, weight_share_after,
    rate_effect, mix_effect, contribution (= rate_effect + mix_effect), in the input's order.
    """
    missing = [c for c in RATE_MIX_INPUT if c not in frame.columns]
    if missing:
        raise ValueError(f"rate_mix needs the columns {', '.join(missing)}")
    if frame["segment"].duplicated().any():
        raise ValueError("each segment must appear once")
    weights, rates = [], []
    for end in ("before", "after"):
        w = frame[f"weight_{end}"].to_numpy(dtype="float64")
        r = pd.to_numeric(frame[f"rate_{end}"], errors="raise").to_numpy(dtype="float64")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError(f"weight_{end} must be finite and ≥ 0")
        if w.sum() == 0:
            raise ValueError(f"no weight {end}: the aggregate rate is undefined")
        if not np.isfinite(r[w > 0]).all():
            raise ValueError(f"every segment with weight {end} needs a finite rate_{end}")
        weights.append(w / w.sum())
        rates.append(np.where(w > 0, r, np.nan))
    (w0, w1), (r0, r1) = weights, rates
    shown = (r0.copy(), r1.copy())
    r0 = np.where(np.isnan(r0), r1, r0)  # absent before: its after rate, so Δr = 0
    r1 = np.where(np.isnan(r1), r0, r1)
    r0, r1 = np.nan_to_num(r0), np.nan_to_num(r1)  # absent in both: weight 0 at both ends, any rate will do
    aggregate = ((w0 * r0).sum() + (w1 * r1).sum()) / 2
    rate_effect = (w0 + w1) / 2 * (r1 - r0)
    mix_effect = ((r0 + r1) / 2 - aggregate) * (w1 - w0)
    return pd.DataFrame({
        "segment": frame["segment"].to_numpy(), "rate_before": shown[0], "rate_after": shown[1],
        "weight_share_before": w0, "weight_share_after": w1, "rate_effect": rate_effect,
        "mix_effect": mix_effect, "contribution": rate_effect + mix_effect,
    })


def top_movers(frame: pd.DataFrame, column: str = "contribution",
               n: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(top contributors, top detractors): the n largest positive rows of `column`, then the n most negative."""
    values = frame[column]
    up = frame[values > 0].sort_values(column, ascending=False, kind="stable").head(n)
    down = frame[values < 0].sort_values(column, ascending=True, kind="stable").head(n)
    return up, down


def listed(items: list[str]) -> str:
    """"a", "a and b", "a, b and c" in the current language."""
    if len(items) < 2:
        return "".join(items)
    return _("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])


def _names(rows: pd.DataFrame, column: str, label: str, fmt: Callable[[float], str]) -> str:
    return listed([f"{name} ({fmt(value)})" for name, value in zip(rows[label], rows[column], strict=True)])


def signed(value: float) -> str:
    """+12,300 / +12 300: a change as a whole number with its sign, in the current language."""
    return number(value, sign=True)


# The shapes of a movers sentence: alone (describe_movers), or after "By acquisition channel:" (kpis.story).
MOVERS = {"rise": N_("{drivers} drove the rise."),
          "rise_held": N_("{drivers} drove the rise; {brakes} held it back."),
          "fall": N_("{drivers} drove the fall."),
          "fall_softened": N_("{drivers} drove the fall; {brakes} softened it."),
          "cancel": N_("{drivers} and {brakes} cancelled out."),
          "nothing": N_("Nothing moved.")}


def movers(frame: pd.DataFrame, column: str = "contribution", n: int = 3, label: str = "segment",
           fmt: Callable[[float], str] = signed) -> tuple[str, dict[str, str]]:
    """The shape of the movers sentence (a MOVERS key) and its named parts (drivers, brakes), written by `fmt`.

    Rise or fall is the sign of the column's total; parts that offset exactly are said to cancel out.
    """
    up, down = top_movers(frame, column, n)
    if up.empty and down.empty:
        return "nothing", {}
    total = frame[column].sum()
    if total == 0:
        return "cancel", {"drivers": _names(up, column, label, fmt), "brakes": _names(down, column, label, fmt)}
    drivers, brakes, shape = (up, down, "rise") if total > 0 else (down, up, "fall")
    if brakes.empty:
        return shape, {"drivers": _names(drivers, column, label, fmt)}
    return shape + ("_held" if total > 0 else "_softened"), {"drivers": _names(drivers, column, label, fmt),
                                                              "brakes": _names(brakes, column, label, fmt)}


def describe_movers(frame: pd.DataFrame, column: str = "contribution", n: int = 3, label: str = "segment",
                    fmt: Callable[[float], str] = signed) -> str:
    """One plain sentence naming the top movers (rows named by `label`, amounts written by `fmt`) in the current
    language, e.g. "Search (+12,300) and Social (+4,100) drove the rise; Referral (-2,000) held it back."

    Rise or fall is the sign of the column's total; parts that offset exactly are said to cancel out.
    """
    shape, parts = movers(frame, column, n, label, fmt)
    return _(MOVERS[shape]).format(**parts)
