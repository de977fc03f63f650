"""Words and defaults the dashboard, the PDF and the CLI share (streamlit-free: ui/ and report/ both read them)."""

from __future__ import annotations

from i18n import N_, _
from kpis.clv.model import CHECK_HOLDOUT_WEEKS
from kpis.database import FIXED_FILTERS
from kpis.voice.journey import MIN_ANSWERS as EFFORT_PEAK_MIN_ANSWERS

__all__ = ["CHECK_HOLDOUT_WEEKS", "COMPARISONS", "EFFORT_PEAK_MIN_ANSWERS", "FILTER_LABELS", "FIXED_FILTERS",
           "URL_COMPARES", "compared_with", "comparison", "describe_filters", "filter_label"]

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


def describe_filters(filters: dict) -> str:
    """A segment in words: "all customers", or "Region: FR; Acquisition channel: search, social"."""
    chosen = {n: v for n, v in (filters or {}).items() if v}
    if not chosen:
        return _("all customers")
    return "; ".join(_("{name}: {values}").format(name=filter_label(n), values=", ".join(map(str, v)))
                     for n, v in chosen.items())
