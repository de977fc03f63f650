"""The sidebar's line on the build shown: when it was made, from what, and the time zone of its dates."""

from __future__ import annotations

import streamlit as st

from i18n import _
from store.files import built_when, describe_provenance, provenance
from ui.db import metadata


def sidebar() -> None:
    """Build of 2 Dec 2026 10:42 UTC · import of orders.csv · time zone Europe/Paris (UTC when the build says none)."""
    meta = metadata()
    source, files = provenance(meta)
    st.sidebar.caption(_("Build of {when} · {source} · time zone {timezone}").format(
        when=built_when(meta.get("built_at")), source=describe_provenance(source, tuple(f"`{f}`" for f in files)),
        timezone=meta.get("timezone") or "UTC"))  # file names as code: data, not words to translate
