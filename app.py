"""Empty Chair: the customer's seat at the executive table. Run with `streamlit run app.py`.

This file only names the Streamlit script to serve: dashboard/navigation.py (page config, demo on first start,
st.navigation over pages/). Streamlit takes a `pages/` folder beside the script it runs for a legacy multipage
app (a navigation named after the files, a linked page run on its own) until st.navigation has run once in the
server process. The script it runs is not beside pages/, so a fresh server's very first request, a deep link
included, is already drawn by the app's own navigation.
"""

import streamlit as st

app = st.App("dashboard/navigation.py")
