"""Empty chair: the customer's seat at the table — a few large, honest numbers for leadership."""

import altair as alt
import streamlit as st

from kpis import REGISTRY
from kpis.clv.model import value_basis
from kpis.labels import COMPARISONS
from ui import data
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

st.title("The empty chair")
st.caption(f"**{view.period.label}** compared with the {COMPARISONS[view.compare]} ({view.reference.label}) · "
           f"{view.describe_filters()} · data as of {db.data_end:%d %b %Y} · amounts in {currency}")

table = data.compare(CUSTOMER + VOLUME + AT_RISK, period, filters=view.filters, intervals=True)
trend = data.trend([k for k in CUSTOMER + VOLUME if not REGISTRY[k].model_based], period, 12, filters=view.filters)
nps = data.nps_with_margin(period, filters=view.filters)
nps_note = (f"± {nps['margin']:.0f} pts · {nps['answers']:,} answers" if nps["value"] is not None
            else "no answers in the period")
basis = value_basis(db)  # orders without costs: value on revenue, or on the margin rate stated at import
notes = {"nps": nps_note} | ({k: basis.split(":")[0] for k in CUSTOMER + AT_RISK if REGISTRY[k].model_based}
                             if basis else {})

for sentence in data.headline(period, view.compare, filters=view.filters):
    st.markdown(f"- {sentence}")

st.subheader("The customer")
tile_row(CUSTOMER, table, view, currency, trend, notes=notes)
st.subheader("Volume and cost")
tile_row(VOLUME, table, view, currency, trend)
st.caption("Sparklines: the last 12 periods (none for model-based values, fitted once per period). Green and red "
           "follow each KPI's direction: a fall in CAC is good. Model-based values carry their 90 % interval from the "
           "models' parameter uncertainty; a grey change is within it. Parameter uncertainty is not model error: the "
           "Model check page tells how well the models forecast.")

st.subheader("Valuable customers at risk")
tile_row(AT_RISK, table, view, currency, notes=notes, per_row=2)
if basis:
    st.caption(f"Customer value is {basis}.")

left, right = st.columns([2, 3], gap="large")
with left:
    st.subheader("Where effort peaks")
    effort = data.effort_by_touchpoint(period, filters=view.filters)
    peak = data.effort_peak(period, filters=view.filters)
    if peak:
        st.markdown(f"#### {peak['text']}")
    if effort.empty:
        st.info("No effort (CES) answers in this period.")
    else:
        chart = alt.Chart(effort.dropna(subset=["ces"])).mark_bar().encode(
            x=alt.X("ces:Q", title="Mean effort (1 = easy, 5 = hard)", scale=alt.Scale(domain=[1, 5])),
            y=alt.Y("touchpoint:N", sort="-x", title=None),
            color=alt.condition(alt.datum.touchpoint == (peak or {}).get("touchpoint"),
                                alt.value("#d62728"), alt.value("#9aa5b1")),
            tooltip=["touchpoint", alt.Tooltip("ces:Q", format=".2f"), "ces_answers"],
        ).properties(height=200)
        st.altair_chart(chart, width="stretch")
with right:
    st.subheader("What customers say")
    comments = data.latest_comments(period, 3, filters=view.filters)
    for group in ("detractor", "promoter"):
        for row in comments[group].to_dict("records"):
            st.markdown(f":{BADGES[group]}-badge[{group} · {row['survey'].upper()} {row['score']}] "
                        f"*“{row['comment']}”* — {row['answered_at']:%d %b}")

st.subheader("PDF snapshot")
pdf_snapshot(db, view)
