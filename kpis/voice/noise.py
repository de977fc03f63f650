"""95% margins of error for NPS and CSAT, so that a move smaller than the noise is shown as such.

Both use the normal approximation over the period's n answers (z = 1.96):
  NPS   p, d = shares of promoters and detractors; NPS = 100 (p − d)
        Var(p − d) = (p + d − (p − d)²) / n;  margin = 1.96 × 100 × √Var, in NPS points (−100..+100)
  CSAT  s = share of satisfied answers;  margin = 1.96 × √(s (1 − s) / n), a fraction like the csat KPI
        (0.04 reads ±4 points of percentage)
Each margin is in its own KPI's unit. A change between two periods is within the noise when
|Δ| ≤ √(m₁² + m₂²), the 95% margin of the difference of two independent estimates.
With very few answers (or all answers alike, where the margin is 0) the approximation is poor: show the
number of answers beside the value, as the result dicts do.
"""

from __future__ import annotations

import math

from kpis.database import KPIError
from kpis.database import scope as scope_of

Z95 = 1.96


def _nps_margin(promoters: int, detractors: int, n: int) -> float:
    p, d = promoters / n, detractors / n
    return Z95 * 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)


def nps_with_margin(db, period, filters: dict | None = None, params: dict | None = None) -> dict:
    """NPS of the period and segment with its 95% margin of error (NPS points) and its counts.

    Returns dict(value, margin, answers, promoters, passives, detractors); value and margin are None
    when there is no answer. params={"touchpoint": …} restricts to one journey step, as for every KPI.
    """
    f = scope_of(db, period, filters, params).feedback
    f = f.filter(f.survey == "nps")
    row = db.row(f.aggregate(answers=f.count(), promoters=f.count(where=f.score >= 9),
                             detractors=f.count(where=f.score <= 6)))
    n, pro, det = row["answers"], row["promoters"], row["detractors"]
    value = 100 * (pro - det) / n if n else None
    return {"value": value, "margin": _nps_margin(pro, det, n) if n else None, "answers": n,
            "promoters": pro, "passives": n - pro - det, "detractors": det}


def csat_with_margin(db, period, filters: dict | None = None, params: dict | None = None) -> dict:
    """CSAT of the period and segment (a fraction) with its 95% margin of error (a fraction too).

    Returns dict(value, margin, answers, satisfied); value and margin are None when there is no answer.
    """
    f = scope_of(db, period, filters, params).feedback
    f = f.filter(f.survey == "csat")
    row = db.row(f.aggregate(answers=f.count(), satisfied=f.count(where=f.score >= 4)))
    n, sat = row["answers"], row["satisfied"]
    if not n:
        return {"value": None, "margin": None, "answers": 0, "satisfied": 0}
    s = sat / n
    return {"value": s, "margin": Z95 * math.sqrt(s * (1 - s) / n), "answers": n, "satisfied": sat}


def within_noise(now: dict, before: dict) -> bool | None:
    """Whether the change from `before` to `now` (dicts with value and margin) is within the noise.

    True when |now − before| ≤ √(margin_now² + margin_before²); None when either value is unknown.
    """
    if now.get("value") is None or before.get("value") is None:
        return None
    return abs(now["value"] - before["value"]) <= math.hypot(now["margin"], before["margin"])


_WITH_MARGIN = {"nps": nps_with_margin, "csat": csat_with_margin}


def change_with_margin(db, key: str, period, against: str = "previous", filters: dict | None = None,
                       params: dict | None = None) -> dict:
    """NPS or CSAT now and in a reference period, the change, its noise and whether it is within it.

    against: "previous" (the period before) or "year_ago" (the same period a year earlier).
    Returns dict(value, margin, answers, reference, reference_period, reference_value, reference_margin,
    reference_answers, delta, noise, within_noise); delta and noise are in the KPI's unit.
    """
    if key not in _WITH_MARGIN:
        raise KPIError(f"no margin of error for '{key}': use one of {', '.join(_WITH_MARGIN)}")
    if against not in ("previous", "year_ago"):
        raise KPIError(f"unknown reference '{against}': use previous or year_ago")
    now_period = scope_of(db, period, filters, params).period
    ref_period = now_period.previous() if against == "previous" else now_period.year_ago()
    now = _WITH_MARGIN[key](db, now_period, filters, params)
    ref = _WITH_MARGIN[key](db, ref_period, filters, params)
    known = now["value"] is not None and ref["value"] is not None
    return {
        "value": now["value"], "margin": now["margin"], "answers": now["answers"],
        "reference": against, "reference_period": str(ref_period), "reference_value": ref["value"],
        "reference_margin": ref["margin"], "reference_answers": ref["answers"],
        "delta": now["value"] - ref["value"] if known else None,
        "noise": math.hypot(now["margin"], ref["margin"]) if known else None,
        "within_noise": within_noise(now, ref),
    }
