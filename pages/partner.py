"""Partner view: what the shareholders & partners PDF shows — aggregates only, groups too small to show suppressed —
and that PDF. Built from the same snapshot as the PDF (report.collect, edition "partner"), so the page cannot show a
figure the PDF would hide."""

import streamlit as st

from i18n import _, formats
from kpis import REGISTRY
from kpis import format as fmt
from kpis.labels import compared_with
from kpis.targets import status_label
from report.data import SUMMARY_CUSTOMER, SUMMARY_VALUE, SUMMARY_VOLUME
from ui import data, decisions
from ui.db import database
from ui.snapshot import pdf_snapshot
from ui.state import current_view

db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
period = str(view.period)
SUPPRESSED = _("suppressed")

snap = data.partner_snapshot(period, view.compare, filters=view.filters, settings=decisions.version())
st.title(_("Partner view"))
st.caption(_("**{period}** {compared_with} · {segment} · data as of {date} · amounts in {currency} · aggregates "
             "only: a figure resting on fewer than {minimum} customers (or answers) reads “suppressed”").format(
    period=view.period.label, compared_with=compared_with(view.compare, view.reference.label),
    segment=view.describe_filters(), date=formats.date(db.data_end), currency=currency,
    minimum=formats.number(snap.min_segment)))
for sentence in snap.headline:
    st.markdown(f"- {sentence}")


def tiles(keys: list[str], per_row: int = 4) -> None:
    for start in range(0, len(keys), per_row):
        for where, key in zip(st.columns(per_row), keys[start:start + per_row], strict=False):
            figure, kpi = snap.figures[key], REGISTRY[key]
            shown = SUPPRESSED if figure.suppressed else fmt.value(figure.value, kpi.unit, currency, compact=True)
            where.metric(kpi.short_label, shown, border=True, help=kpi.definition,
                         delta=None if figure.suppressed else fmt.delta(figure.delta, kpi.unit, currency),
                         delta_color="normal" if kpi.higher_is_better else "inverse")


st.subheader(_("The customer"))
tiles(SUMMARY_CUSTOMER, 3)
st.subheader(_("Volume and cost"))
tiles(SUMMARY_VOLUME)
st.subheader(_("What the customer base is worth"))
tiles(SUMMARY_VALUE)
if snap.valuation is not None:
    v = snap.valuation
    st.markdown(_("**Customer-based value at the end of {period}: {total}** — existing customers {existing}, future "
                  "customers' margin {future}, less the cost of acquiring them {spend}.").format(
        period=view.period.label, total=fmt.money(v.total, currency), existing=fmt.money(v.existing, currency),
        future=fmt.money(v.future_value, currency), spend=fmt.money(v.future_acquisition_spend, currency)))
elif snap.valuation_note:
    st.caption(_("No customer-based value for this view: {reason}.").format(reason=snap.valuation_note))
if snap.scorecard is not None and not snap.scorecard.empty:
    st.subheader(_("Against target"))
    st.dataframe({_("KPI"): [REGISTRY[k].label for k in snap.scorecard["kpi"]],
                  _("Actual"): [SUPPRESSED if s else fmt.value(a, REGISTRY[k].unit, currency)
                                for k, a, s in zip(snap.scorecard["kpi"], snap.scorecard["actual"],
                                                   snap.scorecard["suppressed"], strict=True)],
                  _("Target"): [fmt.value(t, REGISTRY[k].unit, currency)
                                for k, t in zip(snap.scorecard["kpi"], snap.scorecard["target"], strict=True)],
                  _("Status"): [status_label(s) or "—"
                                for s in snap.scorecard["status"]]}, hide_index=True)

st.subheader(_("The partner PDF"))
pdf_snapshot(db, view)
