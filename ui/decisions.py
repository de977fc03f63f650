"""The company's targets and events as the dashboard reads them: the settings store beside the database, read again
whenever it changes (a form, the CLI or an import of targets), and the targets of a view."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpis.decisions import segment_of
from kpis.events import Event, events_of
from kpis.targets import Goal, goal
from store.settings import Settings, settings_path
from ui.db import configured_path
from ui.state import View


def settings() -> Settings:
    return Settings(settings_path(configured_path()))


def _stamp(store: Settings) -> tuple:
    """What changes when the store is written: the file's and its log's size and time."""
    files = (store.path, store.path.with_name(store.path.name + ".wal"))
    return tuple((f.stat().st_mtime_ns, f.stat().st_size) if f.exists() else None for f in files)


@st.cache_data(max_entries=8, show_spinner=False)
def _tables(path: str, stamp: tuple) -> tuple[pd.DataFrame, pd.DataFrame]:
    store = Settings(path)
    return store.targets(), store.events()


def version() -> tuple:
    """Changes whenever the store is written: a key for what is built from it (a PDF)."""
    return _stamp(settings())


def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The store's targets and events tables as they are now."""
    store = settings()
    return _tables(str(store.path), _stamp(store))


def targets() -> pd.DataFrame:
    return tables()[0]


def events() -> list[Event]:
    return events_of(tables()[1])


def view_goal(view: View, key: str) -> Goal | None:
    """A KPI's target for the view's period and segment (none for a view of several segments): a tile's badge."""
    segment = segment_of(view.filters)
    return None if segment is None else goal(targets(), key, view.period, segment)
