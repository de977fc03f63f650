"""Glossary: every KPI as the registry declares it — the one definition every team uses."""

import pandas as pd
import streamlit as st

from kpis import REGISTRY, Group

st.title("Glossary")
st.caption("One definition for every team: the dashboard, this page and the PDF snapshots all read these "
           "declarations.")

search = st.text_input("Find a KPI", placeholder="retention, margin, NPS…").strip().lower()
for group in Group:
    rows = [k for k in REGISTRY.values() if k.group is group
            and (not search or search in f"{k.key} {k.label} {k.definition}".lower())]
    if not rows:
        continue
    st.subheader(group.value)
    st.dataframe(
        pd.DataFrame({
            "KPI": [k.label for k in rows],
            "Definition": [k.definition for k in rows],
            "How it is computed": [k.formula for k in rows],
            "Unit": [k.unit.value for k in rows],
            "Better when": ["higher" if k.higher_is_better else "lower" for k in rows],
            "Key": [k.key for k in rows],
        }),
        hide_index=True, width="stretch",
        column_config={"Definition": st.column_config.TextColumn(width="large"),
                       "How it is computed": st.column_config.TextColumn(width="medium")},
    )
