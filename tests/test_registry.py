"""The registry itself: complete declarations, and the import-time checks refuse bad ones."""

from __future__ import annotations

import pytest

import kpis
from kpis.registry import KPI, PREVIOUS_BUYERS, Computed, Group, Measure, Ratio, Text, Unit, build_registry

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


def _kpi(key, label, compute=None, unit=Unit.COUNT, en=None, fr="", **options):
    """A small declaration; its French label is the English one with « (fr) » unless `fr` says otherwise."""
    options.setdefault("base", None)  # the default, active_customers, is not in these small registries
    en = en or Text(label, "A definition.", "a formula")
    fr = Text(f"{label} (fr)", "Une définition.", "une formule") if fr == "" else fr
    return KPI(key, en, fr, unit, True, Group.VOLUME, compute or Measure("orders", lambda o: o.count()), **options)


def _model(db, scope):
    return 1.0


@pytest.mark.parametrize(
    "declarations, message",
    [
        ([_kpi("a", "A"), _kpi("a", "B")], "key declared twice: a"),
        ([_kpi("a", "A"), _kpi("b", "A")], "label declared twice: A"),
        ([_kpi("a", "A", Ratio("a", "missing"))], "undeclared KPI.*missing"),
        ([_kpi("a", "A", base="b"), _kpi("b", "B", unit=Unit.CURRENCY)], "KPI a rests on 'b', which is not a declared"),
        ([_kpi("a", "A", base="nobody")], "KPI a rests on 'nobody'"),
        ([_kpi("a", "A", Computed(_model))], "model_based is for KPIs computed from the fitted models"),
        ([_kpi("a", "A", model_based=True)], "model_based is for KPIs computed from the fitted models"),
        ([_kpi("a", "A", Computed(_model), model_based=True), _kpi("b", "B", Ratio("a", "a"))],
         "KPI b is computed from model-based a: declare it model_based"),
        ([_kpi("a", "A", Computed(_model, inputs=("c",)), model_based=True)], "undeclared KPI.*c"),
        # Both languages, whole: label, definition and formula in each, labels unique in each, short in all or none.
        ([_kpi("a", "A", fr=None)], "KPI a has no French words"),
        ([KPI("a", None, Text("A", "Une définition.", "une formule"), Unit.COUNT, True, Group.VOLUME,
              Measure("orders", lambda o: o.count()), base=None)], "KPI a has no English words"),
        ([_kpi("a", "A", fr=Text("A (fr)", "  ", "une formule"))],
         r"KPI a needs a label, a definition and a formula in French: its definition is blank"),
        ([_kpi("a", "A", fr=Text("", "Une définition.", ""))],
         r"in French: its label and formula are blank"),
        ([_kpi("a", "A", en=Text("A", "A definition.", " "))], r"in English: its formula is blank"),
        ([_kpi("a", "A", fr=Text("Même libellé", "Une définition.", "une formule")),
          _kpi("b", "B", fr=Text("Même libellé", "Une autre définition.", "une formule"))],
         r"KPI label declared twice: Même libellé \(French\), for a and b"),
        ([_kpi("a", "A", en=Text("A", "A definition.", "a formula", short="A!"))],
         "KPI a has a short label in English but not in French"),
        ([_kpi("a", "A", fr=Text("A (fr)", "Une définition.", "une formule", short="A !"))],
         "KPI a has a short label in French but not in English"),
    ],
)
def test_registry_refuses_bad_declarations(declarations, message):
    with pytest.raises(ValueError, match=message):
        build_registry(declarations)


@pytest.mark.parametrize("kpi", kpis.REGISTRY.values(), ids=lambda k: k.key)
def test_every_kpi_says_what_it_rests_on(kpi):
    """Suppression reads the count each KPI rests on: a declared count, the previous period's buyers, or nothing
    (only spend, which is the company's own money, not a group of customers)."""
    assert kpi.base in kpis.REGISTRY or kpi.base == PREVIOUS_BUYERS or kpi.key == "marketing_spend"


@pytest.mark.parametrize("key, model_based", [
    ("customer_equity", True), ("clv_cac", True), ("cac_payback_months", True), ("value_at_risk", True),
    ("revenue", False), ("historical_clv_cac", False), ("cac", False), ("nps", False),
])
def test_model_based_kpis_are_declared_so(key, model_based):
    assert kpis.REGISTRY[key].model_based is model_based


def test_kpis_never_import_streamlit():
    import subprocess
    import sys

    code = "import sys, kpis; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
