"""Customer value: customers are heterogeneous — deciles, concentration, value tiers and the four growth levers."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from kpis import REGISTRY
from kpis import format as fmt
from kpis.labels import COMPARISONS
from ui import access, data
from ui.db import database
from ui.state import current_view, drill
from ui.tables import download
from ui.tiles import kpi_help, tile_row

LEVERS = ["new_customers", "categories_per_customer", "retention_rate", "cost_per_order"]
TIER_KPIS = ["active_customers", "revenue", "revenue_per_customer", "retention_rate"]
NO_ORDERS = "no orders"  # the tier of customers who never ordered: never active, so not compared below

db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
symbol = fmt.SYMBOLS.get(currency, currency)
period = str(view.period)


def money_format(digits: int) -> str:
    """A printf column format for amounts in the file's currency."""
    return f"{symbol}%,.{digits}f" if currency in fmt.PREFIXED else f"%,.{digits}f {symbol}"


st.title("Customer value")
st.caption(f"**{view.period.label}** · {view.describe_filters()} · data as of {db.data_end:%d %b %Y} · "
           f"amounts in {currency} · never only “the average customer”: value is concentrated")

# --- concentration and deciles -------------------------------------------------------------------
lifetime = st.toggle("Lifetime: rank customers by all their orders to date", key="value:lifetime",
                     help=f"Off: customers ranked by their revenue in {view.period.label}. "
                          "On: by their revenue over their whole history.")
basis = None if lifetime else period
basis_label = "over their lifetime" if lifetime else f"in {view.period.label}"
deciles = data.value_deciles(basis, filters=view.filters)

st.subheader("How concentrated value is")
if deciles.empty:
    st.info(f"No orders {basis_label} for {view.describe_filters()}: nothing to rank.")
else:
    buyers = int(deciles["customers"].sum())
    curve = data.concentration_curve(basis, filters=view.filters)
    left, right = st.columns([2, 3], gap="large")
    with left:
        top = st.slider("Top share of customers", 1, 100, 15, format="%d%%", key="value:top")
        share = float(np.interp(top / 100, curve["top_customer_share"], curve["revenue_share"]))
        st.markdown(f"## The top {top}% of customers bring {share:.0%} of revenue")
        st.caption(f"Customers ranked by revenue {basis_label}: {buyers:,} buyer{'s' * (buyers != 1)}, "
                   f"{view.describe_filters()}.")
    with right:
        diagonal = pd.DataFrame({"top_customer_share": [0.0, 1.0], "revenue_share": [0.0, 1.0]})
        reading = pd.DataFrame({"top_customer_share": [top / 100], "revenue_share": [share]})
        axes = {"x": alt.X("top_customer_share:Q", title="Top share of customers", axis=alt.Axis(format="%")),
                "y": alt.Y("revenue_share:Q", title="Share of revenue", axis=alt.Axis(format="%"))}
        chart = (
            alt.Chart(diagonal).mark_line(strokeDash=[4, 4], color="#9aa5b1").encode(**axes)
            + alt.Chart(curve).mark_line(color="#1f77b4").encode(
                **axes, tooltip=[alt.Tooltip("top_customer_share:Q", format=".0%", title="Top customers"),
                                 alt.Tooltip("revenue_share:Q", format=".0%", title="Their revenue")])
            + alt.Chart(reading).mark_rule(color="#d62728", strokeDash=[2, 2]).encode(x="top_customer_share:Q")
            + alt.Chart(reading).mark_point(color="#d62728", filled=True, size=80).encode(**axes)
        ).properties(height=260)
        st.altair_chart(chart, width="stretch")
        st.caption("Read the curve at any share of customers: the further it bows above the dashed line of "
                   "equality, the more revenue depends on a few customers.")

    st.subheader("Value deciles")
    bars = alt.Chart(deciles).mark_bar(color="#1f77b4").encode(
        x=alt.X("decile:O", title="Decile (1 = the tenth of customers who spent most)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("revenue_share:Q", title="Share of revenue", axis=alt.Axis(format="%")),
        tooltip=["decile", "customers", alt.Tooltip("revenue:Q", format=",.0f"),
                 alt.Tooltip("revenue_share:Q", format=".1%", title="share of revenue")],
    )
    even = alt.Chart(pd.DataFrame({"y": [0.1]})).mark_rule(strokeDash=[4, 4], color="#9aa5b1").encode(y="y:Q")
    st.altair_chart((bars + even).properties(height=240), width="stretch")
    st.caption("Each bar is one tenth of the buyers, ranked by revenue; if every customer were worth the same, "
               "every bar would sit on the dashed 10% line.")
    table = deciles.rename(columns={
        "decile": "Decile", "customers": "Customers", "revenue": "Revenue", "margin": "Margin",
        "revenue_per_customer": "Revenue per customer", "revenue_share": "Share of revenue",
        "cumulative_revenue_share": "Cumulative share"})
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Customers": st.column_config.NumberColumn(format="%,d"),
        "Revenue": st.column_config.NumberColumn(format=money_format(0)),
        "Margin": st.column_config.NumberColumn(format=money_format(0), help=kpi_help("gross_margin")),
        "Revenue per customer": st.column_config.NumberColumn(format=money_format(2)),
        "Share of revenue": st.column_config.NumberColumn(format="percent"),
        "Cumulative share": st.column_config.NumberColumn(format="percent"),
    })
    download(table.assign(basis="lifetime" if lifetime else period), "value_deciles", view)

# --- value tiers ---------------------------------------------------------------------------------
st.subheader("Value tiers")
scope = access.grant().scope  # a person limited to some tiers sees those tiers, and shares of their revenue only
tiers = [t for t in db.filter_values("value_tier") if t != NO_ORDERS and t in scope.get("value_tier", (t,))]
everyone = data.evaluate("revenue", period, filters={k: v for k, v in view.filters.items()
                                                     if k != "value_tier" or k in scope})
rows = []
for tier in tiers:
    values = data.evaluate_many(TIER_KPIS, period, filters=view.filters | {"value_tier": (tier,)})
    revenue = values["revenue"] or 0.0  # no orders in the period: the tier brought nothing
    rows.append({"Value tier": tier,
                 **{REGISTRY[k].short_label: revenue if k == "revenue" else values[k] for k in TIER_KPIS},
                 "Share of revenue": revenue / everyone if everyone else None})
tier_table = pd.DataFrame(rows)
labels = {k: REGISTRY[k].short_label for k in TIER_KPIS}
units = {"active_customers": "%,d", "revenue": money_format(0), "revenue_per_customer": money_format(2),
         "retention_rate": "percent"}
shown = [tiers.index(t) for t in view.filters.get("value_tier", ()) if t in tiers][:1]  # the tier in view, ticked
picked = st.dataframe(
    tier_table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
    key=f"value:tiers:{view.to_params()}", selection_default={"selection": {"rows": shown}} if shown else None,
    column_config={labels[k]: st.column_config.NumberColumn(format=units[k], help=kpi_help(k)) for k in TIER_KPIS}
    | {"Share of revenue": st.column_config.NumberColumn(format="percent")},
)
st.caption(f"Tiers rank every customer by lifetime revenue (top 10%, next 20%, middle 30%, bottom 40%); the "
           f"figures are for {view.period.label}. Select a row to show that tier on every page. "
           "Customers who never ordered form a fifth tier, never active, so not listed.")
if picked.selection.rows:
    tier = tier_table.iloc[picked.selection.rows[0]]["Value tier"]
    if view.filters.get("value_tier") != (tier,):
        drill(view, "value_tier", tier)

# --- the four growth levers ----------------------------------------------------------------------
st.subheader("Four ways customer value grows")
levers = data.compare(LEVERS, period, filters=view.filters)
spark = data.trend(LEVERS, period, 12, filters=view.filters)
tile_row(LEVERS, levers, view, currency, spark, per_row=4)
st.caption(f"Win new customers, sell them more categories, keep them longer, serve them at lower cost "
           f"(Markey). Changes are against the {COMPARISONS[view.compare]} ({view.reference.label}); green and "
           "red follow each KPI's direction; sparklines show the last 12 periods.")
