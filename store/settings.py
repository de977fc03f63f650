"""The company's own decisions — targets, events — and the record of deliveries, in a small file beside the database.

They are not data from an import: an import or a demo rebuild publishes a new build of the database
(store.files), never touches this file. `data/emptychair.duckdb` keeps its settings in
`data/emptychair.settings.duckdb` ($EMPTYCHAIR_SETTINGS overrides it).

Every access holds a lock on `<file>.lock` while its connection is open — shared to read, exclusive to write — so two
writers (a CLI import and a form in the dashboard) queue instead of failing on DuckDB's file lock, and a reader
never holds the file against a writer. Each write is one transaction: all its rows or none (DuckDB's write-ahead log
makes a write cut short by a crash disappear at the next open). Rows are validated by the KPI layer (kpis.targets,
kpis.events) before they reach this module: it stores them.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from store.files import db_path

TABLES = {
    # segment: "" for all customers, else "name=value" (region=FR)
    "targets": ("kpi VARCHAR NOT NULL, period VARCHAR NOT NULL, segment VARCHAR NOT NULL, target DOUBLE NOT NULL, "
                "tolerance DOUBLE NOT NULL, public BOOLEAN NOT NULL, updated_at TIMESTAMP NOT NULL, "
                "updated_by VARCHAR, PRIMARY KEY (kpi, period, segment)"),
    "events": ("id INTEGER PRIMARY KEY, start DATE NOT NULL, until DATE, label VARCHAR NOT NULL, "
               "category VARCHAR NOT NULL, segment VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, "
               "created_by VARCHAR"),
    "sendings": ("sent_at TIMESTAMP NOT NULL, edition VARCHAR NOT NULL, period VARCHAR NOT NULL, "
                 "recipients VARCHAR[] NOT NULL, subject VARCHAR NOT NULL, sent_by VARCHAR"),
    # Append-only: who exported what or changed a target or an event, when, and in which view. Nothing here deletes
    # or updates a row of it.
    "audit": ("logged_at TIMESTAMP NOT NULL, who VARCHAR NOT NULL, action VARCHAR NOT NULL, "
              "detail VARCHAR NOT NULL, view VARCHAR NOT NULL"),
}
TARGET_COLUMNS = ("kpi", "period", "segment", "target", "tolerance", "public")
EVENT_COLUMNS = ("start", "until", "label", "category", "segment")
ORDER = {"targets": "period, kpi, segment", "events": "start, id", "sendings": "sent_at", "audit": "logged_at DESC"}


def settings_path(database: str | os.PathLike | None = None) -> Path:
    """The settings file of a database (data/emptychair.duckdb → data/emptychair.settings.duckdb)."""
    if os.environ.get("EMPTYCHAIR_SETTINGS"):
        return Path(os.environ["EMPTYCHAIR_SETTINGS"]).absolute()
    path = db_path(database)
    return path.with_name(f"{path.stem}.settings.duckdb")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _log(con, who: str | None, action: str, detail: str, view: str) -> None:
    con.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?)", [_now(), who or "unknown", action, detail, view])


class Settings:
    """One settings file: read whole tables (they are small), write in single transactions."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @contextmanager
    def _connection(self, write: bool) -> Iterator[duckdb.DuckDBPyConnection | None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            try:
                if not write and not self.path.exists():
                    yield None  # nothing written yet: every table is empty
                    return
                con = duckdb.connect(str(self.path), read_only=not write)
                try:
                    if write:
                        for name, columns in TABLES.items():
                            con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
                    yield con
                finally:
                    con.close()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._connection(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def table(self, name: str) -> pd.DataFrame:
        """A whole table (empty, with its columns, before anything was written)."""
        with self._connection(write=False) as con:
            tables = set() if con is None else {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()")
                                                .fetchall()}
            if name in tables:
                return con.execute(f"SELECT * FROM {name} ORDER BY {ORDER[name]}").df()
        # The declared columns: the commas inside PRIMARY KEY (…) do not separate columns.
        columns = [c.split()[0] for c in re.split(r",\s*(?![^()]*\))", TABLES[name]) if not c.startswith("PRIMARY")]
        return pd.DataFrame(columns=columns)

    def targets(self) -> pd.DataFrame:
        return self.table("targets")

    def events(self) -> pd.DataFrame:
        return self.table("events")

    def sendings(self) -> pd.DataFrame:
        return self.table("sendings")

    def audit(self) -> pd.DataFrame:
        """The audit log, newest first."""
        return self.table("audit")

    def put_targets(self, rows: Iterable[dict], by: str | None = None, view: str = "") -> int:
        """Insert or replace targets (one per kpi, period and segment), all or none, with their audit lines."""
        rows = list(rows)
        with self._transaction() as con:
            for row in rows:
                con.execute("INSERT OR REPLACE INTO targets VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [*(row[c] for c in TARGET_COLUMNS), _now(), by])
                _log(con, by, "target set", f"{row['kpi']} {row['period']} {row['segment'] or 'all customers'} = "
                     f"{row['target']:g} (tolerance {row['tolerance']:g}{', public' if row['public'] else ''})", view)
        return len(rows)

    def remove_target(self, kpi: str, period: str, segment: str = "", by: str | None = None, view: str = "") -> bool:
        with self._transaction() as con:
            removed = con.execute("DELETE FROM targets WHERE kpi = ? AND period = ? AND segment = ? RETURNING kpi",
                                  [kpi, period, segment]).fetchall()
            if removed:
                _log(con, by, "target removed", f"{kpi} {period} {segment or 'all customers'}", view)
        return bool(removed)

    def add_events(self, rows: Iterable[dict], by: str | None = None, view: str = "") -> list[int]:
        """Append events, all or none, with their audit lines; returns their ids."""
        rows, ids = list(rows), []
        with self._transaction() as con:
            (last,) = con.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
            for number, row in enumerate(rows, start=last + 1):
                con.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [number, *(row[c] for c in EVENT_COLUMNS), _now(), by])
                _log(con, by, "event added", f"{number}: {row['start']}"
                     f"{' – ' + str(row['until']) if row['until'] else ''} {row['label']}", view)
                ids.append(number)
        return ids

    def remove_event(self, event_id: int, by: str | None = None, view: str = "") -> bool:
        with self._transaction() as con:
            removed = con.execute("DELETE FROM events WHERE id = ? RETURNING id, label", [int(event_id)]).fetchall()
            if removed:
                _log(con, by, "event removed", f"{removed[0][0]}: {removed[0][1]}", view)
        return bool(removed)

    def log(self, who: str, action: str, detail: str, view: str = "") -> None:
        """Append one line to the audit log (an export: "pdf", "csv")."""
        with self._transaction() as con:
            _log(con, who, action, detail, view)

    def record_sending(self, edition: str, period: str, recipients: list[str], subject: str,
                       by: str | None = None) -> None:
        with self._transaction() as con:
            con.execute("INSERT INTO sendings VALUES (?, ?, ?, ?, ?, ?)",
                        [_now(), edition, period, list(recipients), subject, by])
