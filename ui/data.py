"""The kpis functions the pages call, each cached per database build and arguments, so a rerun is instant.

`data.compare(keys, period, filters=…)` is `kpis.compare(db, keys, period, filters=…)` on the current build: a reader
(and an editor's go-to-definition) follows a tile's number from here straight to its query.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

import kpis
from i18n import language, use
from kpis.clv.check import holdout_check as _holdout_check
from kpis.story import headline as _headline
from kpis.targets import scorecard as _scorecard
from report import collect
from store.files import current_file
from ui import decisions
from ui.db import _database, configured_path

_FUNCTIONS: dict[str, Callable] = {}


@st.cache_data(max_entries=1024, show_spinner=False)
def _run(name: str, build: str, lang: str, args: tuple, kwargs: dict):
    """One call, kept per build, language (results may hold sentences and labels) and arguments."""
    with use(lang):
        return _FUNCTIONS[name](_database(build), *args, **kwargs)


def _frozen(value):
    """Filters and parameters as hashable, order-independent values ({"region": ("FR",)})."""
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple | set):
        return tuple(value)
    return value


def cached(fn: Callable) -> Callable:
    """fn(db, *args, **kwargs) as fn(*args, **kwargs) on the current build, cached per build and arguments."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    _FUNCTIONS[name] = fn

    @functools.wraps(fn)
    def on_current_build(*args, **kwargs):
        build = str(current_file(configured_path()))
        return _run(name, build, language(), args, {k: _frozen(v) for k, v in kwargs.items()})

    return on_current_build


evaluate = cached(kpis.evaluate)
evaluate_many = cached(kpis.evaluate_many)
compare = cached(kpis.compare)
series = cached(kpis.series)
trend = cached(kpis.trend)
cohort_retention = cached(kpis.cohort_retention)
value_deciles = cached(kpis.value_deciles)
concentration_curve = cached(kpis.concentration_curve)
nps_with_margin = cached(kpis.nps_with_margin)
csat_with_margin = cached(kpis.csat_with_margin)
change_with_margin = cached(kpis.change_with_margin)
effort_by_touchpoint = cached(kpis.effort_by_touchpoint)
effort_peak = cached(kpis.effort_peak)
touchpoints_asked = cached(kpis.touchpoints_asked)
value_by_nps_group = cached(kpis.value_by_nps_group)
latest_comments = cached(kpis.latest_comments)
verbatims = cached(kpis.verbatims)
themes = cached(kpis.themes)
holdout_check = cached(_holdout_check)
revenue_bridge = cached(kpis.revenue_bridge)
equity_bridge = cached(kpis.equity_bridge)
contributions = cached(kpis.contributions)
headline = cached(_headline)
valuation = cached(kpis.valuation)
scorecard = cached(_scorecard)


@cached
def partner_snapshot(db, period: str, compare: str, filters: dict, settings: tuple):
    """The partner edition's snapshot of a view (report.collect), kept per version of the targets and events."""
    targets, events = decisions.tables()
    return collect(db, period, compare=compare, edition="partner", filters=filters, targets=targets, events=events)
