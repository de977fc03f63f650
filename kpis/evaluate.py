"""Evaluating declared KPIs: one value, several, a comparison table, a series, a trend.

The only module that reads both the registry (kpis.catalog) and the database layer (kpis.database). Segments
travel as one `filters` mapping ({"region": ["FR"]}); `params` are the KPIs' own parameters ({"touchpoint": …}).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import ibis
import pandas as pd

from i18n import carried
from kpis.catalog import REGISTRY
from kpis.database import Database, KPIError, period_of, plain, scope
from kpis.periods import COMPARES, period_range
from kpis.registry import Computed, Derived, Measure, Query, Ratio
from kpis.scope import Scope

_POOL_NAME = "kpis-periods"
_POOL = ThreadPoolExecutor(max_workers=3, thread_name_prefix=_POOL_NAME)  # a task never waits on another: no deadlock
MEMO_SIZE = 100_000  # KPI values remembered per database (a build never changes): a page's comparison and trend
# share periods, and a KPI that needs another (payback needs CAC) finds it there


def needed(keys) -> list[str]:
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


def evaluate_scope(db: Database, keys, where: Scope) -> dict[str, float | int | None]:
    """Every requested KPI for one scope, each computed once per database."""
    return evaluate_scopes(db, keys, [where])[0]


def evaluate_scopes(db: Database, keys, scopes: list[Scope]) -> list[dict[str, float | int | None]]:
    """Every requested KPI for scopes that differ by period only (a comparison's, a trend's): each source's measures
    for every period of a grain in one grouped query, the other KPIs period by period; each value computed once per
    database."""
    memo = db.__dict__.setdefault("_memo", {})
    chain = needed(keys)
    tags = [_tag(s) for s in scopes]
    known = {tag: {k: memo[(k, tag)] for k in chain if (k, tag) in memo} for tag in tags}
    todo = {tag: s for tag, s in zip(tags, scopes, strict=True) if len(known[tag]) < len(chain)}
    by_grain = defaultdict(dict)  # one pass reads the periods of one grain (their activity rows, their runs)
    for tag, where in todo.items():
        by_grain[where.period.grain][tag] = where
    for group in by_grain.values():
        computed = _compute(db, chain, list(group.values()), [known[t] for t in group])
        if len(memo) > MEMO_SIZE:
            memo.clear()
        for tag, values in zip(group, computed, strict=True):
            known[tag] = values
            memo.update({(k, tag): v for k, v in values.items()})
    return [{k: known[tag][k] for k in keys} for tag in tags]


def _tag(where: Scope) -> tuple:
    return where.period, repr(where.segment), repr(sorted(where.params.items()))


def runs(scopes: list[Scope]) -> list[list[int]]:
    """The scopes' indices (distinct periods of one grain) in runs of consecutive periods, each in time order: one
    slice of time-ordered rows reads a run, however many periods it has."""
    out: list[list[int]] = []
    for i in sorted(range(len(scopes)), key=lambda i: scopes[i].period.start):
        if out and scopes[out[-1][-1]].period.end == scopes[i].period.start:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def _measures(db: Database, source: str, members: list[str], scopes: list[Scope]) -> list[dict]:
    """The measures of one source for each scope (distinct periods), in one query: each run of consecutive periods
    is one slice of the rows grouped by period; a scope without rows gets the aggregates of no rows."""
    first = scopes[0]
    if first.rows_between(source, first.period.start, first.period.end) is None:  # spend of a region: unknown
        return [dict.fromkeys(members) for _ in scopes]

    def aggregates(rel):
        return {k: REGISTRY[k].compute.expr(rel) for k in members}

    if len(scopes) == 1:
        rel = first.rows_between(source, first.period.start, first.period.end)
        return [db.row(rel.aggregate(**aggregates(rel)))]
    slices, places = [], []
    for run in runs(scopes):
        periods = [scopes[i].period for i in run]
        rows = first.rows_between(source, periods[0].start, periods[-1].end)
        slices.append(rows.mutate(_scope=first.period_index(source, rows, periods) + len(places)))
        places += run
    stacked = slices[0] if len(slices) == 1 else ibis.union(*slices)
    rows = db.records(stacked.group_by("_scope").aggregate(**aggregates(stacked)))
    found = {places[r.pop("_scope")]: r for r in rows}
    if len(found) < len(scopes):
        empty = first.rows_between(source, first.period.start, first.period.start)
        nothing = db.row(empty.aggregate(**aggregates(empty)))
        found = {i: found.get(i, nothing) for i in range(len(scopes))}
    return [found[i] for i in range(len(scopes))]


def _compute(db: Database, order: list[str], scopes: list[Scope], known: list[dict]) -> list[dict]:
    """The KPIs of `order` (inputs first) for each scope, given what is `known` of each: every source's measures
    in one query for all scopes, then the rest scope by scope (side by side: DuckDB releases the GIL)."""
    values = [dict(k) for k in known]
    by_source = defaultdict(list)
    for key in order:
        if isinstance(REGISTRY[key].compute, Measure) and any(key not in v for v in values):
            by_source[REGISTRY[key].compute.source].append(key)
    for source, members in by_source.items():
        wanted = [i for i, v in enumerate(values) if any(k not in v for k in members)]
        for i, row in zip(wanted, _measures(db, source, members, [scopes[i] for i in wanted]), strict=True):
            values[i].update({k: v for k, v in row.items() if k not in values[i]})

    grouped = [(key, run) for key in order
               if isinstance(REGISTRY[key].compute, Query) and REGISTRY[key].compute.over_periods is not None
               for run in runs(scopes) if len(run) > 1 and any(key not in values[i] for i in run)]
    for (key, run), rows in zip(grouped, _map(lambda job: db.records(REGISTRY[job[0]].compute.over_periods(
            [scopes[i] for i in job[1]])), grouped), strict=True):
        found = {r["_scope"]: r["value"] for r in rows}
        for position, i in enumerate(run):
            values[i].setdefault(key, found.get(position))

    def rest(i: int) -> dict:
        where, got = scopes[i], values[i]
        for key in order:
            if key in got:
                continue
            compute = REGISTRY[key].compute
            if isinstance(compute, Query):
                expr = compute.expr(where)
                got[key] = None if expr is None else db.row(expr)["value"]
            elif isinstance(compute, Computed):
                got[key] = compute.fn(db, where, *(got[k] for k in compute.inputs))
            elif isinstance(compute, Ratio):
                num, den = got[compute.numerator], got[compute.denominator]
                got[key] = None if num is None or not den else num / den
            elif isinstance(compute, Derived):
                args = [got[k] for k in compute.inputs]
                got[key] = None if any(a is None for a in args) else compute.fn(*args)
        return {k: plain(got[k]) for k in order}

    return _map(rest, range(len(scopes)))


def _map(fn, items) -> list:
    """fn over items, side by side on the pool's cursors (DuckDB releases the GIL), or here when already on it."""
    items = list(items)
    if len(items) < 2 or threading.current_thread().name.startswith(_POOL_NAME):
        return [fn(item) for item in items]
    calls = [carried(fn, item) for item in items]  # each in this run's language (a KPIError's words)
    return [future.result() for future in [_POOL.submit(call) for call in calls]]


def evaluate(db: Database, key: str, period, filters: dict | None = None, params: dict | None = None):
    """One KPI for one period and segment; None where it is undefined (no customers, cohort too young…)."""
    return evaluate_scope(db, [key], scope(db, period, filters, params))[key]


def evaluate_many(db: Database, keys, period, filters: dict | None = None, params: dict | None = None) -> dict:
    """Several KPIs for one period and segment, sharing queries."""
    return evaluate_scope(db, list(keys), scope(db, period, filters, params))


def compare_table(db: Database, keys, period, filters: dict | None = None, params: dict | None = None) -> pd.DataFrame:
    """Each KPI now, in the previous period and a year earlier (columns value, previous, year_ago), with the
    deltas (delta_previous, delta_year_ago); one row per KPI (kpis.compare adds the models' intervals)."""
    now = scope(db, period, filters, params)
    periods = {"value": now.period} | {ref: now.period.reference(ref) for ref in COMPARES}
    rows = dict(zip(periods, evaluate_scopes(db, list(keys), [now.at(p) for p in periods.values()]), strict=True))
    table = pd.DataFrame({name: pd.Series([v[k] for k in keys], index=list(keys), dtype=object)
                          for name, v in rows.items()})
    for ref in COMPARES:
        table[f"delta_{ref}"] = [None if v is None or r is None else v - r
                                 for v, r in zip(table["value"], table[ref], strict=True)]
    table.index.name = "kpi"
    return table


def series(db: Database, key: str, first, last, grain: str = "month", filters: dict | None = None,
           params: dict | None = None) -> pd.DataFrame:
    """The KPI for every period of the grain from `first` to `last`: columns period, start, value."""
    start = scope(db, first, filters, params)
    try:
        periods = period_range(period_of(first), period_of(last), grain)
    except ValueError as error:
        raise KPIError(str(error)) from None
    values = [v[key] for v in evaluate_scopes(db, [key], [start.at(p) for p in periods])]
    return pd.DataFrame({"period": [str(p) for p in periods], "start": [p.start for p in periods],
                         "value": values})


def trend(db: Database, keys, period, periods: int = 12, filters: dict | None = None,
          params: dict | None = None) -> pd.DataFrame:
    """Several KPIs over the `periods` periods ending with `period` (oldest first), one row per period."""
    last = scope(db, period, filters, params)
    wanted = [last.period.shift(-i) for i in reversed(range(periods))]
    frame = pd.DataFrame(evaluate_scopes(db, list(keys), [last.at(p) for p in wanted]), dtype=object)
    frame.insert(0, "period", [str(p) for p in wanted])
    return frame
