"""95% margins of error for NPS and CSAT, so that a move smaller than the noise is shown as such.

NPS: the adjusted-Wald interval, the best of the six methods compared by Rocks, B. (2016), "Interval
Estimation for the 'Net Promoter Score'", The American Statistician 70(4), and the one MeasuringU
(Lewis & Sauro) recommend. Add 3 pseudo-answers to the n answers — ¾ promoter, 1½ passive, ¾ detractor:
    n' = n + 3,  p' = (P + ¾) / n',  d' = (D + ¾) / n',  NPS' = p' − d'
    Var = (p' + d' − (p' − d')²) / n'  (the variance of a difference of two shares of one trinomial sample)
    95% interval = 100 (NPS' ± 1.96 √Var), clipped to [−100, 100];  margin = 100 × 1.96 × √Var
`value` stays the observed NPS 100 (P − D) / n; the interval is centred on NPS', pulled slightly towards 0,
and its margin is positive even when every answer is alike (plain Wald gives 0 there, and 0 is wrong).
Difference of two independent NPS (now and a reference period): each sample gets its own adjustment
(n + 3, ¾ promoter, ¾ detractor) and the interval is
    100 (NPS'_now − NPS'_before ± 1.96 √(Var_now + Var_before)),  clipped to [−200, 200].
This is what Rocks' own implementation does for two samples (R package NPS by Brendan Rocks, github
brendan-r/NPS, R/nps_tests.R: nps_test_ with test = "adjusted.wald" adds pseudo_observations = (¾, 1½, ¾) to
each sample and takes se = √(var_x/n_x + var_y/n_y) around the difference of the adjusted scores), and what
MeasuringU's two-sample test does (Lewis & Sauro 2021: each of the two data sets gets its own n + 3 and ¾
promoter and detractor). The paper's own formulas were not at hand to check beyond these.
CSAT: the plain Wald interval for a share s of satisfied answers, margin = 1.96 × √(s (1 − s) / n), a
fraction like the csat KPI (0.04 reads ±4 points of percentage); the difference uses √(m₁² + m₂²). It is 0
when all answers are alike, so read it with the number of answers (an Agresti–Coull interval would avoid
that; not done here).
A change is within the noise when its 95% difference interval covers 0. Each margin is in its own KPI's
unit; the result dicts carry the number of answers, to show beside the value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from kpis.database import KPIError
from kpis.database import scope as scope_of

Z95 = 1.96
PSEUDO_ANSWERS = 3  # added to n: ¾ promoter, 1½ passive, ¾ detractor
PSEUDO_EACH = 0.75  # added to the promoters and to the detractors


def _adjusted(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """(NPS', Var) of the adjusted-Wald interval, both as fractions (see the module docstring)."""
    if not (0 <= promoters and 0 <= detractors and promoters + detractors <= n):
        raise ValueError(f"promoters {promoters} and detractors {detractors} do not fit in {n} answers")
    adjusted_n = n + PSEUDO_ANSWERS
    p, d = (promoters + PSEUDO_EACH) / adjusted_n, (detractors + PSEUDO_EACH) / adjusted_n
    return p - d, (p + d - (p - d) ** 2) / adjusted_n


def nps_interval(promoters: int, detractors: int, n: int) -> dict:
    """Observed NPS and its 95% adjusted-Wald interval, in NPS points: dict(value, adjusted, margin, low, high).

    adjusted is NPS' (the interval's centre), margin its half-width, low and high clipped to [−100, 100];
    every entry is None when n is 0.
    """
    if n == 0:
        return dict.fromkeys(("value", "adjusted", "margin", "low", "high"))
    centre, variance = _adjusted(promoters, detractors, n)
    margin = 100 * Z95 * math.sqrt(variance)
    return {"value": 100 * (promoters - detractors) / n, "adjusted": 100 * centre, "margin": margin,
            "low": max(100 * centre - margin, -100.0), "high": min(100 * centre + margin, 100.0)}


def nps_difference(now: Mapping, before: Mapping) -> dict:
    """The change of NPS from `before` to `now` (mappings with promoters, detractors and answers, as
    nps_with_margin returns) with its 95% adjusted-Wald difference interval, in NPS points.

    Returns dict(delta, adjusted_delta, noise, low, high, within_noise): delta the observed change,
    adjusted_delta the interval's centre, noise its half-width, low and high clipped to [−200, 200],
    within_noise whether the interval covers 0; every entry is None when either side has no answer.
    """
    if not now["answers"] or not before["answers"]:
        return dict.fromkeys(("delta", "adjusted_delta", "noise", "low", "high", "within_noise"))
    c1, v1 = _adjusted(now["promoters"], now["detractors"], now["answers"])
    c0, v0 = _adjusted(before["promoters"], before["detractors"], before["answers"])
    delta = 100 * ((now["promoters"] - now["detractors"]) / now["answers"]
                   - (before["promoters"] - before["detractors"]) / before["answers"])
    centre, noise = 100 * (c1 - c0), 100 * Z95 * math.sqrt(v1 + v0)
    low, high = max(centre - noise, -200.0), min(centre + noise, 200.0)
    return {"delta": delta, "adjusted_delta": centre, "noise": noise, "low": low, "high": high,
            "within_noise": low <= 0 <= high}


def nps_with_margin(db, period, filters: dict | None = None, params: dict | None = None) -> dict:
    """NPS of the period and segment with its 95% adjusted-Wald interval (NPS points) and its counts.

    Returns dict(value, margin, low, high, answers, promoters, passives, detractors): value is the observed
    NPS, margin, low and high as nps_interval gives them; all four are None when there is no answer.
    params={"touchpoint": …} restricts to one journey step, as for every KPI.
    """
    f = scope_of(db, period, filters, params).feedback
    f = f.filter(f.survey == "nps")
    row = db.row(f.aggregate(answers=f.count(), promoters=f.count(where=f.score >= 9),
                             detractors=f.count(where=f.score <= 6)))
    n, pro, det = row["answers"], row["promoters"], row["detractors"]
    interval = nps_interval(pro, det, n)
    return {"value": interval["value"], "margin": interval["margin"], "low": interval["low"],
            "high": interval["high"], "answers": n, "promoters": pro, "passives": n - pro - det, "detractors": det}


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


def _difference(now: Mapping, before: Mapping) -> dict:
    """The change from `before` to `now` with its 95% interval: dict(delta, noise, low, high, within_noise).

    NPS results (with promoters, detractors and answers): nps_difference. Otherwise (CSAT, or any dicts with
    value and margin only): the Wald interval delta ± √(margin_now² + margin_before²). None when unknown.
    """
    if now.get("value") is None or before.get("value") is None:
        return dict.fromkeys(("delta", "noise", "low", "high", "within_noise"))
    if all(k in r for k in ("promoters", "detractors", "answers") for r in (now, before)):
        return {k: v for k, v in nps_difference(now, before).items() if k != "adjusted_delta"}
    delta, noise = now["value"] - before["value"], math.hypot(now["margin"], before["margin"])
    return {"delta": delta, "noise": noise, "low": delta - noise, "high": delta + noise,
            "within_noise": delta - noise <= 0 <= delta + noise}


def within_noise(now: dict, before: dict) -> bool | None:
    """Whether the change from `before` to `now` is within the noise: its 95% interval covers 0.

    NPS dicts (as nps_with_margin returns, with the counts): the adjusted-Wald difference interval;
    dicts with value and margin only (CSAT): |now − before| ≤ √(margin_now² + margin_before²).
    None when either value is unknown.
    """
    return _difference(now, before)["within_noise"]


_WITH_MARGIN = {"nps": nps_with_margin, "csat": csat_with_margin}


def change_with_margin(db, key: str, period, against: str = "previous", filters: dict | None = None,
                       params: dict | None = None) -> dict:
    """NPS or CSAT now and in a reference period, the change, its noise and whether it is within it.

    against: "previous" (the period before) or "year_ago" (the same period a year earlier).
    Returns dict(value, margin, answers, reference, reference_period, reference_value, reference_margin,
    reference_answers, delta, noise, delta_low, delta_high, within_noise), in the KPI's unit: delta is the
    observed change, [delta_low, delta_high] its 95% interval (for NPS centred on the adjusted change, so
    not exactly delta ± noise), within_noise whether that interval covers 0.
    """
    if key not in _WITH_MARGIN:
        raise KPIError(f"no margin of error for '{key}': use one of {', '.join(_WITH_MARGIN)}")
    if against not in ("previous", "year_ago"):
        raise KPIError(f"unknown reference '{against}': use previous or year_ago")
    now_period = scope_of(db, period, filters, params).period
    ref_period = now_period.previous() if against == "previous" else now_period.year_ago()
    now = _WITH_MARGIN[key](db, now_period, filters, params)
    ref = _WITH_MARGIN[key](db, ref_period, filters, params)
    change = _difference(now, ref)
    return {
        "value": now["value"], "margin": now["margin"], "answers": now["answers"],
        "reference": against, "reference_period": str(ref_period), "reference_value": ref["value"],
        "reference_margin": ref["margin"], "reference_answers": ref["answers"],
        "delta": change["delta"], "noise": change["noise"], "delta_low": change["low"],
        "delta_high": change["high"], "within_noise": change["within_noise"],
    }
