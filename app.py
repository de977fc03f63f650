"""Empty Chair: the customer's seat at the executive table. Run with `streamlit run app.py`."""

import streamlit as st

from ui.db import ensure_database, metadata

st.set_page_config(page_title="Empty Chair", page_icon="🪑", layout="wide")
ensure_database()

PAGES = [
    st.Page("pages/empty_chair.py", title="Empty chair", icon=":material/chair:", default=True),
    st.Page("pages/glossary.py", title="Glossary", icon=":material/menu_book:"),
]
page = st.navigation(PAGES)

if metadata().get("source") == "demo":
    st.sidebar.info("**Demo data**: a generated customer base, not a real company. "
                    "Load your own with `python cli.py import`.")
page.run()
