"""Evaluating declared KPIs against a database: one value, a comparison table, a series."""

from __future__ import annotations

import math
import os
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pyarrow as pa

from kpis.catalog import REGISTRY
from kpis.periods import Period, period_range
from kpis.registry import Computed, Derived, Measure, Query, Ratio
from kpis.scope import Scope, Segment
from kpis.sources import NO_ORDERS, TIERS, base_tables
from store.files import current_file, db_path
from store.schema import customer_attributes, read_metadata

FIXED_FILTERS = ("acquisition_channel", "region", "cohort", "value_tier")
_POOL = ThreadPoolExecutor(max_workers=3, thread_name_prefix="kpis")


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
        self._frames: dict[str, pa.Table] = {}
        self.metadata = read_metadata(self.cursor())
        self.attributes = tuple(customer_attributes(self.cursor()) if attributes is None else attributes)
        self.tables = base_tables(self.attributes)
        o = self.tables["orders"]
        span = self.row(o.aggregate(first=o.ordered_at.min(), last=o.ordered_at.max()))
        self.data_start: date | None = span["first"].date() if span["first"] else None
        self.data_end: date | None = span["last"].date() if span["last"] else None
        self._values: dict[str, tuple[str, ...]] = {}

    def cursor(self) -> duckdb.DuckDBPyConnection:
        if not hasattr(self._local, "cursor"):
            self._local.cursor = self.con.cursor()
            self._local.frames = set()
        return self._local.cursor

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
        if self._frames.keys() - self._local.frames:  # a fresh cursor: the old one may hold an unfinished result
            self._local.cursor, self._local.frames = self._new_cursor()
        return self._local.cursor.execute(sql)

    def arrow(self, expr: ibis.Expr) -> pa.Table:
        """The result as an Arrow table (large results: no row-by-row conversion)."""
        cur, _ = self._new_cursor()  # its own: this thread's cursor may hold an unfinished result
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
        return {n: _plain(v) for n, v in zip(names, cur.fetchone() or [None] * len(names), strict=True)}

    def frame(self, expr: ibis.Expr) -> pd.DataFrame:
        return self.execute(self.sql(expr)).df()

    def filter_values(self, name: str) -> tuple[str, ...]:
        """Known values of a customer filter (cached)."""
        if name not in self._values:
            if name == "value_tier":
                self._values[name] = tuple(t for t, _, _ in TIERS) + (NO_ORDERS,)
            else:
                c = self.tables["customers"]
                values = self.frame(c.select(value=c[name]).distinct().order_by("value"))["value"]
                self._values[name] = tuple(str(v) for v in values if v is not None)
        return self._values[name]


def connect(path=None, **spark_options) -> Database:
    """Open the current build read-only (path, else $EMPTYCHAIR_DB, else data/emptychair.duckdb).

    An engine config file (`.toml`, README "Running on Spark") or a SparkSession runs the same KPIs on Spark
    instead (kpis.spark.connect; `tables=` and `currency=` go with a session).
    """
    from kpis import spark  # light: pyspark itself is imported only when Spark is used

    if path is not None and not isinstance(path, str | os.PathLike):  # a SparkSession
        return spark.connect(path, **spark_options)
    if spark.is_config(db_path(path)):
        return spark.connect(db_path(path), **spark_options)
    if spark_options:
        raise TypeError(f"{', '.join(spark_options)}: only for a SparkSession")
    build = current_file(db_path(path))
    return Database(duckdb.connect(str(build), read_only=True), name=str(build))


def _plain(value):
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return value


def _as_tuple(value) -> tuple[str, ...]:
    return tuple(str(v) for v in (value if isinstance(value, list | tuple | set) else [value]))


def segment(db: Database, filters: dict) -> Segment:
    """Validate filters: unknown names or values are errors, never ignored."""
    allowed = FIXED_FILTERS + db.attributes
    columns, cohorts, tiers = {}, (), ()
    for name, value in filters.items():
        if value is None or value == [] or value == ():
            continue
        if name not in allowed:
            raise KPIError(f"unknown filter '{name}': use one of {', '.join(allowed)}")
        values = _as_tuple(value)
        if name == "cohort":
            try:
                cohorts = tuple(Period.parse(v) for v in values)
            except ValueError as error:
                raise KPIError(f"filter cohort: {error}") from None
            continue
        known = db.filter_values(name)
        unknown = [v for v in values if v not in known]
        if unknown:
            shown = ", ".join(known[:12]) + (" …" if len(known) > 12 else "")
            raise KPIError(f"unknown value {', '.join(map(repr, unknown))} for filter '{name}': known values {shown}")
        if name == "value_tier":
            tiers = values
        else:
            columns[name] = values
    return Segment(columns, cohorts, tiers)


def _period(period) -> Period:
    try:
        return Period.parse(period)
    except ValueError as error:
        raise KPIError(str(error)) from None


def _needed(keys) -> list[str]:
    """The keys and, recursively, their inputs, inputs first."""
    order: list[str] = []

    def visit(key):
        if key not in REGISTRY:
            raise KPIError(f"unknown KPI '{key}': see kpis.REGISTRY")
        for dep in REGISTRY[key].inputs:
            visit(dep)
        if key not in order:
            order.append(key)

    for key in keys:
        visit(key)
    return order


MEMO_SIZE = 100_000  # KPI values remembered per database (a build never changes): a page's comparison and trend
# share periods, and a KPI that needs another (payback needs CAC) finds it there


def _evaluate_scope(db: Database, keys, scope: Scope) -> dict[str, float | int | None]:
    """Every requested KPI for one scope, each computed once per database."""
    memo = db.__dict__.setdefault("_memo", {})
    tag = (scope.period, repr(scope.segment), repr(sorted(scope.params.items())))
    missing = [k for k in dict.fromkeys(keys) if (k, tag) not in memo]
    if missing:
        values = _compute_scope(db, missing, scope)
        if len(memo) > MEMO_SIZE:
            memo.clear()
        memo.update({(k, tag): v for k, v in values.items()})
        return {k: values[k] if k in values else memo[(k, tag)] for k in keys}
    return {k: memo[(k, tag)] for k in keys}


def _compute_scope(db: Database, keys, scope: Scope) -> dict[str, float | int | None]:
    """Every requested KPI for one scope: measures of a source in one query, the rest in order."""
    order = _needed(keys)
    values: dict = {}
    by_source = defaultdict(list)
    for key in order:
        if isinstance(REGISTRY[key].compute, Measure):
            by_source[REGISTRY[key].compute.source].append(key)
    relations = {"orders": lambda: scope.orders, "acquired": lambda: scope.acquired, "spend": lambda: scope.spend,
                 "feedback": lambda: scope.feedback}
    for source, members in by_source.items():
        relation = relations[source]()
        if relation is None:
            values.update(dict.fromkeys(members))
            continue
        values.update(db.row(relation.aggregate(**{k: REGISTRY[k].compute.expr(relation) for k in members})))
    for key in order:
        compute = REGISTRY[key].compute
        if isinstance(compute, Query):
            expr = compute.expr(scope)
            values[key] = None if expr is None else db.row(expr)["value"]
        elif isinstance(compute, Computed):
            values[key] = compute.fn(db, scope)
        elif isinstance(compute, Ratio):
            num, den = values[compute.numerator], values[compute.denominator]
            values[key] = None if num is None or not den else num / den
        elif isinstance(compute, Derived):
            args = [values[k] for k in compute.inputs]
            values[key] = None if any(a is None for a in args) else compute.fn(*args)
    return {k: _plain(values[k]) for k in keys}


def touchpoints(db: Database) -> tuple[str, ...]:
    """Journey steps found in the feedback table (cached)."""
    if "feedback.touchpoint" not in db._values:  # a key no customer attribute can take
        rows = db.cursor().execute("SELECT DISTINCT touchpoint FROM feedback ORDER BY 1").fetchall()
        db._values["feedback.touchpoint"] = tuple(str(r[0]) for r in rows if r[0] is not None)
    return db._values["feedback.touchpoint"]


def _scope(db: Database, period, filters: dict, params: dict | None) -> Scope:
    if db.data_end is None:
        raise KPIError("the database has no orders")
    touchpoint = (params or {}).get("touchpoint")
    if touchpoint is not None and touchpoint not in touchpoints(db):
        raise KPIError(f"unknown touchpoint {touchpoint!r}: known touchpoints {', '.join(touchpoints(db)) or 'none'}")
    return Scope(db.tables, _period(period), segment(db, filters), db.data_end, params or {})


def evaluate(db: Database, key: str, period, params: dict | None = None, **filters):
    """One KPI for one period and segment; None where it is undefined (no customers, cohort too young…)."""
    return _evaluate_scope(db, [key], _scope(db, period, filters, params))[key]


def evaluate_many(db: Database, keys, period, params: dict | None = None, **filters) -> dict:
    """Several KPIs for one period and segment, sharing queries."""
    return _evaluate_scope(db, list(keys), _scope(db, period, filters, params))


def compare(db: Database, keys, period, params: dict | None = None, **filters) -> pd.DataFrame:
    """Each KPI now, in the previous period and a year earlier, with the deltas."""
    now = _scope(db, period, filters, params)
    periods = {"value": now.period, "previous": now.period.previous(), "year_ago": now.period.year_ago()}
    # The three periods run side by side, each on its own cursor (DuckDB releases the GIL while it works).
    jobs = {name: _POOL.submit(_evaluate_scope, db, list(keys),
                               Scope(db.tables, p, now.segment, now.data_end, now.params))
            for name, p in periods.items()}
    rows = {name: job.result() for name, job in jobs.items()}
    table = pd.DataFrame({name: pd.Series([v[k] for k in keys], index=list(keys), dtype=object)
                          for name, v in rows.items()})
    for ref in ("previous", "year_ago"):
        table[f"delta_{ref}"] = [None if v is None or r is None else v - r
                                 for v, r in zip(table["value"], table[ref], strict=True)]
    table.index.name = "kpi"
    return table


def series(db: Database, key: str, first, last, grain: str = "month", params: dict | None = None,
           **filters) -> pd.DataFrame:
    """The KPI for every period of the grain from `first` to `last`: columns period, start, value."""
    start = _scope(db, first, filters, params)
    try:
        periods = period_range(_period(first), _period(last), grain)
    except ValueError as error:
        raise KPIError(str(error)) from None
    values = [_evaluate_scope(db, [key], Scope(db.tables, p, start.segment, start.data_end, start.params))[key]
              for p in periods]
    return pd.DataFrame({"period": [str(p) for p in periods], "start": [p.start for p in periods],
                         "value": values})


def path_of(db: Database) -> Path:
    return Path(db.name)


def trend(db: Database, keys, period, periods: int = 12, params: dict | None = None, **filters) -> pd.DataFrame:
    """Several KPIs over the `periods` periods ending with `period` (oldest first), one row per period."""
    last = _scope(db, period, filters, params)
    wanted = [last.period.shift(-i) for i in reversed(range(periods))]
    jobs = [_POOL.submit(_evaluate_scope, db, list(keys), Scope(db.tables, p, last.segment, last.data_end, last.params))
            for p in wanted]
    frame = pd.DataFrame([job.result() for job in jobs], dtype=object)
    frame.insert(0, "period", [str(p) for p in wanted])
    return frame
