"""Audit log: who exported which PDF or CSV, and who changed a target or an event — append-only, board only."""

import streamlit as st

from ui import decisions

st.title("Audit log")
st.caption("Every export (PDF, CSV) and every change to a target or an event, newest first, with who, when (UTC) and "
           "the view. Kept in the settings store beside the database; nothing in the dashboard or the CLI deletes a "
           "line of it.")
log = decisions.settings().audit()
if log.empty:
    st.info("Nothing recorded yet.")
else:
    st.dataframe(log.rename(columns={"logged_at": "When (UTC)", "who": "Who", "action": "What", "detail": "Detail",
                                     "view": "View"}), hide_index=True, width="stretch")
