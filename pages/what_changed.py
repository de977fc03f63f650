"""What changed: why the numbers moved against the comparison period — two bridges and the segments' parts.

Everything from kpis through ui.data: the sentences (kpis.story.headline), the revenue and customer-equity bridges
(kpis.revenue_bridge, kpis.equity_bridge: parts that add up exactly), and each segment's contribution to a KPI's
change (kpis.contributions: for rates, its own rate effect and its mix effect).
"""

import streamlit as st

from i18n import _
from i18n.formats import date
from kpis import REGISTRY, KPIError
from kpis import format as fmt
from kpis.clv.common import ModelError
from kpis.contributions import OTHER, dimensions, movers_sentence
from kpis.labels import compared_with, filter_label
from kpis.registry import split_of
from report.charts import contribution_bars, waterfall
from ui import data
from ui.charts import show
from ui.db import database
from ui.state import current_view, drill, worded
from ui.tables import download

SPLITTABLE = [k for k in REGISTRY if split_of(REGISTRY, k) is not None]
DEFAULT_KPI = "revenue"

db = database()
view = current_view(db)
currency = db.metadata.get("currency", "EUR")
symbol = fmt.SYMBOLS.get(currency, currency)
period = str(view.period)

st.title(_("What changed"))
st.caption(_("**{period}** {compared_with} · {segment} · data as of {date} · amounts in {currency}").format(
    period=view.period.label, compared_with=compared_with(view.compare, view.reference.label),
    segment=view.describe_filters(), date=date(db.data_end), currency=currency))
for sentence in data.headline(period, view.compare, filters=view.filters):
    st.markdown(f"- {sentence}")

left, right = st.columns(2, gap="large")
with left:
    st.subheader(_("Revenue bridge"))
    revenue = data.revenue_bridge(period, view.compare, filters=view.filters)
    show(waterfall(revenue, view.reference.label, view.period.label, symbol).properties(height=300), width="stretch")
    st.caption(_("New customers' revenue, then returning customers' as buyers × orders per buyer × revenue per "
                 "order (additive logarithmic-mean Divisia index, Ang 2005): the parts add up exactly to the "
                 "change."))
with right:
    st.subheader(_("Customer-equity bridge"))
    try:
        equity = data.equity_bridge(period, view.compare, filters=view.filters)
    except (KPIError, ModelError) as error:  # a base the value models cannot fit has no equity to bridge
        st.info(_("No equity bridge for this view: {error}").format(error=error))
    else:
        end_of = _("End of {period}")
        show(waterfall(equity, end_of.format(period=view.reference.label), end_of.format(period=view.period.label),
                       symbol).properties(height=300), width="stretch")
        realised, expected = equity.attrs["realised"], equity.attrs["expected"]
        levers = (_("Markey's levers — acquire, keep longer, sell more, serve at lower cost — and the models' refit "
                    "between the two dates, shown apart: a refit is not customer behaviour. Beside it: the customers "
                    "already there brought **{realised}** of margin in between, against {expected} the earlier "
                    "model expected (better than expected).") if realised >= expected else
                  _("Markey's levers — acquire, keep longer, sell more, serve at lower cost — and the models' refit "
                    "between the two dates, shown apart: a refit is not customer behaviour. Beside it: the customers "
                    "already there brought **{realised}** of margin in between, against {expected} the earlier "
                    "model expected (worse than expected)."))
        st.caption(levers.format(realised=fmt.money(realised, currency), expected=fmt.money(expected, currency)))

st.subheader(_("Where it moved"))
pick, by_column = st.columns([2, 3])
key = pick.selectbox(_("KPI"), SPLITTABLE, index=SPLITTABLE.index(DEFAULT_KPI),
                     format_func=worded(lambda k: REGISTRY[k].label), key="changed:kpi")
by = by_column.segmented_control(_("By"), list(dimensions(db)), default="acquisition_channel",
                                 format_func=worded(filter_label), key="changed:by") or "acquisition_channel"
kpi = REGISTRY[key]
try:
    parts = data.contributions(key, period, by, compare=view.compare, filters=view.filters)
except KPIError as error:
    st.info(_("{kpi} cannot be split for this view: {error}").format(kpi=kpi.label, error=error))
    st.stop()
total = parts.attrs["total"]


def amount(value: float) -> str:
    return fmt.delta(value, kpi.unit, currency) or "—"


st.markdown(_("**{kpi}**: {reference} → {value} ({change}). {movers}").format(
    kpi=kpi.label, reference=fmt.value(parts.attrs["reference"], kpi.unit, currency),
    value=fmt.value(parts.attrs["value"], kpi.unit, currency), change=amount(total),
    movers=movers_sentence(parts.assign(segment=parts["segment"].astype(str).str.capitalize()), fmt=amount)))
event = show(contribution_bars(parts, _("Contribution to the change of {kpi}").format(kpi=kpi.short_label)),
             width="stretch", on_select="rerun", selection_mode="pick",
             key=f"changed:bars:{key}:{by}:{view.to_params()}")
split = (_("Each {by}'s part of the change: its own rate moved (own rate) or its weight in the total did (mix). "
           "The parts add up to the change. Click a bar to look at that segment alone.")
         if parts.attrs["kind"] == "rate" else
         _("Each {by}'s part of the change: its own change. The parts add up to the change. Click a bar to look at "
           "that segment alone."))
st.caption(split.format(by=filter_label(by).lower()))
clicked = [row.get("segment") for row in event.selection.get("pick", [])] if event else []
if clicked and clicked[0] and clicked[0] != OTHER and view.filters.get(by) != (clicked[0],):
    drill(view, by, clicked[0])
download(parts, f"contributions_{key}_by_{by}", view, label=_("Download the contributions (CSV)"))
