"""Empty chair: the few numbers leadership reads first."""

import streamlit as st

from store.overview import overview
from ui.db import cursor

facts = overview(cursor())
currency = facts["currency"]

st.title("🪑 The empty chair")
st.caption(
    f"Orders from {facts['first_order']:%d %b %Y} to {facts['last_order']:%d %b %Y} · "
    f"source: {facts['source']} · built {facts['built_at']}"
)
cols = st.columns(4)
cols[0].metric("Customers", f"{facts['customers']:,}")
cols[1].metric("Orders", f"{facts['orders']:,}")
cols[2].metric(f"Revenue ({currency})", f"{facts['revenue']:,.0f}")
cols[3].metric("Survey answers", f"{facts['feedback']:,}")
