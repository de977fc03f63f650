"""Glossary: every KPI as the registry declares it — the one definition every team uses."""

import streamlit as st

from kpis import REGISTRY, Group
from kpis.clv.model import value_basis
from ui.db import database

st.title("Glossary")
st.caption("One definition for every team: the dashboard, this page and the PDF snapshots all read these "
           "declarations.")

basis = value_basis(database())
if basis:
    st.info(f"In this database the model-based values (predicted CLV, customer equity, value of a new customer…) "
            f"are {basis}.")
search = st.text_input("Find a KPI", placeholder="retention, margin, NPS…").strip().lower()
for group in Group:
    kpis = [k for k in REGISTRY.values() if k.group is group
            and (not search or search in f"{k.key} {k.label} {k.definition}".lower())]
    if not kpis:
        continue
    st.subheader(group.value)
    for kpi in kpis:
        direction = ":green-badge[higher is better]" if kpi.higher_is_better else ":orange-badge[lower is better]"
        st.markdown(f"**{kpi.label}** :gray-badge[{kpi.unit.value}] {direction}  \n{kpi.definition}  \n"
                    f"*How:* {kpi.formula} · `{kpi.key}`")
