"""The Streamlit app that `streamlit run app.py` serves: page config, the demo on first start, the navigation.

In a folder of its own: a `pages/` folder beside it would make Streamlit start as a legacy multipage app (see app.py).
Tests run it with AppTest.from_file("dashboard/navigation.py"); page paths are relative to this folder.
"""

import streamlit as st

from ui.db import ensure_database, metadata

st.set_page_config(page_title="Empty Chair", page_icon="🪑", layout="wide")
ensure_database()

PAGES = [
    st.Page("../pages/empty_chair.py", title="Empty chair", icon=":material/chair:", default=True),
    st.Page("../pages/scorecard.py", title="Scorecard", icon=":material/flag:"),
    st.Page("../pages/what_changed.py", title="What changed", icon=":material/waterfall_chart:"),
    st.Page("../pages/equity_vs_volume.py", title="Customer equity vs volume", icon=":material/balance:"),
    st.Page("../pages/cohorts.py", title="Cohorts & retention", icon=":material/grid_on:"),
    st.Page("../pages/customer_value.py", title="Customer value", icon=":material/diamond:"),
    st.Page("../pages/acquisition.py", title="Acquisition", icon=":material/person_add:"),
    st.Page("../pages/valuation.py", title="Customer-based value", icon=":material/account_balance:"),
    st.Page("../pages/voice.py", title="Voice of the customer", icon=":material/forum:"),
    st.Page("../pages/model_check.py", title="Model check", icon=":material/fact_check:"),
    st.Page("../pages/glossary.py", title="Glossary", icon=":material/menu_book:"),
]
page = st.navigation(PAGES)

if metadata().get("source") == "demo":
    st.sidebar.info("**Demo data**: a generated customer base, not a real company. "
                    "Load your own with `python cli.py import`.")
page.run()
