"""The dashboard's database: which file, a connection per build, the demo when nothing exists yet."""

from __future__ import annotations

import argparse
import sys
import threading

import duckdb
import streamlit as st

from store.files import current_file, db_path
from store.schema import read_metadata

_building = threading.Lock()


def configured_path():
    """`streamlit run app.py -- --db PATH`, else $EMPTYCHAIR_DB, else data/emptychair.duckdb."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return db_path(args.db)


def ensure_database() -> None:
    """Build the demo database on first start, when no database exists."""
    path = configured_path()
    if path.exists():
        return
    with _building:
        if path.exists():
            return
        from store.demo import build_demo

        with st.spinner(f"No database at {path}: building the demo customer base (a few seconds)…"):
            build_demo(path)


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(build: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(build, read_only=True)


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on the current build: a rerun after an import sees the new data."""
    return _connection(str(current_file(configured_path()))).cursor()


def metadata() -> dict:
    return read_metadata(cursor())
