"""Properties every KPI must keep on a realistic customer base (the demo generator)."""

from __future__ import annotations

import pytest

import kpis
from kpis.registry import Unit

PERIODS = ["2024-01", "2024-02", "2025-06", "2026-10", "2024-Q4", "2025-Q1", "2025", "2026"]
FILTERS = [{}, {"acquisition_channel": "referral"}, {"region": "FR", "segment": "business"},
           {"value_tier": "top 10%"}, {"cohort": "2024-Q1"}]


@pytest.fixture(scope="module")
def db(demo_base):
    path = demo_base(4_000, 11)  # shared with tests/test_report.py and tests/test_why.py (tests/conftest.py)
    return kpis.connect(path)


@pytest.fixture(scope="module")
def values(db):
    """Every KPI for every period × filter of the table above."""
    keys = list(kpis.REGISTRY)
    return {(period, i): kpis.evaluate_many(db, keys, period, filters=f) for period in PERIODS
            for i, f in enumerate(FILTERS)}


def cases():
    return [(p, i) for p in PERIODS for i in range(len(FILTERS))]


@pytest.mark.parametrize("case", cases())
def test_rates_are_between_0_and_1(values, case):
    for key, value in values[case].items():
        if kpis.REGISTRY[key].unit is Unit.PERCENT and value is not None:
            assert 0.0 <= value <= 1.0, key


@pytest.mark.parametrize("case", cases())
def test_retention_and_churn_add_up_to_one(values, case):
    v = values[case]
    if v["retention_rate"] is not None:
        assert v["retention_rate"] + v["churn_rate"] == pytest.approx(1.0)


@pytest.mark.parametrize("case", cases())
def test_revenue_is_orders_times_average_order_value(values, case):
    v = values[case]
    if v["orders"]:
        assert v["revenue"] == pytest.approx(v["orders"] * v["average_order_value"], rel=1e-9)
        assert v["revenue"] == pytest.approx(v["active_customers"] * v["revenue_per_customer"], rel=1e-9)


@pytest.mark.parametrize("case", cases())
def test_margin_never_exceeds_revenue(values, case):
    v = values[case]
    if v["revenue"] is not None:
        assert v["gross_margin"] <= v["revenue"]
        assert v["gross_margin"] + v["cost_of_sales"] == pytest.approx(v["revenue"], rel=1e-9)


@pytest.mark.parametrize("case", cases())
def test_counts_are_whole_and_consistent(values, case):
    v = values[case]
    assert isinstance(v["orders"], int) and isinstance(v["active_customers"], int)
    assert v["active_customers"] <= v["orders"]
    assert v["purchase_frequency"] is None or v["purchase_frequency"] >= 1.0
    assert v["categories_per_customer"] is None or v["categories_per_customer"] >= 1.0


def test_segments_partition_the_whole(db):
    # Channels partition the customers: their revenues and active customers add up to the total.
    total = kpis.evaluate_many(db, ["revenue", "active_customers", "new_customers"], "2025-Q2")
    parts = [kpis.evaluate_many(db, ["revenue", "active_customers", "new_customers"], "2025-Q2",
                                filters={"acquisition_channel": ch}) for ch in db.filter_values("acquisition_channel")]
    assert sum(p["revenue"] for p in parts) == pytest.approx(total["revenue"], rel=1e-9)
    assert sum(p["active_customers"] for p in parts) == total["active_customers"]
    assert sum(p["new_customers"] for p in parts) == total["new_customers"]


def test_a_year_adds_up_its_quarters_and_months(db):
    months = kpis.series(db, "revenue", "2025-01", "2025-12")["value"].sum()
    quarters = kpis.series(db, "revenue", "2025-01", "2025-12", grain="quarter")["value"].sum()
    year = kpis.evaluate(db, "revenue", "2025")
    assert months == pytest.approx(year, rel=1e-9) and quarters == pytest.approx(year, rel=1e-9)


def test_new_customers_sum_to_the_base(db):
    first = db.data_end.year - 3
    yearly = [kpis.evaluate(db, "new_customers", str(y)) for y in range(first, db.data_end.year + 1)]
    assert sum(yearly) == 4_000


def test_value_concentration_is_real(db):
    # Heterogeneous customers (Fader): the top decile brings far more than a tenth of revenue.
    deciles = kpis.value_deciles(db)
    assert deciles["revenue_share"].iloc[0] > 0.25
    assert deciles["revenue_share"].is_monotonic_decreasing
    assert kpis.evaluate(db, "top_customer_share", "2025") > 0.15


def test_referral_beats_social_on_twelve_month_value_per_acquisition_cost(db):
    def ratio(channel):
        clv = kpis.evaluate(db, "historical_clv_12m", "2024-Q1", filters={"acquisition_channel": channel})
        return clv / kpis.evaluate(db, "cac", "2024-Q1", filters={"acquisition_channel": channel})

    assert ratio("referral") > 1.5 * ratio("social")


def test_cohort_matrix_starts_at_one(db):
    matrix = kpis.cohort_retention(db)
    assert (matrix.loc[matrix["age"] == 0, "rate"] == 1.0).all()  # every customer buys when acquired
    assert matrix["rate"].between(0, 1).all()
