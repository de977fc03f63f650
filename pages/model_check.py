"""Model check: the CLV models fitted without the last weeks of data, set against what customers then did."""

import altair as alt
import pandas as pd
import streamlit as st

from i18n import N_, _, formats, ngettext
from kpis import format as fmt
from kpis.clv.check import curve_period_label
from kpis.clv.model import fit_group_label
from kpis.events import listed, on_days
from kpis.labels import CHECK_HOLDOUT_WEEKS
from report.charts import event_layers
from ui import charts, data, decisions
from ui.db import database
from ui.state import current_view
from ui.tables import download

HOLDOUTS = [13, 26, 39, 52]
SERIES = {"actual": N_("Actual"), "predicted": N_("Predicted"), "model": N_("Model")}  # translated where drawn
# The check's curve: weeks the models saw (calibration) and weeks they forecast (holdout).
BLUE, ORANGE = "#1f77b4", "#ff7f0e"

db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")


def percent(change: float) -> str:
    """A signed percentage with a true minus sign: −4.1% / −4,1 %."""
    return _("{percent}%").format(percent=formats.number(100 * change, 1, sign=True).replace("-", "−"))


def weeks_text(n: int) -> str:
    return ngettext("{n} week", "{n} weeks", n).format(n=formats.number(n))


def count(n) -> str:
    return formats.number(n)


ACTUAL, PREDICTED, MODEL = (_(SERIES[k]) for k in ("actual", "predicted", "model"))


st.title(_("Model check"))
# Options are named as the run draws them (a format function called later would not know the language).
weeks = st.segmented_control(_("Holdout"), HOLDOUTS, default=CHECK_HOLDOUT_WEEKS,
                             format_func={w: weeks_text(w) for w in HOLDOUTS}.get,
                             key="check:holdout",
                             help=_("The models are refitted without the last weeks of data, then asked to forecast "
                                    "them. A longer holdout tests further ahead but fits on less history."))
weeks = weeks or CHECK_HOLDOUT_WEEKS
with st.spinner(_("Refitting the models without the last {weeks}…").format(weeks=weeks_text(weeks))):
    check = data.holdout_check(holdout_weeks=weeks, filters=view.filters)

if check["message"]:
    st.warning(_("The models cannot be checked on this data with a holdout of {weeks}: {reason}").format(
        weeks=weeks_text(weeks), reason=check["message"]))
    st.stop()

hold = check["holdout"]
st.caption(_("Fitted on {start} – {split}, checked on the {weeks} to {end} · {customers} known at the split "
             "({repeat_buyers}) · {segment} · the period selector does not apply: the check always ends with the "
             "data").format(
    start=formats.date(check["calibration_start"]), split=formats.date(check["calibration_end"]),
    weeks=weeks_text(weeks), end=formats.date(check["holdout_end"]),
    customers=ngettext("{n} customer", "{n} customers", check["customers"]).format(n=count(check["customers"])),
    repeat_buyers=ngettext("{n} repeat buyer", "{n} repeat buyers", check["repeat_buyers"]).format(
        n=count(check["repeat_buyers"])),
    segment=view.describe_filters()))

if "value_tier" in view.filters:
    st.info(_("Value tiers rank customers by lifetime revenue, holdout weeks included: a top tier is partly chosen "
              "for having bought in the holdout, so the model will look as if it under-forecast it (and "
              "over-forecast a bottom tier). Check channels, regions or cohorts instead."))
predicted, actual = count(hold["predicted"]), count(hold["actual"])
if hold["relative_error"] is None:
    st.markdown(_("## The model predicted {predicted} repeat purchases in the last {weeks}; {actual} happened").format(
        predicted=predicted, weeks=weeks_text(weeks), actual=actual))
else:
    st.markdown(_("## The model predicted {predicted} repeat purchases in the last {weeks}; {actual} happened "
                  "({error})").format(predicted=predicted, weeks=weeks_text(weeks), actual=actual,
                                      error=percent(hold["relative_error"])))
left, middle, right = st.columns(3)
band = (_("90 %: {low} – {high}").format(low=count(hold["low"]), high=count(hold["high"]))
        if hold.get("low") is not None else None)
left.metric(_("Predicted repeat purchases"), predicted, border=True, delta=band, delta_color="off",
            delta_arrow="off",
            help=_("Σ over customers of the purchases their history implied for the holdout weeks (BG/NBD, "
                   "conditional on each customer's frequency, recency and age at the split), with its 90 % interval "
                   "from the fit's parameter uncertainty."))
middle.metric(_("Actual repeat purchases"), actual, border=True,
              help=_("Purchase days in the holdout weeks of the customers known at the split."))
right.metric(_("Forecast error"), "—" if hold["relative_error"] is None else percent(hold["relative_error"]),
             border=True, help=_("Predicted ÷ actual − 1: negative when the model expected fewer purchases than "
                                 "happened. Within ±10% over a quarter or more is a good fit; CLV, built on the "
                                 "same forecast, errs the same way."))

if hold.get("inside") is not None:
    st.markdown(_("The actual purchases fall **inside** the forecast's 90 % interval: the miss is within what the "
                  "parameters' uncertainty allows. Parameter uncertainty is not model error: the intervals on the "
                  "dashboard say how precisely the parameters are known, this check says how well the model "
                  "forecasts.") if hold["inside"] else
                _("The actual purchases fall **outside** the forecast's 90 % interval: the miss is more than the "
                  "parameters' uncertainty explains — the model itself is off (its assumptions, or a change in how "
                  "customers behave after the split). Parameter uncertainty is not model error: the intervals on "
                  "the dashboard say how precisely the parameters are known, this check says how well the model "
                  "forecasts."))

# --- frequency buckets and the cumulative curve ---------------------------------------------------------------
left, right = st.columns(2, gap="large")
with left:
    st.subheader(_("By purchase frequency before the split"))
    buckets = check["buckets"]
    bars = buckets.melt(id_vars=["frequency", "customers"], value_vars=["actual_mean", "predicted_mean"],
                        var_name="series", value_name="purchases")
    bars["series"] = bars["series"].str.removesuffix("_mean").map(lambda k: _(SERIES[k]))
    chart = alt.Chart(bars).mark_bar().encode(
        x=alt.X("frequency:N", sort=list(buckets["frequency"]), axis=alt.Axis(labelAngle=0),
                title=_("Repeat purchases before the split")),
        xOffset=alt.XOffset("series:N", sort=[ACTUAL, PREDICTED]),
        y=alt.Y("purchases:Q", title=_("Mean purchases in the {weeks}").format(weeks=weeks_text(weeks))),
        color=alt.Color("series:N", scale=alt.Scale(domain=[ACTUAL, PREDICTED], range=[BLUE, ORANGE]),
                        title=None, legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("frequency:N", title=_("Repeat purchases before")),
                 alt.Tooltip("series:N", title=_("Series")),
                 alt.Tooltip("purchases:Q", format=".2f", title=_("Mean holdout purchases")),
                 alt.Tooltip("customers:Q", format=",", title=_("Customers"))],
    ).properties(height=300)
    charts.show(chart, width="stretch")
    st.caption(_("Each pair of bars is the customers who had made that many repeat purchases before the split. "
                 "A good model tracks the blue bars in every group; the 0 group is the one-time buyers, whom the "
                 "model assumes still active."))
with right:
    st.subheader(_("Cumulative repeat purchases"))
    curve = check["curve"]
    lines = curve.melt(id_vars=["date", "period"], value_vars=["actual", "model"], var_name="series",
                       value_name="purchases")
    lines["series"] = lines["series"].map(lambda k: _(SERIES[k]))
    lines["period"] = lines["period"].map(curve_period_label)
    split = pd.DataFrame({"date": [check["calibration_end"]], "label": [_("holdout →")]})
    base = alt.Chart(lines).encode(
        x=alt.X("date:T", title=None),
        y=alt.Y("purchases:Q", title=_("Cumulative repeat purchases")),
        color=alt.Color("series:N", scale=alt.Scale(domain=[ACTUAL, MODEL], range=[BLUE, ORANGE]), title=None,
                        legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=[ACTUAL, MODEL], range=[[1, 0], [5, 3]]),
                                  legend=None),
        tooltip=[alt.Tooltip("date:T", title=_("Week ending")), alt.Tooltip("series:N", title=_("Series")),
                 alt.Tooltip("period:N", title=_("Period")),
                 alt.Tooltip("purchases:Q", format=",.0f", title=_("Purchases"))],
    )
    rule = alt.Chart(split).mark_rule(color="#9aa5b1", strokeDash=[2, 2]).encode(x="date:T")
    label = alt.Chart(split).mark_text(align="left", baseline="top", dx=4, color="#6b7785").encode(
        x="date:T", y=alt.value(4), text="label")
    dates = pd.to_datetime(curve["date"])
    marks = on_days(decisions.events(), dates.min().date(), (dates.max() + pd.Timedelta(days=1)).date(),
                    view.filters)
    charts.show(alt.layer(*event_layers(marks, "start", x2="end"), base.mark_line(), rule, label)
                .properties(height=300), width="stretch")
    if caption := listed(marks):
        st.caption(caption)
    at_split, at_end = curve[curve["week"] == 0].iloc[0], curve.iloc[-1]
    gaps = [percent(row["model"] / row["actual"] - 1) if row["actual"] else "—" for row in (at_split, at_end)]
    st.caption(_("Weekly totals since the first customer's first purchase: model vs actual {at_split} at the split "
                 "(the fit), {at_end} at the end (the forecast). Left of the dotted line the models saw the data, "
                 "right of it they did not. The model line is what customers of each age buy on average, ignoring "
                 "their own history, so its holdout rise need not equal the prediction above.").format(
        at_split=gaps[0], at_end=gaps[1]))

# --- spend ---------------------------------------------------------------------------------------------------
st.subheader(_("Spend per purchase"))
spend = check["spend"]
if not spend["customers"]:
    st.info(_("No customer with repeat purchases before the split bought in the holdout: spend cannot be checked."))
else:
    cols = st.columns(3)
    cols[0].metric(_("Predicted spend per purchase"), fmt.money(spend["predicted_mean"], currency, 2), border=True,
                   help=_("Gamma-Gamma's expected spend per purchase of each customer, averaged."))
    cols[1].metric(_("Actual spend per purchase"), fmt.money(spend["actual_mean"], currency, 2), border=True,
                   help=_("Each customer's holdout revenue ÷ holdout purchase days, averaged."))
    cols[2].metric(_("Spend error"), percent(spend["relative_error"]), border=True,
                   help=_("Predicted ÷ actual − 1. Only a gap beyond about 10% is telling."))
    st.caption(ngettext("Over the {n} customer who had repeat purchases before the split and bought again in the "
                        "holdout.", "Over the {n} customers who had repeat purchases before the split and bought "
                        "again in the holdout.", spend["customers"]).format(n=count(spend["customers"])))

# --- parameters ----------------------------------------------------------------------------------------------
st.subheader(_("Fitted parameters"))
params = check["parameters"]
wide = params.assign(shown=[_("{value} ± {error}").format(value=formats.significant(v, 4),
                                                          error=formats.significant(e, 2))
                            for v, e in zip(params["value"], params["standard_error"], strict=True)])
wide = wide.pivot(index=["group", "channels", "customers", "repeat_buyers"], columns="parameter", values="shown")
wide = wide[list(dict.fromkeys(params["parameter"]))].reset_index()  # r, α, a, b, p, q, γ as the fits list them
wide["group"] = [fit_group_label(g) for g in wide["group"]]  # the pooled fit in words; channels as named
CUSTOMERS, REPEAT_BUYERS = _("Customers"), _("Repeat buyers")
wide = wide.rename(columns={"group": _("Fit group"), "channels": _("Acquisition channels"), "customers": CUSTOMERS,
                            "repeat_buyers": REPEAT_BUYERS, "alpha": "α", "gamma": "γ"})
st.dataframe(wide.style.format({CUSTOMERS: count, REPEAT_BUYERS: count}, na_rep="—"), hide_index=True,
             width="stretch")
st.caption(_("Each parameter as value ± standard error (asymptotic, from the observed information; above a third "
             "of the value, the data pin it down poorly). BG/NBD: r, α (purchase rates, mean r/α per week), a, b "
             "(dropout, mean a/(a+b)); Gamma-Gamma: p, q, γ (spend). One fit per acquisition channel, as for the "
             "dashboard's CLV; channels under 200 customers, or that the models cannot pin down, share the fit on "
             "all customers. Segment filters choose the customers checked, not the fit."))
download(params.assign(calibration_end=check["calibration_end"], holdout_weeks=weeks), "model_parameters", view)

# --- assumptions ---------------------------------------------------------------------------------------------
st.subheader(_("What the models assume"))
st.markdown(_("""
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
"""))
