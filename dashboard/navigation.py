"""The Streamlit app that `streamlit run app.py` serves: page config, the demo on first start, sign-in, the
navigation each role sees.

In a folder of its own: a `pages/` folder beside it would make Streamlit start as a legacy multipage app (see app.py).
Tests run it with AppTest.from_file("dashboard/navigation.py"); page paths are relative to this folder.
"""

import streamlit as st

from i18n import N_, _
from ui import access, build_info, language
from ui.db import ensure_database, metadata

language.start()  # lang= in the URL, else the browser's: everything below is drawn in it
st.set_page_config(page_title="Empty Chair", page_icon="🪑", layout="wide")
ensure_database()
grant = access.gate()  # the sign-in or "no access" page stops here; without [auth], the dashboard is open

# (script, title, icon): the dashboard's pages in the order of its navigation.
DASHBOARD = [
    ("../pages/empty_chair.py", N_("Empty chair"), ":material/chair:"),
    ("../pages/scorecard.py", N_("Scorecard"), ":material/flag:"),
    ("../pages/what_changed.py", N_("What changed"), ":material/waterfall_chart:"),
    ("../pages/equity_vs_volume.py", N_("Customer equity vs volume"), ":material/balance:"),
    ("../pages/cohorts.py", N_("Cohorts & retention"), ":material/grid_on:"),
    ("../pages/customer_value.py", N_("Customer value"), ":material/diamond:"),
    ("../pages/acquisition.py", N_("Acquisition"), ":material/person_add:"),
    ("../pages/valuation.py", N_("Customer-based value"), ":material/account_balance:"),
    ("../pages/voice.py", N_("Voice of the customer"), ":material/forum:"),
    ("../pages/model_check.py", N_("Model check"), ":material/fact_check:"),
]
GLOSSARY = ("../pages/glossary.py", N_("Glossary"), ":material/menu_book:")
PARTNER = ("../pages/partner.py", N_("Partner view"), ":material/handshake:")
AUDIT = ("../pages/audit.py", N_("Audit log"), ":material/history:")

if grant.partner:  # the aggregates the partner PDF shows, nothing else
    shown = [PARTNER, GLOSSARY]
else:
    shown = DASHBOARD + [GLOSSARY] + ([AUDIT] if grant.may("audit") else [])
# The other pages are registered hidden, so that a link to one is recognised, refused and answered by the first
# page; they never run for this person.
others = [p for p in DASHBOARD + [GLOSSARY, PARTNER, AUDIT] if p not in shown]
pages = [st.Page(script, title=_(title), icon=icon, default=index == 0) for index, (script, title, icon) in
         enumerate(shown)] + [st.Page(script, title=_(title), icon=icon, visibility="hidden")
                              for script, title, icon in others]
page = st.navigation(pages)

if metadata().get("source") == "demo":
    st.sidebar.info(_("**Demo data**: a generated customer base, not a real company. "
                      "Load your own with `python cli.py import`."))
access.sidebar(grant)
language.switch()
build_info.sidebar()  # last: which build the numbers come from
if page.title in {_(title) for _script, title, _icon in others}:  # a link to a page this person may not see
    st.session_state["access:refused"] = page.title
    st.switch_page(pages[0])
if "access:refused" in st.session_state:
    st.warning(_("“{refused}” is not part of your access: showing “{page}”.").format(
        refused=st.session_state.pop("access:refused"), page=page.title), icon=":material/block:")
page.run()
