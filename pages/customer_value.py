"""Customer value: customers are heterogeneous — deciles, concentration, value tiers and the four growth levers."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from i18n import _, ngettext, use
from i18n.formats import date, number, percent
from kpis import REGISTRY
from kpis import format as fmt
from kpis.labels import compared_with, filter_value_label
from kpis.sources import NO_ORDERS  # the tier of customers who never ordered: never active, so not compared below
from ui import access, data
from ui.charts import show
from ui.db import database
from ui.state import current_view, drill
from ui.tables import download, formatted
from ui.tiles import kpi_help, tile_row

LEVERS = ["new_customers", "categories_per_customer", "retention_rate", "cost_per_order"]
TIER_KPIS = ["active_customers", "revenue", "revenue_per_customer", "retention_rate"]


db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
period = str(view.period)


def money(digits: int):
    """Amounts in the file's currency, for a table's column (ui.tables.formatted)."""
    return lambda v: fmt.money(v, currency, digits)


def share(value: float) -> str:
    return percent(value, 1)


def decile_columns() -> dict[str, str]:
    """The deciles table's columns as shown (and, in English, as the CSV file has them)."""
    return {"decile": _("Decile"), "customers": _("Customers"), "revenue": _("Revenue"), "margin": _("Margin"),
            "revenue_per_customer": _("Revenue per customer"), "revenue_share": _("Share of revenue"),
            "cumulative_revenue_share": _("Cumulative share")}


st.title(_("Customer value"))
st.caption(_("**{period}** · {segment} · data as of {date} · amounts in {currency} · never only “the average "
             "customer”: value is concentrated").format(period=view.period.label, segment=view.describe_filters(),
                                                        date=date(db.data_end), currency=currency))

# --- concentration and deciles -------------------------------------------------------------------
lifetime = st.toggle(_("Lifetime: rank customers by all their orders to date"), key="value:lifetime",
                     help=_("Off: customers ranked by their revenue in {period}. On: by their revenue over their "
                            "whole history.").format(period=view.period.label))
basis = None if lifetime else period
deciles = data.value_deciles(basis, filters=view.filters)

st.subheader(_("How concentrated value is"))
if deciles.empty:
    nothing = (_("No orders over their lifetime for {segment}: nothing to rank.") if lifetime
               else _("No orders in {period} for {segment}: nothing to rank."))
    st.info(nothing.format(period=view.period.label, segment=view.describe_filters()))
else:
    buyers = int(deciles["customers"].sum())
    curve = data.concentration_curve(basis, filters=view.filters)
    left, right = st.columns([2, 3], gap="large")
    with left:
        top = st.slider(_("Top share of customers"), 1, 100, 15, format=_("%d%%"), key="value:top")
        brought = float(np.interp(top / 100, curve["top_customer_share"], curve["revenue_share"]))
        st.markdown("## " + _("The top {top}% of customers bring {share}% of revenue").format(
            top=number(top), share=number(100 * brought)))
        ranked = (ngettext("Customers ranked by revenue over their lifetime: {n} buyer, {segment}.",
                           "Customers ranked by revenue over their lifetime: {n} buyers, {segment}.", buyers)
                  if lifetime else
                  ngettext("Customers ranked by revenue in {period}: {n} buyer, {segment}.",
                           "Customers ranked by revenue in {period}: {n} buyers, {segment}.", buyers))
        st.caption(ranked.format(period=view.period.label, n=number(buyers), segment=view.describe_filters()))
    with right:
        diagonal = pd.DataFrame({"top_customer_share": [0.0, 1.0], "revenue_share": [0.0, 1.0]})
        reading = pd.DataFrame({"top_customer_share": [top / 100], "revenue_share": [brought]})
        axes = {"x": alt.X("top_customer_share:Q", title=_("Top share of customers"), axis=alt.Axis(format="%")),
                "y": alt.Y("revenue_share:Q", title=_("Share of revenue"), axis=alt.Axis(format="%"))}
        chart = (
            alt.Chart(diagonal).mark_line(strokeDash=[4, 4], color="#9aa5b1").encode(**axes)
            + alt.Chart(curve).mark_line(color="#1f77b4").encode(
                **axes, tooltip=[alt.Tooltip("top_customer_share:Q", format=".0%", title=_("Top customers")),
                                 alt.Tooltip("revenue_share:Q", format=".0%", title=_("Their revenue"))])
            + alt.Chart(reading).mark_rule(color="#d62728", strokeDash=[2, 2]).encode(x="top_customer_share:Q")
            + alt.Chart(reading).mark_point(color="#d62728", filled=True, size=80).encode(**axes)
        ).properties(height=260)
        show(chart, width="stretch")
        st.caption(_("Read the curve at any share of customers: the further it bows above the dashed line of "
                     "equality, the more revenue depends on a few customers."))

    st.subheader(_("Value deciles"))
    bars = alt.Chart(deciles).mark_bar(color="#1f77b4").encode(
        x=alt.X("decile:O", title=_("Decile (1 = the tenth of customers who spent most)"),
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("revenue_share:Q", title=_("Share of revenue"), axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("decile:O", title=_("Decile")),
                 alt.Tooltip("customers:Q", format=",", title=_("Customers")),
                 alt.Tooltip("revenue:Q", format=",.0f", title=_("Revenue")),
                 alt.Tooltip("revenue_share:Q", format=".1%", title=_("Share of revenue"))],
    )
    even = alt.Chart(pd.DataFrame({"y": [0.1]})).mark_rule(strokeDash=[4, 4], color="#9aa5b1").encode(y="y:Q")
    show((bars + even).properties(height=240), width="stretch")
    st.caption(_("Each bar is one tenth of the buyers, ranked by revenue; if every customer were worth the same, "
                 "every bar would sit on the dashed 10% line."))
    names = decile_columns()
    table = deciles.rename(columns=names)
    st.dataframe(formatted(table, {names["decile"]: number, names["customers"]: number, names["revenue"]: money(0),
                                   names["margin"]: money(0), names["revenue_per_customer"]: money(2),
                                   names["revenue_share"]: share, names["cumulative_revenue_share"]: share}),
                 hide_index=True, width="stretch",
                 column_config={names["margin"]: st.column_config.NumberColumn(help=kpi_help("gross_margin"))})
    with use("en"):  # a CSV file's columns are the same in every language
        csv_names = decile_columns()
    download(deciles.rename(columns=csv_names).assign(basis="lifetime" if lifetime else period), "value_deciles",
             view, label=_("Download the deciles (CSV)"))

# --- value tiers ---------------------------------------------------------------------------------
st.subheader(_("Value tiers"))
scope = access.grant().scope  # a person limited to some tiers sees those tiers, and shares of their revenue only
tiers = [t for t in db.filter_values("value_tier") if t != NO_ORDERS and t in scope.get("value_tier", (t,))]
everyone = data.evaluate("revenue", period, filters={k: v for k, v in view.filters.items()
                                                     if k != "value_tier" or k in scope})
tier_column, share_column = _("Value tier"), _("Share of revenue")
rows = []
for tier in tiers:
    values = data.evaluate_many(TIER_KPIS, period, filters=view.filters | {"value_tier": (tier,)})
    revenue = values["revenue"] or 0.0  # no orders in the period: the tier brought nothing
    rows.append({tier_column: filter_value_label("value_tier", tier),
                 **{REGISTRY[k].short_label: revenue if k == "revenue" else values[k] for k in TIER_KPIS},
                 share_column: revenue / everyone if everyone else None})
tier_table = pd.DataFrame(rows)
labels = {k: REGISTRY[k].short_label for k in TIER_KPIS}
units = {"active_customers": number, "revenue": money(0), "revenue_per_customer": money(2), "retention_rate": share}
shown = [tiers.index(t) for t in view.filters.get("value_tier", ()) if t in tiers][:1]  # the tier in view, ticked
picked = st.dataframe(
    formatted(tier_table, {labels[k]: units[k] for k in TIER_KPIS} | {share_column: share}),
    hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
    key=f"value:tiers:{view.to_params()}", selection_default={"selection": {"rows": shown}} if shown else None,
    column_config={labels[k]: st.column_config.NumberColumn(help=kpi_help(k)) for k in TIER_KPIS},
)
st.caption(_("Tiers rank every customer by lifetime revenue (top 10%, next 20%, middle 30%, bottom 40%); the "
             "figures are for {period}. Select a row to show that tier on every page. Customers who never ordered "
             "form a fifth tier, never active, so not listed.").format(period=view.period.label))
if picked.selection.rows:
    tier = tiers[picked.selection.rows[0]]  # the stored name (the table shows it in words)
    if view.filters.get("value_tier") != (tier,):
        drill(view, "value_tier", tier)

# --- the four growth levers ----------------------------------------------------------------------
st.subheader(_("Four ways customer value grows"))
levers = data.compare(LEVERS, period, filters=view.filters)
spark = data.trend(LEVERS, period, 12, filters=view.filters)
tile_row(LEVERS, levers, view, currency, spark, per_row=4)
st.caption(_("Win new customers, sell them more categories, keep them longer, serve them at lower cost (Markey). "
             "Changes are {compared_with}; green and red follow each KPI's direction; sparklines show the last 12 "
             "periods.").format(compared_with=compared_with(view.compare, view.reference.label)))
