"""Cached KPI calls: every page asks here, keyed by build file and arguments, so a rerun is instant."""

from __future__ import annotations

import streamlit as st

import kpis
from store.files import current_file
from ui.db import _database, configured_path


@st.cache_data(max_entries=1024, show_spinner=False)
def _call(build: str, name: str, args: tuple, kwargs: dict, filters: dict):
    return getattr(kpis, name)(_database(build), *args, **kwargs, **filters)


def call(name: str, *args, filters: dict | None = None, **kwargs):
    """kpis.<name>(db, *args, **kwargs, **filters), cached per database build."""
    build = str(current_file(configured_path()))
    filters = {k: list(v) for k, v in (filters or {}).items()}
    return _call(build, name, args, kwargs, filters)
