"""The PDF snapshot of the view: built only when asked, kept per view, edition and version of the targets and events,
offered in the editions the signed-in person may take, and each download written to the audit log."""

from __future__ import annotations

import streamlit as st

from i18n import N_, _, language, use
from i18n.formats import number
from kpis.database import Database
from report import ReportError, build_report
from ui import access, decisions
from ui.state import View

EDITIONS = {"board": N_("Board"), "partner": N_("Shareholders & partners")}
DOWNLOADS = {"board": N_("Download the board PDF"), "partner": N_("Download the shareholders & partners PDF")}


@st.cache_data(max_entries=16, show_spinner=False)
def _pdf(_db, build: str, period: str, compare: str, edition: str, filters: tuple, settings: tuple,
         lang: str) -> bytes:
    """The PDF of a view, kept per build, view, edition, version of the targets and events, and language."""
    targets, events = decisions.tables()
    with use(lang):
        return build_report(_db, period, compare=compare, edition=edition, filters=dict(filters), targets=targets,
                            events=events)


def pdf_snapshot(db: Database, view: View) -> None:
    """Edition choice, "Prepare the PDF", then its download button."""
    editions = [e for e in EDITIONS if access.grant().may(f"{e}_pdf")]
    if not editions:
        return
    partner = _("Shareholders & partners: aggregates only; groups of fewer than {minimum} customers are "
                "suppressed.").format(minimum=number(10))
    if "board" in editions:
        st.caption(_("This view as an A4 PDF for people who do not open the dashboard. Board: every section, with a "
                     "few scrubbed comments and the model check. {partner}").format(partner=partner))
    else:
        st.caption(_("This view as an A4 PDF for people who do not open the dashboard. {partner}").format(
            partner=partner))
    edition = editions[0]
    if len(editions) > 1:
        edition = st.segmented_control(_("Edition"), editions, default=editions[0],
                                       format_func={e: _(EDITIONS[e]) for e in editions}.get,
                                       key="report:edition") or editions[0]
    period = str(view.period)
    wanted = (db.name, period, view.compare, edition, tuple(sorted((k, tuple(v)) for k, v in view.filters.items())),
              decisions.version(), language())
    ready = st.session_state.get("report:ready") == wanted
    if not ready and st.button(_("Prepare the PDF"), icon=":material/picture_as_pdf:", key="report:prepare"):
        try:
            with st.spinner(_("Building the PDF snapshot…")):
                _pdf(db, *wanted)
            st.session_state["report:ready"] = wanted
            ready = True
        except ReportError as error:
            st.error(_("The PDF cannot be built for this view: {reason}").format(reason=error))
    if ready:
        with use("en"):  # the audit log's rows are written in one language, whoever reads them
            logged = view.describe_filters()
        st.download_button(_(DOWNLOADS[edition]), _pdf(db, *wanted),
                           file_name=f"emptychair_{edition}_{period}.pdf", mime="application/pdf",
                           icon=":material/download:", on_click=access.record,
                           args=("pdf", f"{edition} PDF {period}", logged))
