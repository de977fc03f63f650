"""Scorecard: each KPI with a target for the view — actual, target, gap, status, and its trend against the target
line — and the forms that set targets and events (kept in the settings store beside the database, kpis.targets and
kpis.events validate them)."""

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from i18n import N_, _, formats, use
from kpis import REGISTRY
from kpis import format as fmt
from kpis.decisions import Refused, segment_of
from kpis.events import CATEGORIES, category_label, listed, on_periods, parse_events
from kpis.labels import describe_filters
from kpis.targets import DEFAULT_TOLERANCE, STATUS_COLOURS, STATUSES, parse_targets, status_label, target_line
from report.charts import event_layers
from ui import access, charts, data, decisions
from ui.db import database
from ui.state import current_view, filter_names, filter_options, periods

TREND_PERIODS = 12
ALL = N_("all customers")  # the segment option for every customer (stored as "")
def segment_word(segment: str) -> str:
    """A stored segment ("region=FR", "" for everyone) in words: "Region: FR", "all customers"."""
    if segment in (ALL, ""):
        return _(ALL)
    name, _sep, value = segment.partition("=")
    return describe_filters({name: (value,)})


def tolerance_text(share: float) -> str:
    """0.05 as 5 %, 0.025 as 2.5 % (the digits it has, as `:g`)."""
    return formats.percent(share, len(f"{100 * share:g}".partition(".")[2]))


db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
period = str(view.period)
segment = segment_of(view.filters)
with use("en"):  # the audit log's rows are written in one language, whoever reads them
    view_text = f"{view.period} · {view.describe_filters()}"
editor = access.grant().may("edit")

st.title(_("Scorecard"))
if st.session_state.get("scorecard:saved"):
    st.success(st.session_state.pop("scorecard:saved"), icon=":material/check:")
st.caption(_("**{period}** · {segment} · data as of {date} · amounts in {currency}").format(
    period=view.period.label, segment=view.describe_filters(), date=formats.date(db.data_end), currency=currency))

targets = decisions.targets()
card = data.scorecard(targets, period, filters=view.filters)
if segment is None:
    st.info(_("Targets are set for all customers or for one segment value (one region, one channel…): choose one "
              "value, or none, in the sidebar to see them."))
elif card.empty:
    st.info(_("No target for {period} ({segment}). Set one below, or import a file: "
              "`python cli.py targets import targets.csv` (columns kpi, period, target; optional segment, "
              "tolerance, public).").format(period=view.period.label, segment=view.describe_filters()))
else:
    counts = card["status"].value_counts()
    for where, state in zip(st.columns(len(STATUSES) + 1), (*STATUSES, None), strict=True):
        if state is None:
            where.metric(_("Not measurable"), formats.number(int(card["status"].isna().sum())), border=True,
                         help=_("A target whose KPI has no value for the view (no answers, no spend in the "
                                "segment)."))
        else:
            where.metric(f":{STATUS_COLOURS[state]}-badge[{status_label(state)}]",
                         formats.number(int(counts.get(state, 0))), border=True)

    def gap_text(row) -> str:
        if row["gap"] is None or pd.isna(row["gap"]):
            return "—"
        unit = REGISTRY[row["kpi"]].unit
        gap = fmt.delta(row["gap"], unit, currency) or "—"
        if unit.value == "percent" or row["gap_share"] is None or pd.isna(row["gap_share"]):
            return gap
        return _("{gap} ({share})").format(gap=gap, share=formats.percent(row["gap_share"], 1, sign=True))

    public_header = _("Public")
    shown = pd.DataFrame({
        _("Status"): [status_label(s) if s else _("not measurable") for s in card["status"]],
        _("KPI"): card["label"],
        _("Actual"): [fmt.value(None if pd.isna(v) else v, REGISTRY[k].unit, currency)
                      for k, v in zip(card["kpi"], card["actual"], strict=True)],
        _("Target"): [fmt.value(v, REGISTRY[k].unit, currency)
                      for k, v in zip(card["kpi"], card["target"], strict=True)],
        _("Gap"): [gap_text(row) for row in card.to_dict("records")],
        _("Better when"): [_("higher") if REGISTRY[k].higher_is_better else _("lower") for k in card["kpi"]],
        _("Tolerance"): [tolerance_text(t) for t in card["tolerance"]],
        _("Target of"): card["source"],
        public_header: card["public"],
    })
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={public_header: st.column_config.CheckboxColumn(
                     help=_("Shown in the shareholders & partners edition"))})
    st.caption(_("On track: at least as good as the target in the KPI's direction. At risk: short of it by no more "
                 "than its tolerance (default {tolerance} of the target). Off track: further. A month without a "
                 "target of its own takes its quarter's or year's: amounts and counts in proportion to its length "
                 "(a year's revenue target ÷ 12), rates, scores and stocks as they are.").format(
        tolerance=tolerance_text(DEFAULT_TOLERANCE)))

    st.subheader(_("Against the target line"))
    window = [p for p in reversed(periods(db, view.grain)) if p <= view.period][-TREND_PERIODS:]
    drawable = [k for k in card["kpi"] if not REGISTRY[k].model_based]
    trend = data.trend(drawable, period, len(window), filters=view.filters) if drawable else None
    marks = on_periods(decisions.events(), [str(p) for p in window], view.filters)
    marks["label"] = marks["period"].map({str(p): p.label for p in window})
    order = [p.label for p in window]
    columns = st.columns(3)
    for index, key in enumerate(card["kpi"]):
        kpi = REGISTRY[key]
        where = columns[index % 3]
        state = card.loc[card["kpi"] == key, "status"].iloc[0]
        badge = f" :{STATUS_COLOURS[state]}-badge[{status_label(state)}]" if isinstance(state, str) else ""
        where.markdown(f"**{kpi.label}**{badge}")
        if trend is None or key not in trend:
            where.caption(_("Model-based: fitted once per period, so no trend is drawn; the table gives its "
                            "actual."))
            continue
        frame = pd.DataFrame({"label": [p.label for p in window], "actual": list(trend[key]),
                              "target": target_line(targets, key, [str(p) for p in window], segment)})
        x = alt.X("label:O", sort=order, title=None, axis=alt.Axis(labelAngle=-45, labelOverlap=True))
        axis = alt.Axis(format=".0%" if kpi.unit.value == "percent" else "~s")
        actual = alt.Chart(frame).mark_line(point=True, color="#1f5fa8", strokeWidth=2.5).encode(
            x=x, y=alt.Y("actual:Q", title=None, axis=axis, scale=alt.Scale(zero=False)),
            tooltip=[alt.Tooltip("label:N", title=_("Period")),
                     alt.Tooltip("actual:Q", title=_("Actual"), format=",.3~f"),
                     alt.Tooltip("target:Q", title=_("Target"), format=",.3~f")])
        goal = alt.Chart(frame.dropna(subset=["target"])).mark_line(
            color="#222222", strokeDash=[6, 3], strokeWidth=1.5, point=alt.OverlayMarkDef(shape="stroke", size=120,
                                                                                     color="#222222")
        ).encode(x=x, y="target:Q")
        chart = alt.layer(*event_layers(marks, "label", order), goal, actual).properties(height=180)
        with where:
            charts.show(chart, width="stretch")
    if caption := listed(marks):
        st.caption(caption)
    st.caption(_("Blue: the actual; dashed: the target of each period (where one is set or phased); violet: the "
                 "company's events."))

def save(write, saved: str, not_saved: str) -> None:
    """Write a form's row (validated by kpis first), then show the page again with what was saved; or say why not."""
    try:
        write()
    except Refused as refused:
        st.error(_("{not_saved}: {problems}").format(not_saved=not_saved, problems="; ".join(refused.problems)))
        return
    st.session_state["scorecard:saved"] = saved
    st.rerun()


# --- setting targets ---------------------------------------------------------------------------------------------

scope = access.grant().scope
# The segments a form offers: everyone's and each value, or only the values inside a scoped person's access.
segments = ([f"{name}={value}" for name, values in scope.items() for value in values] if scope else
            [ALL] + [f"{name}={value}" for name in filter_names(db) if name != "cohort"
                     for value in filter_options(db, name)])


# The options' words, named as the run draws them (a format function called later would not know the language).
segment_words = {s: segment_word(s) for s in segments}
category_words = {c: category_label(c) for c in CATEGORIES}


def scope_allows(stored: str) -> bool:
    """Whether a target's or event's segment is one this person may see (everyone's only without a scope)."""
    return not scope or stored in segments


if editor:
    st.subheader(_("Set a target"))
    with st.form("target", clear_on_submit=False):
        left, middle, right = st.columns(3)
        by_label = {kpi.label: key for key, kpi in REGISTRY.items()}
        label = left.selectbox(_("KPI"), list(by_label), key="target:kpi")
        when = middle.text_input(_("Period"), value=period, key="target:period",
                                 help=_("2026-03 (a month), 2026-Q3 (a quarter) or 2026 (a year: its months and "
                                        "quarters take it, phased)"))
        chosen = right.selectbox(_("Segment"), segments, key="target:segment", format_func=segment_words.get,
                                 index=segments.index(segment) if segment in segments else 0)
        left, middle, right = st.columns(3)
        value = left.text_input(_("Target"), key="target:value",
                                help=_("As the KPI is written: 1200000 for an amount, 42 % for a rate, 35 for an "
                                       "NPS."))
        tolerance = middle.number_input(_("At risk within (%)"), 0.0, 99.0, 100 * DEFAULT_TOLERANCE, step=1.0,
                                        key="target:tolerance")
        public = right.checkbox(_("Public (partner edition)"), key="target:public")
        if st.form_submit_button(_("Save the target"), icon=":material/flag:", key="target:save"):
            row = {"kpi": by_label[label], "period": when, "target": value,
                   "segment": "" if chosen == ALL else chosen, "tolerance": f"{tolerance} %",
                   "public": "yes" if public else "no"}
            save(lambda: decisions.settings().put_targets(parse_targets([row], db), by=access.who(), view=view_text),
                 _("Target saved: {kpi}, {period}, {segment}.").format(kpi=label, period=when.strip(),
                                                                      segment=segment_word(chosen)),
                 _("The target was not saved"))
listed = targets[[scope_allows(t) for t in targets["segment"]]] if len(targets) else targets
if len(listed):
    with st.expander(_("All targets ({n})").format(n=formats.number(len(listed)))):
        # The store's rows as they are (KPI keys, shares), under translated headers.
        columns = {"kpi": _("KPI"), "period": _("Period"), "segment": _("Segment"), "target": _("Target"),
                   "tolerance": _("Tolerance"), "public": _("Public"), "updated_at": _("Updated at"),
                   "updated_by": _("Updated by")}
        st.dataframe(listed.assign(segment=listed["segment"].map(segment_word))[list(columns)].rename(
            columns=columns), hide_index=True, width="stretch")
        names = [f"{r['kpi']} · {r['period']} · {segment_word(r['segment'])}" for r in listed.to_dict("records")]
        gone = editor and st.selectbox(_("Remove a target"), names, index=None, placeholder=_("Choose a target…"),
                                       key="target:remove")
        if gone and st.button(_("Remove it"), key="target:remove:go"):
            row = listed.iloc[names.index(gone)]
            decisions.settings().remove_target(row["kpi"], row["period"], row["segment"], by=access.who(),
                                               view=view_text)
            st.rerun()

# --- events ------------------------------------------------------------------------------------------------------

st.subheader(_("Events"))
st.caption(_("What happened, dated: a campaign, a price change, an outage. Every time chart of the dashboard and "
             "the PDF draws them (a rule for a day, a band for a range) and lists them underneath. "
             "`python cli.py events import events.csv` loads many at once."))
events = [e for e in decisions.events() if scope_allows(e.segment)]
if not editor:
    st.caption(_("Targets and events are set by analysts: this account reads them."))
if events:
    st.dataframe(pd.DataFrame({"#": [e.id for e in events], _("When"): [e.dates for e in events],
                               _("Category"): [category_label(e.category) for e in events],
                               _("Event"): [e.label for e in events],
                               _("Segment"): [segment_word(e.segment) for e in events]}),
                 hide_index=True, width="stretch")
if editor:
    with st.form("event", clear_on_submit=True):
        left, middle, right = st.columns(3)
        start = left.date_input(_("Date (or first day)"), value=None, key="event:start", format="YYYY-MM-DD")
        until = middle.date_input(_("Last day (for a range)"), value=None, key="event:until", format="YYYY-MM-DD")
        category = right.selectbox(_("Category"), list(CATEGORIES), format_func=category_words.get,
                                  key="event:category")
        left, right = st.columns([2, 1])
        text = left.text_input(_("What happened"), max_chars=80, key="event:label",
                               placeholder=_("Spring campaign"))
        where = right.selectbox(_("Segment"), segments, key="event:segment", format_func=segment_words.get)
        if st.form_submit_button(_("Add the event"), icon=":material/event:", key="event:save"):
            row = {"date": start.isoformat() if isinstance(start, date) else "", "label": text, "category": category,
                   "until": until.isoformat() if isinstance(until, date) else None,
                   "segment": "" if where == ALL else where}
            save(lambda: decisions.settings().add_events(parse_events([row], db), by=access.who(), view=view_text),
                 _("Event added: {event}.").format(event=text.strip()), _("The event was not added"))
if events and editor:
    gone = st.selectbox(_("Remove an event"), [e.id for e in events], index=None, placeholder=_("Choose an event…"),
                        format_func=lambda n: next(e.text for e in events if e.id == n), key="event:remove")
    if gone and st.button(_("Remove it"), key="event:remove:go"):
        decisions.settings().remove_event(gone, by=access.who(), view=view_text)
        st.rerun()
st.caption(_("Targets and events are kept in {file} beside the database: imports and demo rebuilds never touch "
             "them.").format(file=decisions.settings().path.name))
