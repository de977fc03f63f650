"""Customer equity vs volume: the customer KPIs beside volume and cost, so a volume win is never read as a
customer win (DOMAIN.md, idea 3). Everything comes from the KPI registry through ui.data.call."""

import altair as alt
import pandas as pd
import streamlit as st

from i18n import _, use
from i18n.formats import date
from kpis import REGISTRY, Group, rebased_trend
from kpis import format as fmt
from kpis.events import listed, on_periods
from kpis.labels import compared_with
from report.charts import event_layers
from ui import data, decisions
from ui.charts import show
from ui.db import database
from ui.state import current_view, drill_period, periods, worded
from ui.tables import download
from ui.tiles import tile

EQUITY = ["active_customers", "new_customers", "retention_rate", "churn_rate", "repeat_purchase_rate",
          "purchase_frequency", "average_order_value", "revenue_per_customer", "categories_per_customer",
          "top_customer_share", "historical_clv_12m", "cac"]
VOLUME = ["revenue", "orders", "gross_margin", "gross_margin_rate", "marketing_spend", "cost_per_order",
          "cost_of_sales"]
DEFAULTS = {Group.EQUITY: ["active_customers", "retention_rate", "revenue_per_customer"],
            Group.VOLUME: ["revenue", "orders"]}
# Cool colours for the customer, warm ones for volume and cost: the two families read apart at a glance.
PALETTES = {Group.EQUITY: ["#1f5fa8", "#2a9d8f", "#7b4fb5", "#5fa8e8", "#1b7a3e", "#3c3f9e", "#66b8a6",
                           "#a587d6", "#0e3d6b", "#8fc98f", "#4f6d8f", "#2fb5c9"],
            Group.VOLUME: ["#e07b00", "#c0392b", "#9c6b30", "#d4a017", "#e8689a", "#8e3b1f", "#f2a65a"]}
WINDOWS = (12, 24)
CHART_HEIGHT = 360


def tile_grid(keys: list[str], per_row: int, table: pd.DataFrame, trend: pd.DataFrame, currency: str) -> None:
    """Tiles of equal width, `per_row` to a row (the last row is not stretched)."""
    for start in range(0, len(keys), per_row):
        row = keys[start:start + per_row]
        for where, key in zip(st.columns(per_row), row, strict=False):
            spark = [v for v in trend[key] if not pd.isna(v)]
            tile(where, key, table, view, currency, list(trend[key]) if spark else None)


def trend_chart(trend: pd.DataFrame, keys: list[str], labels: dict[str, str], currency: str,
                marks: pd.DataFrame) -> alt.LayerChart:
    lines = rebased_trend(trend, keys)
    lines["label"] = lines["period"].map(labels)
    order = [labels[p] for p in trend["period"]]
    x = alt.X("label:O", sort=order, title=None, scale=alt.Scale(paddingInner=0, paddingOuter=0),
              axis=alt.Axis(labelAngle=0 if len(order) <= 12 else -40, labelOverlap=True))
    shown = [k for k in keys if REGISTRY[k].label in set(lines["kpi"])]
    domain, colours = [], []
    for group in (Group.EQUITY, Group.VOLUME):
        members = [k for k in shown if REGISTRY[k].group is group]
        domain += [REGISTRY[k].label for k in members]
        colours += PALETTES[group][:len(members)]
    colour = alt.Color("kpi:N", title=None, scale=alt.Scale(domain=domain, range=colours),
                       legend=alt.Legend(orient="bottom", columns=3, labelLimit=260, symbolStrokeWidth=3))
    dash = alt.StrokeDash("family:N", title=None,
                          scale=alt.Scale(domain=[_(Group.EQUITY.value), _(Group.VOLUME.value)],
                                          range=[[1, 0], [6, 4]]),
                          legend=alt.Legend(orient="top", symbolStrokeWidth=2, symbolSize=400))
    y = alt.Y("index:Q", title=_("Index (first period = 100)"), scale=alt.Scale(zero=False))
    drawn = alt.Chart(lines).encode(x=x, y=y, color=colour)
    hundred = alt.Chart(pd.DataFrame({"y": [100]})).mark_rule(color="#9aa5b1", strokeDash=[2, 2]).encode(y="y:Q")
    # One invisible band per period, on top: it carries the tooltip of every line and the click that drills.
    bands = trend[["period"]].copy()
    bands["label"] = bands["period"].map(labels)
    tooltip = [alt.Tooltip("label:N", title=_("Period"))]
    for number, key in enumerate(shown):  # plain field names: a label may hold a dot or brackets Vega would read
        kpi = REGISTRY[key]
        bands[f"kpi_{number}"] = [fmt.value(None if pd.isna(v) else v, kpi.unit, currency) for v in trend[key]]
        tooltip.append(alt.Tooltip(f"kpi_{number}:N", title=kpi.label))
    if not marks.empty:  # the band on top takes the hover: it names the period's events too
        texts = marks.groupby("period")["text"].agg(" · ".join)
        bands["events"] = bands["period"].map(texts).fillna("")
        tooltip.append(alt.Tooltip("events:N", title=_("Events")))
    pick = alt.selection_point(name="pick", fields=["period"], on="click", empty=False)
    band = alt.Chart(bands).mark_rect(opacity=0, cursor="pointer").encode(x=x, tooltip=tooltip).add_params(pick)
    return alt.layer(
        *event_layers(marks, "label", order),
        hundred,
        drawn.mark_line(strokeWidth=2.5).encode(detail="piece:N", strokeDash=dash),
        drawn.mark_point(filled=True, size=36),
        band,
    ).properties(height=CHART_HEIGHT)


db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
period = str(view.period)

st.title(_("Customer equity vs volume"))
st.caption(_("**{period}** {compared_with} · {segment} · data as of {date} · amounts in {currency}").format(
    period=view.period.label, compared_with=compared_with(view.compare, view.reference.label),
    segment=view.describe_filters(), date=date(db.data_end), currency=currency))

# Newest first. The data's first period is left out when there are others: it is usually partial (data starting
# mid-quarter), and an index based on a partial period would overstate all the growth after it.
covered = periods(db, view.grain)
available = [p for p in covered[:-1] if p <= view.period] or [view.period]
window = st.segmented_control(_("Periods shown"), WINDOWS, default=WINDOWS[0], key="equity:window",
                              format_func=worded(lambda n: _("Last {n}").format(n=n))) or WINDOWS[0]
n = min(window, len(available))
table = data.compare(EQUITY + VOLUME, period, filters=view.filters)
trend = data.trend(EQUITY + VOLUME, period, n, filters=view.filters)

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(_(Group.EQUITY.value))
    tile_grid(EQUITY, 3, table, trend, currency)
with right:
    st.subheader(_(Group.VOLUME.value))
    tile_grid(VOLUME, 2, table, trend, currency)
st.caption(_("Left, what the customer base is worth; right, how much was sold and what it cost. Arrows compare "
             "with {reference}; green and red follow each KPI's direction. Sparklines: the last {n} periods. Hover "
             "a tile for its definition.").format(reference=view.reference.label, n=n))

st.subheader(_("Over time, on one scale"))
labels = {str(p): p.label for p in available}
pickers = st.columns(2)
picked = []
for where, group, keys in zip(pickers, (Group.EQUITY, Group.VOLUME), (EQUITY, VOLUME), strict=True):
    by_label = {REGISTRY[k].label: k for k in keys}
    chosen = where.multiselect(_(group.value), list(by_label), default=[REGISTRY[k].label for k in DEFAULTS[group]],
                               key=f"equity:pick:{group.name}")
    picked += [by_label[label] for label in chosen]

if not picked:
    st.info(_("Pick at least one KPI above to draw its trend."))
elif trend[picked].isna().all().all():
    st.info(_("No values for {segment} over these periods.").format(segment=view.describe_filters()))
else:
    marks = on_periods(decisions.events(), list(trend["period"]), view.filters)
    marks["label"] = marks["period"].map(labels)
    event = show(trend_chart(trend, picked, labels, currency, marks), width="stretch", on_select="rerun",
                 selection_mode="pick")
    if caption := listed(marks):
        st.caption(caption)
    st.caption(_("Each line starts at 100 at its first period: 120 means 20 % above where it started. Solid "
                 "lines are the customer, dashed lines volume and cost — when dashed lines climb and solid ones "
                 "do not, sales grew without better customers. Gaps: not measurable that period. "
                 "Click a period to show it."))
    clicked = [row.get("period") for row in event.selection.get("pick", [])] if event else []
    if clicked and clicked[0] and clicked[0] != period:
        drill_period(view, clicked[0])

    values = pd.DataFrame({_("Period"): [labels[p] for p in trend["period"]]})
    for key in picked:
        kpi = REGISTRY[key]
        values[kpi.label] = [fmt.value(None if pd.isna(v) else v, kpi.unit, currency) for v in trend[key]]
    st.dataframe(values.iloc[::-1], hide_index=True, width="stretch",
                 column_config={REGISTRY[k].label: st.column_config.TextColumn(help=REGISTRY[k].definition)
                                for k in picked})
    with use("en"):  # a CSV file's columns are the same in every language
        columns = {k: REGISTRY[k].label for k in picked}
    download(trend[["period"] + picked].rename(columns=columns), "equity_vs_volume", view,
             label=_("Download the trend (CSV)"))
