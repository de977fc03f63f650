"""Score groups of each survey and the voice-of-the-customer entries of the KPI registry.

Scales (DOMAIN.md point 7, article 004): NPS 0–10, CSAT 1–5, CES 1–5 with 1 = low effort.
Groups, one word each so they can be filtered and shown:
  nps   promoter 9–10 · passive 7–8 · detractor 0–6
  csat  satisfied 4–5 · neutral 3 · dissatisfied 1–2
  ces   low effort 1–2 · neutral 3 · high effort 4–5
Every KPI here is computed over the scope's `feedback` relation (kpis.scope.Scope.feedback): the period's
answers of the segment's customers (anonymous answers count only when the segment is everyone), optionally
one touchpoint (params={"touchpoint": "returns"}). A period without answers gives None, never 0.
"""

from __future__ import annotations

import ibis

from kpis.registry import KPI, Derived, Group, Measure, Text, Unit

VOICE = Group.VOICE

# survey -> ((group, lowest score, highest score), ...), the unhappy group first, the happy group last
SCORE_GROUPS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "nps": (("detractor", 0, 6), ("passive", 7, 8), ("promoter", 9, 10)),
    "csat": (("dissatisfied", 1, 2), ("neutral", 3, 3), ("satisfied", 4, 5)),
    "ces": (("high effort", 4, 5), ("neutral", 3, 3), ("low effort", 1, 2)),
}
GROUPS = tuple(dict.fromkeys(g for groups in SCORE_GROUPS.values() for g, _, _ in groups))


def group_of(survey: str, score: int) -> str | None:
    """The group of one answer, e.g. group_of("nps", 8) == "passive"."""
    return next((g for g, lo, hi in SCORE_GROUPS.get(survey, ()) if lo <= score <= hi), None)


def unhappy_and_happy(survey: str) -> tuple[str, str]:
    """The two ends compared in themes: ("detractor", "promoter") for NPS, and so on."""
    groups = SCORE_GROUPS[survey]
    return groups[0][0], groups[-1][0]


def group_expr(f: ibis.Table) -> ibis.Expr:
    """The answer's group as an Ibis expression over a feedback table."""
    return ibis.cases(*[((f.survey == survey) & f.score.between(lo, hi), group)
                        for survey, groups in SCORE_GROUPS.items() for group, lo, hi in groups],
                      else_=ibis.null("string"))


def _count(survey: str, lo: int = -1, hi: int = 99):
    return lambda f: f.count(where=(f.survey == survey) & f.score.between(lo, hi))


def _share(survey: str, lo: int, hi: int):
    """Share of a survey's answers scoring lo..hi; NULL (undefined) when the survey has no answer."""
    def expr(f):
        n = _count(survey)(f)
        return ibis.ifelse(n > 0, _count(survey, lo, hi)(f) / n, ibis.null("float64"))
    return expr


VOICE_KPIS = [
    KPI("nps",
        Text("Net Promoter Score",
             "How likely customers are to recommend us (0–10): the share of promoters (9–10) minus the share of "
             "detractors (0–6), from −100 to +100. Positive is correct, above 50 excellent. Read it with its "
             "margin of error and number of answers.",
             "100 × (promoters − detractors) ÷ NPS answers",
             short="NPS"),
        Text("Net Promoter Score (NPS)",
             "Propension des clients à nous recommander (note de 0 à 10) : la part de promoteurs (9–10) moins "
             "la part de détracteurs (0–6), de −100 à +100. Positif, il est correct ; au-dessus de 50, excellent. "
             "À lire avec sa marge d'erreur et son nombre de réponses.",
             "100 × (promoteurs − détracteurs) ÷ réponses NPS",
             short="NPS"),
        Unit.SCORE, True, VOICE, Derived(("promoter_share", "detractor_share"), lambda p, d: 100 * (p - d)),
        base="nps_answers", weight="nps_answers", scale=(-100.0, 100.0)),
    KPI("promoter_share",
        Text("Promoters' share",
             "Share of NPS answers scoring 9 or 10: customers who would recommend us.",
             "NPS answers scoring 9–10 ÷ NPS answers"),
        Text("Part de promoteurs",
             "Part des réponses NPS notées 9 ou 10 : les clients qui nous recommanderaient.",
             "réponses NPS notées 9–10 ÷ réponses NPS"),
        Unit.PERCENT, True, VOICE, Measure("feedback", _share("nps", 9, 10)), base="nps_answers", weight="nps_answers"),
    KPI("detractor_share",
        Text("Detractors' share",
             "Share of NPS answers scoring 0 to 6: customers unlikely to recommend us.",
             "NPS answers scoring 0–6 ÷ NPS answers"),
        Text("Part de détracteurs",
             "Part des réponses NPS notées de 0 à 6 : les clients peu enclins à nous recommander.",
             "réponses NPS notées 0–6 ÷ réponses NPS"),
        Unit.PERCENT, False, VOICE, Measure("feedback", _share("nps", 0, 6)), base="nps_answers", weight="nps_answers"),
    KPI("csat",
        Text("Customer satisfaction (CSAT)",
             "Share of satisfied answers (4 or 5 on a 1–5 scale) to \"Were you satisfied?\", overall or for one "
             "touchpoint.",
             "CSAT answers scoring 4–5 ÷ CSAT answers",
             short="CSAT"),
        Text("Satisfaction client (CSAT)",
             "Pourcentage de satisfaits : part des réponses de 4 ou 5 (sur une échelle de 1 à 5) à la question "
             "« Avez-vous été satisfait ? », globalement ou pour un point de contact.",
             "réponses CSAT notées 4–5 ÷ réponses CSAT",
             short="CSAT"),
        Unit.PERCENT, True, VOICE, Measure("feedback", _share("csat", 4, 5)), base="csat_answers",
        weight="csat_answers"),
    KPI("ces",
        Text("Customer effort (CES)",
             "Average effort customers say they made, from 1 (low) to 5 (high), asked right after an interaction: "
             "lower is better.",
             "mean score of CES answers",
             short="CES"),
        Text("Score d'effort client (CES)",
             "Effort moyen que les clients déclarent avoir fourni, de 1 (faible) à 5 (élevé), mesuré à chaud, juste "
             "après une interaction : plus il est bas, mieux c'est.",
             "note moyenne des réponses CES",
             short="CES"),
        Unit.SCORE, False, VOICE,
        Measure("feedback", lambda f: f.score.cast("float64").mean(where=f.survey == "ces")),
        base="ces_answers", weight="ces_answers", scale=(1.0, 5.0)),
    KPI("nps_answers",
        Text("NPS answers",
             "Number of answers to the recommendation (NPS) survey in the period: how much the NPS can be trusted.",
             "count of NPS answers"),
        Text("Réponses NPS",
             "Nombre de réponses à l'enquête de recommandation (NPS) sur la période : plus il est élevé, plus "
             "le NPS est fiable.",
             "nombre de réponses NPS"),
        Unit.COUNT, True, VOICE, Measure("feedback", _count("nps")), base="nps_answers", additive=True,
        sums_over_time=True),
    KPI("csat_answers",
        Text("CSAT answers",
             "Number of answers to the satisfaction (CSAT) survey in the period.",
             "count of CSAT answers"),
        Text("Réponses CSAT",
             "Nombre de réponses à l'enquête de satisfaction (CSAT) sur la période.",
             "nombre de réponses CSAT"),
        Unit.COUNT, True, VOICE, Measure("feedback", _count("csat")), base="csat_answers", additive=True,
        sums_over_time=True),
    KPI("ces_answers",
        Text("CES answers",
             "Number of answers to the effort (CES) survey in the period.",
             "count of CES answers"),
        Text("Réponses CES",
             "Nombre de réponses à l'enquête d'effort client (CES) sur la période.",
             "nombre de réponses CES"),
        Unit.COUNT, True, VOICE, Measure("feedback", _count("ces")), base="ces_answers", additive=True,
        sums_over_time=True),
]
