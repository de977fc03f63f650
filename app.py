"""Empty Chair: the customer's seat at the executive table. Run with `streamlit run app.py`."""

import streamlit as st

from ui.db import ensure_database, metadata

st.set_page_config(page_title="Empty Chair", page_icon="🪑", layout="wide")
ensure_database()

if metadata().get("source") == "demo":
    st.sidebar.info(
        "**Demo data**: a generated customer base, not a real company. "
        "Load your own with `python cli.py import`."
    )

st.navigation([st.Page("pages/empty_chair.py", title="Empty chair", icon="🪑", default=True)]).run()
