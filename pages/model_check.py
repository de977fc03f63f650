"""Model check: the CLV models fitted without the last weeks of data, set against what customers then did."""

import altair as alt
import pandas as pd
import streamlit as st

from kpis import format as fmt
from kpis.events import listed, on_days
from kpis.labels import CHECK_HOLDOUT_WEEKS
from report.charts import event_layers
from ui import data, decisions
from ui.db import database
from ui.state import current_view
from ui.tables import download

HOLDOUTS = [13, 26, 39, 52]
SERIES = {"actual": "Actual", "predicted": "Predicted", "model": "Model"}
BLUE, ORANGE = "#1f77b4", "#ff7f0e"

db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")


def percent(change: float) -> str:
    """A signed percentage with a true minus sign: −4.1%."""
    return f"{100 * change:+.1f}%".replace("-", "−")


st.title("Model check")
weeks = st.segmented_control("Holdout", HOLDOUTS, default=CHECK_HOLDOUT_WEEKS, format_func=lambda w: f"{w} weeks",
                             key="check:holdout",
                             help="The models are refitted without the last weeks of data, then asked to forecast "
                                  "them. A longer holdout tests further ahead but fits on less history.")
weeks = weeks or CHECK_HOLDOUT_WEEKS
with st.spinner(f"Refitting the models without the last {weeks} weeks…"):
    check = data.holdout_check(holdout_weeks=weeks, filters=view.filters)

if check["message"]:
    st.warning(f"The models cannot be checked on this data with a {weeks}-week holdout: {check['message']}")
    st.stop()

hold = check["holdout"]
st.caption(f"Fitted on {check['calibration_start']:%d %b %Y} – {check['calibration_end']:%d %b %Y}, checked on the "
           f"{weeks} weeks to {check['holdout_end']:%d %b %Y} · {check['customers']:,} customers known at the split "
           f"({check['repeat_buyers']:,} repeat buyers) · {view.describe_filters()} · the period selector does not "
           "apply: the check always ends with the data")

if "value_tier" in view.filters:
    st.info("Value tiers rank customers by lifetime revenue, holdout weeks included: a top tier is partly chosen for "
            "having bought in the holdout, so the model will look as if it under-forecast it (and over-forecast a "
            "bottom tier). Check channels, regions or cohorts instead.")
error = "" if hold["relative_error"] is None else f" ({percent(hold['relative_error'])})"
st.markdown(f"## The model predicted {hold['predicted']:,.0f} repeat purchases in the last {weeks} weeks; "
            f"{hold['actual']:,} happened{error}")
left, middle, right = st.columns(3)
band = (f"90 %: {hold['low']:,.0f} – {hold['high']:,.0f}" if hold.get("low") is not None else None)
left.metric("Predicted repeat purchases", f"{hold['predicted']:,.0f}", border=True, delta=band, delta_color="off",
            delta_arrow="off",
            help="Σ over customers of the purchases their history implied for the holdout weeks (BG/NBD, "
                 "conditional on each customer's frequency, recency and age at the split), with its 90 % interval "
                 "from the fit's parameter uncertainty.")
middle.metric("Actual repeat purchases", f"{hold['actual']:,}", border=True,
              help="Purchase days in the holdout weeks of the customers known at the split.")
right.metric("Forecast error", "—" if hold["relative_error"] is None else percent(hold["relative_error"]),
             border=True, help="Predicted ÷ actual − 1: negative when the model expected fewer purchases than "
                               "happened. Within ±10% over a quarter or more is a good fit; CLV, built on the "
                               "same forecast, errs the same way.")

if hold.get("inside") is not None:
    st.markdown(("The actual purchases fall **inside** the forecast's 90 % interval: the miss is within what the "
                 "parameters' uncertainty allows." if hold["inside"] else
                 "The actual purchases fall **outside** the forecast's 90 % interval: the miss is more than the "
                 "parameters' uncertainty explains — the model itself is off (its assumptions, or a change in how "
                 "customers behave after the split).")
                + " Parameter uncertainty is not model error: the intervals on the dashboard say how precisely "
                  "the parameters are known, this check says how well the model forecasts.")

# --- frequency buckets and the cumulative curve ---------------------------------------------------------------
left, right = st.columns(2, gap="large")
with left:
    st.subheader("By purchase frequency before the split")
    buckets = check["buckets"]
    bars = buckets.melt(id_vars=["frequency", "customers"], value_vars=["actual_mean", "predicted_mean"],
                        var_name="series", value_name="purchases")
    bars["series"] = bars["series"].str.removesuffix("_mean").map(SERIES)
    chart = alt.Chart(bars).mark_bar().encode(
        x=alt.X("frequency:N", sort=list(buckets["frequency"]), axis=alt.Axis(labelAngle=0),
                title="Repeat purchases before the split"),
        xOffset=alt.XOffset("series:N", sort=["Actual", "Predicted"]),
        y=alt.Y("purchases:Q", title=f"Mean purchases in the {weeks} weeks"),
        color=alt.Color("series:N", scale=alt.Scale(domain=["Actual", "Predicted"], range=[BLUE, ORANGE]),
                        title=None, legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("frequency:N", title="Repeat purchases before"), "series:N",
                 alt.Tooltip("purchases:Q", format=".2f", title="Mean holdout purchases"),
                 alt.Tooltip("customers:Q", format=",")],
    ).properties(height=300)
    st.altair_chart(chart, width="stretch")
    st.caption("Each pair of bars is the customers who had made that many repeat purchases before the split. "
               "A good model tracks the blue bars in every group; the 0 group is the one-time buyers, whom the "
               "model assumes still active.")
with right:
    st.subheader("Cumulative repeat purchases")
    curve = check["curve"]
    lines = curve.melt(id_vars=["date", "period"], value_vars=["actual", "model"], var_name="series",
                       value_name="purchases")
    lines["series"] = lines["series"].map(SERIES)
    split = pd.DataFrame({"date": [check["calibration_end"]], "label": ["holdout →"]})
    base = alt.Chart(lines).encode(
        x=alt.X("date:T", title=None),
        y=alt.Y("purchases:Q", title="Cumulative repeat purchases"),
        color=alt.Color("series:N", scale=alt.Scale(domain=["Actual", "Model"], range=[BLUE, ORANGE]), title=None,
                        legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=["Actual", "Model"], range=[[1, 0], [5, 3]]),
                                  legend=None),
        tooltip=[alt.Tooltip("date:T", title="Week ending"), "series:N", "period:N",
                 alt.Tooltip("purchases:Q", format=",.0f")],
    )
    rule = alt.Chart(split).mark_rule(color="#9aa5b1", strokeDash=[2, 2]).encode(x="date:T")
    label = alt.Chart(split).mark_text(align="left", baseline="top", dx=4, color="#6b7785").encode(
        x="date:T", y=alt.value(4), text="label")
    dates = pd.to_datetime(curve["date"])
    marks = on_days(decisions.events(), dates.min().date(), (dates.max() + pd.Timedelta(days=1)).date(),
                    view.filters)
    st.altair_chart(alt.layer(*event_layers(marks, "start", x2="end"), base.mark_line(), rule, label)
                    .properties(height=300), width="stretch")
    if caption := listed(marks):
        st.caption(caption)
    at_split, at_end = curve[curve["week"] == 0].iloc[0], curve.iloc[-1]
    gaps = [percent(row["model"] / row["actual"] - 1) if row["actual"] else "—" for row in (at_split, at_end)]
    st.caption(f"Weekly totals since the first customer's first purchase: model vs actual {gaps[0]} at the split "
               f"(the fit), {gaps[1]} at the end (the forecast). Left of the dotted line the models saw the data, "
               "right of it they did not. The model line is what customers of each age buy on average, ignoring "
               "their own history, so its holdout rise need not equal the prediction above.")

# --- spend ---------------------------------------------------------------------------------------------------
st.subheader("Spend per purchase")
spend = check["spend"]
if not spend["customers"]:
    st.info("No customer with repeat purchases before the split bought in the holdout: spend cannot be checked.")
else:
    cols = st.columns(3)
    cols[0].metric("Predicted spend per purchase", fmt.money(spend["predicted_mean"], currency, 2), border=True,
                   help="Gamma-Gamma's expected spend per purchase of each customer, averaged.")
    cols[1].metric("Actual spend per purchase", fmt.money(spend["actual_mean"], currency, 2), border=True,
                   help="Each customer's holdout revenue ÷ holdout purchase days, averaged.")
    cols[2].metric("Spend error", percent(spend["relative_error"]), border=True,
                   help="Predicted ÷ actual − 1. Only a gap beyond about 10% is telling.")
    st.caption(f"Over the {spend['customers']:,} customers who had repeat purchases before the split and bought "
               "again in the holdout.")

# --- parameters ----------------------------------------------------------------------------------------------
st.subheader("Fitted parameters")
params = check["parameters"]
wide = params.assign(shown=[f"{v:.4g} ± {e:.2g}" for v, e in zip(params["value"], params["standard_error"],
                                                                 strict=True)])
wide = wide.pivot(index=["group", "channels", "customers", "repeat_buyers"], columns="parameter", values="shown")
wide = wide[list(dict.fromkeys(params["parameter"]))].reset_index()  # r, α, a, b, p, q, γ as the fits list them
wide = wide.rename(columns={"group": "Fit group", "channels": "Acquisition channels", "customers": "Customers",
                            "repeat_buyers": "Repeat buyers", "alpha": "α", "gamma": "γ"})
st.dataframe(wide, hide_index=True, width="stretch", column_config={
    "Customers": st.column_config.NumberColumn(format="localized"),
    "Repeat buyers": st.column_config.NumberColumn(format="localized"),
})
st.caption("Each parameter as value ± standard error (asymptotic, from the observed information; above a third of "
           "the value, the data pin it down poorly). BG/NBD: r, α (purchase rates, mean r/α per week), a, b "
           "(dropout, mean a/(a+b)); Gamma-Gamma: p, q, γ (spend). One fit per acquisition channel, as for the "
           "dashboard's CLV; channels under 200 customers, or that the models cannot pin down, share the fit on all "
           "customers. Segment filters choose the customers checked, not the fit.")
download(params.assign(calibration_end=check["calibration_end"], holdout_weeks=weeks), "model_parameters", view)

# --- assumptions ---------------------------------------------------------------------------------------------
st.subheader("What the models assume")
st.markdown("""
Predicted customer value multiplies two models; this page tests both on weeks they did not see.

**BG/NBD — how many purchases** (Fader, Hardie & Lee 2005)
- While a customer is active, they buy at random moments at their own steady rate (a Poisson process): no
  calendar, no seasons, no promotions.
- Rates differ from customer to customer, following a gamma distribution (parameters *r* and *alpha*: mean rate
  r/alpha purchases per week).
- After each repeat purchase a customer may leave for good, with their own probability; these probabilities
  follow a beta distribution (*a*, *b*: mean a/(a+b)). Nobody leaves before their first repeat purchase, so
  one-time buyers all count as active.
- Rate and dropout probability are unrelated.

**Gamma-Gamma — how much per purchase** (Fader, Hardie & Lee 2005)
- Each purchase's value varies around the customer's own average (gamma, shape *p*); those averages differ
  across customers (gamma, *q* and *gamma*).
- Spend is independent of how often a customer buys: frequent buyers do not spend more or less per purchase.

**How to read the check**: the headline compares the total; the bars show whether the error sits with one-time
buyers or heavy buyers; the curve shows whether it builds up steadily (a rate that drifts) or in bursts
(seasons, campaigns — which the model ignores). A model that misses here misses on predicted CLV too.
""")
