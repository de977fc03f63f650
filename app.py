"""Empty Chair: the customer's seat at the executive table. Run with `streamlit run app.py`.

This file only names the Streamlit script to serve: dashboard/navigation.py (page config, demo on first start,
st.navigation over pages/). Streamlit takes a `pages/` folder beside the script it runs for a legacy multipage
app (a navigation named after the files, a linked page run on its own) until st.navigation has run once in the
server process. The script it runs is not beside pages/, so a fresh server's very first request, a deep link
included, is already drawn by the app's own navigation. The dashboard's modules are imported and the database opened
as the server starts (`lifespan`), so its first visitor waits no longer than the next one.
"""

from contextlib import asynccontextmanager

import streamlit as st

import ui.data  # noqa: F401  (the dashboard's modules: imported as the server starts, not by its first visitor)
from ui.db import warm_up


@asynccontextmanager
async def _warm(_app):
    """The database opened before the first request (ui.db.warm_up)."""
    warm_up()
    yield


app = st.App("dashboard/navigation.py", lifespan=_warm)
