"""Customer-based value: what the customer base is worth — today's customers and tomorrow's (McCarthy & Fader).

Everything from kpis.valuation through ui.data: the parts with their interval, the acquisition model (fit, holdout
check, forecast), the sensitivities (a tornado) and each channel's and recent cohort's unit economics. The
assumptions are editable (horizon, discount rate) and printed in plain words next to the numbers.
"""

import altair as alt
import pandas as pd
import streamlit as st

from i18n import _, formats
from kpis import KPIError
from kpis import format as fmt
from kpis.events import listed, on_days
from kpis.valuation import assumption_label
from report.charts import event_layers, tornado, valuation_waterfall
from ui import charts, data, decisions
from ui.db import database
from ui.state import current_view
from ui.tables import download

# kpis.valuation's assumptions by name (its keys), as the list at the bottom names them.
db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
symbol = fmt.SYMBOLS.get(currency, currency)
period = str(view.period)

st.title(_("Customer-based value"))
st.caption(_("**End of {period}** · {segment} · data as of {date} · amounts in {currency} · McCarthy & Fader's "
             "customer-based valuation: the customers we have, plus those we will acquire, net of what acquiring "
             "them costs").format(period=view.period.label, segment=view.describe_filters(),
                                  date=formats.date(db.data_end), currency=currency))
left, right = st.columns(2)
horizon = left.slider(_("Horizon (years)"), 1, 30, 10, key="value:horizon")
rate = right.number_input(_("Discount rate (% a year)"), 0.0, 50.0, 10.0, step=0.5, key="value:rate")
try:
    value = data.valuation(period, horizon_years=horizon, discount_rate=rate / 100, filters=view.filters)
except KPIError as error:
    st.info(_("No valuation for this view: {reason}.").format(reason=error))
    st.stop()


def money(amount) -> str:
    return fmt.compact_money(amount, currency, 2)


def amount(number) -> str:
    """An amount in a table, to the cent (kpis.format)."""
    return fmt.money(number, currency, 2)


def interval(low, high) -> str:
    return _("90 %: {low} – {high}").format(low=money(low), high=money(high))


if value.low is not None:
    headline = _("## The customer base is worth **{total}** (90 %: {low} – {high})").format(
        total=money(value.total), low=money(value.low), high=money(value.high))
else:
    headline = _("## The customer base is worth **{total}**").format(total=money(value.total))
st.markdown(headline)
st.markdown(_("*What this is not:* {text}.").format(text=value.assumptions["not included"]))
tiles = st.columns(3)
for where, part in zip(tiles, ("existing", "future_value", "future_acquisition_spend"), strict=True):
    row = value.parts.set_index("part").loc[part]
    band = interval(row["low"], row["high"]) if pd.notna(row["low"]) else None
    where.metric(row["label"], money(row["value"]), delta=band, delta_color="off", delta_arrow="off", border=True)

left, right = st.columns(2, gap="large")
with left:
    st.subheader(_("From today's customers to the total"))
    charts.show(valuation_waterfall(value.parts, symbol).properties(height=280), width="stretch")
with right:
    st.subheader(_("What moves it most"))
    charts.show(tornado(value.sensitivities, symbol), width="stretch")
    st.caption(_("The total's change when each assumption moves by the stated amount (one at a time, the others as "
                 "they are)."))

st.subheader(_("New customers per month: history, fit and forecast"))
history = value.acquisition_history.assign(kind="history")
forecast = value.acquisition.assign(kind="forecast")
base = alt.Chart(history).encode(x=alt.X("month:T", title=None))
band = alt.Chart(forecast).mark_area(opacity=0.2, color="#1f5fa8").encode(
    x="month:T", y=alt.Y("low:Q", title=_("New customers")), y2="high:Q")
months = pd.to_datetime(pd.concat([history["month"], forecast["month"]]))
marks = on_days(decisions.events(), months.min().date(), (months.max() + pd.DateOffset(months=1)).date(), view.filters)
chart = alt.layer(*event_layers(marks, "start", x2="end"), band,
                  alt.Chart(forecast).mark_line(color="#1f5fa8", strokeDash=[5, 3]).encode(x="month:T", y="forecast:Q"),
                  base.mark_line(color="#222222").encode(y="actual:Q"),
                  base.mark_line(color="#e07b00", strokeDash=[2, 2]).encode(y="fitted:Q"))
charts.show(chart.properties(height=260), width="stretch")
if caption := listed(marks):
    st.caption(caption)
model_text = value.assumptions["acquisition model"]
st.caption(_("Black: new customers per month; orange: the model's fit; blue: its forecast with a 90 % band. "
             "{model}. Holdout check: {check}.").format(model=model_text[:1].upper() + model_text[1:],
                                                        check=value.assumptions["holdout check"]))

st.subheader(_("Unit economics"))
CHANNEL, NEW_12M, CAC, BREAK_EVEN, GROWTH = (_("Channel"), _("New customers (12 months)"), _("CAC"),
                                             _("Break-even CAC"), _("Yearly growth (history)"))
channels = value.channels[["channel", "new_customers_12m", "cac", "break_even_cac", "yearly_growth"]].rename(
    columns={"channel": CHANNEL, "new_customers_12m": NEW_12M, "cac": CAC, "break_even_cac": BREAK_EVEN,
             "yearly_growth": GROWTH})
# Numbers stay numbers (the table sorts on them); the Styler writes them in the language's formats.
st.dataframe(channels.style.format({NEW_12M: formats.number, CAC: amount, BREAK_EVEN: amount,
                                    GROWTH: lambda g: formats.percent(g, 2)}, na_rep="—"),
             hide_index=True, width="stretch")
st.caption(_("Break-even CAC: what acquiring a customer of that channel may cost before it is worth nothing (its "
             "expected discounted margin over the horizon)."))
COHORT, NEW, VALUE, RATIO, PAYBACK, IRR = (_("Cohort"), _("New customers"), _("Value per customer"), _("Value ÷ CAC"),
                                           _("Payback (months)"), _("IRR (a year)"))
cohorts = value.cohorts.assign(irr=[(_("> {percent}").format(percent=formats.percent(10, 0)) if r > 10
                                     else formats.percent(r, 0)) if pd.notna(r) else "—"
                                    for r in value.cohorts["irr"]])
cohorts = cohorts.rename(columns={"cohort": COHORT, "new_customers": NEW, "cac": CAC, "value": VALUE,
                                  "value_cac": RATIO, "payback_months": PAYBACK, "irr": IRR})
st.dataframe(cohorts.style.format({COHORT: lambda d: formats.month(pd.Timestamp(d).date()), NEW: formats.number,
                                   CAC: amount, VALUE: amount, RATIO: lambda r: formats.number(r, 1) + "×",
                                   PAYBACK: formats.number}, na_rep="—"),
             hide_index=True, width="stretch")
download(value.parts, "customer_based_value", view)

st.subheader(_("Assumptions, in plain words"))
st.markdown("\n".join(_("- **{name}:** {text}").format(
    name=assumption_label(name), text=text)
    for name, text in value.assumptions.items()))
