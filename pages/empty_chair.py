"""Empty chair: the customer's seat at the table — a few large, honest numbers for leadership."""

import altair as alt
import streamlit as st

from i18n import _, ngettext
from i18n.formats import date, day_month, number
from kpis import REGISTRY
from kpis.clv.model import value_basis
from kpis.labels import compared_with, score_group_label
from ui import data
from ui.charts import show
from ui.db import database
from ui.snapshot import pdf_snapshot
from ui.state import current_view
from ui.tiles import tile_row

CUSTOMER = ["active_customers", "new_customers", "retention_rate", "customer_equity", "clv_cac", "nps"]
VOLUME = ["revenue", "gross_margin", "orders", "marketing_spend", "cac"]
AT_RISK = ["customers_at_risk", "value_at_risk"]
BADGES = {"detractor": "red", "promoter": "green"}

db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
period = str(view.period)

st.title(_("The empty chair"))
st.caption(_("**{period}** {compared_with} · {segment} · data as of {date} · amounts in {currency}").format(
    period=view.period.label, compared_with=compared_with(view.compare, view.reference.label),
    segment=view.describe_filters(), date=date(db.data_end), currency=currency))

table = data.compare(CUSTOMER + VOLUME + AT_RISK, period, filters=view.filters, intervals=True)
trend = data.trend([k for k in CUSTOMER + VOLUME if not REGISTRY[k].model_based], period, 12, filters=view.filters)
nps = data.nps_with_margin(period, filters=view.filters)
nps_note = (ngettext("± {margin} pts · {n} answer", "± {margin} pts · {n} answers", nps["answers"]).format(
    margin=number(nps["margin"]), n=number(nps["answers"])) if nps["value"] is not None
    else _("no answers in the period"))
basis = value_basis(db)  # orders without costs: value on revenue, or on the margin rate stated at import
notes = {"nps": nps_note} | ({k: basis.split(":")[0].strip() for k in CUSTOMER + AT_RISK if REGISTRY[k].model_based}
                             if basis else {})

for sentence in data.headline(period, view.compare, filters=view.filters):
    st.markdown(f"- {sentence}")

st.subheader(_("The customer"))
tile_row(CUSTOMER, table, view, currency, trend, notes=notes)
st.subheader(_("Volume and cost"))
tile_row(VOLUME, table, view, currency, trend)
st.caption(_("Sparklines: the last 12 periods (none for model-based values, fitted once per period). Green and red "
             "follow each KPI's direction: a fall in CAC is good. Model-based values carry their 90 % interval from "
             "the models' parameter uncertainty; a grey change is within it. Parameter uncertainty is not model "
             "error: the Model check page tells how well the models forecast."))

st.subheader(_("Valuable customers at risk"))
tile_row(AT_RISK, table, view, currency, notes=notes, per_row=2)
if basis:
    st.caption(_("Customer value is {basis}.").format(basis=basis))

left, right = st.columns([2, 3], gap="large")
with left:
    st.subheader(_("Where effort peaks"))
    effort = data.effort_by_touchpoint(period, filters=view.filters)
    peak = data.effort_peak(period, filters=view.filters)
    if peak:
        st.markdown(f"#### {peak['text']}")
    if effort.empty:
        st.info(_("No effort (CES) answers in this period."))
    else:
        chart = alt.Chart(effort.dropna(subset=["ces"])).mark_bar().encode(
            x=alt.X("ces:Q", title=_("Mean effort (1 = easy, 5 = hard)"), scale=alt.Scale(domain=[1, 5])),
            y=alt.Y("touchpoint:N", sort="-x", title=None),
            color=alt.condition(alt.datum.touchpoint == (peak or {}).get("touchpoint"),
                                alt.value("#d62728"), alt.value("#9aa5b1")),
            tooltip=[alt.Tooltip("touchpoint:N", title=_("Touchpoint")),
                     alt.Tooltip("ces:Q", format=".2f", title=_("Mean effort")),
                     alt.Tooltip("ces_answers:Q", format=",", title=_("Answers"))],
        ).properties(height=200)
        show(chart, width="stretch")
with right:
    st.subheader(_("What customers say"))
    comments = data.latest_comments(period, 3, filters=view.filters)
    for group in ("detractor", "promoter"):
        for row in comments[group].to_dict("records"):
            st.markdown(_(":{colour}-badge[{group} · {survey} {score}] *“{comment}”* — {day}").format(
                colour=BADGES[group], group=score_group_label(group), survey=row["survey"].upper(), score=row["score"],
                comment=row["comment"], day=day_month(row["answered_at"])))

st.subheader(_("PDF snapshot"))
pdf_snapshot(db, view)
