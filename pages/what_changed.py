"""What changed: why the numbers moved against the comparison period — two bridges and the segments' parts.

Everything from kpis through ui.data: the sentences (kpis.story.headline), the revenue and customer-equity bridges
(kpis.revenue_bridge, kpis.equity_bridge: parts that add up exactly), and each segment's contribution to a KPI's
change (kpis.contributions: for rates, its own rate effect and its mix effect).
"""

import streamlit as st

from kpis import REGISTRY, KPIError
from kpis import format as fmt
from kpis.contributions import OTHER, dimensions, movers_sentence
from kpis.labels import COMPARISONS, filter_label
from kpis.registry import split_of
from report.charts import contribution_bars, waterfall
from ui import data
from ui.db import database
from ui.state import current_view, drill
from ui.tables import download

SPLITTABLE = [k for k in REGISTRY if split_of(REGISTRY, k) is not None]
DEFAULT_KPI = "revenue"

db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
symbol = fmt.SYMBOLS.get(currency, currency)
period = str(view.period)

st.title("What changed")
st.caption(f"**{view.period.label}** compared with the {COMPARISONS[view.compare]} ({view.reference.label}) · "
           f"{view.describe_filters()} · data as of {db.data_end:%d %b %Y} · amounts in {currency}")
for sentence in data.headline(period, view.compare, filters=view.filters):
    st.markdown(f"- {sentence}")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Revenue bridge")
    revenue = data.revenue_bridge(period, view.compare, filters=view.filters)
    st.altair_chart(waterfall(revenue, view.reference.label, view.period.label, symbol).properties(height=300),
                    width="stretch")
    st.caption("New customers' revenue, then returning customers' as buyers × orders per buyer × revenue per order "
               "(additive logarithmic-mean Divisia index, Ang 2005): the parts add up exactly to the change.")
with right:
    st.subheader("Customer-equity bridge")
    try:
        equity = data.equity_bridge(period, view.compare, filters=view.filters)
    except KPIError as error:
        st.info(f"No equity bridge for this view: {error}")
    else:
        st.altair_chart(waterfall(equity, f"End of {view.reference.label}", f"End of {view.period.label}", symbol)
                        .properties(height=300), width="stretch")
        realised, expected = equity.attrs["realised"], equity.attrs["expected"]
        st.caption(f"Markey's levers — acquire, keep longer, sell more, serve at lower cost — and the models' refit "
                   f"between the two dates, shown apart: a refit is not customer behaviour. Beside it: the customers "
                   f"already there brought **{fmt.money(realised, currency)}** of margin in between, against "
                   f"{fmt.money(expected, currency)} the earlier model expected "
                   f"({'better' if realised >= expected else 'worse'} than expected).")

st.subheader("Where it moved")
pick, by_column = st.columns([2, 3])
key = pick.selectbox("KPI", SPLITTABLE, index=SPLITTABLE.index(DEFAULT_KPI), format_func=lambda k: REGISTRY[k].label,
                     key="changed:kpi")
by = by_column.segmented_control("By", list(dimensions(db)), default="acquisition_channel", format_func=filter_label,
                                 key="changed:by") or "acquisition_channel"
kpi = REGISTRY[key]
try:
    parts = data.contributions(key, period, by, compare=view.compare, filters=view.filters)
except KPIError as error:
    st.info(f"{kpi.label} cannot be split for this view: {error}")
    st.stop()
total = parts.attrs["total"]


def amount(value: float) -> str:
    return fmt.delta(value, kpi.unit, currency) or "—"


st.markdown(f"**{kpi.label}**: {fmt.value(parts.attrs['reference'], kpi.unit, currency)} → "
            f"{fmt.value(parts.attrs['value'], kpi.unit, currency)} ({amount(total)}). "
            + movers_sentence(parts.assign(segment=parts["segment"].astype(str).str.capitalize()), fmt=amount))
kind = "its own rate moved (own rate) or its weight in the total did (mix)" if parts.attrs["kind"] == "rate" else \
    "its own change"
event = st.altair_chart(contribution_bars(parts, f"Contribution to the change of {kpi.short_label}"),
                        width="stretch", on_select="rerun",
                        selection_mode="pick", key=f"changed:bars:{key}:{by}:{view.to_params()}")
st.caption(f"Each {filter_label(by).lower()}'s part of the change: {kind}. The parts add up to the change. "
           "Click a bar to look at that segment alone.")
clicked = [row.get("segment") for row in event.selection.get("pick", [])] if event else []
if clicked and clicked[0] and clicked[0] != OTHER and view.filters.get(by) != (clicked[0],):
    drill(view, by, clicked[0])
download(parts, f"contributions_{key}_by_{by}", view)
