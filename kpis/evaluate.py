"""Evaluating declared KPIs: one value, several, a comparison table, a series, a trend.

The only module that reads both the registry (kpis.catalog) and the database layer (kpis.database). Segments
travel as one `filters` mapping ({"region": ["FR"]}); `params` are the KPIs' own parameters ({"touchpoint": …}).
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from kpis.catalog import REGISTRY
from kpis.database import Database, KPIError, period_of, plain, scope
from kpis.periods import COMPARES, period_range
from kpis.registry import Computed, Derived, Measure, Query, Ratio
from kpis.scope import Scope

_POOL = ThreadPoolExecutor(max_workers=3, thread_name_prefix="kpis")
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
    memo = db.__dict__.setdefault("_memo", {})
    tag = (where.period, repr(where.segment), repr(sorted(where.params.items())))
    missing = [k for k in needed(keys) if (k, tag) not in memo]
    if missing:
        values = _compute(db, missing, where, {k: memo[(k, tag)] for k in needed(keys) if (k, tag) in memo})
        if len(memo) > MEMO_SIZE:
            memo.clear()
        memo.update({(k, tag): v for k, v in values.items()})
        return {k: values[k] if k in values else memo[(k, tag)] for k in keys}
    return {k: memo[(k, tag)] for k in keys}


def _compute(db: Database, order: list[str], where: Scope, known: dict) -> dict[str, float | int | None]:
    """The KPIs of `order` (inputs first) for one scope: measures of a source in one query, the rest in order."""
    values: dict = dict(known)
    by_source = defaultdict(list)
    for key in order:
        if isinstance(REGISTRY[key].compute, Measure):
            by_source[REGISTRY[key].compute.source].append(key)
    relations = {"orders": lambda: where.orders, "acquired": lambda: where.acquired, "spend": lambda: where.spend,
                 "feedback": lambda: where.feedback}
    for source, members in by_source.items():
        relation = relations[source]()
        if relation is None:
            values.update(dict.fromkeys(members))
            continue
        values.update(db.row(relation.aggregate(**{k: REGISTRY[k].compute.expr(relation) for k in members})))
    for key in order:
        compute = REGISTRY[key].compute
        if isinstance(compute, Query):
            expr = compute.expr(where)
            values[key] = None if expr is None else db.row(expr)["value"]
        elif isinstance(compute, Computed):
            values[key] = compute.fn(db, where, *(values[k] for k in compute.inputs))
        elif isinstance(compute, Ratio):
            num, den = values[compute.numerator], values[compute.denominator]
            values[key] = None if num is None or not den else num / den
        elif isinstance(compute, Derived):
            args = [values[k] for k in compute.inputs]
            values[key] = None if any(a is None for a in args) else compute.fn(*args)
    return {k: plain(values[k]) for k in order}


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
    # The three periods run side by side, each on its own cursor (DuckDB releases the GIL while it works).
    jobs = {name: _POOL.submit(evaluate_scope, db, list(keys), now.at(p)) for name, p in periods.items()}
    rows = {name: job.result() for name, job in jobs.items()}
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
    values = [evaluate_scope(db, [key], start.at(p))[key] for p in periods]
    return pd.DataFrame({"period": [str(p) for p in periods], "start": [p.start for p in periods],
                         "value": values})


def trend(db: Database, keys, period, periods: int = 12, filters: dict | None = None,
          params: dict | None = None) -> pd.DataFrame:
    """Several KPIs over the `periods` periods ending with `period` (oldest first), one row per period."""
    last = scope(db, period, filters, params)
    wanted = [last.period.shift(-i) for i in reversed(range(periods))]
    jobs = [_POOL.submit(evaluate_scope, db, list(keys), last.at(p)) for p in wanted]
    frame = pd.DataFrame([job.result() for job in jobs], dtype=object)
    frame.insert(0, "period", [str(p) for p in wanted])
    return frame
