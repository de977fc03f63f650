"""kpis.compare: each KPI now and in its two comparison periods, optionally with the models' intervals."""

from __future__ import annotations

import pandas as pd

from kpis.database import Database
from kpis.evaluate import compare_table
from kpis.intervals import LEVEL, with_intervals


def compare(db: Database, keys, period, filters: dict | None = None, params: dict | None = None,
            intervals: bool = False, level: float = LEVEL) -> pd.DataFrame:
    """Each KPI now, in the previous period and a year earlier (columns value, previous, year_ago), with the
    deltas (delta_previous, delta_year_ago); one row per KPI. `intervals=True` adds, for the model-based KPIs,
    low / high (this period's interval at `level`) and change_low_* / change_high_* (the change's, per comparison:
    within the models' uncertainty when it covers 0) — kpis.intervals."""
    table = compare_table(db, keys, period, filters, params)
    return with_intervals(db, table, period, filters, level) if intervals else table
