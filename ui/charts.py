"""Altair charts on the dashboard in the current language's number and date formats (i18n.formats.chart_locale)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from i18n.formats import chart_locale


def localized(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart with the language's d3 formats in its config (axes' thousands, decimal commas, month names)."""
    formats = chart_locale()
    if formats is None:
        return chart
    chart = chart.copy(deep=False)
    config = chart.config.copy(deep=True) if chart.config is not alt.Undefined else alt.Config()
    config.locale = alt.Locale(**formats)
    chart.config = config
    return chart


def show(chart: alt.TopLevelMixin, **kwargs):
    """st.altair_chart of the localized chart (selections and keys as st.altair_chart takes them)."""
    return st.altair_chart(localized(chart), **kwargs)
