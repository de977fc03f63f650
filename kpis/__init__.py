"""Customer-equity and volume KPIs, declared once in a registry and computed portably (Ibis).

Layers, lowest first (no module imports one above it): periods, registry, scope, sources → database (the engine
connection, segments) → declarations (catalog, voice, clv) → evaluate (the one module reading both the registry and
the database) → tables, voice and clv functions, valuation, build; connection opens a DuckDB build or Spark.
"""

from kpis.bridges import equity_bridge, revenue_bridge
from kpis.catalog import REGISTRY
from kpis.clv.check import holdout_check
from kpis.comparison import compare
from kpis.connection import connect
from kpis.contributions import contributions
from kpis.database import Database, KPIError
from kpis.evaluate import evaluate, evaluate_many, series, trend
from kpis.intervals import change_interval, interval
from kpis.periods import Period
from kpis.registry import KPI, Group, Unit
from kpis.scrub import scrub
from kpis.tables import cohort_retention, concentration_curve, rebased_trend, value_deciles
from kpis.valuation import valuation
from kpis.voice.journey import effort_by_touchpoint, effort_peak, touchpoints_asked
from kpis.voice.noise import change_with_margin, csat_with_margin, nps_with_margin, within_noise
from kpis.voice.value import value_by_nps_group
from kpis.voice.verbatims import latest_comments, themes, verbatims

__all__ = [
    "Database", "Group", "KPI", "KPIError", "Period", "REGISTRY", "Unit", "change_interval", "change_with_margin",
    "cohort_retention", "compare", "concentration_curve", "connect", "contributions", "csat_with_margin",
    "effort_by_touchpoint", "effort_peak", "equity_bridge", "evaluate", "evaluate_many", "holdout_check", "interval",
    "latest_comments", "nps_with_margin", "rebased_trend", "revenue_bridge", "scrub", "series", "themes",
    "touchpoints_asked", "trend", "valuation", "value_by_nps_group", "value_deciles", "verbatims", "within_noise",
]
