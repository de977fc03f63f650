"""Fast segments: orders and answers carry their customer's columns (kpis.sources.facts), and a view's periods are
computed in one pass per source (kpis.evaluate.evaluate_scopes). Both must give the numbers of the slow path."""

from __future__ import annotations

import math
import shutil
from datetime import datetime

import duckdb
import pytest

import kpis
from kpis.database import scope
from kpis.evaluate import evaluate_scope, evaluate_scopes
from kpis.periods import Period
from kpis.registry import Computed
from store.files import current_file

# Every KPI that is not model-based (those read stored scores, not the fact tables).
KEYS = [k for k, kpi in kpis.REGISTRY.items() if not kpi.model_based]
FILTERS = [
    {},
    {"acquisition_channel": ["search", "social"]},
    {"value_tier": ["top 10%", "next 20%"]},
    {"segment": ["business"]},  # a customer attribute of the fixture
    {"region": ["BE"], "value_tier": ["bottom 40%"], "cohort": ["2023-Q1", "2024"]},
]


@pytest.fixture(scope="module")
def joined_path(known_path, tmp_path_factory):
    """The known fixture's build without its fact and activity tables: each query joins orders and answers with
    customers and groups orders by customer and period, as on a build made before them."""
    copy = tmp_path_factory.mktemp("joined") / "joined.duckdb"
    shutil.copy(current_file(known_path), copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("DROP TABLE order_facts")
        con.execute("DROP TABLE feedback_facts")
        con.execute("DROP TABLE customer_periods")
    return copy


@pytest.fixture(scope="module")
def both(known_path, joined_path):
    """The build with fact tables and the one without, each connected once (a filter and period is one memo key)."""
    return kpis.connect(known_path), kpis.connect(joined_path)


def same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "everyone")
@pytest.mark.parametrize("period", ["2024-01", "2024-Q2", "2024"])
def test_a_segment_from_its_rows_own_columns_equals_the_join(both, filters, period):
    facts, joined = both
    assert facts.has_table("order_facts") and not joined.has_table("order_facts")
    ours, theirs = (kpis.evaluate_many(db, KEYS, period, filters=filters) for db in (facts, joined))
    assert [k for k in KEYS if not same(ours[k], theirs[k])] == []


def test_every_order_and_answer_carries_its_customers_columns_in_time_order(known_path):
    with duckdb.connect(str(current_file(known_path)), read_only=True) as con:
        def one(sql):
            return con.execute(sql).fetchone()[0]

        assert one("SELECT count(*) FROM order_facts") == one("SELECT count(*) FROM orders") == 38
        assert one("SELECT count(*) FROM feedback_facts") == one("SELECT count(*) FROM feedback")
        # a row per customer and period with an order: 2024-01's buyers are c12 c13 c01 c14 (one row each)
        assert one("SELECT count(*) FROM customer_periods WHERE grain = 'month' AND start = '2024-01-01'") == 4
        for grain, unit in (("month", "month"), ("quarter", "quarter"), ("year", "year")):
            assert one(f"SELECT count(*) FROM customer_periods WHERE grain = '{grain}'") == one(
                f"SELECT count(DISTINCT (customer_id, date_trunc('{unit}', ordered_at))) FROM orders")
        differ = """SELECT count(*) FROM {t} f JOIN customers c USING (customer_id) JOIN customer_value v
                    USING (customer_id) WHERE f.region IS DISTINCT FROM c.region OR f.acquired_at IS DISTINCT FROM
                    c.acquired_at OR f.acquisition_channel IS DISTINCT FROM c.acquisition_channel OR f.segment IS
                    DISTINCT FROM c.segment OR f.value_tier IS DISTINCT FROM v.value_tier"""
        assert one(differ.format(t="order_facts")) == one(differ.format(t="feedback_facts")) == 0
        # an anonymous answer belongs to no customer: no customer columns
        assert one("SELECT count(*) FROM feedback_facts WHERE customer_id IS NULL AND region IS NOT NULL") == 0
        # stored in time order, so that a period's filter reads its own slice
        for table, column in (("order_facts", "ordered_at"), ("feedback_facts", "answered_at")):
            assert one(f"SELECT count(*) FROM (SELECT {column} < lag({column}) OVER (ORDER BY rowid) AS back "
                       f"FROM {table}) WHERE back") == 0


def test_an_attribute_named_like_an_order_column_filters_the_customers(tmp_path):
    """A customer column `channel` (how the customer came) beside the order's own `channel` (where it was placed):
    the filter reads the customer's."""
    (tmp_path / "customers.csv").write_text("customer_id,acquired_at,channel\n"
                                            "c1,2024-01-02,partner\nc2,2024-01-03,direct\n")
    (tmp_path / "orders.csv").write_text("order_id,customer_id,ordered_at,revenue,cost,channel\n"
                                         "o1,c1,2024-01-05,100,60,web\no2,c2,2024-01-06,40,10,partner\n"
                                         "o3,c1,2024-01-20,10,5,store\n")
    from kpis.build import import_files

    import_files(tmp_path / "db.duckdb", orders=tmp_path / "orders.csv", customers=tmp_path / "customers.csv",
                 now=datetime(2025, 1, 1))
    db = kpis.connect(tmp_path / "db.duckdb")
    assert db.attributes == ("channel",)
    # customer c1 (partner): o1 100 + o3 10 = 110 — not o2, the order placed through the "partner" sales channel
    assert kpis.evaluate(db, "revenue", "2024-01", filters={"channel": "partner"}) == 110.0
    assert kpis.evaluate(db, "active_customers", "2024-01", filters={"channel": "direct"}) == 1
    parts = kpis.contributions(db, "revenue", "2024-01", "channel", compare="previous")
    assert dict(zip(parts["segment"], parts["value"], strict=True)) == {"partner": 110.0, "direct": 40.0}


@pytest.mark.parametrize("filters", FILTERS[:3], ids=lambda f: ",".join(f) or "everyone")
@pytest.mark.parametrize("grain_periods", [
    ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05"],  # 2023-04 and 2023-05: months without an order
    ["2024-12", "2024-11", "2023-12"],  # a comparison's three: now, previous, a year earlier
    ["2023-Q1", "2024-Q1", "2023-Q2"],
    ["2024"],
    ["2024-03", "2024-Q2", "2024-07", "2023"],  # grains mixed: a month then the quarter that follows it
])
def test_periods_in_one_pass_equal_each_period_alone(known_path, both, filters, grain_periods):
    keys = [k for k in KEYS if not isinstance(kpis.REGISTRY[k].compute, Computed)]
    fused_db, alone_db = kpis.connect(known_path), both[0]  # a fresh one remembers nothing: all in one pass
    first = scope(fused_db, grain_periods[0], filters)
    fused = evaluate_scopes(fused_db, keys, [first.at(Period.parse(p)) for p in grain_periods])
    for period, values in zip(grain_periods, fused, strict=True):
        alone = evaluate_scope(alone_db, keys, scope(alone_db, period, filters))
        assert [k for k in keys if not same(values[k], alone[k])] == [], period
