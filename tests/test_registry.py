"""The registry itself: complete declarations, and the import-time checks refuse bad ones."""

from __future__ import annotations

import pytest

import kpis
from kpis.registry import KPI, Group, Measure, Ratio, Unit, build_registry

REQUIRED_KEYS = [
    "active_customers", "new_customers", "retention_rate", "churn_rate", "repeat_purchase_rate", "repeat_rate_90d",
    "purchase_frequency", "average_order_value", "categories_per_customer", "revenue_per_customer",
    "historical_clv_12m", "cac", "top_customer_share", "revenue", "orders", "gross_margin", "gross_margin_rate",
    "marketing_spend", "cost_per_order",
]


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_catalog_has_the_issue_keys(key):
    assert key in kpis.REGISTRY


@pytest.mark.parametrize("kpi", kpis.REGISTRY.values(), ids=lambda k: k.key)
def test_every_kpi_is_fully_declared(kpi):
    assert kpi.label.strip() and len(kpi.definition) > 30 and kpi.formula.strip()
    assert isinstance(kpi.unit, Unit) and isinstance(kpi.higher_is_better, bool) and isinstance(kpi.group, Group)
    assert kpi.definition.endswith(".")


def _kpi(key, label, compute=None):
    return KPI(key, label, "A definition.", "a formula", Unit.COUNT, True, Group.VOLUME,
               compute or Measure("orders", lambda o: o.count()))


@pytest.mark.parametrize(
    "declarations, message",
    [
        ([_kpi("a", "A"), _kpi("a", "B")], "key declared twice: a"),
        ([_kpi("a", "A"), _kpi("b", "A")], "label declared twice: A"),
        ([_kpi("a", "A", Ratio("a", "missing"))], "undeclared KPI.*missing"),
    ],
)
def test_registry_refuses_bad_declarations(declarations, message):
    with pytest.raises(ValueError, match=message):
        build_registry(declarations)


def test_kpis_never_import_streamlit():
    import subprocess
    import sys

    code = "import sys, kpis; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
