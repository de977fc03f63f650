"""Voice of the customer: what customers score and say — NPS, CSAT and CES with their noise, effort by journey
step, the verbatims and their themes, and the money behind the score (DOMAIN.md points 7, 8 and 9).

A thin page: every number comes from kpis through ui.data.call, every KPI label and definition from the registry.
Comments arrive scrubbed and without customer ids (kpis.voice.verbatims); nothing here reads a person's data.
"""

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from kpis import REGISTRY, Unit
from kpis import format as fmt
from kpis.events import listed, on_periods
from kpis.labels import COMPARISONS, EFFORT_PEAK_MIN_ANSWERS
from kpis.voice.declarations import SCORE_GROUPS, unhappy_and_happy
from report.charts import event_layers
from ui import data, decisions
from ui.db import database
from ui.state import current_view
from ui.tables import download
from ui.tiles import kpi_help, tile

ALL_STEPS = "All steps"
SURVEYS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}
TREND_PERIODS = {"month": 24, "quarter": 12, "year": 12}
ROW_LIMITS = [25, 50, 100, 250, 500, 1000]
RED, GREEN, GREY, BLUE = "#d62728", "#2ca02c", "#9aa5b1", "#1f77b4"
GROUP_COLOURS = {"detractor": RED, "passive": GREY, "promoter": GREEN, "dissatisfied": RED, "neutral": GREY,
                 "satisfied": GREEN, "high effort": RED, "low effort": GREEN}
BADGES = {RED: "red", GREY: "gray", GREEN: "green"}

db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
period = str(view.period)
filters = view.filters


def badge(group: str) -> str:
    return f":{BADGES[GROUP_COLOURS.get(group, GREY)]}-badge[{group}]"


st.title("Voice of the customer")
st.caption(f"**{view.period.label}** compared with the {COMPARISONS[view.compare]} ({view.reference.label}) · "
           f"{view.describe_filters()} · data as of {db.data_end:%d %b %Y}")

# --- the journey step that focuses the page ------------------------------------------------------------------

steps = db.touchpoints()
nps_steps = data.touchpoints_asked(period, "nps", filters=filters)
step = st.segmented_control("Journey step", [ALL_STEPS, *steps], default=ALL_STEPS, key="voice:step") or ALL_STEPS
params = None if step == ALL_STEPS else {"touchpoint": step}
where = "" if step == ALL_STEPS else f" at the **{step}** step"
relationship = f" (in this data, the “{'”, “'.join(nps_steps)}” step)" if nps_steps else ""
st.caption("Focus the whole page on one step of the journey. CSAT and CES are asked right after a step; "
           f"**NPS is a relationship survey**, asked about the company as a whole{relationship}, not after a step.")

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
    return f"± {margin:.0f} pts" if key == "nps" else f"± {100 * margin:.1f} pts"


def note(key: str) -> str:
    n = answers[key]
    if not n:
        if key == "nps" and params and nps_steps and step not in nps_steps:
            return "NPS is not asked at this step"
        return f"no {SURVEYS[key]} answers"
    margin = changes[key]["margin"] if key in changes else None
    return (f"{margin_text(key, margin)} · " if margin is not None else "") + f"{n:,} answers"


def verdict(key: str) -> str:
    """One plain sentence: is the change against the reference period larger than the noise?"""
    change = changes[key]
    if change["value"] is None:
        return ""
    unit = REGISTRY[key].unit
    if change["within_noise"] is None:
        return f"No answers in {view.reference.label} to compare with."
    if change.get("delta_low") is not None:  # the change's own 95 % interval (adjusted Wald for NPS)
        low, high = (fmt.delta(change[k], unit) for k in ("delta_low", "delta_high"))
        moved = (f"{fmt.delta(change['delta'], unit)} vs {view.reference.label}; the change's 95 % interval: "
                 f"{low} to {high}")
    else:
        moved = (f"{fmt.delta(change['delta'], unit)} vs {view.reference.label}; the change's own margin is "
                 f"{margin_text(key, change['noise'])}")
    if change["within_noise"]:
        return f":orange[**Within the margin of error: not a real change.**] {moved}."
    return f":blue[**Beyond the margin of error: a real change.**] {moved}."


st.subheader(f"The scores{' — ' + step if params else ''}")
st.caption("What customers told us this period, each with its margin of error (95 %) and number of answers: "
           "a move smaller than the margin is noise, not news.")
for column, key in zip(st.columns(3), SCORES, strict=True):
    spark = list(trend[key])[-12:]
    tile(column, key, table, view, currency, spark, note(key))
    if key in changes:
        column.markdown(verdict(key))
    elif answers[key]:
        column.markdown(f"{answers[key]:,} answers: lower is better (1 = no effort, 5 = a lot).")
if not any(answers.values()):
    st.info(f"No survey answers in {view.period.label} for {view.describe_filters()}{where}: the scores show “—”.")

# --- trend ------------------------------------------------------------------------------------------------------

st.subheader("How the scores moved")
st.caption(f"The last {periods_shown} {view.grain}s up to {view.period.label}. The shaded bands around NPS and CSAT "
           "are their margins of error: periods whose bands overlap may not really differ. Grey bars: answers.")
trend = trend.copy()
has_answers = trend[ANSWERS].fillna(0).sum(axis=1) > 0
trend = trend[has_answers.cummax()] if has_answers.any() else trend.iloc[0:0]
if trend.empty:
    st.info(f"No survey answers in the last {periods_shown} {view.grain}s{where}.")
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
    axes = {"nps": ("NPS (−100 to +100)", "+.0f", None), "csat": ("Satisfied answers", ".0%", None),
            "ces": ("Mean effort (1 easy – 5 hard)", ".2f", [1, 5])}
    marks = on_periods(decisions.events(), list(trend["period"]), filters)
    for column, key in zip(st.columns(3, gap="large"), SCORES, strict=True):
        frame = series[key].set_index("period").astype("float64").reset_index()
        title, number, domain = axes[key]
        x = alt.X("period:O", title=None, axis=alt.Axis(labelAngle=-45, labelFontSize=12))
        tips = [alt.Tooltip("period:N"), alt.Tooltip("value:Q", title=REGISTRY[key].short_label, format=number),
                alt.Tooltip("answers:Q", format=",.0f")]
        scale = alt.Scale(domain=domain) if domain else alt.Scale(zero=False)
        line = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=50), strokeWidth=3, color=BLUE).encode(
            x=x, y=alt.Y("value:Q", title=title, scale=scale, axis=alt.Axis(format=number)), tooltip=tips)
        layers = [line]
        if "low" in frame:
            tips_band = tips + [alt.Tooltip("low:Q", format=number, title="margin from"),
                                alt.Tooltip("high:Q", format=number, title="margin to")]
            band = alt.Chart(frame).mark_area(opacity=0.18, color=BLUE).encode(x=x, y="low:Q", y2="high:Q",
                                                                              tooltip=tips_band)
            layers = [band, line]
        layers = event_layers(marks, "period") + layers
        if key == "nps":
            zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(strokeDash=[4, 4], color=GREY).encode(y="y:Q")
            layers.insert(1, zero)
        column.markdown(f"**{REGISTRY[key].label}**", help=kpi_help(key))
        if frame["value"].isna().all():
            missing = note(key)
            column.info(f"{missing[0].upper()}{missing[1:]} in these {view.grain}s.")
            continue
        column.altair_chart(alt.layer(*layers).properties(height=230), width="stretch")
        bars = alt.Chart(frame).mark_bar(color=GREY).encode(
            x=alt.X("period:O", title=None, axis=None), y=alt.Y("answers:Q", title="answers"), tooltip=tips)
        column.altair_chart(bars.properties(height=70), width="stretch")
    if caption := listed(marks):
        st.caption(caption)

# --- effort by journey step ----------------------------------------------------------------------------------

st.subheader("Where effort peaks along the journey")
st.caption("Effort (CES, lower is better) and satisfaction (CSAT) right after each step, for the whole journey: "
           "the step where customers work hardest is where to act first. NPS is not here: it is not asked "
           "after a step.")
effort = data.effort_by_touchpoint(period, filters=filters)
peak = data.effort_peak(period, filters=filters)
if effort.empty:
    st.info(f"No effort (CES) or satisfaction (CSAT) answers in {view.period.label}.")
else:
    if peak:
        st.markdown(f"#### {peak['text']}")
    else:
        st.markdown(f"#### No step has {EFFORT_PEAK_MIN_ANSWERS} effort answers in {view.period.label}: too few to "
                    "name where effort peaks — try a longer period.")
    top = effort.dropna(subset=["ces"]).head(1)
    if peak and not top.empty and top["touchpoint"].iloc[0] != peak["touchpoint"]:
        st.caption(f"{top['touchpoint'].iloc[0]} shows a higher mean effort ({top['ces'].iloc[0]:.1f}) on only "
                   f"{top['ces_answers'].iloc[0]} answers: too few to be sure.")
    order = list(effort["touchpoint"])
    frame = effort.assign(peak=effort["touchpoint"] == (peak or {}).get("touchpoint"),
                          chosen=effort["touchpoint"] == step)
    frame["ces_label"] = [f"{v:.1f}  ({n})" if pd.notna(v) else "" for v, n in zip(frame["ces"], frame["ces_answers"],
                                                                                  strict=True)]
    frame["csat_label"] = [f"{v:.0%}  ({n})" if pd.notna(v) else ""
                           for v, n in zip(frame["csat"], frame["csat_answers"], strict=True)]
    y = alt.Y("touchpoint:N", sort=order, title=None, axis=alt.Axis(labelFontSize=15))
    stroke = alt.condition(alt.datum.chosen, alt.value("black"), alt.value(None))
    ces_bars = alt.Chart(frame.dropna(subset=["ces"])).mark_bar(strokeWidth=3).encode(
        x=alt.X("ces:Q", title="Mean effort (1 = easy, 5 = hard)", scale=alt.Scale(domain=[1, 5])),
        x2=alt.datum(1), y=y,
        color=alt.condition(alt.datum.peak, alt.value(RED), alt.value(GREY)), stroke=stroke,
        tooltip=["touchpoint", alt.Tooltip("ces:Q", format=".2f"), alt.Tooltip("high_effort_share:Q", format=".0%"),
                 "ces_answers"])
    csat_bars = alt.Chart(frame.dropna(subset=["csat"])).mark_bar(strokeWidth=3, color=GREEN, opacity=0.7).encode(
        x=alt.X("csat:Q", title="Satisfied answers (CSAT)", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")), y=y, stroke=stroke,
        tooltip=["touchpoint", alt.Tooltip("csat:Q", format=".0%"), "csat_answers"])
    height = 45 * len(order) + 20
    left, right = st.columns(2, gap="large")
    left.altair_chart((ces_bars + ces_bars.mark_text(align="left", dx=6, fontSize=14).encode(
        text="ces_label:N", color=alt.value("black"))).properties(height=height), width="stretch")
    right.altair_chart((csat_bars + csat_bars.mark_text(align="left", dx=6, fontSize=14).encode(
        text="csat_label:N", color=alt.value("black"))).properties(height=height), width="stretch")
    st.caption("Numbers in brackets: answers. Red: the step where effort peaks"
               + (f"; outlined: the step in focus ({step})." if params else "."))

# --- themes ----------------------------------------------------------------------------------------------------

st.subheader("What the unhappy talk about, next to the happy")
theme_default = "nps" if not params or step in nps_steps else "ces"
survey = st.segmented_control("Survey", list(SURVEYS), format_func=SURVEYS.get, default=theme_default,
                              key=f"voice:themes:{step}") or theme_default
unhappy, happy = unhappy_and_happy(survey)
st.caption(f"Share of {unhappy} and of {happy} comments mentioning each theme ({SURVEYS[survey]}, "
           f"{view.period.label}{where.replace('**', '')}). Themes are found by keywords, in English and French; "
           "a comment can touch several themes or none.")
found = data.themes(period, survey=survey, touchpoint=step if params else None, examples=6, filters=filters)
u, h = unhappy.replace(" ", "_"), happy.replace(" ", "_")
found = found[(found[f"{u}_comments"] > 0) | (found[f"{h}_comments"] > 0)]
if found.empty:
    st.info(f"No {unhappy} or {happy} {SURVEYS[survey]} comments mention a known theme in {view.period.label}"
            f"{where}.")
else:
    pairs = ((unhappy, u), (happy, h))

    def counted(group: str, name: str) -> str:
        """How many comments the group's shares are out of."""
        n = int(found[f"{name}_total"].iloc[0])
        if not n:
            return f"no {group} comment"
        if not (found[f"{name}_comments"] > 0).any():
            return f"{group} comments mention none of these themes"
        return f"{n:,} {group} comment{'s' if n > 1 else ''}"

    def share_of(row: dict, group: str, name: str) -> str:
        share = row[f"{name}_share"]
        return f"no {group} comments" if pd.isna(share) else f"{share:.0%} of {group} comments"

    long = pd.concat([pd.DataFrame({"theme": found["theme"], "group": g, "share": found[f"{n}_share"],
                                    "comments": found[f"{n}_comments"]}) for g, n in pairs]).dropna(subset=["share"])
    long["label"] = [f"{s:.0%}" for s in long["share"]]
    bars = alt.Chart(long).mark_bar().encode(
        y=alt.Y("theme:N", sort=list(found["theme"]), title=None, axis=alt.Axis(labelFontSize=15)),
        yOffset=alt.YOffset("group:N", sort=[unhappy, happy], scale=alt.Scale(domain=[unhappy, happy])),
        x=alt.X("share:Q", title="Share of the group's comments", axis=alt.Axis(format="%")),
        color=alt.Color("group:N", scale=alt.Scale(domain=[unhappy, happy], range=[RED, GREEN]),
                        legend=alt.Legend(title=None, orient="top", labelFontSize=14)),
        tooltip=["theme", "group", alt.Tooltip("share:Q", format=".0%"), "comments"])
    text = bars.mark_text(align="left", dx=4, fontSize=12).encode(text="label:N", color=alt.value("black"))
    left, right = st.columns([3, 2], gap="large")
    left.altair_chart((bars + text).properties(height=55 * len(found) + 70), width="stretch")
    left.caption(f"Comments behind these shares: {counted(unhappy, u)}; {counted(happy, h)}.")
    right.markdown("**Example comments by theme**")
    for row in found.to_dict("records"):
        with right.expander(f"**{row['theme']}** — {share_of(row, unhappy, u)}, {share_of(row, happy, h)}"):
            for g, n in pairs:
                for comment in list(dict.fromkeys(row[f"{n}_examples"]))[:3]:
                    st.markdown(f"{badge(g)} *“{comment}”*")

# --- verbatims -----------------------------------------------------------------------------------------------

st.subheader("Verbatims: the comments themselves")
st.caption("Read what customers wrote, newest first. E-mail addresses and phone numbers are masked before "
           "anything is shown or downloaded, and no answer is linked to a named customer.")
c1, c2, c3, c4, c5 = st.columns([1.2, 2, 1.3, 2.2, 0.9])
survey_choice = c1.selectbox("Survey", ["all", *SURVEYS], format_func=lambda s: SURVEYS.get(s, "All surveys"),
                             key="voice:verbatims:survey")
group_options = list(dict.fromkeys(g for s in ([survey_choice] if survey_choice in SURVEYS else SURVEYS)
                                   for g, _, _ in SCORE_GROUPS[s]))
groups = c2.multiselect("Score group", group_options, key=f"voice:verbatims:group:{survey_choice}", placeholder="All")
step_choice = c3.selectbox("Journey step", [ALL_STEPS, *steps], index=([ALL_STEPS, *steps]).index(step),
                           key=f"voice:verbatims:step:{step}")
search = c4.text_input("Search the comments", key="voice:verbatims:search", placeholder="late, remboursement, app…")
limit = c5.selectbox("Rows", ROW_LIMITS, index=1, key="voice:verbatims:limit")
every_period = st.toggle("Search every period, not only " + view.period.label, key="voice:verbatims:every")
comments = data.verbatims(None if every_period else period,
                survey=survey_choice if survey_choice in SURVEYS else None, group=groups or None,
                touchpoint=None if step_choice == ALL_STEPS else step_choice, search=search.strip() or None,
                limit=limit, filters=filters)
if comments.empty:
    st.info("No comment matches these filters" + ("" if every_period else f" in {view.period.label}") + ".")
else:
    shown = comments.assign(survey=comments["survey"].map(SURVEYS))
    st.dataframe(shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 460),
                 column_config={
                     "answered_at": st.column_config.DatetimeColumn("Answered", format="YYYY-MM-DD HH:mm"),
                     "survey": st.column_config.TextColumn("Survey", width="small"),
                     "score": st.column_config.NumberColumn("Score", width="small"),
                     "group": st.column_config.TextColumn("Group", width="small"),
                     "touchpoint": st.column_config.TextColumn("Journey step", width="small"),
                     "comment": st.column_config.TextColumn("Comment", width="large"),
                 })
    more = " — the limit: raise “Rows” to see more" if len(comments) == limit else ""
    st.caption(f"{len(comments):,} comments{more}.")
    download(comments, "verbatims", view)

# --- the money behind the score ---------------------------------------------------------------------------------

st.subheader("The money behind the score")
value = data.value_by_nps_group(period, filters=filters)
last_day = value["window_end"] - timedelta(days=1)
window = f"{value['window_start']:%b %Y} – {last_day:%b %Y}"
st.caption(f"What promoters, passives and detractors are worth, over the 12 months {window}: each customer counts "
           "in the group of their latest NPS answer. Happier customers stay and spend more."
           + (f" (NPS is a relationship survey: this block does not change with the step in focus, {step}.)"
              if params else ""))
groups_table = value["table"].set_index("group")
if not value["respondents"]:
    st.info(f"No identified customer answered the NPS survey in {window}.")
else:
    left, right = st.columns([1.2, 2.2], gap="large")
    share = value["revenue_at_risk_share"]
    left.metric("Revenue held by detractors", fmt.value(value["revenue_at_risk"], Unit.CURRENCY, currency, True),
                border=True, help="The window's revenue from customers whose latest NPS answer was 0 to 6: "
                                  "revenue at risk if they leave.")
    if share is not None:
        left.markdown(f"**{share:.0%}** of the revenue of the customers who answered, {window}.")

    def cell(key: str, number) -> str:
        return "—" if pd.isna(number) else fmt.value(float(number), REGISTRY[key].unit, currency)

    rows = {
        "Customers who answered": [f"{n:,}" for n in groups_table["customers"]],
        "Still buying (ordered after answering)": ["—" if pd.isna(r) else f"{r:.0%}"
                                                   for r in groups_table["retention"]],
        REGISTRY["purchase_frequency"].label + " (orders per customer)":
            [cell("purchase_frequency", v) for v in groups_table["purchase_frequency"]],
        REGISTRY["average_order_value"].label: [cell("average_order_value", v)
                                                for v in groups_table["average_order_value"]],
        REGISTRY["revenue_per_customer"].label: [cell("revenue_per_customer", v)
                                                 for v in groups_table["revenue_per_customer"]],
        REGISTRY["revenue"].label: [cell("revenue", v) for v in groups_table["revenue"]],
    }
    headers = [f"{g.capitalize()}s" for g in groups_table.index]
    right.table(pd.DataFrame(rows, index=headers).T)
    anonymous = (f"{value['anonymous_answers']:,} anonymous NPS answers in this window count in the score but "
                 "cannot be linked to what anyone spends, so they are not in this table." if not filters else
                 "Anonymous answers count in the score for all customers but belong to no segment, nor to this table.")
    st.caption(f"{anonymous} Amounts in {currency}, over the 12 months, not the period alone.")
    download(value["table"], "value_by_nps_group", view)
