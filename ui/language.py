"""The dashboard's language: `lang=` in the URL, else the browser's preferred language, else English; a switch in
the sidebar. Set once at the top of every run (i18n.set_language), so everything drawn after it is in it."""

from __future__ import annotations

import streamlit as st

from i18n import LANGUAGES, _, choose, language, set_language


def start() -> str:
    """The run's language, from the URL or the browser (an unknown `lang=` falls back to the browser's)."""
    code = choose(st.query_params.get("lang"), st.context.locale)
    set_language(code)
    return code


def switch() -> None:
    """The sidebar's language switch; a change is written to the URL and the page drawn again in it."""
    chosen = st.sidebar.segmented_control(_("Language"), list(LANGUAGES), default=language(),
                                          format_func=LANGUAGES.get, key=f"language:{language()}")
    if chosen and chosen != language():
        st.query_params["lang"] = chosen
        st.rerun()


def with_language(params: dict) -> dict:
    """A view's URL parameters with the language, so a link shows the same words as well as the same numbers."""
    return params | {"lang": language()}
