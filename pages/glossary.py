"""Glossary: every KPI as the registry declares it — the one definition every team uses, in the reader's language."""

import streamlit as st

from i18n import _
from kpis import REGISTRY, Group
from kpis.clv.model import value_basis
from kpis.labels import unit_label
from ui.db import database

st.title(_("Glossary"))
st.caption(_("One definition for every team: the dashboard, this page and the PDF snapshots all read these "
             "declarations."))

basis = value_basis(database())
if basis:
    st.info(_("In this database the model-based values (predicted CLV, customer equity, value of a new customer…) "
              "are {basis}.").format(basis=basis))
search = st.text_input(_("Find a KPI"), placeholder=_("retention, margin, NPS…")).strip().lower()
for group in Group:
    kpis = [k for k in REGISTRY.values() if k.group is group
            and (not search or search in f"{k.key} {k.label} {k.short_label} {k.definition}".lower())]
    if not kpis:
        continue
    st.subheader(_(group.value))
    for kpi in kpis:
        unit, how = unit_label(kpi.unit), _("How:")
        direction = (":green-badge[{}]".format(_("higher is better")) if kpi.higher_is_better
                     else ":orange-badge[{}]".format(_("lower is better")))
        st.markdown(f"**{kpi.label}** :gray-badge[{unit}] {direction}  \n{kpi.definition}  \n"
                    f"*{how}* {kpi.formula} · `{kpi.key}`")
