"""Acquisition: what each channel costs per new customer, and what those customers bring back within a year."""

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from kpis import REGISTRY
from kpis import format as fmt
from kpis.events import listed, on_periods
from kpis.labels import FILTER_LABELS
from kpis.periods import add_months
from report.charts import event_layers
from ui import data, decisions
from ui.db import database
from ui.state import current_view, drill
from ui.tables import download
from ui.tiles import kpi_help

NOW = ["new_customers", "marketing_spend", "cac"]
VALUE = "historical_clv_12m"
PREDICTIVE = "clv_cac"
RATIO_KEY = "historical_clv_cac"
LOOKBACK = 24  # periods stepped back to find a cohort old enough for the 12-month value
CHANNEL = "acquisition_channel"

db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
symbol = fmt.SYMBOLS.get(currency, currency)
period = str(view.period)
label = {k: REGISTRY[k].short_label for k in [*NOW, VALUE]}
RATIO = REGISTRY[RATIO_KEY].short_label


def money_format(digits: int) -> str:
    """A printf column format for amounts in the file's currency."""
    return f"{symbol}%,.{digits}f" if currency in fmt.PREFIXED else f"%,.{digits}f {symbol}"


def value_period():
    """The view's period if its cohort has had twelve months, else the latest earlier one that has."""
    candidate = view.period
    for _ in range(LOOKBACK + 1):
        if data.evaluate(VALUE, str(candidate), filters=view.filters) is not None:
            return candidate
        candidate = candidate.previous()
    return None


def reading(channel: str, ratio: float) -> str:
    """The ratio in words an executive can repeat."""
    times = f"{ratio:.1f}×" if ratio >= 1 else f"{ratio:.2f}×"
    text = f"Each {symbol} of acquisition spend on **{channel}** came back **{times}** in margin within a year"
    return text if ratio >= 1 else text + " — not yet paid back"


st.title("Acquisition")
st.caption(f"**{view.period.label}** · {view.describe_filters()} · data as of {db.data_end:%d %b %Y} · "
           f"amounts in {currency} · what a new customer costs, and what they bring back")

others = [n for n in view.filters if n != CHANNEL]
spend_known = not others  # spend is recorded per channel only
if not spend_known:
    names = ", ".join(FILTER_LABELS.get(n, n.replace("_", " ")).lower() for n in others)
    st.info(f"**{REGISTRY['cac'].label} cannot be shown for this segment** ({view.describe_filters()}). "
            f"{REGISTRY['cac'].definition} Clear the {names} filter in the sidebar to compare channels; below, "
            "new customers and their 12-month value per channel within the segment.", icon=":material/info:")

channels = list(view.filters.get(CHANNEL) or db.filter_values(CHANNEL))
cohort = value_period()
predictive = PREDICTIVE in REGISTRY and spend_known
rows = []
for channel in channels:
    filters = view.filters | {CHANNEL: (channel,)}
    now = data.evaluate_many(NOW + ([PREDICTIVE] if predictive else []), period, filters=filters)
    then = (data.evaluate_many(["cac", VALUE, RATIO_KEY], str(cohort), filters=filters) if cohort
            else dict.fromkeys(["cac", VALUE, RATIO_KEY]))
    ratio = then[RATIO_KEY]
    row = {"Channel": channel, label["new_customers"]: now["new_customers"],
           label["marketing_spend"]: now["marketing_spend"], label["cac"]: now["cac"],
           "Cohort": str(cohort) if cohort else None, label[VALUE]: then[VALUE], "CAC of that cohort": then["cac"],
           RATIO: ratio}
    if predictive:
        row[REGISTRY[PREDICTIVE].short_label] = now[PREDICTIVE]
    rows.append(row)
table = pd.DataFrame(rows)
numbers = [c for c in table.columns if c not in ("Channel", "Cohort")]
table[numbers] = table[numbers].apply(pd.to_numeric, errors="coerce")  # undefined: an empty cell, never "None"
if not spend_known:
    table = table.drop(columns=[label["marketing_spend"], label["cac"], "CAC of that cohort", RATIO])
elif cohort == view.period:
    table = table.drop(columns=["CAC of that cohort"])  # the same figure as CAC

st.subheader("Channels")
if view.filters.get(CHANNEL):
    st.caption("Only the channels chosen in the sidebar are shown: clear the acquisition-channel filter to compare "
               "them all.")
if cohort is None:
    st.caption(f"No cohort of the last {LOOKBACK} periods has had twelve months yet: the 12-month value cannot "
               "be shown.")
elif cohort != view.period:
    young = add_months(view.period.end, 12) > db.data_end + timedelta(days=1)  # the data stops before a year
    why = "has not had twelve months yet" if young else "is empty (no customer acquired)"
    against = ", and the ratio sets it against that cohort's own CAC" if spend_known else ""
    st.caption(f"The {view.period.label} cohort {why}: the 12-month value is for the latest cohort with a "
               f"full year behind it, **{cohort.label}**{against}.")
if predictive:
    st.caption(f"**{REGISTRY[PREDICTIVE].short_label}** (predictive, {view.period.label} cohort): realized plus "
               "predicted margin per unit of CAC — hover the column header for its definition.")
columns = {label[k]: st.column_config.NumberColumn(format="%,d" if k == "new_customers" else money_format(2),
                                                   help=kpi_help(k)) for k in [*NOW, VALUE]}
columns |= {"CAC of that cohort": st.column_config.NumberColumn(format=money_format(2), help=kpi_help("cac")),
            RATIO: st.column_config.NumberColumn(format="%.2f×", help=kpi_help(RATIO_KEY))}
if predictive:
    columns[REGISTRY[PREDICTIVE].short_label] = st.column_config.NumberColumn(format="%.2f×",
                                                                                help=kpi_help(PREDICTIVE))
st.dataframe(table, hide_index=True, width="stretch", column_config=columns)
download(table, "acquisition_channels", view)

if spend_known:
    paid = sorted((r for r in rows if r[RATIO] is not None), key=lambda r: -r[RATIO])
    readings = [reading(r["Channel"], r[RATIO]) for r in paid]
    if readings and cohort is not None:
        st.markdown(f"**{cohort.label} cohort:**\n" + "\n".join(f"- {text}." for text in readings))

    chartable = table.dropna(subset=[label["cac"]])
    if chartable.empty:
        st.info(f"No acquisition spend or no new customers recorded for {view.period.label} in these channels: "
                "CAC is undefined.")
    else:
        pick = alt.selection_point(fields=["Channel"], name="channel")
        left, right = st.columns(2, gap="large")
        with left:
            cac_chart = alt.Chart(chartable).mark_bar().encode(
                x=alt.X("Channel:N", sort="-y", title=None, axis=alt.Axis(labelAngle=0)),
                y=alt.Y(f"{label['cac']}:Q", title=f"{label['cac']} ({symbol})"),
                color=alt.condition(pick, alt.value("#1f77b4"), alt.value("#c6ccd2")),
                tooltip=["Channel", alt.Tooltip(f"{label['cac']}:Q", format=",.2f")],
            ).add_params(pick).properties(height=240, title=f"CAC, {view.period.label}")
            event = st.altair_chart(cac_chart, width="stretch", on_select="rerun", selection_mode="channel",
                                    key=f"acq:cac:{view.to_params()}")
            st.caption("What one new customer cost in acquisition spend: lower is better. Click a bar to focus "
                       "the dashboard on that channel.")
        with right:
            ratios = table.dropna(subset=[RATIO]) if RATIO in table else table.iloc[0:0]
            if ratios.empty:
                st.info("No channel has both a 12-month value and a CAC for the same cohort yet.")
                ratio_event = None
            else:
                ratio_chart = (alt.Chart(ratios).mark_bar().encode(
                    x=alt.X("Channel:N", sort="-y", title=None, axis=alt.Axis(labelAngle=0)),
                    y=alt.Y(f"{RATIO}:Q", title="12-month margin ÷ CAC (×)"),
                    color=alt.condition(pick, alt.value("#2ca02c"), alt.value("#c6ccd2")),
                    tooltip=["Channel", alt.Tooltip(f"{RATIO}:Q", format=".2f")],
                ).add_params(pick) + alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(
                    strokeDash=[4, 4], color="#d62728").encode(y="y:Q")
                ).properties(height=240, title=f"12-month value ÷ CAC, {cohort.label} cohort")
                ratio_event = st.altair_chart(ratio_chart, width="stretch", on_select="rerun",
                                              selection_mode="channel", key=f"acq:ratio:{view.to_params()}")
                st.caption("Margin a new customer brought in their first year per unit of CAC: above the dashed "
                           "1× line the acquisition spend has paid back. Click a bar to focus on that channel.")
        for chosen in (event, ratio_event):
            picked = (chosen.selection.get("channel") or []) if chosen else []
            if picked and picked[0].get("Channel") and view.filters.get(CHANNEL) != (picked[0]["Channel"],):
                drill(view, CHANNEL, picked[0]["Channel"])

    st.subheader("CAC over the last 12 periods")
    first = str(view.period.shift(-11))
    trend = pd.concat([data.series("cac", first, period, grain=view.grain, filters={CHANNEL: (channel,)})
                       .assign(Channel=channel) for channel in channels], ignore_index=True)
    trend = trend.dropna(subset=["value"])
    if trend.empty:
        st.info("No period of the last twelve has both acquisition spend and new customers for these channels.")
    else:
        marks = on_periods(decisions.events(), sorted(set(trend["period"])), view.filters)
        line = alt.Chart(trend).mark_line(point=True).encode(
            x=alt.X("period:O", title=None, sort=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=f"CAC ({symbol})"),
            color=alt.Color("Channel:N", scale=alt.Scale(scheme="tableau10"),
                            legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["Channel", "period", alt.Tooltip("value:Q", format=",.2f", title="CAC")],
        )
        st.altair_chart(alt.layer(*event_layers(marks, "period"), line).properties(height=260), width="stretch")
        if caption := listed(marks):
            st.caption(caption)
        st.caption("Is each new customer getting cheaper or dearer to win? A rising line means the channel costs "
                   "more per customer; gaps are periods without spend or without new customers.")

if PREDICTIVE not in REGISTRY:
    st.info("**Predictive CLV ÷ CAC will appear here when the CLV module lands**: expected margin from BG/NBD "
            "(future purchases) and Gamma-Gamma (spend per purchase) models. Until then this page shows historical "
            "value only — the margin customers actually brought in their first twelve months.",
            icon=":material/update:")
