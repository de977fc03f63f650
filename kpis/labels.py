"""Words and defaults the dashboard, the PDF and the CLI share (streamlit-free: ui/ and report/ both read them)."""

from __future__ import annotations

from kpis.clv.model import CHECK_HOLDOUT_WEEKS
from kpis.database import FIXED_FILTERS
from kpis.voice.journey import MIN_ANSWERS as EFFORT_PEAK_MIN_ANSWERS

__all__ = ["CHECK_HOLDOUT_WEEKS", "COMPARISONS", "EFFORT_PEAK_MIN_ANSWERS", "FILTER_LABELS", "FIXED_FILTERS",
           "URL_COMPARES", "describe_filters", "filter_label"]

# What a period is compared with (kpis.periods.COMPARES), in words.
COMPARISONS = {"previous": "previous period", "year_ago": "same period last year"}
# The dashboard's links say compare=year for year_ago: the one place the two words meet.
URL_COMPARES = {"previous": "previous", "year": "year_ago"}

FILTER_LABELS = {"acquisition_channel": "Acquisition channel", "region": "Region", "cohort": "Acquisition cohort",
                 "value_tier": "Value tier"}


def filter_label(name: str) -> str:
    """A customer filter's name for people ("Acquisition channel"; attributes from their column name)."""
    return FILTER_LABELS.get(name, name.replace("_", " ").capitalize())


def describe_filters(filters: dict) -> str:
    """A segment in words: "all customers", or "Region: FR; Acquisition channel: search, social"."""
    chosen = {n: v for n, v in (filters or {}).items() if v}
    if not chosen:
        return "all customers"
    return "; ".join(f"{filter_label(n)}: {', '.join(map(str, v))}" for n, v in chosen.items())
