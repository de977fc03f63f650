"""Cohorts & retention: how each month's new customers keep buying, what they are worth after a year.

Aggregates only, everything from kpis through ui.data: the cohort retention matrix, and the registry's
repeat_rate_90d and historical_clv_12m by acquisition month.
"""

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from i18n import _, ngettext, use
from i18n.formats import number
from kpis import REGISTRY, Period, Unit
from kpis import format as fmt
from kpis.tables import observed_cohorts, retention_curve
from ui import access, data
from ui.charts import show
from ui.db import database
from ui.state import current_view, drill, last_complete, worded
from ui.tables import download, formatted

RANGES = {"Last 12": 12, "Last 24": 24, "Last 36": 36, "All": None}  # the choice's keys (its words: range_words)
PER_COHORT = ["repeat_rate_90d", "historical_clv_12m"]
FEW_COHORTS = 8
LABELLED_CELLS = 24  # above this many months (columns) or cohorts (rows), cell labels would not be readable
ROW_HEIGHT = 22


def range_words(choice: str) -> str:
    size = RANGES[choice]
    return _("Last {n}").format(n=size) if size else _("All cohorts")


def month_label(cohort: str) -> str:
    """"2024-01" as people read it: Jan 2024 / janv. 2024."""
    return Period.parse(cohort).label


def heat_map(matrix: pd.DataFrame) -> alt.LayerChart:
    cells = matrix.sort_values(["cohort", "age"])
    cells = cells.assign(month=cells["cohort"].map(month_label),
                         row=[f"{month_label(c)} · {number(n)}" for c, n in
                              zip(cells["cohort"], cells["customers"], strict=True)])
    rows, columns = cells["cohort"].nunique(), cells["age"].max() + 1
    y = alt.Y("row:O", title=_("Acquisition month · customers"), sort=list(cells["row"].unique()),
              axis=alt.Axis(labelLimit=200))
    x = alt.X("age:O", title=_("Months since acquisition"), axis=alt.Axis(labelAngle=0))
    pick = alt.selection_point(name="pick", fields=["cohort"], on="click", empty=False)
    base = alt.Chart(cells).encode(x=x, y=y)
    rect = base.mark_rect(cursor="pointer", stroke="white", strokeWidth=0.5).encode(
        color=alt.Color("rate:Q", title=_("Share active"), scale=alt.Scale(domain=[0, 1], scheme="blues"),
                        legend=alt.Legend(format=".0%", orient="top", direction="horizontal", gradientLength=220,
                                          titleOrient="left", titleBaseline="middle")),
        tooltip=[alt.Tooltip("month:N", title=_("Acquired in")), alt.Tooltip("age:O", title=_("Months later")),
                 alt.Tooltip("customers:Q", title=_("Customers"), format=","),
                 alt.Tooltip("active:Q", title=_("Active"), format=","),
                 alt.Tooltip("rate:Q", title=_("Share active"), format=".1%")],
    ).add_params(pick)
    layers = [rect]
    if rows <= LABELLED_CELLS and columns <= LABELLED_CELLS:
        layers.append(base.mark_text(fontSize=10 if columns <= 16 else 9).encode(
            text=alt.Text("rate:Q", format=".0%"),
            color=alt.condition(alt.datum.rate > 0.55, alt.value("white"), alt.value("#1f2933")),
        ))
    return alt.layer(*layers).properties(height=alt.Step(ROW_HEIGHT))


def curve_chart(curves: pd.DataFrame) -> alt.Chart:
    whos = list(dict.fromkeys(curves["who"]))
    return alt.Chart(curves).mark_line(point=True, strokeWidth=2.5).encode(
        x=alt.X("age:Q", title=_("Months since acquisition"), axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("rate:Q", title=_("Share active"), scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".0%")),
        color=alt.Color("who:N", title=None, scale=alt.Scale(domain=whos, range=["#1f5fa8", "#9aa5b1"][:len(whos)]),
                        legend=alt.Legend(orient="bottom", labelLimit=400) if len(whos) > 1 else None),
        strokeDash=alt.StrokeDash("who:N", scale=alt.Scale(domain=whos, range=[[1, 0], [5, 4]][:len(whos)]),
                                  legend=None),
        tooltip=[alt.Tooltip("who:N", title=_("Customers")), alt.Tooltip("age:Q", title=_("Months later")),
                 alt.Tooltip("rate:Q", title=_("Share active"), format=".1%"),
                 alt.Tooltip("cohorts:Q", title=_("Cohorts this old"))],
    ).properties(height=280)


def cohort_bars(per: pd.DataFrame, key: str, currency: str) -> None:
    """Bars of one cohort KPI by acquisition month; a cohort too young has no bar (never a zero)."""
    kpi = REGISTRY[key]
    percent = kpi.unit is Unit.PERCENT
    st.markdown(f"**{kpi.label}**" + ("" if percent else f" ({currency})"), help=kpi.definition)
    shown = per.dropna(subset=[key])
    if shown.empty:
        st.caption(_("No cohort shown here is old enough yet: show more cohorts."))
        return
    chart = alt.Chart(shown.assign(month=shown["cohort"].map(month_label))).mark_bar(color="#1f5fa8").encode(
        x=alt.X("month:O", title=None, scale=alt.Scale(domain=list(per["cohort"].map(month_label))),
                axis=alt.Axis(labelAngle=-45, labelOverlap=True)),
        y=alt.Y(f"{key}:Q", title=None, axis=alt.Axis(format=".0%" if percent else ",.0f", tickCount=4)),
        tooltip=[alt.Tooltip("month:N", title=_("Acquired in")),
                 alt.Tooltip(f"{key}:Q", title=kpi.label, format=".1%" if percent else ",.2f")],
    ).properties(height=170)
    if len(per) < FEW_COHORTS:  # a few bars keep a bar's width instead of filling the column
        show(chart.properties(width=alt.Step(36)), width="content")
    else:
        show(chart, width="stretch")


db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
complete = last_complete(db, "month")
last_cohort = min(Period.containing(view.period.end - timedelta(days=1), "month"), complete)

st.title(_("Cohorts & retention"))
choice = st.segmented_control(_("Cohorts shown"), list(RANGES), default="Last 12", format_func=worded(range_words),
                              key="cohorts:range") or "Last 12"
size = RANGES[choice]
first_cohort = None if size is None else str(last_cohort.shift(1 - size))
acquired = (_("Customers acquired up to **{last}** · {segment} · activity counted to the end of {complete} (the "
              "month in progress is left out) · amounts in {currency}") if size is None else
            _("Customers acquired from {first} to **{last}** · {segment} · activity counted to the end of {complete} "
              "(the month in progress is left out) · amounts in {currency}"))
st.caption(acquired.format(first=first_cohort and month_label(first_cohort), last=last_cohort.label,
                           segment=view.describe_filters(), complete=complete.label, currency=currency))

matrix = observed_cohorts(data.cohort_retention(first_cohort, str(last_cohort), filters=view.filters), complete)
if matrix.empty:
    st.info(_("No customers of this segment ({segment}) were acquired in these months. Show more cohorts, or "
              "widen the segment in the sidebar.").format(segment=view.describe_filters()))
    st.stop()

st.subheader(_("Who is still buying, month after month"))
event = show(heat_map(matrix), width="stretch", on_select="rerun", selection_mode="pick")
st.caption(_("Each row is the customers acquired in one month; each square, the share of them who bought again "
             "that many months later. Darker is better; read down a column to see whether newer customers stay "
             "longer. Click a row to look at that cohort alone."))
clicked = [row.get("cohort") for row in event.selection.get("pick", [])] if event else []
if clicked and clicked[0] and view.filters.get("cohort") != (clicked[0],):
    drill(view, "cohort", clicked[0])

first_shown, last_shown = matrix["cohort"].min(), matrix["cohort"].max()
left, right = st.columns(2, gap="large")
with left:
    st.subheader(_("The average customer's path"))
    curves = retention_curve(matrix).assign(who=view.describe_filters() if view.filters else _("All customers"))
    compared = view.filters and not access.grant().scoped  # all customers' curve: not for a person in a segment
    if compared:
        everyone = observed_cohorts(data.cohort_retention(first_cohort, str(last_cohort)), complete)
        curves = pd.concat([curves, retention_curve(everyone).assign(who=_("All customers"))], ignore_index=True)
    show(curve_chart(curves), width="stretch")
    st.caption(_("Share of customers still buying after each month, all these cohorts together (bigger cohorts "
                 "count more), against all customers (grey).") if compared else
               _("Share of customers still buying after each month, all these cohorts together (bigger cohorts "
                 "count more)."))
with right:
    st.subheader(_("Early signs of value, by cohort"))
    per = pd.DataFrame({"cohort": sorted(matrix["cohort"].unique())})
    for key in PER_COHORT:
        values = data.series(key, first_shown, last_shown, "month", filters=view.filters)
        per = per.merge(values[["period", "value"]].rename(columns={"period": "cohort", "value": key}),
                        on="cohort", how="left")
        per[key] = pd.to_numeric(per[key], errors="coerce")
        cohort_bars(per, key, currency)
    st.caption(_("How quickly each month's new customers came back, and the margin each brought in its first "
                 "year. No bar: the cohort is too young to tell yet."))

st.subheader(_("Per cohort"))
sizes = matrix.groupby("cohort")["customers"].first()
month_column, customers_column = _("Acquisition month"), _("Customers")
table = pd.DataFrame({month_column: per["cohort"], customers_column: per["cohort"].map(sizes)})
not_yet = _("not yet")
for age in (1, 3, 12):
    rates = matrix[matrix["age"] == age].set_index("cohort")["rate"]
    table[ngettext("Active after {n} month", "Active after {n} months", age).format(n=age)] = [
        fmt.value(rates[c], Unit.PERCENT) if c in rates.index else not_yet for c in per["cohort"]]
for key in PER_COHORT:
    kpi = REGISTRY[key]
    table[kpi.label] = [not_yet if pd.isna(v) else fmt.value(v, kpi.unit, currency) for v in per[key]]
st.dataframe(formatted(table.iloc[::-1], {month_column: month_label, customers_column: number}), hide_index=True,
             width="stretch",
             column_config={REGISTRY[k].label: st.column_config.TextColumn(help=REGISTRY[k].definition)
                            for k in PER_COHORT})
downloads = st.columns(2)
with downloads[0]:
    download(matrix[["cohort", "age", "customers", "active", "rate"]], "cohort_retention", view,
             label=_("Download the retention by cohort (CSV)"))
with downloads[1]:
    with use("en"):  # a CSV file's columns are the same in every language
        columns = {k: REGISTRY[k].label for k in PER_COHORT}
    download(per.rename(columns=columns).merge(sizes.rename("customers").reset_index(), on="cohort"), "cohort_value",
             view, label=_("Download the value by cohort (CSV)"))
