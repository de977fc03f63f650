"""The dashboard's database: which file, one KPI database per build, the demo when nothing exists yet."""

from __future__ import annotations

import argparse
import sys
import threading

import streamlit as st

import kpis
from i18n import _
from kpis.build import build_demo
from kpis.clv.common import ModelError
from kpis.clv.model import observation_end_of, value_model
from kpis.periods import last_complete
from store.files import DatabaseExists, build_options, current_file, db_path
from ui.progress import showing

_building = threading.Lock()


def configured_path():
    """`streamlit run app.py -- --db PATH`, else $EMPTYCHAIR_DB, else data/emptychair.duckdb."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    args, _unknown = parser.parse_known_args(sys.argv[1:])
    return db_path(args.db)


def ensure_database() -> None:
    """Build the demo database on first start, when no database exists."""
    path = configured_path()
    if path.exists() or path.suffix.lower() == ".toml":  # an engine config (Spark) is never replaced by a demo
        return
    with _building:
        if path.exists():
            return
        try:
            with showing(_("No database at {path}: building the demo customer base (a few seconds)…").format(
                    path=path)), build_options(command="dashboard", missing_only=True):  # who holds <db>.lock
                build_demo(path)  # its steps planned: the chunks of customers, then finish_build's (kpis.build)
        except DatabaseExists:  # an import held the lock while the dashboard started: its build is the one shown
            pass


@st.cache_resource(max_entries=2, show_spinner=False)
def _database(build: str) -> kpis.Database:
    db = kpis.connect(build)
    threading.Thread(target=_warm_value_model, args=(db,), daemon=True, name="warm-clv").start()
    return db


def _warm_value_model(db: kpis.Database) -> None:
    """Fit the CLV models of the default view in the background: the first page then finds them ready."""
    end = None if db.data_end is None else observation_end_of(db, last_complete(db.data_end, "month"))
    if end is not None:
        try:
            value_model(db, end)
        except ModelError:
            pass  # the KPIs will show as undefined; the model check page says why


def warm_up() -> None:
    """Before the server's first visitor: open the current build (its default view's models loading in the
    background), so a fresh server's first page costs what any page costs. Nothing when there is no database yet:
    the first page builds the demo and says so."""
    path = configured_path()
    if path.exists() and path.suffix.lower() != ".toml":  # a Spark session starts with its first page
        _database(str(current_file(path)))


def database() -> kpis.Database:
    """The KPI database of the current build: a rerun after an import sees the new data."""
    return _database(str(current_file(configured_path())))


def cursor():
    """A cursor on the current build (for the few non-KPI facts a page shows)."""
    return database().cursor()


def metadata() -> dict:
    return database().metadata
