"""Customer-equity and volume KPIs, declared once in a registry and computed portably (Ibis)."""

from kpis.catalog import REGISTRY
from kpis.engine import Database, KPIError, compare, connect, evaluate, evaluate_many, series
from kpis.periods import Period
from kpis.registry import KPI, Group, Unit

__all__ = [
    "KPI", "REGISTRY", "Database", "Group", "KPIError", "Period", "Unit", "compare", "connect", "evaluate",
    "evaluate_many", "series",
]

from kpis.tables import cohort_retention, concentration_curve, value_deciles  # noqa: E402

__all__ += ["cohort_retention", "concentration_curve", "value_deciles"]
