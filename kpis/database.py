"""A read-only database build as the KPIs see it: the engine connection, the tables, and validated segments.

The low-level layer every computation shares: `Database` (DuckDB here, `kpis.spark.SparkDatabase` on Spark),
`segment` (customer filters validated against the data) and `scope` (a period and a segment as filtered Ibis
tables, `kpis.scope.Scope`). It knows nothing of the KPI registry: the evaluator (kpis.evaluate) does.
"""

from __future__ import annotations

import math
import threading
import weakref
from datetime import date
from decimal import Decimal

import duckdb
import ibis
import pandas as pd
import pyarrow as pa

from i18n import _
from kpis.periods import Period
from kpis.scope import Scope, Segment
from kpis.sources import ACTIVITY, FACTS, NO_ORDERS, TIERS, activity, base_tables, facts
from store.files import current_file
from store.schema import customer_attributes, read_metadata

FIXED_FILTERS = ("acquisition_channel", "region", "cohort", "value_tier")
BATCH_ROWS = 100_000  # rows per record batch that score_batches hands its function on DuckDB


class KPIError(ValueError):
    """A request the catalog cannot answer: unknown KPI, period, filter or value."""


class Database:
    """A read-only view of one database build; safe to share across threads (a cursor per thread).

    `con` is the engine's connection: a DuckDB connection here, `kpis.spark.SparkConnection` for Spark (a subclass
    compiles to its dialect); anything whose cursor() executes SQL and returns rows like a DuckDB cursor.
    `attributes` (customer columns beyond the declared ones) are read from the database when not given.
    """

    dialect = "duckdb"

    def __init__(self, con, name: str = "", attributes: tuple[str, ...] | None = None):
        self.con, self.name = con, name
        self._local = threading.local()
        self._cursors = weakref.WeakSet()  # the threads' cursors, for close(); a dead thread's goes with it
        self._frames: dict[str, pa.Table] = {}
        self.metadata = read_metadata(self.cursor())
        self.attributes = tuple(customer_attributes(self.cursor()) if attributes is None else attributes)
        self.tables = base_tables(self.attributes)
        for source, name in FACTS.items():
            if not self.has_table(name):  # a build made before fact tables: the same rows, joined per query
                self.tables[name] = facts(self.tables, source, self.attributes)
        if not self.has_table(ACTIVITY):
            self.tables[ACTIVITY] = activity(self.tables, self.attributes)
        o = self.tables["orders"]
        span = self.row(o.aggregate(first=o.ordered_at.min(), last=o.ordered_at.max()))
        self.data_start: date | None = span["first"].date() if span["first"] else None
        self.data_end: date | None = span["last"].date() if span["last"] else None
        self._values: dict[str, tuple[str, ...]] = {}
        self.filter_names: tuple[str, ...] = FIXED_FILTERS + self.attributes  # what a segment may be filtered on

    def has_table(self, name: str) -> bool:
        return bool(self.cursor().execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0])

    def cursor(self) -> duckdb.DuckDBPyConnection:
        if not hasattr(self._local, "cursor"):
            self._local.cursor = self._opened(self.con.cursor())
            self._local.frames = set()
        return self._local.cursor

    def _opened(self, cursor: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        self._cursors.add(cursor)
        return cursor

    def close(self) -> None:
        """Close every cursor this database opened and still holds (a build's: its connection then checkpoints
        alone)."""
        for cursor in list(self._cursors):
            cursor.close()
        self._local = threading.local()

    def register_frame(self, name: str, frame: pd.DataFrame) -> None:
        """Make a frame computed in Python (a model's per-customer scores) queryable as table `name`."""
        self._frames[name] = pa.Table.from_pandas(frame, preserve_index=False)

    def _new_cursor(self) -> tuple[duckdb.DuckDBPyConnection, set[str]]:
        """A fresh cursor with every registered frame visible to it, and the names of those frames."""
        cur, frames = self.con.cursor(), dict(self._frames)
        for name, table in frames.items():
            cur.register(name, table)
        return cur, set(frames)

    def execute(self, sql: str):
        """Run SQL on this thread's cursor, the registered frames visible to it."""
        self.cursor()
        if self._frames.keys() != self._local.frames:  # a fresh cursor (the old one may hold an unfinished result),
            # which no longer holds the tables forgotten since
            self._local.cursor, self._local.frames = self._new_cursor()
            self._opened(self._local.cursor)
        return self._local.cursor.execute(sql)

    def arrow(self, expr: ibis.Expr) -> pa.Table:
        """The result as an Arrow table (large results: no row-by-row conversion)."""
        cur = self._new_cursor()[0]  # its own: this thread's cursor may hold an unfinished result
        try:
            return cur.sql(self.sql(expr)).to_arrow_table()
        finally:
            cur.close()

    def sql(self, expr: ibis.Expr) -> str:
        return ibis.to_sql(expr, dialect=self.dialect)

    def row(self, expr: ibis.Expr) -> dict:
        """Run a one-row expression; return its columns as plain Python values."""
        cur = self.execute(self.sql(expr))
        names = [d[0] for d in cur.description]
        return {n: plain(v) for n, v in zip(names, cur.fetchone() or [None] * len(names), strict=True)}

    def records(self, expr: ibis.Expr) -> list[dict]:
        """Run an expression; its rows as dicts of plain Python values (integers stay integers, as row() gives them:
        a frame would read DuckDB's 128-bit sums as floats)."""
        cur = self.execute(self.sql(expr))
        names = [d[0] for d in cur.description]
        return [{n: plain(v) for n, v in zip(names, r, strict=True)} for r in cur.fetchall()]

    def frame(self, expr: ibis.Expr) -> pd.DataFrame:
        return self.execute(self.sql(expr)).df()

    def filter_values(self, name: str) -> tuple[str, ...]:
        """Known values of a customer filter (cached)."""
        if name not in self._values:
            if name == "value_tier":
                self._values[name] = tuple(t for t, _low, _high in TIERS) + (NO_ORDERS,)
            else:
                c = self.tables["customers"]
                values = self.frame(c.select(value=c[name]).distinct().order_by("value"))["value"]
                self._values[name] = tuple(str(v) for v in values if v is not None)
        return self._values[name]

    def touchpoints(self) -> tuple[str, ...]:
        """Journey steps found in the feedback table (cached)."""
        if "feedback.touchpoint" not in self._values:  # a key no customer attribute can take
            f = self.tables["feedback"]
            values = self.frame(f.select("touchpoint").distinct().order_by("touchpoint"))["touchpoint"]
            self._values["feedback.touchpoint"] = tuple(str(v) for v in values if v is not None)
        return self._values["feedback.touchpoint"]

    def keep(self, name: str, expr: ibis.Table) -> ibis.Table:
        """The expression's result kept by the engine as table `name` for the queries that read it next (DuckDB: an
        Arrow table in this process); `forget` drops it."""
        self._frames[name] = self.arrow(expr)
        return ibis.table(expr.schema(), name=name)

    def score_batches(self, name: str, expr: ibis.Table, fn, schema: dict[str, str]) -> ibis.Table:
        """Table `name`: `fn` (an iterator of Arrow record batches -> one of record batches with `schema`'s columns)
        applied to the expression's rows as the engine streams them (DuckDB: in this process, BATCH_ROWS at a time)."""
        cur = self._new_cursor()[0]
        try:
            reader = cur.sql(self.sql(expr)).to_arrow_reader(BATCH_ROWS)
            self._frames[name] = pa.Table.from_batches(list(fn(reader)), ibis.schema(schema).to_pyarrow())
        finally:
            cur.close()
        return ibis.table(schema, name=name)

    def forget(self, name: str) -> None:
        """Drop a table kept (`keep`) or scored (`score_batches`)."""
        self._frames.pop(name, None)


def open_duckdb(path) -> Database:
    """The current build of a DuckDB database file, read-only."""
    build = current_file(path)
    return Database(duckdb.connect(str(build), read_only=True), name=str(build))


def plain(value):
    """A database value as a plain Python one: floats for decimals, None for NaN, Python scalars for numpy's."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return value


def _as_tuple(value) -> tuple[str, ...]:
    return tuple(str(v) for v in (value if isinstance(value, list | tuple | set) else [value]))


def segment(db: Database, filters: dict | None) -> Segment:
    """Validate filters (customer attribute -> value or values): unknown names or values are errors, never ignored."""
    if filters is not None and not isinstance(filters, dict):
        raise KPIError(f"filters must be a mapping such as {{'region': ['FR']}}, not {type(filters).__name__}")
    allowed = db.filter_names
    columns, cohorts, tiers = {}, (), ()
    for name, value in (filters or {}).items():
        if value is None or value == [] or value == ():
            continue
        if name not in allowed:
            raise KPIError(_("unknown filter '{name}': use one of {names}").format(name=name, names=", ".join(allowed)))
        values = _as_tuple(value)
        if name == "cohort":
            try:
                cohorts = tuple(Period.parse(v) for v in values)
            except ValueError as error:
                raise KPIError(_("filter cohort: {error}").format(error=error)) from None
            continue
        known = db.filter_values(name)
        unknown = [v for v in values if v not in known]
        if unknown:
            shown = ", ".join(known[:12]) + (" …" if len(known) > 12 else "")
            raise KPIError(_("unknown value {values} for filter '{name}': known values {known}").format(
                values=", ".join(map(repr, unknown)), name=name, known=shown))
        if name == "value_tier":
            tiers = values
        else:
            columns[name] = values
    return Segment(columns, cohorts, tiers)


def period_of(period) -> Period:
    """A Period from "2026-03", "2026-Q1", "2026" or a Period; KPIError when malformed."""
    try:
        return Period.parse(period)
    except ValueError as error:
        raise KPIError(str(error)) from None


def scope(db: Database, period, filters: dict | None = None, params: dict | None = None) -> Scope:
    """What a KPI is computed over: the period and the validated segment, as filtered tables of this database.

    `period` None gives a scope whose period is the data's last month (for tables that read the segment only).
    """
    if db.data_end is None:
        raise KPIError(_("the database has no orders"))
    touchpoint = (params or {}).get("touchpoint")
    if touchpoint is not None and touchpoint not in db.touchpoints():
        known = ", ".join(db.touchpoints()) or _("none")
        raise KPIError(_("unknown touchpoint {touchpoint}: known touchpoints {known}").format(
            touchpoint=repr(touchpoint), known=known))
    chosen = Period.containing(db.data_end, "month") if period is None else period_of(period)
    return Scope(db.tables, chosen, segment(db, filters), db.data_end, params or {})
