"""Partner view: what the shareholders & partners PDF shows — aggregates only, groups too small to show suppressed —
and that PDF. Built from the same snapshot as the PDF (report.collect, edition "partner"), so the page cannot show a
figure the PDF would hide."""

import streamlit as st

from kpis import REGISTRY
from kpis import format as fmt
from kpis.labels import COMPARISONS
from report.data import SUMMARY_CUSTOMER, SUMMARY_VALUE, SUMMARY_VOLUME
from ui import data, decisions
from ui.db import database
from ui.snapshot import pdf_snapshot
from ui.state import current_view

db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
period = str(view.period)

snap = data.partner_snapshot(period, view.compare, filters=view.filters, settings=decisions.version())
st.title("Partner view")
st.caption(f"**{view.period.label}** compared with the {COMPARISONS[view.compare]} ({view.reference.label}) · "
           f"{view.describe_filters()} · data as of {db.data_end:%d %b %Y} · amounts in {currency} · aggregates "
           f"only: a figure resting on fewer than {snap.min_segment} customers (or answers) reads “suppressed”")
for sentence in snap.headline:
    st.markdown(f"- {sentence}")


def tiles(keys: list[str], per_row: int = 4) -> None:
    for start in range(0, len(keys), per_row):
        for where, key in zip(st.columns(per_row), keys[start:start + per_row], strict=False):
            figure, kpi = snap.figures[key], REGISTRY[key]
            shown = "suppressed" if figure.suppressed else fmt.value(figure.value, kpi.unit, currency, compact=True)
            where.metric(kpi.short_label, shown, border=True, help=kpi.definition,
                         delta=None if figure.suppressed else fmt.delta(figure.delta, kpi.unit, currency),
                         delta_color="normal" if kpi.higher_is_better else "inverse")


st.subheader("The customer")
tiles(SUMMARY_CUSTOMER, 3)
st.subheader("Volume and cost")
tiles(SUMMARY_VOLUME)
st.subheader("What the customer base is worth")
tiles(SUMMARY_VALUE)
if snap.valuation is not None:
    v = snap.valuation
    st.markdown(f"**Customer-based value at the end of {view.period.label}: {fmt.money(v.total, currency)}** — "
                f"existing customers {fmt.money(v.existing, currency)}, future customers' margin "
                f"{fmt.money(v.future_value, currency)}, less the cost of acquiring them "
                f"{fmt.money(v.future_acquisition_spend, currency)}.")
elif snap.valuation_note:
    st.caption(f"No customer-based value for this view: {snap.valuation_note}.")
if snap.scorecard is not None and not snap.scorecard.empty:
    st.subheader("Against target")
    st.dataframe({"KPI": [REGISTRY[k].label for k in snap.scorecard["kpi"]],
                  "Actual": ["suppressed" if s else fmt.value(a, REGISTRY[k].unit, currency)
                             for k, a, s in zip(snap.scorecard["kpi"], snap.scorecard["actual"],
                                                snap.scorecard["suppressed"], strict=True)],
                  "Target": [fmt.value(t, REGISTRY[k].unit, currency)
                             for k, t in zip(snap.scorecard["kpi"], snap.scorecard["target"], strict=True)],
                  "Status": [s or "—" for s in snap.scorecard["status"]]}, hide_index=True)

st.subheader("The partner PDF")
pdf_snapshot(db, view)
