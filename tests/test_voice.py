"""Known answers: voice-of-the-customer KPIs and tables on tests/voice_fixture.py, worked out in comments."""

from __future__ import annotations

import math
import re
from datetime import date, datetime

import pandas as pd
import pytest

import kpis
from kpis.build import import_files
from kpis.voice.noise import nps_difference, nps_interval
from kpis.voice.verbatims import COLUMNS, THEMES, themes_of
from tests import voice_fixture

NO_FILTER: dict = {}
FR = {"region": "FR"}  # c01 c02 c05 c07 c08: the segment holds no anonymous answer
BE = {"region": "BE"}  # c03 c04 c06
BUSINESS = {"segment": "business"}  # c02 c06
Z = 1.96


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("voice_fixture")
    files = voice_fixture.write_files(folder)
    import_files(folder / "voice.duckdb", now=datetime(2025, 1, 1), **files)
    return kpis.connect(folder / "voice.duckdb")


def nps_margin(promoters: int, detractors: int, n: int) -> float:
    """The adjusted-Wald margin, written out once more: n' = n + 3, p' = (P + ¾)/n', d' = (D + ¾)/n',
    1.96 × 100 × √((p' + d' − (p' − d')²) / n')."""
    m = n + 3
    p, d = (promoters + 0.75) / m, (detractors + 0.75) / m
    return Z * 100 * math.sqrt((p + d - (p - d) ** 2) / m)


# NPS March: 10 answers, promoters f01 f02 f03 f04 f05 (5), passives f06 f07 (2), detractors f08 f09 f10 (3).
# NPS April: 4 answers, promoter f11, passive f14, detractors f12 f13. The year: 14 answers, 6 P, 3 ., 5 D.
# CSAT March: f15 5, f16 4, f17 2, f18 1, f19 4, f20 2 → 3 satisfied of 6. April: f21 3, f22 5 → 1 of 2.
# CES March: f23 1, f24 2, f25 2, f27 4, f28 3, f29 5 → 17 / 6. April: f26 3, f30 4, f31 5, f32 5 → 17 / 4.
KNOWN = [
    ("nps_answers", "2024-03", NO_FILTER, None, 10),
    ("promoter_share", "2024-03", NO_FILTER, None, 0.5),  # 5 / 10
    ("detractor_share", "2024-03", NO_FILTER, None, 0.3),  # 3 / 10
    ("nps", "2024-03", NO_FILTER, None, 20.0),  # 100 × (0.5 − 0.3)
    ("nps", "2024-04", NO_FILTER, None, -25.0),  # 100 × (1 − 2) / 4
    ("nps", "2024-Q1", NO_FILTER, None, 20.0),  # January and February have no answer: March alone
    ("nps", "2024", NO_FILTER, None, 100 / 14),  # 100 × (6 − 5) / 14
    ("nps_answers", "2024", NO_FILTER, None, 14),
    ("csat_answers", "2024-03", NO_FILTER, None, 6),
    ("csat", "2024-03", NO_FILTER, None, 0.5),  # 3 / 6
    ("csat", "2024", NO_FILTER, None, 0.5),  # (3 + 1) / 8
    ("ces_answers", "2024-03", NO_FILTER, None, 6),
    ("ces", "2024-03", NO_FILTER, None, 17 / 6),
    ("ces", "2024-04", NO_FILTER, None, 4.25),  # (3 + 4 + 5 + 5) / 4
    ("ces", "2024", NO_FILTER, None, 3.4),  # 34 / 10
    ("ces_answers", "2024", NO_FILTER, None, 10),
    # --- segments: anonymous answers (f04 f05 f10 f13 f17 f24 f31) drop out ---------------------
    ("nps_answers", "2024-03", FR, None, 4),  # c01 10, c02 9, c05 7, c07 5
    ("nps", "2024-03", FR, None, 25.0),  # 100 × (2 − 1) / 4
    ("promoter_share", "2024-03", FR, None, 0.5),
    ("detractor_share", "2024-03", FR, None, 0.25),
    ("nps", "2024-03", BE, None, 0.0),  # c03 9 P, c04 8 ., c06 3 D → 100 × (1 − 1) / 3
    ("nps", "2024-03", BUSINESS, None, 0.0),  # c02 9, c06 3
    ("csat", "2024-03", FR, None, 1.0),  # f15 5, f16 4, f19 4 (f17 is anonymous)
    ("csat_answers", "2024-03", FR, None, 3),
    ("ces", "2024-03", FR, None, 2.0),  # f23 1, f25 2, f28 3
    ("ces", "2024-03", BE, None, 4.5),  # f27 4, f29 5
    # --- one touchpoint --------------------------------------------------------------------------
    ("ces", "2024", NO_FILTER, "returns", 14 / 3),  # f29 5, f30 4, f31 5
    ("ces_answers", "2024", NO_FILTER, "returns", 3),
    ("csat", "2024", NO_FILTER, "returns", 0.0),  # f20 2, f21 3: answers, none satisfied → 0, not None
    ("csat", "2024-03", NO_FILTER, "website", 2 / 3),  # f15 5, f16 4, f17 2
    ("ces", "2024", FR, "returns", 4.0),  # f30 c07 only (f29 is c06 in BE, f31 anonymous)
    ("nps", "2024", NO_FILTER, "relationship", 100 / 14),
    ("nps", "2024", NO_FILTER, "returns", None),  # no NPS question at the returns step
    ("nps_answers", "2024", NO_FILTER, "returns", 0),
    # --- no answers --------------------------------------------------------------------------------
    ("nps", "2024-01", NO_FILTER, None, None),  # orders but no survey in January
    ("promoter_share", "2024-01", NO_FILTER, None, None),
    ("csat", "2024-01", NO_FILTER, None, None),
    ("ces", "2024-01", NO_FILTER, None, None),
    ("nps_answers", "2024-01", NO_FILTER, None, 0),
    ("csat", "2024-05", NO_FILTER, None, None),  # after the last answer
    ("nps", "2024-04", BUSINESS, None, None),  # neither c02 nor c06 answered NPS in April
]


@pytest.mark.parametrize("key, period, filters, touchpoint, expected", KNOWN)
def test_known_answer(db, key, period, filters, touchpoint, expected):
    params = {"touchpoint": touchpoint} if touchpoint else None
    value = kpis.evaluate(db, key, period, params=params, filters=filters)
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("key", ["nps", "promoter_share", "detractor_share", "csat", "ces", "nps_answers",
                                 "csat_answers", "ces_answers"])
def test_voice_kpis_are_declared_in_the_registry(key):
    kpi = kpis.REGISTRY[key]
    assert kpi.group is kpis.Group.VOICE
    assert kpi.higher_is_better is (key not in ("detractor_share", "ces"))


def test_evaluate_many_shares_one_query(db, monkeypatch):
    # All the measures read the same feedback relation; nps is derived from the two shares: one query in all.
    fresh = kpis.connect(db.name)
    queries = []
    run = fresh.execute
    monkeypatch.setattr(fresh, "execute", lambda sql: queries.append(sql) or run(sql))
    values = kpis.evaluate_many(fresh, ["nps", "csat", "ces", "nps_answers"], "2024-03")
    assert len(queries) == 1 and "feedback" in queries[0]
    assert values == pytest.approx({"nps": 20.0, "csat": 0.5, "ces": 17 / 6, "nps_answers": 10})


def test_unknown_touchpoint_is_an_error(db):
    with pytest.raises(kpis.KPIError, match="unknown touchpoint 'teleport'.*returns"):
        kpis.evaluate(db, "ces", "2024", params={"touchpoint": "teleport"})


# --- margins of error ------------------------------------------------------------------------------

# Adjusted-Wald: n' = n + 3, p' = (P + ¾)/n', d' = (D + ¾)/n', Var = (p' + d' − (p' − d')²)/n', margin 196 √Var.
MARGINS = [
    # March: P 5, D 3, n 10 → n' 13, p' 5.75/13, d' 3.75/13; p' + d' = 9.5/13, (p' − d')² = (2/13)² = 4/169;
    # Var = (123.5/169 − 4/169) / 13 = 119.5/2197 = 0.054392; √ = 0.233222 → 45.71 (plain Wald said 54.03)
    ("2024-03", NO_FILTER, dict(value=20.0, answers=10, promoters=5, passives=2, detractors=3), 45.7114),
    # April: P 1, D 2, n 4 → n' 7, p' 1.75/7 = 0.25, d' 2.75/7; p' + d' = 4.5/7, (p' − d')² = 1/49;
    # Var = (31.5/49 − 1/49) / 7 = 30.5/343 = 0.088921; √ = 0.298197 → 58.45 (Wald: 81.26)
    ("2024-04", NO_FILTER, dict(value=-25.0, answers=4, promoters=1, passives=1, detractors=2), 58.4466),
    # March, FR: P 2, D 1, n 4 → p' and d' swapped from April: the same variance → 58.45
    ("2024-03", FR, dict(value=25.0, answers=4, promoters=2, passives=1, detractors=1), 58.4466),
    # March, business: P 1, D 1, n 2 → n' 5, p' = d' = 1.75/5 = 0.35; Var = 0.7/5 = 0.14; √ = 0.374166 → 73.34
    ("2024-03", BUSINESS, dict(value=0.0, answers=2, promoters=1, passives=0, detractors=1), 73.3365),
]


@pytest.mark.parametrize("period, filters, counts, margin", MARGINS)
def test_nps_margin(db, period, filters, counts, margin):
    result = kpis.nps_with_margin(db, period, filters=filters)
    assert {k: result[k] for k in counts} == pytest.approx(counts)
    assert result["margin"] == pytest.approx(margin, abs=1e-4)
    assert result["margin"] == pytest.approx(nps_margin(counts["promoters"], counts["detractors"], counts["answers"]))
    assert result["low"] < result["high"] and result["high"] - result["low"] == pytest.approx(2 * margin, abs=2e-4)


def test_nps_margin_without_answers(db):
    assert kpis.nps_with_margin(db, "2024-01") == {"value": None, "margin": None, "low": None, "high": None,
                                                   "answers": 0, "promoters": 0, "passives": 0, "detractors": 0}


NPS_INTERVALS = [
    # P 30, passives 10, D 10, n 50 → n' 53, p' 30.75/53 = 0.580189, d' 10.75/53 = 0.202830, NPS' 20/53 = 0.377358;
    # Var = (41.5/53 − 400/2809) / 53 = (2199.5 − 400) / 148877 = 0.0120872; √ = 0.109942 → margin 21.5486;
    # interval 37.7358 ± 21.5486 = [16.1873, 59.2844]; value the observed 100 × 20/50 = 40
    ((30, 10, 50), dict(value=40.0, adjusted=37.7358, margin=21.5486, low=16.1873, high=59.2844)),
    # Every answer a promoter: P 10, n 10 → n' 13, p' 10.75/13, d' 0.75/13, NPS' 10/13 = 0.769231;
    # Var = (11.5/13 − 100/169) / 13 = (149.5 − 100) / 2197 = 0.022531; √ = 0.150102 → margin 29.4201 (Wald: 0);
    # 76.9231 ± 29.4201 = [47.5030, 106.3431] → high clipped to 100
    ((10, 0, 10), dict(value=100.0, adjusted=76.9231, margin=29.4201, low=47.5030, high=100.0)),
    ((0, 10, 10), dict(value=-100.0, adjusted=-76.9231, margin=29.4201, low=-100.0, high=-47.5030)),  # mirrored
    # Every answer a passive: P 0, D 0, n 5 → n' 8, p' = d' = 0.75/8; Var = (1.5/8) / 8 = 3/128; √ = 0.153093 → 30.0062
    ((0, 0, 5), dict(value=0.0, adjusted=0.0, margin=30.0062, low=-30.0062, high=30.0062)),
    ((0, 0, 0), dict(value=None, adjusted=None, margin=None, low=None, high=None)),  # no answer, no interval
]


@pytest.mark.parametrize("counts, expected", NPS_INTERVALS)
def test_nps_interval(counts, expected):
    assert nps_interval(*counts) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("promoters, detractors, n", [(0, 0, 1), (1, 0, 1), (0, 1, 1), (3, 0, 3), (0, 0, 1000)])
def test_nps_margin_is_never_zero(promoters, detractors, n):
    # Plain Wald gives 0 whenever every answer is alike; the pseudo-answers keep the margin honest.
    assert nps_interval(promoters, detractors, n)["margin"] > 0


@pytest.mark.parametrize("counts", [(-1, 0, 5), (3, 3, 5), (0, -1, 5)])
def test_nps_interval_rejects_counts_that_do_not_fit(counts):
    with pytest.raises(ValueError, match="do not fit"):
        nps_interval(*counts)


def _counts(promoters, detractors, answers):
    return {"promoters": promoters, "detractors": detractors, "answers": answers}


NPS_DIFFERENCES = [
    # Now P 30 D 10 n 50 (NPS' 20/53, Var 3599/297754), before P 10 D 30 n 50 (NPS' −20/53, the same Var):
    # centre 100 × 40/53 = 75.4717; noise 196 √(2 × 0.0120872) = 196 × 0.155481 = 30.4743;
    # [44.9974, 105.9460] misses 0 → a real change. Observed delta 40 − (−40) = 80.
    (_counts(30, 10, 50), _counts(10, 30, 50), dict(delta=80.0, adjusted_delta=75.4717, noise=30.4743,
                                                  low=44.9974, high=105.9460, within_noise=False)),
    # Now the same, before P 25 D 15 n 50: p' + d' = 41.5/53, NPS' 10/53, Var = (2199.5 − 100)/148877 = 0.0141022;
    # centre 100 × 10/53 = 18.8679; noise 196 √(0.0120872 + 0.0141022) = 196 × 0.161832 = 31.7190;
    # [−12.8510, 50.5869] covers 0 → within the noise, though the observed NPS went 20 → 40.
    (_counts(30, 10, 50), _counts(25, 15, 50), dict(delta=20.0, adjusted_delta=18.8679, noise=31.7190,
                                                  low=-12.8510, high=50.5869, within_noise=True)),
    # All promoters (P 10 n 10, Var 99/4394) against all passives (n 5, Var 3/128): plain Wald sees no noise at all;
    # centre 76.9231; noise 196 √(0.0225307 + 0.0234375) = 196 × 0.214402 = 42.0228; [34.9003, 118.9459] → real.
    (_counts(10, 0, 10), _counts(0, 0, 5), dict(delta=100.0, adjusted_delta=76.9231, noise=42.0228,
                                                low=34.9003, high=118.9459, within_noise=False)),
    (_counts(10, 0, 10), _counts(0, 0, 0), dict.fromkeys(["delta", "adjusted_delta", "noise", "low", "high",
                                                          "within_noise"])),
]


@pytest.mark.parametrize("now, before, expected", NPS_DIFFERENCES)
def test_nps_difference(now, before, expected):
    assert nps_difference(now, before) == pytest.approx(expected, abs=1e-4)


CSAT_MARGINS = [
    ("2024-03", NO_FILTER, 0.5, 6, 3, Z * math.sqrt(0.25 / 6)),  # 1.96 × 0.20412 = 0.40008
    ("2024-04", NO_FILTER, 0.5, 2, 1, 0.692965),  # 1.96 × √(0.25 / 2) = 1.96 × 0.35355
    ("2024-03", FR, 1.0, 3, 3, 0.0),  # all satisfied: s (1 − s) = 0
    ("2024-01", NO_FILTER, None, 0, 0, None),
]


@pytest.mark.parametrize("period, filters, value, answers, satisfied, margin", CSAT_MARGINS)
def test_csat_margin(db, period, filters, value, answers, satisfied, margin):
    result = kpis.csat_with_margin(db, period, filters=filters)
    assert (result["answers"], result["satisfied"]) == (answers, satisfied)
    if value is None:
        assert result["value"] is None and result["margin"] is None
    else:
        assert result["value"] == pytest.approx(value)
        assert result["margin"] == pytest.approx(margin, abs=1e-6)


@pytest.mark.parametrize(
    "now, before, expected",
    [
        # Dicts with value and margin only (CSAT): the Wald interval Δ ± √(m₁² + m₂²) covers 0?
        ({"value": 40, "margin": 5}, {"value": 20, "margin": 5}, False),  # |20| > √50 = 7.07
        ({"value": 24, "margin": 5}, {"value": 20, "margin": 5}, True),  # |4| ≤ 7.07
        ({"value": 25, "margin": 3}, {"value": 20, "margin": 4}, True),  # |5| ≤ √(9 + 16) = 5: on the edge
        ({"value": 25.1, "margin": 3}, {"value": 20, "margin": 4}, False),
        ({"value": None, "margin": None}, {"value": 20, "margin": 4}, None),
        # NPS dicts with their counts: the adjusted-Wald difference interval (NPS_DIFFERENCES rows)
        ({"value": 40.0, **_counts(30, 10, 50)}, {"value": -40.0, **_counts(10, 30, 50)}, False),  # [45.00, 105.95]
        ({"value": 40.0, **_counts(30, 10, 50)}, {"value": 20.0, **_counts(25, 15, 50)}, True),  # [−12.85, 50.59]
        # One answer each, a promoter then a detractor: +200 observed and plain Wald margins of 0 and 0 would call it
        # real. Adjusted: n' 4, p' 1.75/4, d' 0.75/4 → NPS' ±0.25, Var (0.625 − 0.0625)/4 = 0.140625 each;
        # centre 50, noise 196 √0.28125 = 196 × 0.530330 = 103.94 → [−53.94, 153.94] covers 0: within the noise.
        ({"value": 100.0, "margin": 0.0, **_counts(1, 0, 1)}, {"value": -100.0, "margin": 0.0, **_counts(0, 1, 1)},
         True),
    ],
)
def test_within_noise(now, before, expected):
    assert kpis.within_noise(now, before) is expected


def test_april_drop_is_within_the_noise(db):
    change = kpis.change_with_margin(db, "nps", "2024-04")
    # Observed −25 − 20 = −45. Adjusted: NPS' April −1/7, March 2/13 → centre 100 (−1/7 − 2/13) = −2700/91 = −29.67;
    # noise 196 √(30.5/343 + 119.5/2197) = 196 √(0.088921 + 0.054392) = 196 × 0.378568 = 74.20;
    # interval [−103.87, 44.53] covers 0 → within the noise.
    assert change["reference_period"] == "2024-03"
    assert change["delta"] == pytest.approx(-45.0)
    assert change["noise"] == pytest.approx(74.1993, abs=1e-3)
    assert (change["delta_low"], change["delta_high"]) == pytest.approx((-103.8696, 44.5290), abs=1e-3)
    assert change["within_noise"] is True
    assert change["answers"] == 4 and change["reference_answers"] == 10
    assert (change["margin"], change["reference_margin"]) == pytest.approx((58.4466, 45.7114), abs=1e-4)
    # A year earlier there were no answers at all: nothing to compare.
    assert kpis.change_with_margin(db, "csat", "2024-04", against="year_ago")["within_noise"] is None


def test_csat_change_keeps_the_wald_noise(db):
    change = kpis.change_with_margin(db, "csat", "2024-04")
    # April 1 of 2 satisfied, March 3 of 6: Δ = 0.5 − 0.5 = 0; noise √(0.692965² + 0.400083²) = √(0.480200 + 0.160067)
    # = 0.800167; interval [−0.800167, 0.800167] covers 0.
    assert change["delta"] == pytest.approx(0.0)
    assert change["noise"] == pytest.approx(0.800167, abs=1e-6)
    assert (change["delta_low"], change["delta_high"]) == pytest.approx((-0.800167, 0.800167), abs=1e-6)
    assert change["within_noise"] is True


# --- effort by journey step ------------------------------------------------------------------------


def test_effort_by_touchpoint(db):
    table = kpis.effort_by_touchpoint(db, "2024").set_index("touchpoint")
    # CES: support 5 (1 answer) · returns 5, 4, 5 → 14/3 · delivery 4, 3 → 3.5 · checkout 2, 3 · website 1, 2.
    # CSAT: support 5 · returns 2, 3 → 0 · delivery 1, 4 → 0.5 · checkout none · website 5, 4, 2 → 2/3.
    # Highest effort first; "relationship" carries only NPS answers and is left out.
    assert list(table.index) == ["support", "returns", "delivery", "checkout", "website"]
    assert list(table["ces_answers"]) == [1, 3, 2, 2, 2]
    assert list(table["ces"]) == pytest.approx([5.0, 14 / 3, 3.5, 2.5, 1.5])
    assert list(table["high_effort_share"]) == pytest.approx([1.0, 1.0, 0.5, 0.0, 0.0])
    assert list(table["csat_answers"]) == [1, 2, 2, 0, 3]
    assert table.loc["returns", "csat"] == 0.0 and pd.isna(table.loc["checkout", "csat"])
    assert table.loc["website", "csat"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "period, min_answers, filters, expected",
    [
        ("2024", 2, NO_FILTER, ("returns", 14 / 3, 3)),  # support (5.0) has a single answer: not enough
        ("2024", 1, NO_FILTER, ("support", 5.0, 1)),  # …unless one answer is enough
        ("2024", 3, NO_FILTER, ("returns", 14 / 3, 3)),
        ("2024", 4, NO_FILTER, None),  # no touchpoint has four CES answers
        ("2024-03", 2, NO_FILTER, ("delivery", 3.5, 2)),  # March: delivery 4, 3; returns only f29
        ("2024", 1, FR, ("returns", 4.0, 1)),  # FR: returns f30 4 · delivery f28 3 · checkout 2, 3 · website 1
        ("2024-01", 1, NO_FILTER, None),
    ],
)
def test_effort_peak(db, period, min_answers, filters, expected):
    peak = kpis.effort_peak(db, period, min_answers=min_answers, filters=filters)
    if expected is None:
        assert peak is None
    else:
        assert (peak["touchpoint"], peak["ces"], peak["answers"]) == pytest.approx(expected)
        assert peak["text"].startswith(f"Effort peaks at {expected[0]}: mean effort ")


# --- verbatims --------------------------------------------------------------------------------------

VERBATIMS = [
    # (period, options, filters, expected comments newest first)
    ("2024-03", dict(survey="nps", group="detractor"), NO_FILTER, [
        "Way too expensive, and the app keeps crashing.",  # f10 03-28, anonymous
        "Livraison avec une semaine de retard ! Rappelez-moi au [phone]",  # f09 03-25
        "Parcel arrived a week late. Write to me at [email]",  # f08 03-20
    ]),
    ("2024", dict(search="LATE"), NO_FILTER, [  # case ignored: f12 04-06, f08 03-20, f18 03-09
        "Delivery was late again and support never answered. Call me on [phone]",
        "Parcel arrived a week late. Write to me at [email]",
        "Late delivery, no tracking.",
    ]),
    ("2024", dict(search="retour"), NO_FILTER, [  # f30 04-02 11:00, f21 04-02 10:00
        "Retour payant, étiquette impossible à imprimer. Tél [phone]",
        "Retour accepté mais remboursement un peu long.",
    ]),
    ("2024", dict(search="dupont"), NO_FILTER, []),  # only in an e-mail address, which is scrubbed away
    ("2024", dict(search="example.com"), NO_FILTER, []),
    ("2024", dict(search="06.12.34"), NO_FILTER, []),
    ("2024", dict(search="'; DROP TABLE feedback; --"), NO_FILTER, []),
    ("2024", dict(search="%"), NO_FILTER, []),  # no LIKE wildcard: no comment contains a %
    ("2024", dict(search="l'écoute"), NO_FILTER, [  # quotes are text like any other (f22)
        "Conseillère très à l'écoute, merci ! Mon mail : [email]",
    ]),
    # FR customers in March (anonymous f05 f10 f17 left out): f09 03-25, f25 03-11, f02 03-05, f15 03-03, f01
    ("2024-03", dict(), FR, [
        "Livraison avec une semaine de retard ! Rappelez-moi au [phone]",
        "Paiement rapide.",
        "Livraison rapide et service client au top !",
        "Easy to find what I wanted.",
        "Great selection, I recommend you to all my friends.",
    ]),
    ("2024", dict(touchpoint="returns"), NO_FILTER, [  # f31 04-12, f30 04-02 11:00, f21, f29 03-22, f20 03-21
        "Return label never arrived, call [phone].",
        "Retour payant, étiquette impossible à imprimer. Tél [phone]",
        "Retour accepté mais remboursement un peu long.",
        "Returning an item is a nightmare: you need a printer for the label.",
        "Still waiting for my refund.",
    ]),
    ("2024", dict(survey="ces", group="high effort"), NO_FILTER, [  # f31, f30, f29, f27 (f32 has no comment)
        "Return label never arrived, call [phone].",
        "Retour payant, étiquette impossible à imprimer. Tél [phone]",
        "Returning an item is a nightmare: you need a printer for the label.",
        "Le livreur n'est jamais passé.",
    ]),
    ("2024", dict(group="neutral"), NO_FILTER, [  # CSAT 3 or CES 3 with a comment: f21 only
        "Retour accepté mais remboursement un peu long.",
    ]),
    ("2024", dict(survey="nps", group=["promoter", "passive"], limit=3), NO_FILTER, [  # f14, f11, f06
        "Good, but the website is slow.", "Super service, je recommande.", "Correct, sans plus.",
    ]),
    ("2024-01", dict(), NO_FILTER, []),
    (None, dict(search="lent"), NO_FILTER, ["Le site est lent, navigation pénible."]),  # period None: all
]


@pytest.mark.parametrize("period, options, filters, expected", VERBATIMS)
def test_verbatims(db, period, options, filters, expected):
    table = kpis.verbatims(db, period, **options, filters=filters)
    assert list(table.columns) == COLUMNS
    assert list(table["comment"]) == expected


def test_verbatims_carry_groups_and_no_customer(db):
    table = kpis.verbatims(db, None, limit=1000)
    assert len(table) == 23  # 32 answers, 9 of them without a comment (f04 f07 f16 f19 f23 f24 f26 f28 f32)
    assert "customer_id" not in table.columns
    assert not table.astype(str).apply(lambda col: col.str.fullmatch(r"c\d\d")).any().any()
    groups = dict(zip(table["comment"].str[:12], table["group"], strict=True))
    assert groups["Correct, san"] == "passive" and groups["Paiement rap"] == "low effort"
    assert groups["Still waitin"] == "dissatisfied"
    for comment in table["comment"]:
        assert "@" not in comment and not re.search(r"\d{2}[ .]\d{2}[ .]\d{2}", comment), comment


def test_sql_in_a_search_is_only_text(db):
    kpis.verbatims(db, "2024", search="x' OR '1'='1")
    kpis.verbatims(db, "2024", search="'); DELETE FROM feedback; --")
    assert kpis.evaluate(db, "nps_answers", "2024") == 14  # the table is untouched


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(survey="sms"), "unknown survey 'sms'"),
        (dict(survey="csat", group="promoter"), "unknown group 'promoter' for survey csat"),
        (dict(group="happy"), "unknown group 'happy'"),
        (dict(touchpoint="teleport"), "unknown touchpoint"),
        (dict(limit=0), "limit"),
        (dict(filters={"region": "Mars"}), "unknown value 'Mars'"),
    ],
)
def test_bad_verbatim_requests(db, options, message):
    with pytest.raises(kpis.KPIError, match=message):
        kpis.verbatims(db, "2024", **options)


def test_latest_comments(db):
    latest = kpis.latest_comments(db, "2024", n=2)
    assert list(latest["detractor"]["comment"]) == [  # f13 04-09, f12 04-06
        "Colis abîmé, produit cassé.",
        "Delivery was late again and support never answered. Call me on [phone]",
    ]
    assert list(latest["promoter"]["comment"]) == ["Super service, je recommande.", "Très bon rapport qualité-prix."]
    assert list(latest["promoter"]["score"]) == [10, 9]


# --- value by NPS group -----------------------------------------------------------------------------

# Period 2024-06: window [2023-07-01, 2024-07-01). Latest NPS answer of each customer in it:
#   promoters  c02 (f02 03-05), c08 (f11 04-03)
#   passives   c03 (f14 04-15, after f03 9), c04 (f06), c05 (f07)
#   detractors c01 (f12 04-06, after f01 10), c06 (f08), c07 (f09)
# Orders in the window (o01 and o04 are older, o16 on 07-05 is later):
#   c02 o05 300, o06 250 (05-10, after the answer: still buying) · c08 o17 100, o18 60, o19 40 (after)
#   c03 o07 50, o08 70 (04-20, after) · c04 o09 90 · c05 o10 40, o11 40, o12 40 (06-30 23:00, after)
#   c01 o02 80, o03 60 · c06 o13 150, o14 150 · c07 o15 30
VALUE_2024_06 = {
    # group: customers, retention, orders, revenue, purchase frequency, average order value, revenue/customer
    "promoter": (2, 1.0, 5, 750.0, 2.5, 150.0, 375.0),  # 550 + 200; 750 / 5; 750 / 2
    "passive": (3, 2 / 3, 6, 330.0, 2.0, 55.0, 110.0),  # 120 + 90 + 120; c03 c05 bought again
    "detractor": (3, 0.0, 5, 470.0, 5 / 3, 94.0, 470 / 3),  # 140 + 300 + 30; nobody bought again
}
# Period 2024-03: window [2023-04-01, 2024-04-01). c01 is still a promoter (f01), c08 has not answered.
#   promoters c01 (o01 100, o02 80, o03 60), c02 (o04 200, o05 300), c03 (o07 50): 6 orders, 790
#   passives c04 (o09 90), c05 (o10 40, o11 40 — before the answer): 3 orders, 170
#   detractors c06 (300), c07 (30): 3 orders, 330. Nobody has ordered since answering by 04-01.
VALUE_2024_03 = {
    "promoter": (3, 0.0, 6, 790.0, 2.0, 790 / 6, 790 / 3),
    "passive": (2, 0.0, 3, 170.0, 1.5, 170 / 3, 85.0),
    "detractor": (2, 0.0, 3, 330.0, 1.5, 110.0, 165.0),
}
# FR in 2024-06: promoters c02 c08 as above; passive c05; detractors c01 (140) and c07 (30).
VALUE_FR = {
    "promoter": (2, 1.0, 5, 750.0, 2.5, 150.0, 375.0),
    "passive": (1, 1.0, 3, 120.0, 3.0, 40.0, 120.0),
    "detractor": (2, 0.0, 3, 170.0, 1.5, 170 / 3, 85.0),
}
VALUE_COLUMNS = ["customers", "retention", "orders", "revenue", "purchase_frequency", "average_order_value",
                 "revenue_per_customer"]


@pytest.mark.parametrize(
    "period, filters, expected, at_risk, anonymous",
    [
        ("2024-06", NO_FILTER, VALUE_2024_06, 470.0, 4),  # anonymous NPS answers f04 f05 f10 f13
        ("2024-03", NO_FILTER, VALUE_2024_03, 330.0, 3),  # f04 f05 f10
        ("2024-06", FR, VALUE_FR, 170.0, 0),  # a segment holds no anonymous answer
    ],
)
def test_value_by_nps_group(db, period, filters, expected, at_risk, anonymous):
    result = kpis.value_by_nps_group(db, period, filters=filters)
    table = result["table"].set_index("group")
    assert list(table.index) == ["promoter", "passive", "detractor"]
    for group, row in expected.items():
        assert list(table.loc[group, VALUE_COLUMNS]) == pytest.approx(row), group
    assert result["revenue_at_risk"] == at_risk
    total = sum(row[3] for row in expected.values())
    assert result["revenue_at_risk_share"] == pytest.approx(at_risk / total)
    assert result["anonymous_answers"] == anonymous
    assert result["respondents"] == sum(row[0] for row in expected.values())
    assert "customer_id" not in result["table"].columns


def test_value_window_and_empty_groups(db):
    result = kpis.value_by_nps_group(db, "2024-06")
    assert (result["window_start"], result["window_end"]) == (date(2023, 7, 1), date(2024, 7, 1))
    empty = kpis.value_by_nps_group(db, "2023-06")["table"]  # nobody had answered yet
    assert list(empty["customers"]) == [0, 0, 0] and empty["retention"].isna().all()


def test_value_by_nps_group_takes_clv_when_given(db):
    clv = {"c01": 100.0, "c02": 500.0, "c08": 300.0, "c03": 50.0, "zz": 999.0}  # zz answered nothing
    table = kpis.value_by_nps_group(db, "2024-06", clv=clv)["table"].set_index("group")
    # promoters c02 500, c08 300 → 400; passives: only c03 known → 50; detractors: only c01 → 100.
    assert list(table["clv_per_customer"]) == [400.0, 50.0, 100.0]
    assert list(table["clv_customers"]) == [2, 1, 1]
    assert "clv_per_customer" not in kpis.value_by_nps_group(db, "2024-06")["table"].columns


# --- themes -----------------------------------------------------------------------------------------

# NPS comments of 2024 (scrubbed), by group:
#   detractors (5): f08 parcel/arrived/late → delivery · f09 livraison/retard → delivery, rappelez → support
#     f10 expensive → price, app/crashing → app · f12 delivery/late → delivery, support/call → support
#     f13 colis → delivery, abîmé/cassé → quality
#   promoters (5): f01 none · f02 livraison → delivery, service client → support · f03 prices → price
#     f05 qualité-prix → quality and price · f11 none ("service" alone is no theme)
THEMES_2024 = [
    ("delivery", 4, 0.8, 1, 0.2),
    ("support", 2, 0.4, 1, 0.2),
    ("price", 1, 0.2, 2, 0.4),
    ("quality", 1, 0.2, 1, 0.2),
    ("app", 1, 0.2, 0, 0.0),
    ("returns", 0, 0.0, 0, 0.0),
]


@pytest.mark.parametrize("theme, detractors, detractor_share, promoters, promoter_share", THEMES_2024)
def test_theme_frequencies(db, theme, detractors, detractor_share, promoters, promoter_share):
    table = kpis.themes(db, "2024").set_index("theme")
    row = table.loc[theme]
    assert (row["detractor_comments"], row["promoter_comments"]) == (detractors, promoters)
    assert (row["detractor_share"], row["promoter_share"]) == pytest.approx((detractor_share, promoter_share))


def test_late_delivery_counts_for_detractors_in_both_languages(db):
    delivery = kpis.themes(db, "2024-03", examples=5).set_index("theme").loc["delivery"]
    # March detractors: f08 (English), f09 (French), f10 (price, app): 2 of 3 mention delivery.
    assert delivery["detractor_comments"] == 2 and delivery["detractor_share"] == pytest.approx(2 / 3)
    assert delivery["detractor_examples"] == [
        "Livraison avec une semaine de retard ! Rappelez-moi au [phone]",
        "Parcel arrived a week late. Write to me at [email]",
    ]
    assert kpis.themes(db, "2024").iloc[0]["theme"] == "delivery"  # the detractors' first theme


def test_themes_by_touchpoint_for_effort(db):
    table = kpis.themes(db, "2024", survey="ces", by_touchpoint=True)
    # High effort comments: returns f29 f30 f31 (all about returns), delivery f27 (livreur).
    # Low effort comments: checkout f25 "Paiement rapide." → payment.
    returns = table[(table["touchpoint"] == "returns") & (table["theme"] == "returns")].iloc[0]
    assert (returns["high_effort_comments"], returns["high_effort_share"]) == (3, 1.0)
    payment = table[(table["touchpoint"] == "checkout") & (table["theme"] == "payment")].iloc[0]
    assert (payment["low_effort_comments"], payment["low_effort_share"]) == (1, 1.0)
    assert pd.isna(payment["high_effort_share"])  # no high-effort comment at checkout
    assert set(table["touchpoint"]) == {"returns", "delivery", "checkout"}


@pytest.mark.parametrize(
    "comment, expected",
    [
        ("Livraison avec une semaine de retard", ["delivery"]),
        ("LIVRAISON EN RETARD", ["delivery"]),
        ("Parcel arrived late", ["delivery"]),
        ("Très bon rapport qualité-prix", ["price", "quality"]),  # accents ignored: qualité = qualite
        ("Qualite OK", ["quality"]),
        ("The chocolate was fine", []),  # "late" only as a whole word
        ("Il cherche un livre", []),  # "cher" is not "cherche", a book is not a delivery
        ("Remboursement reçu, merci", ["returns"]),
        ("L'appli plante sans arrêt", ["app"]),
        ("Call me at [phone], write to [email]", ["support"]),  # the tokens are no theme
        ("Write to [email]", []),
    ],
)
def test_theme_matching(comment, expected):
    assert themes_of(comment) == expected


def test_every_theme_has_keywords_in_both_languages():
    for theme, words in THEMES.items():
        assert len(words) >= 4, theme


# --- properties on a small demo base ----------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+\d{1,3}[ .]?\d|\b0\d([ .]?\d\d){4}\b|\(\d{3}\)|\b\d{3}-\d{3}-\d{4}\b")


@pytest.fixture(scope="module")
def demo(demo_base):
    path = demo_base(5_000, 7)  # seed 7 carries a few comments with personal data
    return kpis.connect(path)


def test_demo_nps_stays_in_range(demo):
    values = kpis.series(demo, "nps", "2024-01", "2026-10")["value"]  # a month may have no answer: None
    assert values.notna().sum() >= 30 and values.dropna().between(-100, 100).all()
    assert -100 <= kpis.nps_with_margin(demo, "2025")["value"] <= 100


def test_demo_promoters_are_worth_more_than_detractors(demo):
    table = kpis.value_by_nps_group(demo, "2026-09")["table"].set_index("group")
    assert table.loc["promoter", "revenue_per_customer"] > table.loc["detractor", "revenue_per_customer"]
    assert table.loc["promoter", "retention"] > table.loc["detractor", "retention"]


def test_demo_effort_peaks_at_returns(demo):
    for period in ("2024", "2025"):
        assert kpis.effort_peak(demo, period, min_answers=20)["touchpoint"] == "returns"


def test_demo_verbatims_are_scrubbed(demo):
    comments = pd.concat([kpis.verbatims(demo, year, limit=1000) for year in ("2023", "2024", "2025", "2026")])
    assert len(comments) > 500
    leaks = [c for c in comments["comment"] if EMAIL.search(c) or PHONE.search(c)]
    assert leaks == []
    raw = demo.cursor().execute("SELECT comment FROM feedback WHERE comment IS NOT NULL").fetchall()
    personal = sum(bool(EMAIL.search(c) or PHONE.search(c)) for (c,) in raw)
    assert personal > 0, "this demo carries no personal data to scrub: pick another seed"
    masked = comments["comment"].str.contains(r"\[(?:email|phone)\]").sum()
    assert masked == personal  # every comment with personal data in the base came out masked


def test_compare_and_series_carry_the_voice_kpis(db):
    table = kpis.compare(db, ["nps", "csat"], "2024-04")
    # NPS April −25, March 20 → −45; CSAT April 1/2, March 3/6 → 0; a year earlier: no answers (None).
    assert table.loc["nps", "value"] == -25.0 and table.loc["nps", "delta_previous"] == pytest.approx(-45.0)
    assert table.loc["csat", "delta_previous"] == pytest.approx(0.0)
    assert table.loc["nps", "year_ago"] is None and table.loc["nps", "delta_year_ago"] is None
    months = kpis.series(db, "ces", "2024-02", "2024-05", params={"touchpoint": "returns"})
    # returns CES: March f29 5 · April f30 4, f31 5 → 4.5
    assert months["value"].isna().tolist() == [True, False, False, True]  # no answers in Feb and May
    assert list(months["value"].dropna()) == [5.0, 4.5]
