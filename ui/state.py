"""The global view (period, grain, comparison, segment) shared by every page and kept in the URL.

The URL's query parameters are the source of truth, so a link pasted in a chat shows the same view.
Page switches may drop the query string: the session's last view is then written back. Unknown or
malformed parameters fall back to defaults with a visible notice, never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import streamlit as st

from i18n import N_, _, language, ngettext, use
from kpis import Database, Period
from kpis.labels import COMPARISONS, URL_COMPARES, comparison, describe_filters, filter_label, filter_value_label
from kpis.periods import GRAINS, period_range
from kpis.periods import last_complete as last_complete_period
from ui.access import grant
from ui.language import with_language

_URL_WORD = {compare: word for word, compare in URL_COMPARES.items()}
GRAIN_WORDS = {"month": N_("Month"), "quarter": N_("Quarter"), "year": N_("Year")}  # the grain switch's words


@dataclass(frozen=True)
class View:
    period: Period
    compare: str = "previous"  # kpis.periods.COMPARES: "previous" or "year_ago" (compare=year in the URL)
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def grain(self) -> str:
        return self.period.grain

    @property
    def reference(self) -> Period:
        return self.period.reference(self.compare)

    def to_params(self) -> dict[str, str | list[str]]:
        params: dict[str, str | list[str]] = {"period": str(self.period), "compare": _URL_WORD[self.compare]}
        params |= {name: list(values) for name, values in self.filters.items() if values}
        return params

    def describe_filters(self) -> str:
        return describe_filters(self.filters)


def worded(fn: Callable[[object], str]) -> Callable[[object], str]:
    """A widget's format_func that words its options in this run's language wherever it is called (Streamlit's
    AppTest calls it again outside the script run, where the language is the default one)."""
    lang = language()

    def in_language(option) -> str:
        with use(lang):
            return fn(option)

    return in_language


def last_complete(db: Database, grain: str) -> Period:
    """The latest period of the grain that the data covers to its end (else the one in progress)."""
    return last_complete_period(db.data_end, grain)


def periods(db: Database, grain: str) -> list[Period]:
    """Periods of the grain covered by the data, newest first."""
    return list(reversed(period_range(Period.containing(db.data_start, grain), last_complete(db, grain))))


def filter_names(db: Database) -> tuple[str, ...]:
    return db.filter_names


def cohort_options(db: Database) -> list[str]:
    return [str(p) for p in periods(db, "month")]


def filter_options(db: Database, name: str) -> tuple[str, ...]:
    return tuple(cohort_options(db)) if name == "cohort" else db.filter_values(name)


def parse(params: dict[str, list[str]], db: Database, scope: dict | None = None) -> tuple[View, list[str]]:
    """A view from query parameters, with a notice for everything that had to fall back; `scope` (the signed-in
    person's segment values, kpis.access) always holds: a link cannot widen it."""
    notices: list[str] = []
    word = (params.pop("compare", None) or ["previous"])[-1]
    compare = URL_COMPARES.get(word, "previous")
    if word not in URL_COMPARES:
        notices.append(_("Unknown comparison '{word}' in the link: comparing with the previous period.")
                       .format(word=word))
    grain_text = (params.pop("grain", None) or [None])[-1]
    period_text = (params.pop("period", None) or [None])[-1]
    grain = grain_text if grain_text in GRAINS else "month"
    if grain_text is not None and grain_text not in GRAINS:
        notices.append(_("Unknown grain '{grain}' in the link: showing months.").format(grain=grain_text))
    period = last_complete(db, grain)
    if period_text is not None:
        try:
            parsed = Period.parse(period_text)
        except ValueError:
            notices.append(_("Period '{text}' in the link cannot be shown (write 2024-03 for a month, 2024-Q1 for a "
                             "quarter, 2024 for a year): showing {period}.").format(text=period_text,
                                                                                    period=period.label))
        else:
            if parsed in periods(db, parsed.grain):
                period = parsed
            else:
                notices.append(_("Period '{text}' in the link cannot be shown (no data for {asked}): showing "
                                 "{period}.").format(text=period_text, asked=parsed, period=period.label))
    filters = {}
    for name, values in params.items():
        if name not in filter_names(db):
            notices.append(_("Unknown link parameter '{name}' ignored.").format(name=name))
            continue
        known = filter_options(db, name)
        good = tuple(v for v in values if v in known)
        bad = [v for v in values if v not in known]
        if bad:
            notices.append(ngettext("Unknown {name} {values} in the link ignored.",
                                    "Unknown {name} {values} in the link ignored.", len(bad))
                           .format(name=filter_label(name).lower(), values=quoted(bad)))
        if good:
            filters[name] = good
    filters, refused = within(filters, scope)
    notices += refused
    return View(period, compare, filters), notices


def quoted(values) -> str:
    """Values from a link, each in the language's quotes: 'Mars', 'Venus' / « Mars », « Venus »."""
    return ", ".join(_("'{value}'").format(value=v) for v in values)


def within(filters: dict, scope: dict | None) -> tuple[dict, list[str]]:
    """The filters narrowed to the scope (every scoped name filtered to values inside it), and a notice for each
    value the scope leaves out."""
    filters, notices = dict(filters), []
    for name, allowed in (scope or {}).items():
        asked = filters.get(name, ())
        outside = [v for v in asked if v not in allowed]
        if outside:
            notices.append(ngettext("{name} {values} is outside your access: showing {name}: {allowed}.",
                                    "{name} {values} are outside your access: showing {name}: {allowed}.",
                                    len(outside))
                           .format(name=filter_label(name), values=quoted(outside), allowed=", ".join(allowed)))
        filters[name] = tuple(v for v in asked if v in allowed) or tuple(allowed)
    return filters, notices


def _url_params() -> dict[str, list[str]]:
    """The URL's view parameters (the language is ui.language's)."""
    return {key: st.query_params.get_all(key) for key in st.query_params.keys() if key != "lang"}


def _show_in_url(view: View) -> None:
    st.query_params.from_dict(with_language(view.to_params()))


def current_view(db: Database) -> View:
    """Read the view from the URL (or the session after a page switch), draw the sidebar, keep both in sync."""
    scope = grant().scope
    params = _url_params()
    if params or "view" not in st.session_state:
        view, notices = parse(dict(params), db, scope)
        for notice in notices:
            st.toast(notice, icon="⚠️")
            st.sidebar.warning(notice)
    else:
        view = st.session_state["view"]
    view = _sidebar(db, view, scope)
    st.session_state["view"] = view
    if (_url_params() != {k: v if isinstance(v, list) else [v] for k, v in view.to_params().items()}
            or st.query_params.get("lang") != language()):
        _show_in_url(view)
    return view


def _sidebar(db: Database, view: View, scope: dict) -> View:
    """The shared controls; returns the view they show (a scoped name offers only the values inside the scope)."""
    side = st.sidebar
    side.header(_("View"))
    grains = list(GRAINS)
    grain = side.segmented_control(_("Grain"), grains, default=view.grain, key=f"grain:{view.grain}",
                                   format_func=worded(lambda g: _(GRAIN_WORDS[g]))) or view.grain
    choices = periods(db, grain)
    wanted = view.period if grain == view.grain else Period.containing(view.period.start, grain)
    index = choices.index(wanted) if wanted in choices else 0
    period = side.selectbox(_("Period"), choices, index=index, format_func=worded(lambda p: p.label),
                            key=f"period:{grain}:{view.period}")
    compare = side.radio(_("Compare with"), list(COMPARISONS), index=list(COMPARISONS).index(view.compare),
                         format_func=worded(comparison), key=f"compare:{view.compare}", horizontal=True)
    side.header(_("Segment"))
    filters = {}
    for name in filter_names(db):
        options = scope.get(name) or filter_options(db, name)
        chosen = side.multiselect(filter_label(name), options, default=list(view.filters.get(name, ())),
                                  key=f"filter:{name}:{','.join(view.filters.get(name, ()))}",
                                  format_func=worded(functools.partial(filter_value_label, name)),
                                  placeholder=_("All you may see") if name in scope else _("All"))
        if chosen:
            filters[name] = tuple(chosen)
    filters, _refused = within(filters, scope)
    if side.button(_("Reset view"), width="stretch"):
        st.query_params.from_dict({"lang": language()})  # the view's defaults, in the same language
        st.session_state.pop("view", None)
        st.rerun()
    return replace(view, period=period, compare=compare, filters=filters)


def drill(view: View, name: str, value: str) -> None:
    """Narrow the segment to one value (a click on a chart or a table row) and show the new view."""
    filters = dict(view.filters) | {name: (str(value),)}
    st.session_state["view"] = replace(view, filters=filters)
    _show_in_url(st.session_state["view"])
    st.rerun()


def drill_period(view: View, period: str) -> None:
    """Show another period of the same segment (a click on a trend chart)."""
    st.session_state["view"] = replace(view, period=Period.parse(period))
    _show_in_url(st.session_state["view"])
    st.rerun()
