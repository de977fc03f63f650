"""Audit log: who exported which PDF or CSV, and who changed a target or an event — append-only, board only."""

import streamlit as st

from i18n import _
from ui import decisions

st.title(_("Audit log"))
st.caption(_("Every export (PDF, CSV) and every change to a target or an event, newest first, with who, when (UTC) "
             "and the view. Kept in the settings store beside the database; nothing in the dashboard or the CLI "
             "deletes a line of it."))
log = decisions.settings().audit()
if log.empty:
    st.info(_("Nothing recorded yet."))
else:
    # The rows are stored as they were written (who, the action, its detail): only the headers are translated.
    st.dataframe(log.rename(columns={"logged_at": _("When (UTC)"), "who": _("Who"), "action": _("What"),
                                     "detail": _("Detail"), "view": _("View")}), hide_index=True, width="stretch")
