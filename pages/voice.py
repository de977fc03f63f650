"""Voice of the customer: what customers score and say — NPS, CSAT and CES with their noise, effort by journey
step, the verbatims and their themes, and the money behind the score (DOMAIN.md points 7, 8 and 9).

A thin page: every number comes from kpis through ui.data.call, every KPI label and definition from the registry.
Comments arrive scrubbed and without customer ids (kpis.voice.verbatims); nothing here reads a person's data.
"""

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from i18n import N_, _, formats, ngettext
from kpis import REGISTRY, Unit
from kpis import format as fmt
from kpis.events import listed, on_periods
from kpis.labels import EFFORT_PEAK_MIN_ANSWERS, compared_with, score_group_heading, score_group_label
from kpis.voice.declarations import SCORE_GROUPS, unhappy_and_happy
from kpis.voice.verbatims import theme_label
from report.charts import event_layers
from ui import charts, data, decisions
from ui.db import database
from ui.state import current_view
from ui.tables import download
from ui.tiles import kpi_help, tile

ALL_STEPS = "All steps"  # the journey-step option for the whole journey (a value, shown translated)
SURVEYS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}
TREND_PERIODS = {"month": 24, "quarter": 12, "year": 12}
ROW_LIMITS = [25, 50, 100, 250, 500, 1000]
RED, GREEN, GREY, BLUE = "#d62728", "#2ca02c", "#9aa5b1", "#1f77b4"
GROUP_COLOURS = {"detractor": RED, "passive": GREY, "promoter": GREEN, "dissatisfied": RED, "neutral": GREY,
                 "satisfied": GREEN, "high effort": RED, "low effort": GREEN}
BADGES = {RED: "red", GREY: "gray", GREEN: "green"}
# The comments of a group at one end of a survey's scale, as people read them.
COMMENTS = {"detractor": N_("detractor comments"), "promoter": N_("promoter comments"),
            "dissatisfied": N_("dissatisfied comments"), "satisfied": N_("satisfied comments"),
            "high effort": N_("high effort comments"), "low effort": N_("low effort comments")}
def comments_of(group: str) -> str:
    """ "detractor comments" — the comments of the group at one end of a survey's scale."""
    return _(COMMENTS[group]) if group in COMMENTS else group


def comments_counted(group: str, n: int) -> str:
    """ "3 detractor comments", "1 promoter comment"."""
    number = formats.number(n)
    forms = {
        "detractor": lambda: ngettext("{n} detractor comment", "{n} detractor comments", n),
        "promoter": lambda: ngettext("{n} promoter comment", "{n} promoter comments", n),
        "dissatisfied": lambda: ngettext("{n} dissatisfied comment", "{n} dissatisfied comments", n),
        "satisfied": lambda: ngettext("{n} satisfied comment", "{n} satisfied comments", n),
        "high effort": lambda: ngettext("{n} high effort comment", "{n} high effort comments", n),
        "low effort": lambda: ngettext("{n} low effort comment", "{n} low effort comments", n),
    }
    return forms[group]().format(n=number) if group in forms else f"{number} {group}"


def share(value: float) -> str:
    """A share to the whole percent, as the page writes it: 67% / 67 %."""
    return _("{percent}%").format(percent=formats.number(100 * value))


def answers_text(n: int) -> str:
    return ngettext("{n} answer", "{n} answers", n).format(n=formats.number(n))


def last_periods(n: int, grain: str) -> str:
    """ "the last 24 months" — the trend's window."""
    if grain == "quarter":
        return ngettext("the last {n} quarter", "the last {n} quarters", n).format(n=formats.number(n))
    if grain == "year":
        return ngettext("the last {n} year", "the last {n} years", n).format(n=formats.number(n))
    return ngettext("the last {n} month", "the last {n} months", n).format(n=formats.number(n))


GRAIN_PLURALS = {"month": N_("these months"), "quarter": N_("these quarters"), "year": N_("these years")}


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
period = str(view.period)
filters = view.filters


def badge(group: str) -> str:
    return f":{BADGES[GROUP_COLOURS.get(group, GREY)]}-badge[{score_group_label(group)}]"


st.title(_("Voice of the customer"))
st.caption(_("**{period}** {compared_with} · {segment} · data as of {date}").format(
    period=view.period.label, compared_with=compared_with(view.compare, view.reference.label),
    segment=view.describe_filters(), date=formats.date(db.data_end)))

# --- the journey step that focuses the page ------------------------------------------------------------------

steps = db.touchpoints()
nps_steps = data.touchpoints_asked(period, "nps", filters=filters)
# The options' words, named as the run draws them (a format function called later would not know the language).
step_words = {ALL_STEPS: _("All steps")} | {s: s for s in steps}
step = st.segmented_control(_("Journey step"), [ALL_STEPS, *steps], default=ALL_STEPS, key="voice:step",
                            format_func=step_words.get) or ALL_STEPS
params = None if step == ALL_STEPS else {"touchpoint": step}
where = "" if step == ALL_STEPS else " " + _("at the **{step}** step").format(step=step)
if nps_steps:
    st.caption(_("Focus the whole page on one step of the journey. CSAT and CES are asked right after a step; "
                 "**NPS is a relationship survey**, asked about the company as a whole (in this data, the "
                 "{steps} step), not after a step.").format(
        steps=", ".join(_("“{step}”").format(step=s) for s in nps_steps)))
else:
    st.caption(_("Focus the whole page on one step of the journey. CSAT and CES are asked right after a step; "
                 "**NPS is a relationship survey**, asked about the company as a whole, not after a step."))

# --- the three scores --------------------------------------------------------------------------------------------

SCORES = ["nps", "csat", "ces"]
ANSWERS = ["nps_answers", "csat_answers", "ces_answers"]
table = data.compare(SCORES + ANSWERS, period, params=params, filters=filters)
periods_shown = TREND_PERIODS[view.grain]
trend = data.trend(SCORES + ANSWERS, period, periods_shown, params=params, filters=filters)
changes = {key: data.change_with_margin(key, period, against=view.compare, params=params, filters=filters)
           for key in ("nps", "csat")}
answers = {key: int(table.loc[f"{key}_answers", "value"] or 0) for key in SCORES}


def margin_text(key: str, margin: float) -> str:
    points = formats.number(margin) if key == "nps" else formats.number(100 * margin, 1)
    return _("± {margin} pts").format(margin=points)


def note(key: str) -> str:
    n = answers[key]
    if not n:
        if key == "nps" and params and nps_steps and step not in nps_steps:
            return _("NPS is not asked at this step")
        return _("no {survey} answers").format(survey=SURVEYS[key])
    margin = changes[key]["margin"] if key in changes else None
    return (f"{margin_text(key, margin)} · " if margin is not None else "") + answers_text(n)


def verdict(key: str) -> str:
    """One plain sentence: is the change against the reference period larger than the noise?"""
    change = changes[key]
    if change["value"] is None:
        return ""
    unit = REGISTRY[key].unit
    if change["within_noise"] is None:
        return _("No answers in {period} to compare with.").format(period=view.reference.label)
    if change.get("delta_low") is not None:  # the change's own 95 % interval (adjusted Wald for NPS)
        low, high = (fmt.delta(change[k], unit) for k in ("delta_low", "delta_high"))
        moved = _("{change} vs {reference}; the change's 95 % interval: {low} to {high}").format(
            change=fmt.delta(change["delta"], unit), reference=view.reference.label, low=low, high=high)
    else:
        moved = _("{change} vs {reference}; the change's own margin is {margin}").format(
            change=fmt.delta(change["delta"], unit), reference=view.reference.label,
            margin=margin_text(key, change["noise"]))
    if change["within_noise"]:
        return _(":orange[**Within the margin of error: not a real change.**] {moved}.").format(moved=moved)
    return _(":blue[**Beyond the margin of error: a real change.**] {moved}.").format(moved=moved)


st.subheader(_("The scores — {step}").format(step=step) if params else _("The scores"))
st.caption(_("What customers told us this period, each with its margin of error (95 %) and number of answers: "
             "a move smaller than the margin is noise, not news."))
for column, key in zip(st.columns(3), SCORES, strict=True):
    spark = list(trend[key])[-12:]
    tile(column, key, table, view, currency, spark, note(key))
    if key in changes:
        column.markdown(verdict(key))
    elif answers[key]:
        column.markdown(_("{answers}: lower is better (1 = no effort, 5 = a lot).").format(
            answers=answers_text(answers[key])))
if not any(answers.values()):
    st.info(_("No survey answers in {period} for {segment}{where}: the scores show “—”.").format(
        period=view.period.label, segment=view.describe_filters(), where=where))

# --- trend ------------------------------------------------------------------------------------------------------

st.subheader(_("How the scores moved"))
st.caption(_("{last_periods} up to {period}. The shaded bands around NPS and CSAT are their margins of error: "
             "periods whose bands overlap may not really differ. Grey bars: answers.").format(
    last_periods=capitalized(last_periods(periods_shown, view.grain)), period=view.period.label))
trend = trend.copy()
has_answers = trend[ANSWERS].fillna(0).sum(axis=1) > 0
trend = trend[has_answers.cummax()] if has_answers.any() else trend.iloc[0:0]
if trend.empty:
    st.info(_("No survey answers in {last_periods}{where}.").format(
        last_periods=last_periods(periods_shown, view.grain), where=where))
else:
    def with_band(key: str, bounds: tuple[float, float]) -> pd.DataFrame:
        """A score per period with its 95 % interval as a band (NPS: the adjusted-Wald one, which is centred on the
        adjusted score; CSAT: value ± margin), clipped to the scale."""
        with_margin = {"nps": data.nps_with_margin, "csat": data.csat_with_margin}[key]
        rows = [with_margin(p, params=params, filters=filters) for p in trend["period"]]

        def bound(r: dict, side: str, sign: int, limit: float):
            if r["value"] is None:
                return None
            edge = r[side] if side in r else r["value"] + sign * r["margin"]
            return max(edge, limit) if sign < 0 else min(edge, limit)

        return pd.DataFrame({
            "period": trend["period"], "value": [r["value"] for r in rows], "answers": [r["answers"] for r in rows],
            "low": [bound(r, "low", -1, bounds[0]) for r in rows],
            "high": [bound(r, "high", 1, bounds[1]) for r in rows],
        })

    series = {
        "nps": with_band("nps", (-100, 100)),
        "csat": with_band("csat", (0, 1)),
        "ces": pd.DataFrame({"period": trend["period"], "value": trend["ces"], "answers": trend["ces_answers"]}),
    }
    axes = {"nps": (_("NPS (−100 to +100)"), "+.0f", None), "csat": (_("Satisfied answers"), ".0%", None),
            "ces": (_("Mean effort (1 easy – 5 hard)"), ".2f", [1, 5])}
    marks = on_periods(decisions.events(), list(trend["period"]), filters)
    for column, key in zip(st.columns(3, gap="large"), SCORES, strict=True):
        frame = series[key].set_index("period").astype("float64").reset_index()
        title, number, domain = axes[key]
        x = alt.X("period:O", title=None, axis=alt.Axis(labelAngle=-45, labelFontSize=12))
        tips = [alt.Tooltip("period:N", title=_("Period")),
                alt.Tooltip("value:Q", title=REGISTRY[key].short_label, format=number),
                alt.Tooltip("answers:Q", format=",.0f", title=_("Answers"))]
        scale = alt.Scale(domain=domain) if domain else alt.Scale(zero=False)
        line = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=50), strokeWidth=3, color=BLUE).encode(
            x=x, y=alt.Y("value:Q", title=title, scale=scale, axis=alt.Axis(format=number)), tooltip=tips)
        layers = [line]
        if "low" in frame:
            tips_band = tips + [alt.Tooltip("low:Q", format=number, title=_("margin from")),
                                alt.Tooltip("high:Q", format=number, title=_("margin to"))]
            band = alt.Chart(frame).mark_area(opacity=0.18, color=BLUE).encode(x=x, y="low:Q", y2="high:Q",
                                                                              tooltip=tips_band)
            layers = [band, line]
        layers = event_layers(marks, "period") + layers
        if key == "nps":
            zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(strokeDash=[4, 4], color=GREY).encode(y="y:Q")
            layers.insert(1, zero)
        column.markdown(f"**{REGISTRY[key].label}**", help=kpi_help(key))
        if frame["value"].isna().all():
            column.info(_("{missing} in {these_periods}.").format(missing=capitalized(note(key)),
                                                                 these_periods=_(GRAIN_PLURALS[view.grain])))
            continue
        bars = alt.Chart(frame).mark_bar(color=GREY).encode(
            x=alt.X("period:O", title=None, axis=None), y=alt.Y("answers:Q", title=_("answers")), tooltip=tips)
        with column:
            charts.show(alt.layer(*layers).properties(height=230), width="stretch")
            charts.show(bars.properties(height=70), width="stretch")
    if caption := listed(marks):
        st.caption(caption)

# --- effort by journey step ----------------------------------------------------------------------------------

st.subheader(_("Where effort peaks along the journey"))
st.caption(_("Effort (CES, lower is better) and satisfaction (CSAT) right after each step, for the whole journey: "
             "the step where customers work hardest is where to act first. NPS is not here: it is not asked "
             "after a step."))
effort = data.effort_by_touchpoint(period, filters=filters)
peak = data.effort_peak(period, filters=filters)
if effort.empty:
    st.info(_("No effort (CES) or satisfaction (CSAT) answers in {period}.").format(period=view.period.label))
else:
    if peak:
        st.markdown(f"#### {peak['text']}")
    else:
        st.markdown(_("#### No step has {n} effort answers in {period}: too few to name where effort peaks — try a "
                      "longer period.").format(n=formats.number(EFFORT_PEAK_MIN_ANSWERS), period=view.period.label))
    top = effort.dropna(subset=["ces"]).head(1)
    if peak and not top.empty and top["touchpoint"].iloc[0] != peak["touchpoint"]:
        st.caption(_("{step} shows a higher mean effort ({effort}) on only {answers}: too few to be sure.").format(
            step=top["touchpoint"].iloc[0], effort=formats.number(top["ces"].iloc[0], 1),
            answers=answers_text(int(top["ces_answers"].iloc[0]))))
    order = list(effort["touchpoint"])
    frame = effort.assign(peak=effort["touchpoint"] == (peak or {}).get("touchpoint"),
                          chosen=effort["touchpoint"] == step)
    frame["ces_label"] = [f"{formats.number(v, 1)}  ({formats.number(n)})" if pd.notna(v) else ""
                          for v, n in zip(frame["ces"], frame["ces_answers"], strict=True)]
    frame["csat_label"] = [f"{share(v)}  ({formats.number(n)})" if pd.notna(v) else ""
                           for v, n in zip(frame["csat"], frame["csat_answers"], strict=True)]
    y = alt.Y("touchpoint:N", sort=order, title=None, axis=alt.Axis(labelFontSize=15))
    stroke = alt.condition(alt.datum.chosen, alt.value("black"), alt.value(None))
    step_tip = alt.Tooltip("touchpoint:N", title=_("Journey step"))
    ces_bars = alt.Chart(frame.dropna(subset=["ces"])).mark_bar(strokeWidth=3).encode(
        x=alt.X("ces:Q", title=_("Mean effort (1 = easy, 5 = hard)"), scale=alt.Scale(domain=[1, 5])),
        x2=alt.datum(1), y=y,
        color=alt.condition(alt.datum.peak, alt.value(RED), alt.value(GREY)), stroke=stroke,
        tooltip=[step_tip, alt.Tooltip("ces:Q", format=".2f", title=_("Mean effort (CES)")),
                 alt.Tooltip("high_effort_share:Q", format=".0%", title=_("High-effort answers")),
                 alt.Tooltip("ces_answers:Q", format=",", title=_("CES answers"))])
    csat_bars = alt.Chart(frame.dropna(subset=["csat"])).mark_bar(strokeWidth=3, color=GREEN, opacity=0.7).encode(
        x=alt.X("csat:Q", title=_("Satisfied answers (CSAT)"), scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")), y=y, stroke=stroke,
        tooltip=[step_tip, alt.Tooltip("csat:Q", format=".0%", title=_("Satisfied answers (CSAT)")),
                 alt.Tooltip("csat_answers:Q", format=",", title=_("CSAT answers"))])
    height = 45 * len(order) + 20
    left, right = st.columns(2, gap="large")
    with left:
        charts.show((ces_bars + ces_bars.mark_text(align="left", dx=6, fontSize=14).encode(
            text="ces_label:N", color=alt.value("black"))).properties(height=height), width="stretch")
    with right:
        charts.show((csat_bars + csat_bars.mark_text(align="left", dx=6, fontSize=14).encode(
            text="csat_label:N", color=alt.value("black"))).properties(height=height), width="stretch")
    st.caption(_("Numbers in brackets: answers. Red: the step where effort peaks; outlined: the step in focus "
                 "({step}).").format(step=step) if params else
               _("Numbers in brackets: answers. Red: the step where effort peaks."))

# --- themes ----------------------------------------------------------------------------------------------------

st.subheader(_("What the unhappy talk about, next to the happy"))
theme_default = "nps" if not params or step in nps_steps else "ces"
survey = st.segmented_control(_("Survey"), list(SURVEYS), format_func=SURVEYS.get, default=theme_default,
                              key=f"voice:themes:{step}") or theme_default
unhappy, happy = unhappy_and_happy(survey)
st.caption(_("Share of {unhappy} and of {happy} mentioning each theme ({survey}, {period}{where}). Themes are found "
             "by keywords, in English and French; a comment can touch several themes or none.").format(
    unhappy=comments_of(unhappy), happy=comments_of(happy), survey=SURVEYS[survey], period=view.period.label,
    where=where.replace("**", "")))
found = data.themes(period, survey=survey, touchpoint=step if params else None, examples=6, filters=filters)
u, h = unhappy.replace(" ", "_"), happy.replace(" ", "_")
found = found[(found[f"{u}_comments"] > 0) | (found[f"{h}_comments"] > 0)]
if found.empty:
    st.info(_("Neither the {unhappy} nor the {happy} ({survey}) mention a known theme in {period}{where}.").format(
        unhappy=comments_of(unhappy), happy=comments_of(happy), survey=SURVEYS[survey], period=view.period.label,
        where=where))
else:
    pairs = ((unhappy, u), (happy, h))

    def counted(group: str, name: str) -> str:
        """How many comments the group's shares are out of."""
        n = int(found[f"{name}_total"].iloc[0])
        if not n:
            return _("no {comments}").format(comments=comments_of(group))
        if not (found[f"{name}_comments"] > 0).any():
            return _("{comments} mention none of these themes").format(comments=comments_of(group))
        return comments_counted(group, n)

    def share_of(row: dict, group: str, name: str) -> str:
        part = row[f"{name}_share"]
        if pd.isna(part):
            return _("no {comments}").format(comments=comments_of(group))
        return _("{share} of {comments}").format(share=share(part), comments=comments_of(group))

    themes_shown = [theme_label(t) for t in found["theme"]]
    long = pd.concat([pd.DataFrame({"theme": themes_shown, "group": score_group_label(g),
                                    "share": found[f"{n}_share"], "comments": found[f"{n}_comments"]})
                      for g, n in pairs]).dropna(subset=["share"])
    long["label"] = [share(s) for s in long["share"]]
    shown_groups = [score_group_label(unhappy), score_group_label(happy)]
    bars = alt.Chart(long).mark_bar().encode(
        y=alt.Y("theme:N", sort=themes_shown, title=None, axis=alt.Axis(labelFontSize=15)),
        yOffset=alt.YOffset("group:N", sort=shown_groups, scale=alt.Scale(domain=shown_groups)),
        x=alt.X("share:Q", title=_("Share of the group's comments"), axis=alt.Axis(format="%")),
        color=alt.Color("group:N", scale=alt.Scale(domain=shown_groups, range=[RED, GREEN]),
                        legend=alt.Legend(title=None, orient="top", labelFontSize=14)),
        tooltip=[alt.Tooltip("theme:N", title=_("Theme")), alt.Tooltip("group:N", title=_("Group")),
                 alt.Tooltip("share:Q", format=".0%", title=_("Share")),
                 alt.Tooltip("comments:Q", format=",", title=_("Comments"))])
    text = bars.mark_text(align="left", dx=4, fontSize=12).encode(text="label:N", color=alt.value("black"))
    left, right = st.columns([3, 2], gap="large")
    with left:
        charts.show((bars + text).properties(height=55 * len(found) + 70), width="stretch")
    left.caption(_("Comments behind these shares: {unhappy}; {happy}.").format(unhappy=counted(unhappy, u),
                                                                               happy=counted(happy, h)))
    right.markdown(_("**Example comments by theme**"))
    for row in found.to_dict("records"):
        with right.expander(_("**{theme}** — {unhappy}, {happy}").format(
                theme=theme_label(row["theme"]), unhappy=share_of(row, unhappy, u), happy=share_of(row, happy, h))):
            for g, n in pairs:
                for comment in list(dict.fromkeys(row[f"{n}_examples"]))[:3]:
                    st.markdown(_("{badge} *“{comment}”*").format(badge=badge(g), comment=comment))

# --- verbatims -----------------------------------------------------------------------------------------------

st.subheader(_("Verbatims: the comments themselves"))
st.caption(_("Read what customers wrote, newest first. E-mail addresses and phone numbers are masked before "
             "anything is shown or downloaded, and no answer is linked to a named customer."))
c1, c2, c3, c4, c5 = st.columns([1.2, 2, 1.3, 2.2, 0.9])
survey_choice = c1.selectbox(_("Survey"), ["all", *SURVEYS], format_func=({"all": _("All surveys")} | SURVEYS).get,
                             key="voice:verbatims:survey")
group_options = list(dict.fromkeys(g for s in ([survey_choice] if survey_choice in SURVEYS else SURVEYS)
                                   for g, _lo, _hi in SCORE_GROUPS[s]))
groups = c2.multiselect(_("Score group"), group_options, key=f"voice:verbatims:group:{survey_choice}",
                        placeholder=_("All"), format_func={g: score_group_label(g) for g in group_options}.get)
step_choice = c3.selectbox(_("Journey step"), [ALL_STEPS, *steps], index=([ALL_STEPS, *steps]).index(step),
                           key=f"voice:verbatims:step:{step}",
                           format_func=step_words.get)
search = c4.text_input(_("Search the comments"), key="voice:verbatims:search",
                       placeholder=_("late, remboursement, app…"))
limit = c5.selectbox(_("Rows"), ROW_LIMITS, index=1, key="voice:verbatims:limit",
                     format_func={n: formats.number(n) for n in ROW_LIMITS}.get)
every_period = st.toggle(_("Search every period, not only {period}").format(period=view.period.label),
                         key="voice:verbatims:every")
comments = data.verbatims(None if every_period else period,
                survey=survey_choice if survey_choice in SURVEYS else None, group=groups or None,
                touchpoint=None if step_choice == ALL_STEPS else step_choice, search=search.strip() or None,
                limit=limit, filters=filters)
if comments.empty:
    st.info(_("No comment matches these filters.") if every_period else
            _("No comment matches these filters in {period}.").format(period=view.period.label))
else:
    # The comments as written; the survey's and the group's names in words (the CSV keeps the stored values).
    shown = comments.assign(survey=comments["survey"].map(SURVEYS), group=comments["group"].map(score_group_label))
    st.dataframe(shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 460),
                 column_config={
                     "answered_at": st.column_config.DatetimeColumn(_("Answered"), format="YYYY-MM-DD HH:mm"),
                     "survey": st.column_config.TextColumn(_("Survey"), width="small"),
                     "score": st.column_config.NumberColumn(_("Score"), width="small"),
                     "group": st.column_config.TextColumn(_("Group"), width="small"),
                     "touchpoint": st.column_config.TextColumn(_("Journey step"), width="small"),
                     "comment": st.column_config.TextColumn(_("Comment"), width="large"),
                 })
    n = len(comments)
    if n == limit:
        st.caption(ngettext("{n} comment — the limit: raise “Rows” to see more.",
                            "{n} comments — the limit: raise “Rows” to see more.", n).format(n=formats.number(n)))
    else:
        st.caption(ngettext("{n} comment.", "{n} comments.", n).format(n=formats.number(n)))
    download(comments, "verbatims", view)

# --- the money behind the score ---------------------------------------------------------------------------------

st.subheader(_("The money behind the score"))
value = data.value_by_nps_group(period, filters=filters)
last_day = value["window_end"] - timedelta(days=1)
window = _("{first} – {last}").format(first=formats.month(value["window_start"]), last=formats.month(last_day))
what = _("What promoters, passives and detractors are worth, over the 12 months {window}: each customer counts in "
         "the group of their latest NPS answer. Happier customers stay and spend more.").format(window=window)
if params:
    what += " " + _("(NPS is a relationship survey: this block does not change with the step in focus, "
                    "{step}.)").format(step=step)
st.caption(what)
groups_table = value["table"].set_index("group")
if not value["respondents"]:
    st.info(_("No identified customer answered the NPS survey in {window}.").format(window=window))
else:
    left, right = st.columns([1.2, 2.2], gap="large")
    at_risk = value["revenue_at_risk_share"]
    left.metric(_("Revenue held by detractors"), fmt.value(value["revenue_at_risk"], Unit.CURRENCY, currency, True),
                border=True, help=_("The window's revenue from customers whose latest NPS answer was 0 to 6: "
                                    "revenue at risk if they leave."))
    if at_risk is not None:
        left.markdown(_("**{share}** of the revenue of the customers who answered, {window}.").format(
            share=share(at_risk), window=window))

    def cell(key: str, number) -> str:
        return "—" if pd.isna(number) else fmt.value(float(number), REGISTRY[key].unit, currency)

    rows = {
        _("Customers who answered"): [formats.number(n) for n in groups_table["customers"]],
        _("Still buying (ordered after answering)"): ["—" if pd.isna(r) else share(r)
                                                      for r in groups_table["retention"]],
        _("{kpi} (orders per customer)").format(kpi=REGISTRY["purchase_frequency"].label):
            [cell("purchase_frequency", v) for v in groups_table["purchase_frequency"]],
        REGISTRY["average_order_value"].label: [cell("average_order_value", v)
                                                for v in groups_table["average_order_value"]],
        REGISTRY["revenue_per_customer"].label: [cell("revenue_per_customer", v)
                                                 for v in groups_table["revenue_per_customer"]],
        REGISTRY["revenue"].label: [cell("revenue", v) for v in groups_table["revenue"]],
    }
    headers = [score_group_heading(g)
               for g in groups_table.index]
    right.table(pd.DataFrame(rows, index=headers).T)
    if filters:
        anonymous = _("Anonymous answers count in the score for all customers but belong to no segment, nor to this "
                      "table.")
    else:
        n = int(value["anonymous_answers"])
        anonymous = ngettext("{n} anonymous NPS answer in this window counts in the score but cannot be linked to "
                             "what anyone spends, so it is not in this table.",
                             "{n} anonymous NPS answers in this window count in the score but cannot be linked to "
                             "what anyone spends, so they are not in this table.", n).format(n=formats.number(n))
    st.caption(_("{anonymous} Amounts in {currency}, over the 12 months, not the period alone.").format(
        anonymous=anonymous, currency=currency))
    download(value["table"], "value_by_nps_group", view)
