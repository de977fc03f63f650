"""Customer-based value: what the customer base is worth — today's customers and tomorrow's (McCarthy & Fader).

Everything from kpis.valuation through ui.data: the parts with their interval, the acquisition model (fit, holdout
check, forecast), the sensitivities (a tornado) and each channel's and recent cohort's unit economics. The
assumptions are editable (horizon, discount rate) and printed in plain words next to the numbers.
"""

import altair as alt
import pandas as pd
import streamlit as st

from kpis import KPIError
from kpis import format as fmt
from kpis.events import listed, on_days
from report.charts import event_layers, tornado, valuation_waterfall
from ui import data, decisions
from ui.db import database
from ui.state import current_view
from ui.tables import download

db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
symbol = fmt.SYMBOLS.get(currency, currency)
period = str(view.period)

st.title("Customer-based value")
st.caption(f"**End of {view.period.label}** · {view.describe_filters()} · data as of {db.data_end:%d %b %Y} · "
           f"amounts in {currency} · McCarthy & Fader's customer-based valuation: the customers we have, plus those we "
           "will acquire, net of what acquiring them costs")
left, right = st.columns(2)
horizon = left.slider("Horizon (years)", 1, 30, 10, key="value:horizon")
rate = right.number_input("Discount rate (% a year)", 0.0, 50.0, 10.0, step=0.5, key="value:rate")
try:
    value = data.valuation(period, horizon_years=horizon, discount_rate=rate / 100, filters=view.filters)
except KPIError as error:
    st.info(f"No valuation for this view: {error}.")
    st.stop()


money_format = f"{symbol}%,.2f" if currency in fmt.PREFIXED else f"%,.2f {symbol}"


def money(amount) -> str:
    return fmt.compact_money(amount, currency, 2)


interval = f" (90 %: {money(value.low)} – {money(value.high)})" if value.low is not None else ""
st.markdown(f"## The customer base is worth **{money(value.total)}**{interval}")
st.markdown(f"*What this is not:* {value.assumptions['not included']}.")
tiles = st.columns(3)
for where, part in zip(tiles, ("existing", "future_value", "future_acquisition_spend"), strict=True):
    row = value.parts.set_index("part").loc[part]
    band = f"90 %: {money(row['low'])} – {money(row['high'])}" if pd.notna(row["low"]) else None
    where.metric(row["label"], money(row["value"]), delta=band, delta_color="off", delta_arrow="off", border=True)

left, right = st.columns(2, gap="large")
with left:
    st.subheader("From today's customers to the total")
    st.altair_chart(valuation_waterfall(value.parts, symbol).properties(height=280), width="stretch")
with right:
    st.subheader("What moves it most")
    st.altair_chart(tornado(value.sensitivities, symbol), width="stretch")
    st.caption("The total's change when each assumption moves by the stated amount (one at a time, the others as "
               "they are).")

st.subheader("New customers per month: history, fit and forecast")
history = value.acquisition_history.assign(kind="history")
forecast = value.acquisition.assign(kind="forecast")
base = alt.Chart(history).encode(x=alt.X("month:T", title=None))
band = alt.Chart(forecast).mark_area(opacity=0.2, color="#1f5fa8").encode(
    x="month:T", y=alt.Y("low:Q", title="New customers"), y2="high:Q")
months = pd.to_datetime(pd.concat([history["month"], forecast["month"]]))
marks = on_days(decisions.events(), months.min().date(), (months.max() + pd.DateOffset(months=1)).date(), view.filters)
chart = alt.layer(*event_layers(marks, "start", x2="end"), band,
                  alt.Chart(forecast).mark_line(color="#1f5fa8", strokeDash=[5, 3]).encode(x="month:T", y="forecast:Q"),
                  base.mark_line(color="#222222").encode(y="actual:Q"),
                  base.mark_line(color="#e07b00", strokeDash=[2, 2]).encode(y="fitted:Q"))
st.altair_chart(chart.properties(height=260), width="stretch")
if caption := listed(marks):
    st.caption(caption)
st.caption(f"Black: new customers per month; orange: the model's fit; blue: its forecast with a 90 % band. "
           f"{value.assumptions['acquisition model'].capitalize()}. Holdout check: "
           f"{value.assumptions['holdout check']}.")

st.subheader("Unit economics")
channels = value.channels[["channel", "new_customers_12m", "cac", "break_even_cac", "yearly_growth"]]
st.dataframe(channels.rename(columns={"channel": "Channel", "new_customers_12m": "New customers (12 months)",
                                      "cac": "CAC", "break_even_cac": "Break-even CAC",
                                      "yearly_growth": "Yearly growth (history)"}), hide_index=True, width="stretch",
             column_config={"Yearly growth (history)": st.column_config.NumberColumn(format="percent"),
                            "New customers (12 months)": st.column_config.NumberColumn(format="%,d"),
                            "CAC": st.column_config.NumberColumn(format=money_format),
                            "Break-even CAC": st.column_config.NumberColumn(format=money_format)})
st.caption("Break-even CAC: what acquiring a customer of that channel may cost before it is worth nothing (its "
           "expected discounted margin over the horizon).")
cohorts = value.cohorts.assign(irr=[("> 1,000 %" if r > 10 else f"{100 * r:.0f} %") if pd.notna(r) else "—"
                                    for r in value.cohorts["irr"]])
st.dataframe(cohorts.rename(columns={"cohort": "Cohort", "new_customers": "New customers", "cac": "CAC",
                                     "value": "Value per customer", "value_cac": "Value ÷ CAC",
                                     "payback_months": "Payback (months)", "irr": "IRR (a year)"}),
             hide_index=True, width="stretch",
             column_config={"Cohort": st.column_config.DateColumn(format="MMM YYYY"),
                            "New customers": st.column_config.NumberColumn(format="%,d"),
                            "CAC": st.column_config.NumberColumn(format=money_format),
                            "Value per customer": st.column_config.NumberColumn(format=money_format),
                            "Value ÷ CAC": st.column_config.NumberColumn(format="%.1f×")})
download(value.parts, "customer_based_value", view)

st.subheader("Assumptions, in plain words")
st.markdown("\n".join(f"- **{name.capitalize()}:** {text}" for name, text in value.assumptions.items()))
