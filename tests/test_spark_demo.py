"""The same numbers on Spark on a demo: every registered KPI, the tables, both PDF editions, the dashboard and the CLI,
against DuckDB, and the customers scored by a Spark job (a file of its own so that a second test process can run it
beside tests/test_spark.py)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import ibis
import pytest
from pypdf import PdfReader

import kpis
from kpis.spark import SparkDatabase
from report import render
from report.data import collect
from report.layout import value_text
from tests.conftest import SPARK, export
from tests.test_spark import same, same_frames

pytestmark = SPARK


# --- every registered KPI on a demo --------------------------------------------------------------------------

DEMO_CASES = [
    ("2026-10", {}, None),
    ("2026-10", {"acquisition_channel": "referral"}, None),
    ("2025-Q3", {"region": "FR", "segment": "business"}, None),
    ("2025", {"value_tier": "top 10%"}, None),
    ("2025-Q3", {"cohort": "2024-Q1"}, None),
    ("2026-10", {}, {"touchpoint": "delivery"}),
]


@pytest.fixture(scope="module")
def demo(demo_base, on_engine):
    path = demo_base(2_500, 3)
    return on_engine(path, "duckdb"), on_engine(path, "spark")


@pytest.mark.parametrize("period, filters, params", DEMO_CASES)
def test_every_registered_kpi_is_the_same_on_both_engines(demo, period, filters, params):
    duck, lake = demo
    keys = list(kpis.REGISTRY)
    on_duck = kpis.evaluate_many(duck, keys, period, params=params, filters=filters)
    on_spark = kpis.evaluate_many(lake, keys, period, params=params, filters=filters)
    assert sum(v is not None for v in on_duck.values()) > len(keys) / 2  # a real comparison, not Nones
    for key in keys:
        same(on_spark[key], on_duck[key], key)


def test_tables_are_the_same_on_both_engines(demo):
    duck, lake = demo
    period = "2026-Q3"
    tables = [
        lambda db: kpis.cohort_retention(db, "2025-01", "2025-06"),
        lambda db: kpis.cohort_retention(db, filters={"acquisition_channel": "search"}),
        lambda db: kpis.value_deciles(db),
        lambda db: kpis.value_deciles(db, period, filters={"region": "FR"}),
        lambda db: kpis.concentration_curve(db, points=20),
        lambda db: kpis.effort_by_touchpoint(db, period),
        lambda db: kpis.value_by_nps_group(db, period)["table"],
        lambda db: kpis.verbatims(db, period, limit=25),
        lambda db: kpis.verbatims(db, None, search="app", limit=40),
        lambda db: db.frame(db.tables["feedback"].order_by([ibis.desc("answered_at"), ibis.desc("feedback_id")])
                            .select("feedback_id", "score").limit(50, offset=120)),  # a page, in order
        lambda db: kpis.themes(db, period).drop(columns=["detractor_examples", "promoter_examples"]),
        lambda db: kpis.compare(db, ["revenue", "retention_rate", "nps"], period).astype(float),
        lambda db: kpis.trend(db, ["orders", "active_customers"], period, periods=4),
        lambda db: kpis.series(db, "average_order_value", "2025-01", "2025-06"),
    ]
    for table in tables:
        expected = table(duck)
        assert len(expected) > 0
        same_frames(table(lake), expected)
    assert kpis.nps_with_margin(lake, period) == pytest.approx(kpis.nps_with_margin(duck, period), rel=1e-9)
    assert kpis.effort_peak(lake, period) == kpis.effort_peak(duck, period)


def test_the_pdf_is_built_on_spark_with_the_same_numbers(demo):
    """The board edition from a Parquet lake on Spark: every figure, table and the model check as on DuckDB (whose
    build stores its fitted models and model check; Spark fits them from the lake), and the PDF draws them. (The
    partner edition is the same numbers, suppressed: tests/test_report.py.)"""
    edition = "board"
    duck, lake = demo
    on_duck = collect(duck, "2026-Q3", compare="year_ago", edition=edition)
    on_spark = collect(lake, "2026-Q3", compare="year_ago", edition=edition)
    assert on_duck.figures.keys() == on_spark.figures.keys()
    for key, figure in on_duck.figures.items():
        same(on_spark.figures[key].value, figure.value, key)
        same(on_spark.figures[key].reference, figure.reference, f"{key} a year earlier")
        assert on_spark.figures[key].suppressed == figure.suppressed, key
    assert sum(f.value is not None for f in on_duck.figures.values()) > 30  # a real comparison, not Nones
    for table in ("channels", "trend", "cohorts", "deciles", "effort"):
        same_frames(getattr(on_spark, table).astype({c: float for c in getattr(on_duck, table).select_dtypes(
            "number").columns}), getattr(on_duck, table).astype({c: float for c in getattr(on_duck, table)
                                                                 .select_dtypes("number").columns}))
    if edition == "board":
        for part in ("holdout", "spend"):
            assert on_spark.check[part] == pytest.approx(on_duck.check[part], rel=1e-9), part
        same_frames(on_spark.check["buckets"], on_duck.check["buckets"])
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(render(on_spark))).pages)
    for key in ("customer_equity", "revenue", "active_customers", "retention_rate"):
        assert value_text(on_duck, key) in text, key


def test_dashboard_and_cli_accept_a_spark_config(demo, monkeypatch, capsys):
    import cli
    from tests.test_app import app, metrics

    duck, lake = demo
    assert cli.main(["info", "--db", lake.name]) == 0
    facts = capsys.readouterr().out
    orders = duck.cursor().execute("SELECT count(*) FROM orders").fetchone()[0]
    assert "source: spark" in facts and f"orders: {orders}\n" in facts
    shown = {}
    for db in (duck, lake):
        monkeypatch.setenv("EMPTYCHAIR_DB", db.name)
        at = app()
        assert not at.exception
        shown[db.dialect] = metrics(at)
    assert shown["pyspark"] == shown["duckdb"] and shown["duckdb"]


# --- predictive CLV: every customer scored by Spark, only aggregates on the driver ---------------------------------

CLV_KEYS = ["predictive_clv", "customer_equity", "new_customer_value", "clv_cac", "cac_payback_months",
            "customers_at_risk", "value_at_risk"]
PATTERNS = ("channel", "frequency", "recency_days", "age_days", "weight", "recency", "T")  # BG/NBD's, per channel
FIT_INPUTS = {PATTERNS, PATTERNS[1:], ("frequency", "monetary_value", "weight")}  # and pooled; Gamma-Gamma's


@pytest.fixture(scope="module")
def fresh_lake(demo_base, tmp_path_factory):
    """The demo's lake opened anew: no model fitted yet (the `demo` fixture's lake may have fitted them)."""
    return kpis.connect(export(demo_base(2_500, 3), tmp_path_factory.mktemp("fresh_lake")))


@pytest.mark.parametrize("period, end", [
    ("2026-10", date(2026, 10, 31)),  # the DuckDB build's stored model: Spark fits what the build stored
    ("2026-03", date(2026, 3, 31)),  # fitted on both engines
])
def test_customers_are_scored_by_a_spark_job_and_the_driver_gets_aggregates(demo, fresh_lake, monkeypatch, period,
                                                                             end):
    duck, lake = demo[0], fresh_lake
    spark = lake.spark
    scored = spark.sparkContext.accumulator(0)  # rows the scoring function yields, added up from the executors
    score_batches = SparkDatabase.score_batches

    def counting(self, name, expr, fn, schema):
        def counted(batches):
            for batch in fn(batches):
                scored.add(batch.num_rows)
                yield batch

        return score_batches(self, name, expr, counted, schema)

    monkeypatch.setattr(SparkDatabase, "score_batches", counting)
    received, sent = [], []  # (columns, rows) of every result the driver collects; rows it sends to Spark
    frame_type = type(spark.sql("SELECT 1"))
    for method in ("toArrow", "toPandas", "collect"):
        original = getattr(frame_type, method)

        def collecting(self, *args, original=original, **kwargs):
            result = original(self, *args, **kwargs)
            received.append((tuple(self.columns), len(result)))
            return result

        monkeypatch.setattr(frame_type, method, collecting)
    create = type(spark).createDataFrame

    def sending(self, data, *args, **kwargs):
        sent.append(len(data))
        return create(self, data, *args, **kwargs)

    monkeypatch.setattr(type(spark), "createDataFrame", sending)

    values = kpis.evaluate_many(lake, CLV_KEYS, period)
    monkeypatch.undo()

    expected = kpis.evaluate_many(duck, CLV_KEYS, period)
    assert sum(v is not None for v in expected.values()) == len(CLV_KEYS)
    for key in CLV_KEYS:
        same(values[key], expected[key], key)
    customers = duck.cursor().execute("SELECT count(DISTINCT customer_id) FROM orders WHERE ordered_at < ?",
                                      [end + timedelta(days=1)]).fetchone()[0]
    assert scored.value == customers  # every customer, once, on the executors
    name = lake._value_models[end].scores.get_name()
    assert "MapInArrow" in spark.table(name)._jdf.queryExecution().executedPlan().toString()
    assert spark.catalog.isCached(name) and not spark.catalog.tableExists(f"clv_inputs_{end:%Y%m%d}")
    assert sent == []
    assert received and all("customer_id" not in columns and rows < customers for columns, rows in received)
    large = {columns for columns, rows in received if rows > 100}  # the others: a handful of rows each
    assert PATTERNS in large and large <= FIT_INPUTS
