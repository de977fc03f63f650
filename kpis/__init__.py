"""Customer-equity and volume KPIs, declared once in a registry and computed portably (Ibis)."""

from kpis.catalog import REGISTRY
from kpis.engine import Database, KPIError, compare, connect, evaluate, evaluate_many, series, trend
from kpis.periods import Period
from kpis.registry import KPI, Group, Unit

__all__ = [
    "KPI", "REGISTRY", "Database", "Group", "KPIError", "Period", "Unit", "compare", "connect", "evaluate",
    "evaluate_many", "series", "trend",
]

from kpis.tables import cohort_retention, concentration_curve, rebased_trend, value_deciles  # noqa: E402

__all__ += ["cohort_retention", "concentration_curve", "rebased_trend", "value_deciles"]

from kpis.scrub import scrub  # noqa: E402
from kpis.voice.journey import effort_by_touchpoint, effort_peak  # noqa: E402
from kpis.voice.noise import change_with_margin, csat_with_margin, nps_with_margin, within_noise  # noqa: E402
from kpis.voice.value import value_by_nps_group  # noqa: E402
from kpis.voice.verbatims import latest_comments, themes, verbatims  # noqa: E402

__all__ += ["change_with_margin", "csat_with_margin", "effort_by_touchpoint", "effort_peak", "latest_comments",
            "nps_with_margin", "scrub", "themes", "value_by_nps_group", "verbatims", "within_noise"]

from kpis.clv.check import holdout_check  # noqa: E402

__all__ += ["holdout_check"]
