"""Known answers: every KPI on the hand-built fixture of tests/kpi_fixture.py, worked out in comments.

Every test reading `db` runs on both engines (tests/conftest.py `engine`): DuckDB, and Spark reading the same
tables from Parquet.
"""

from __future__ import annotations

import pytest

import kpis

NO_FILTER: dict = {}


@pytest.fixture
def fixture_path(known_path):
    return known_path  # tests/conftest.py: shared with tests/test_spark.py


@pytest.fixture
def db(known_path, engine, on_engine):
    return on_engine(known_path, engine)


# 2023-01 orders: o01 c01 100/60 books · o02 c02 40/25 home · o03 c03 200/150 electronics · o04 c02 60/35 books
# 2023-02 orders: o05 c04 30/10 · o06 c01 50/30 · o07 c05 70/40
# 2023-03 orders: o08 c06 500/400 · o09 c01 80/40 · o10 c07 25/10 · o11 c06 100/60
# 2024-01 orders: o21 c12 35 · o22 c13 110 · o23 c01 120 · o24 c14 20
# 2024-02 orders: o25 c13 55/30 · o26 c10 100/60 · o27 c11 40/20 · o28 c04 45/15 · o29 c15 75/40 (29th, 23:30)
KNOWN = [
    # --- volume and cost -----------------------------------------------------------------------
    ("orders", "2023-01", NO_FILTER, 4),
    ("revenue", "2023-01", NO_FILTER, 400.0),  # 100 + 40 + 200 + 60
    ("cost_of_sales", "2023-01", NO_FILTER, 270.0),  # 60 + 25 + 150 + 35
    ("gross_margin", "2023-01", NO_FILTER, 130.0),  # 400 − 270
    ("gross_margin_rate", "2023-01", NO_FILTER, 0.325),  # 130 / 400
    ("cost_per_order", "2023-01", NO_FILTER, 67.5),  # 270 / 4
    ("marketing_spend", "2023-01", NO_FILTER, 500.0),  # 300 + 150 + 50
    ("orders", "2023-Q1", NO_FILTER, 11),  # 4 + 3 + 4
    ("revenue", "2023-Q1", NO_FILTER, 1255.0),  # 400 + 150 + 705
    ("gross_margin", "2023-Q1", NO_FILTER, 395.0),  # 1255 − (270 + 80 + 510)
    ("revenue", "2023", NO_FILTER, 1835.0),  # o01..o20
    ("orders", "2023", NO_FILTER, 20),
    ("orders", "2024", NO_FILTER, 18),  # o21..o38
    # Leap month: o28 and o29 on the 29th (o29 at 23:30) count; o30 at 03-01 00:00 does not.
    ("orders", "2024-02", NO_FILTER, 5),
    ("revenue", "2024-02", NO_FILTER, 315.0),  # 55 + 100 + 40 + 45 + 75
    ("gross_margin", "2024-02", NO_FILTER, 150.0),  # 315 − (30 + 60 + 20 + 15 + 40)
    ("revenue", "2024-03", NO_FILTER, 365.0),  # o30 300 + o31 65
    ("marketing_spend", "2024-02", NO_FILTER, 340.0),  # 200 + 100 + 40
    # --- customer equity -----------------------------------------------------------------------
    ("active_customers", "2023-01", NO_FILTER, 3),  # c01, c02, c03
    ("new_customers", "2023-01", NO_FILTER, 3),
    ("purchase_frequency", "2023-01", NO_FILTER, 4 / 3),
    ("average_order_value", "2023-01", NO_FILTER, 100.0),  # 400 / 4
    ("revenue_per_customer", "2023-01", NO_FILTER, 400 / 3),
    ("categories_per_customer", "2023-01", NO_FILTER, 4 / 3),  # c01 {books}, c02 {home, books}, c03 {elec.}
    ("cac", "2023-01", NO_FILTER, 500 / 3),  # 500 spend / 3 new customers
    ("retention_rate", "2023-01", NO_FILTER, None),  # nobody bought in 2022-12
    ("churn_rate", "2023-01", NO_FILTER, None),
    ("retention_rate", "2023-02", NO_FILTER, 1 / 3),  # Jan buyers c01 c02 c03; only c01 back in Feb
    ("churn_rate", "2023-02", NO_FILTER, 2 / 3),
    ("new_customers", "2023-02", NO_FILTER, 2),  # c04, c05
    # Repeat rate: Jan buyers c01 (1 order so far), c02 (2), c03 (1); Feb buyers c01 (2), c04 (1), c05 (1).
    ("repeat_purchase_rate", "2023-01", NO_FILTER, 1 / 3),
    ("repeat_purchase_rate", "2023-02", NO_FILTER, 1 / 3),
    # 90 days: c01 again after 36 days, c02 after 15, c03 never → 2 / 3.
    ("repeat_rate_90d", "2023-01", NO_FILTER, 2 / 3),
    ("repeat_rate_90d", "2024-06", NO_FILTER, 1.0),  # c18 06-18 then 07-01; July's end + 90 d ≤ 2024-12-20
    ("repeat_rate_90d", "2024-09", NO_FILTER, None),  # c19's cohort has not had 90 days by 2024-12-20
    # 12-month margin of the 2023-01 cohort (before each customer's first anniversary):
    # c01 40 + 20 + 40 = 100 (o23 on 2024-01-20 is past 2024-01-05); c02 15 + 25 = 40; c03 50 → 190 / 3.
    ("historical_clv_12m", "2023-01", NO_FILTER, 190 / 3),
    ("historical_clv_12m", "2024-06", NO_FILTER, None),  # cohort too young
    # Top 15% of 3 buyers = ⌈0.45⌉ = 1 buyer: c03 200 of 400.
    ("top_customer_share", "2023-01", NO_FILTER, 0.5),
    # 2023: 12 buyers, ⌈1.8⌉ = 2: c06 600 + c01 230 = 830 of 1835.
    ("top_customer_share", "2023", NO_FILTER, 830 / 1835),
    # Quarters: Q1 buyers c01..c07 (7); back in Q2: c04 (04-01), c07 (06-15) → 2 / 7.
    ("active_customers", "2023-Q1", NO_FILTER, 7),
    ("retention_rate", "2023-Q2", NO_FILTER, 2 / 7),
    ("categories_per_customer", "2023-Q1", NO_FILTER, 10 / 7),  # 2 + 2 + 1 + 1 + 1 + 2 + 1
    ("cac", "2023-Q1", NO_FILTER, 1075 / 7),  # 500 + 280 + 295 spend, 7 new
    # Years: 2023 buyers (12) who bought again in 2024: c01 c04 c06 c10 c11 c12 → 6 / 12.
    ("retention_rate", "2024", NO_FILTER, 0.5),
    # 2024-02: Jan buyers c12 c13 c01 c14; only c13 back → 1 / 4.
    ("retention_rate", "2024-02", NO_FILTER, 0.25),
    ("active_customers", "2024-02", NO_FILTER, 5),
    ("new_customers", "2024-02", NO_FILTER, 1),  # c15, acquired on the 29th
    ("cac", "2024-02", NO_FILTER, 340.0),
    # --- filtered ------------------------------------------------------------------------------
    ("revenue", "2023-01", {"acquisition_channel": "search"}, 200.0),  # c01 100 + c02 40 + 60
    ("cac", "2023-01", {"acquisition_channel": "search"}, 150.0),  # 300 / 2 (c01, c02)
    ("cac", "2023", {"acquisition_channel": ["search", "social"]}, 920 / 9),  # (650 + 270) / (5 + 4)
    ("revenue", "2023-01", {"region": "FR"}, 300.0),  # c01 100 + c03 200
    ("cac", "2023-01", {"region": "FR"}, None),  # spend is not known per region
    ("marketing_spend", "2023-01", {"region": "FR"}, None),
    ("revenue", "2023", {"segment": "business"}, 1000.0),  # c03 200 + c06 600 + c10 200
    ("revenue", "2023", {"value_tier": "top 10%"}, 830.0),  # c06 600 + c01 230
    ("active_customers", "2024", {"value_tier": "bottom 40%"}, 5),  # c12 c14 c15 c18 c20 bought in 2024
    ("revenue", "2024", {"cohort": "2023-01"}, 120.0),  # only c01 came back (o23)
    ("active_customers", "2024", {"cohort": "2023-Q1"}, 3),  # c01, c04, c06
    ("retention_rate", "2024-02", {"region": "FR"}, 1 / 3),  # Jan FR buyers c12 c13 c01; c13 back
    # --- empty periods -------------------------------------------------------------------------
    ("orders", "2022-06", NO_FILTER, 0),
    ("active_customers", "2022-06", NO_FILTER, 0),
    ("revenue", "2022-06", NO_FILTER, None),  # nothing to add up
    ("average_order_value", "2022-06", NO_FILTER, None),
    ("retention_rate", "2022-06", NO_FILTER, None),
    ("top_customer_share", "2022-06", NO_FILTER, None),
    ("categories_per_customer", "2022-06", NO_FILTER, None),
    ("revenue", "2023-05", NO_FILTER, None),  # a month inside the data with no order
    ("retention_rate", "2023-05", NO_FILTER, 0.0),  # April's buyer c04 did not come back
]


@pytest.mark.parametrize("key, period, filters, expected", KNOWN)
def test_known_answer(db, key, period, filters, expected):
    value = kpis.evaluate(db, key, period, filters=filters)
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected, rel=1e-12)


def test_top_share_parameter(db):
    # Top 50% of 3 buyers = ⌈1.5⌉ = 2: c03 200 + c02 100 = 300 of 400.
    assert kpis.evaluate(db, "top_customer_share", "2023-01", params={"top_share": 0.5}) == pytest.approx(0.75)


def test_compare_gives_previous_and_year_ago(db):
    table = kpis.compare(db, ["revenue", "retention_rate"], "2024-02")
    # revenue: Feb 2024 315, Jan 2024 285 (35 + 110 + 120 + 20), Feb 2023 150 (30 + 50 + 70).
    assert table.loc["revenue", "value"] == 315.0
    assert table.loc["revenue", "previous"] == 285.0 and table.loc["revenue", "delta_previous"] == 30.0
    assert table.loc["revenue", "year_ago"] == 150.0 and table.loc["revenue", "delta_year_ago"] == 165.0
    # retention: Feb 2024 1/4; Jan 2024: Dec buyers c12 → back in Jan → 1.0.
    assert table.loc["retention_rate", "previous"] == 1.0
    assert table.loc["retention_rate", "delta_previous"] == pytest.approx(0.25 - 1.0)


def test_values_are_computed_once_per_database_and_view(fixture_path, monkeypatch):
    db = fresh = kpis.connect(fixture_path)
    queries = []
    run = fresh.execute
    monkeypatch.setattr(fresh, "execute", lambda sql: queries.append(sql) or run(sql))
    first = kpis.evaluate_many(fresh, ["revenue", "retention_rate"], "2024-02")
    asked = len(queries)
    assert asked > 0 and kpis.evaluate_many(fresh, ["revenue", "retention_rate"], "2024-02") == first
    assert len(queries) == asked  # the second time, nothing is queried
    # another view (a filter, a period) is computed afresh, and right: Feb 2024 revenue of channel "search"
    assert kpis.evaluate(fresh, "revenue", "2024-02", filters={"acquisition_channel": "search"}) == kpis.evaluate(
        db, "revenue", "2024-02", filters={"acquisition_channel": "search"})
    assert len(queries) > asked


def test_series_by_month_and_quarter(db):
    months = kpis.series(db, "orders", "2023-01", "2023-06")
    assert list(months["period"]) == ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]
    assert list(months["value"]) == [4, 3, 4, 1, 0, 2]
    quarters = kpis.series(db, "revenue", "2023-01", "2023-12", grain="quarter")
    # Q1 1255; Q2 30 + 60 + 25 = 115; Q3 90 + 60 + 150 = 300; Q4 50 + 80 + 35 = 165 → 1835 in all.
    assert list(quarters["value"]) == [1255.0, 115.0, 300.0, 165.0]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda db: kpis.evaluate(db, "revenue", "2023-01", filters={"colour": "red"}), "unknown filter 'colour'"),
        (lambda db: kpis.evaluate(db, "revenue", "2023-01", filters={"region": "Mars"}),
         "unknown value 'Mars' for filter"),
        (lambda db: kpis.evaluate(db, "revenue", "2023-01", filters={"value_tier": "gold"}), "unknown value 'gold'"),
        (lambda db: kpis.evaluate(db, "revenue", "2023-13"), "unknown period '2023-13'"),
        (lambda db: kpis.evaluate(db, "revenue", "Q1-2023"), "unknown period"),
        (lambda db: kpis.evaluate(db, "happiness", "2023-01"), "unknown KPI 'happiness'"),
        (lambda db: kpis.evaluate(db, "revenue", "2023-01", filters={"cohort": "last year"}),
         "filter cohort: unknown period"),
        (lambda db: kpis.series(db, "revenue", "2023-01", "2023-03", grain="week"), "unknown grain 'week'"),
    ],
)
def test_bad_requests_are_clear_errors(db, call, message):
    with pytest.raises(kpis.KPIError, match=message):
        call(db)


def test_filter_values_are_never_pasted_into_sql(db):
    # A value that would break out of a pasted string literal is just an unknown value.
    with pytest.raises(kpis.KPIError, match="unknown value"):
        kpis.evaluate(db, "revenue", "2023", filters={"region": "FR' OR '1'='1"})


def test_cohort_retention_matrix(db):
    matrix = kpis.cohort_retention(db, "2023-01", "2023-02").set_index(["cohort", "age"])
    # 2023-01 cohort (c01 c02 c03): all active at age 0; c01 alone in Feb (1) and Mar (2), then again in
    # Jan 2024 (12); nobody in between. Observable up to Dec 2024: ages 0..23.
    jan = matrix.loc["2023-01"]
    assert list(jan.index) == list(range(24))
    assert list(jan["active"]) == [3, 1, 1] + [0] * 9 + [1] + [0] * 11
    assert jan["rate"].iloc[1] == pytest.approx(1 / 3) and set(jan["customers"]) == {3}
    # 2023-02 cohort (c04 c05): c04 back in Apr 2023 (age 2) and Feb 2024 (age 12).
    feb = matrix.loc["2023-02"]
    assert feb.loc[2, "rate"] == 0.5 and feb.loc[12, "rate"] == 0.5 and feb.loc[1, "rate"] == 0.0
    assert set(matrix.index.get_level_values("cohort")) == {"2023-01", "2023-02"}


def test_cohort_retention_follows_filters(db):
    matrix = kpis.cohort_retention(db, "2023-01", "2023-01", filters={"region": "FR"})  # c01, c03
    assert matrix.loc[matrix["age"] == 0, "customers"].item() == 2
    assert matrix.loc[matrix["age"] == 12, "rate"].item() == 0.5


def test_value_deciles_over_lifetime(db):
    deciles = kpis.value_deciles(db)
    # 20 buyers, 2 per decile. Lifetime revenue 3385 (1835 in 2023 + 1550 in 2024).
    # Decile 1: c06 900 + c01 350 = 1250 → 1250 / 3385; decile 10: c20 30 + c14 20 = 50.
    assert list(deciles["customers"]) == [2] * 10
    assert deciles["revenue"].iloc[0] == 1250.0 and deciles["revenue"].iloc[-1] == 50.0
    assert deciles["revenue_share"].iloc[0] == pytest.approx(1250 / 3385)
    assert deciles["cumulative_revenue_share"].iloc[-1] == pytest.approx(1.0)
    assert deciles["revenue_per_customer"].iloc[0] == 625.0


def test_concentration_curve(db):
    curve = kpis.concentration_curve(db, points=10)
    # Top 20% = c06 c01 c10 c19: (900 + 350 + 300 + 260) / 3385.
    assert curve["top_customer_share"].iloc[2] == pytest.approx(0.2)
    assert curve["revenue_share"].iloc[2] == pytest.approx(1810 / 3385)
    assert (curve.iloc[0] == 0).all() and curve["revenue_share"].iloc[-1] == pytest.approx(1.0)
    assert curve["revenue_share"].is_monotonic_increasing


def test_an_attribute_named_like_a_parameter_is_a_filter(tmp_path):
    """Filters travel as one mapping: customer columns called `period` or `limit` filter like any other."""
    folder = tmp_path
    (folder / "customers.csv").write_text("customer_id,acquired_at,period,limit\n"
                                          "c1,2024-01-02,spring,low\nc2,2024-01-03,autumn,high\n")
    (folder / "orders.csv").write_text("order_id,customer_id,ordered_at,revenue,cost\n"
                                       "o1,c1,2024-01-05,100,60\no2,c2,2024-01-06,40,10\no3,c1,2024-01-20,10,5\n")
    from datetime import datetime

    from kpis.build import import_files

    import_files(folder / "db.duckdb", orders=folder / "orders.csv", customers=folder / "customers.csv",
                 now=datetime(2025, 1, 1))
    db = kpis.connect(folder / "db.duckdb")
    assert db.attributes == ("period", "limit")
    # c1 (spring, low): o1 100 + o3 10 = 110; c2 (autumn, high): o2 40
    assert kpis.evaluate(db, "revenue", "2024-01", filters={"period": "spring"}) == 110.0
    assert kpis.evaluate(db, "revenue", "2024-01", filters={"limit": ["high"]}) == 40.0
    assert kpis.compare(db, ["orders"], "2024-01", filters={"period": "autumn", "limit": "high"}).loc[
        "orders", "value"] == 1
    assert len(kpis.verbatims(db, "2024-01", limit=5, filters={"limit": "low"})) == 0  # no feedback at all
    with pytest.raises(kpis.KPIError, match="filters must be a mapping"):
        kpis.evaluate(db, "revenue", "2024-01", filters=["period"])
