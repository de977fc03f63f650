"""Words and defaults the dashboard, the PDF and the CLI share (streamlit-free: ui/ and report/ both read them)."""

from __future__ import annotations

from i18n import N_, _
from kpis.clv.model import CHECK_HOLDOUT_WEEKS
from kpis.database import FIXED_FILTERS
from kpis.periods import Period
from kpis.registry import Unit
from kpis.voice.journey import MIN_ANSWERS as EFFORT_PEAK_MIN_ANSWERS

__all__ = ["CHECK_HOLDOUT_WEEKS", "COMPARISONS", "EFFORT_PEAK_MIN_ANSWERS", "FILTER_LABELS", "FIXED_FILTERS",
           "TIER_WORDS", "URL_COMPARES", "compared_with", "comparison", "describe_filters", "filter_label",
           "filter_value_label", "score_group_heading", "score_group_label", "unit_label"]

# What a period is compared with (kpis.periods.COMPARES), in words (translated where shown: `comparison`).
COMPARISONS = {"previous": N_("previous period"), "year_ago": N_("same period last year")}
_COMPARED_WITH = {"previous": N_("compared with the previous period ({reference})"),
                  "year_ago": N_("compared with the same period last year ({reference})")}
# The dashboard's links say compare=year for year_ago: the one place the two words meet.
URL_COMPARES = {"previous": "previous", "year": "year_ago"}

FILTER_LABELS = {"acquisition_channel": N_("Acquisition channel"), "region": N_("Region"),
                 "cohort": N_("Acquisition cohort"), "value_tier": N_("Value tier")}


def comparison(compare: str) -> str:
    """"previous period" / "période précédente"."""
    return _(COMPARISONS[compare])


def compared_with(compare: str, reference: str) -> str:
    """"compared with the previous period (Sep 2026)", the reference period's label given."""
    return _(_COMPARED_WITH[compare]).format(reference=reference)


def filter_label(name: str) -> str:
    """A customer filter's name for people ("Acquisition channel"; the company's own attributes from their column
    name, untranslated)."""
    return _(FILTER_LABELS[name]) if name in FILTER_LABELS else name.replace("_", " ").capitalize()


# The value tiers' names (kpis.sources.TIERS, NO_ORDERS) as people read them; the stored names stay in links.
TIER_WORDS = {"top 10%": N_("top 10%"), "next 20%": N_("next 20%"), "middle 30%": N_("middle 30%"),
              "bottom 40%": N_("bottom 40%"), "no orders": N_("no orders")}


def filter_value_label(name: str, value) -> str:
    """A segment value as people read it: a cohort "2024-01" as Jan 2024, a value tier in the language; the
    company's own values (regions, channels) as they are."""
    if name == "cohort":
        return Period.parse(str(value)).label
    if name == "value_tier" and value in TIER_WORDS:
        return _(TIER_WORDS[value])
    return str(value)


# The score groups (kpis.voice.declarations: stored and filtered in English) as people read them: one answer's
# group, and the heading over a group's people.
SCORE_GROUPS = {"detractor": N_("detractor"), "passive": N_("passive"), "promoter": N_("promoter"),
                "dissatisfied": N_("dissatisfied"), "neutral": N_("neutral"), "satisfied": N_("satisfied"),
                "high effort": N_("high effort"), "low effort": N_("low effort")}
GROUP_HEADINGS = {"promoter": N_("Promoters"), "passive": N_("Passives"), "detractor": N_("Detractors")}


def score_group_label(group: str) -> str:
    """ "detractor" / "détracteur": one answer's score group."""
    return _(SCORE_GROUPS[group]) if group in SCORE_GROUPS else group


def score_group_heading(group: str) -> str:
    """ "Detractors" / "Détracteurs": the heading over an NPS group."""
    return _(GROUP_HEADINGS[group]) if group in GROUP_HEADINGS else group.capitalize()


# A unit (kpis.registry.Unit) in words: the glossary's badges, the targets' refusals.
UNIT_WORDS = {Unit.COUNT: N_("count"), Unit.CURRENCY: N_("amount"), Unit.PERCENT: N_("percent"),
              Unit.RATIO: N_("ratio"), Unit.SCORE: N_("score"), Unit.MONTHS: N_("months")}


def unit_label(unit: Unit) -> str:
    """ "percent" / "pourcentage"."""
    return _(UNIT_WORDS[unit])


def describe_filters(filters: dict) -> str:
    """A segment in words: "all customers", or "Region: FR; Acquisition channel: search, social"."""
    chosen = {n: v for n, v in (filters or {}).items() if v}
    if not chosen:
        return _("all customers")
    return "; ".join(_("{name}: {values}").format(name=filter_label(n),
                                                  values=", ".join(filter_value_label(n, x) for x in v))
                     for n, v in chosen.items())
