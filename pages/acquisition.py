"""Acquisition: what each channel costs per new customer, and what those customers bring back within a year."""

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from i18n import _, ngettext, use
from i18n.formats import date, number
from kpis import REGISTRY, Period
from kpis import format as fmt
from kpis.events import listed, on_periods
from kpis.labels import filter_label
from kpis.periods import add_months
from report.charts import event_layers
from ui import data, decisions
from ui.charts import show
from ui.db import database
from ui.state import current_view, drill
from ui.tables import download, formatted
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


def column_words() -> dict[str, str]:
    """The channels table's columns by what they hold, in the current language."""
    return {"channel": _("Channel"), "cohort": _("Cohort"), "then_cac": _("CAC of that cohort"),
            **{k: REGISTRY[k].short_label for k in [*NOW, VALUE, RATIO_KEY, PREDICTIVE] if k in REGISTRY}}


words = column_words()
label = {k: words[k] for k in [*NOW, VALUE]}
RATIO = words[RATIO_KEY]
CHANNEL_COLUMN, COHORT_COLUMN, THEN_CAC = words["channel"], words["cohort"], words["then_cac"]


def money(value: float) -> str:
    """An amount in the file's currency, with its cents, for the channels' table (ui.tables.formatted)."""
    return fmt.money(value, currency, 2)


def times(ratio: float, digits: int = 2) -> str:
    """A ratio as a multiple: 0.47× / 0,47×."""
    return number(ratio, digits) + "×"


def value_period():
    """The view's period if its cohort has had twelve months, else the latest earlier one that has."""
    candidate = view.period
    for _step in range(LOOKBACK + 1):
        if data.evaluate(VALUE, str(candidate), filters=view.filters) is not None:
            return candidate
        candidate = candidate.previous()
    return None


def reading(channel: str, ratio: float) -> str:
    """The ratio in words an executive can repeat."""
    text = (_("Each {symbol} of acquisition spend on **{channel}** came back **{times}** in margin within a year")
            if ratio >= 1 else
            _("Each {symbol} of acquisition spend on **{channel}** came back **{times}** in margin within a year — "
              "not yet paid back"))
    return text.format(symbol=symbol, channel=channel, times=times(ratio, 1 if ratio >= 1 else 2))


st.title(_("Acquisition"))
st.caption(_("**{period}** · {segment} · data as of {date} · amounts in {currency} · what a new customer costs, and "
             "what they bring back").format(period=view.period.label, segment=view.describe_filters(),
                                            date=date(db.data_end), currency=currency))

others = [n for n in view.filters if n != CHANNEL]
spend_known = not others  # spend is recorded per channel only
if not spend_known:
    names = ", ".join(filter_label(n).lower() for n in others)
    st.info(ngettext("**{cac} cannot be shown for this segment** ({segment}). {definition} Clear the {names} filter "
                     "in the sidebar to compare channels; below, new customers and their 12-month value per channel "
                     "within the segment.",
                     "**{cac} cannot be shown for this segment** ({segment}). {definition} Clear the {names} filters "
                     "in the sidebar to compare channels; below, new customers and their 12-month value per channel "
                     "within the segment.", len(others))
            .format(cac=REGISTRY["cac"].label, segment=view.describe_filters(), definition=REGISTRY["cac"].definition,
                    names=names), icon=":material/info:")

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
    row = {CHANNEL_COLUMN: channel, label["new_customers"]: now["new_customers"],
           label["marketing_spend"]: now["marketing_spend"], label["cac"]: now["cac"],
           COHORT_COLUMN: str(cohort) if cohort else None, label[VALUE]: then[VALUE], THEN_CAC: then["cac"],
           RATIO: ratio}
    if predictive:
        row[REGISTRY[PREDICTIVE].short_label] = now[PREDICTIVE]
    rows.append(row)
table = pd.DataFrame(rows)
numbers = [c for c in table.columns if c not in (CHANNEL_COLUMN, COHORT_COLUMN)]
table[numbers] = table[numbers].apply(pd.to_numeric, errors="coerce")  # undefined: an empty cell, never "None"
if not spend_known:
    table = table.drop(columns=[label["marketing_spend"], label["cac"], THEN_CAC, RATIO])
elif cohort == view.period:
    table = table.drop(columns=[THEN_CAC])  # the same figure as CAC

st.subheader(_("Channels"))
if view.filters.get(CHANNEL):
    st.caption(_("Only the channels chosen in the sidebar are shown: clear the acquisition-channel filter to "
                 "compare them all."))
if cohort is None:
    st.caption(_("No cohort of the last {n} periods has had twelve months yet: the 12-month value cannot be shown.")
               .format(n=LOOKBACK))
elif cohort != view.period:
    young = add_months(view.period.end, 12) > db.data_end + timedelta(days=1)  # the data stops before a year
    stepped = {
        (True, True): _("The {period} cohort has not had twelve months yet: the 12-month value is for the latest "
                        "cohort with a full year behind it, **{cohort}**, and the ratio sets it against that "
                        "cohort's own CAC."),
        (True, False): _("The {period} cohort has not had twelve months yet: the 12-month value is for the latest "
                         "cohort with a full year behind it, **{cohort}**."),
        (False, True): _("The {period} cohort is empty (no customer acquired): the 12-month value is for the latest "
                         "cohort with a full year behind it, **{cohort}**, and the ratio sets it against that "
                         "cohort's own CAC."),
        (False, False): _("The {period} cohort is empty (no customer acquired): the 12-month value is for the "
                          "latest cohort with a full year behind it, **{cohort}**."),
    }[young, spend_known]
    st.caption(stepped.format(period=view.period.label, cohort=cohort.label))
if predictive:
    st.caption(_("**{kpi}** (predictive, {period} cohort): realized plus predicted margin per unit of CAC — hover "
                 "the column header for its definition.").format(kpi=REGISTRY[PREDICTIVE].short_label,
                                                                  period=view.period.label))
columns = {label[k]: st.column_config.NumberColumn(help=kpi_help(k)) for k in [*NOW, VALUE]}
columns |= {THEN_CAC: st.column_config.NumberColumn(help=kpi_help("cac")),
            RATIO: st.column_config.NumberColumn(help=kpi_help(RATIO_KEY))}
shown_as = {label[k]: number if k == "new_customers" else money for k in [*NOW, VALUE]}
shown_as |= {THEN_CAC: money, RATIO: times, COHORT_COLUMN: lambda c: Period.parse(c).label}
if predictive:
    columns[REGISTRY[PREDICTIVE].short_label] = st.column_config.NumberColumn(help=kpi_help(PREDICTIVE))
    shown_as[REGISTRY[PREDICTIVE].short_label] = times
st.dataframe(formatted(table, shown_as), hide_index=True, width="stretch", column_config=columns)
with use("en"):  # a CSV file's columns are the same in every language
    english = column_words()
download(table.rename(columns={words[k]: english[k] for k in words}), "acquisition_channels", view,
         label=_("Download the channels (CSV)"))

if spend_known:
    paid = sorted((r for r in rows if r[RATIO] is not None), key=lambda r: -r[RATIO])
    readings = [reading(r[CHANNEL_COLUMN], r[RATIO]) for r in paid]
    if readings and cohort is not None:
        st.markdown(_("**{cohort} cohort:**").format(cohort=cohort.label) + "\n"
                    + "\n".join(f"- {text}." for text in readings))

    chartable = table.dropna(subset=[label["cac"]])
    if chartable.empty:
        st.info(_("No acquisition spend or no new customers recorded for {period} in these channels: CAC is "
                  "undefined.").format(period=view.period.label))
    else:
        # Plain field names (the columns' words change with the language); the people's words are the titles.
        pick = alt.selection_point(fields=["channel"], name="channel")
        left, right = st.columns(2, gap="large")
        with left:
            costs = pd.DataFrame({"channel": chartable[CHANNEL_COLUMN], "cac": chartable[label["cac"]]})
            cac_chart = alt.Chart(costs).mark_bar().encode(
                x=alt.X("channel:N", sort="-y", title=None, axis=alt.Axis(labelAngle=0)),
                y=alt.Y("cac:Q", title=f"{label['cac']} ({symbol})"),
                color=alt.condition(pick, alt.value("#1f77b4"), alt.value("#c6ccd2")),
                tooltip=[alt.Tooltip("channel:N", title=_("Channel")),
                         alt.Tooltip("cac:Q", format=",.2f", title=label["cac"])],
            ).add_params(pick).properties(height=240, title=_("CAC, {period}").format(period=view.period.label))
            event = show(cac_chart, width="stretch", on_select="rerun", selection_mode="channel",
                         key=f"acq:cac:{view.to_params()}")
            st.caption(_("What one new customer cost in acquisition spend: lower is better. Click a bar to focus "
                         "the dashboard on that channel."))
        with right:
            ratios = table.dropna(subset=[RATIO]) if RATIO in table else table.iloc[0:0]
            if ratios.empty:
                st.info(_("No channel has both a 12-month value and a CAC for the same cohort yet."))
                ratio_event = None
            else:
                paybacks = pd.DataFrame({"channel": ratios[CHANNEL_COLUMN], "ratio": ratios[RATIO]})
                ratio_chart = (alt.Chart(paybacks).mark_bar().encode(
                    x=alt.X("channel:N", sort="-y", title=None, axis=alt.Axis(labelAngle=0)),
                    y=alt.Y("ratio:Q", title=_("12-month margin ÷ CAC (×)")),
                    color=alt.condition(pick, alt.value("#2ca02c"), alt.value("#c6ccd2")),
                    tooltip=[alt.Tooltip("channel:N", title=_("Channel")),
                             alt.Tooltip("ratio:Q", format=".2f", title=RATIO)],
                ).add_params(pick) + alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(
                    strokeDash=[4, 4], color="#d62728").encode(y="y:Q")
                ).properties(height=240, title=_("12-month value ÷ CAC, {cohort} cohort").format(cohort=cohort.label))
                ratio_event = show(ratio_chart, width="stretch", on_select="rerun", selection_mode="channel",
                                   key=f"acq:ratio:{view.to_params()}")
                st.caption(_("Margin a new customer brought in their first year per unit of CAC: above the dashed "
                             "1× line the acquisition spend has paid back. Click a bar to focus on that channel."))
        for chosen in (event, ratio_event):
            picked = (chosen.selection.get("channel") or []) if chosen else []
            if picked and picked[0].get("channel") and view.filters.get(CHANNEL) != (picked[0]["channel"],):
                drill(view, CHANNEL, picked[0]["channel"])

    st.subheader(_("CAC over the last 12 periods"))
    first = str(view.period.shift(-11))
    trend = pd.concat([data.series("cac", first, period, grain=view.grain, filters={CHANNEL: (channel,)})
                       .assign(channel=channel) for channel in channels], ignore_index=True)
    trend = trend.dropna(subset=["value"])
    if trend.empty:
        st.info(_("No period of the last twelve has both acquisition spend and new customers for these channels."))
    else:
        trend["when"] = trend["period"].map(lambda p: Period.parse(p).label)
        order = [Period.parse(p).label for p in sorted(set(trend["period"]))]
        marks = on_periods(decisions.events(), sorted(set(trend["period"])), view.filters)
        marks["when"] = marks["period"].map(lambda p: Period.parse(p).label)
        line = alt.Chart(trend).mark_line(point=True).encode(
            x=alt.X("when:O", title=None, sort=order, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=f"{label['cac']} ({symbol})"),
            color=alt.Color("channel:N", scale=alt.Scale(scheme="tableau10"),
                            legend=alt.Legend(orient="bottom", title=None)),
            tooltip=[alt.Tooltip("channel:N", title=_("Channel")), alt.Tooltip("when:N", title=_("Period")),
                     alt.Tooltip("value:Q", format=",.2f", title=label["cac"])],
        )
        show(alt.layer(*event_layers(marks, "when", order), line).properties(height=260), width="stretch")
        if caption := listed(marks):
            st.caption(caption)
        st.caption(_("Is each new customer getting cheaper or dearer to win? A rising line means the channel costs "
                     "more per customer; gaps are periods without spend or without new customers."))

if PREDICTIVE not in REGISTRY:
    st.info(_("**Predictive CLV ÷ CAC will appear here when the CLV module lands**: expected margin from BG/NBD "
              "(future purchases) and Gamma-Gamma (spend per purchase) models. Until then this page shows "
              "historical value only — the margin customers actually brought in their first twelve months."),
            icon=":material/update:")
