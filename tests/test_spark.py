"""The same KPIs on Spark (local mode): every registered KPI, table and PDF against DuckDB on a demo, and the
errors that tell a user what to do. (The known-answer and CDNOW tests run on both engines through the `engine`
fixture of tests/conftest.py.)

Each database is exported from DuckDB to Parquet and read by Spark through an engine config file, as a company's
lake would be. One SparkSession (local[2], tests/conftest.py) serves the suite; each database gets its own session
on it. Skipped, saying why, when pyspark or Java 17 is missing (`make test` installs pyspark, `.ci/run` Java).
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import kpis
from kpis.clv import rfm_compressed, rfm_summary
from kpis.clv.rfm import rfm_patterns
from tests import test_clv as clv_tests
from tests import test_kpis_known as known_tests
from tests.conftest import CONNECT_PORT, SPARK, export, write_config

pytestmark = SPARK


@pytest.fixture(scope="module")
def spark(spark_session):
    return spark_session


def same(spark_value, duck_value, what: str = "") -> None:
    """Equal across engines: integers exactly (and still integers), money and rates within 1e-9 relative."""
    if duck_value is None or spark_value is None:
        assert spark_value is None and duck_value is None, what
    elif isinstance(duck_value, int) and not isinstance(duck_value, bool):
        assert type(spark_value) is int and spark_value == duck_value, what
    else:
        assert isinstance(spark_value, float), what
        assert math.isclose(spark_value, duck_value, rel_tol=1e-9, abs_tol=1e-12), f"{what}: {spark_value} {duck_value}"


def same_frames(spark_frame: pd.DataFrame, duck_frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(spark_frame, duck_frame, check_exact=False, rtol=1e-9, atol=1e-12)


# --- the known-answer fixture --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def known(known_path, on_engine, spark):
    """The known-answer fixture on both engines, the same databases tests/test_kpis_known.py reads."""
    return on_engine(known_path, "duckdb"), on_engine(known_path, "spark")


def test_a_config_file_opens_spark(known):
    duck, lake = known
    assert lake.dialect == "pyspark" and lake.metadata["engine"] == "spark" and lake.metadata["currency"] == "EUR"
    assert (lake.data_start, lake.data_end, lake.attributes) == (duck.data_start, duck.data_end, duck.attributes)
    assert lake.filter_values("region") == duck.filter_values("region")


@pytest.mark.parametrize("key, period, filters, expected", known_tests.KNOWN)
def test_known_answers_are_the_same_values_and_types(known, key, period, filters, expected):
    """tests/test_kpis_known.py runs every known answer on Spark too; here each value also has DuckDB's type."""
    duck, lake = known
    same(kpis.evaluate(lake, key, period, filters=filters), kpis.evaluate(duck, key, period, filters=filters), key)


# --- CLV: CDNOW ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow(cdnow_path, on_engine, spark):
    return on_engine(cdnow_path, "duckdb"), on_engine(cdnow_path, "spark")


def test_cdnow_summary_is_the_same_on_both_engines(cdnow):
    duck, lake = cdnow
    for end, unit, filters in ((clv_tests.CALIBRATION_END, "W", {}), ("1998-06-30", "D", {}),
                               (clv_tests.CALIBRATION_END, "M", {"cohort": "1997-02"})):
        spark_summary = rfm_summary(lake, end, unit, filters=filters)
        same_frames(spark_summary, rfm_summary(duck, end, unit, filters=filters))
        assert spark_summary.attrs == rfm_summary(duck, end, unit, filters=filters).attrs


def test_rfm_summary_known_answer_on_spark(tmp_path, spark):
    # The hand-built set of test_clv (same-day orders merged, an order on the end day, one after it) on Spark.
    con = clv_tests._tiny()
    con.execute("INSERT INTO customers SELECT customer_id, min(ordered_at)::DATE, 'web', 'FR' FROM orders GROUP BY 1")
    con.execute(f"ATTACH '{tmp_path / 'tiny.duckdb'}' AS tiny")
    con.execute("COPY FROM DATABASE memory TO tiny")
    con.close()
    lake = kpis.connect(export(tmp_path / "tiny.duckdb", tmp_path / "lake"))
    bare = clv_tests._tiny()
    for end, unit in (("2024-01-29", "D"), ("2024-01-29", "W"), ("2024-01-29", "M"), ("2024-01-14", "D")):
        same_frames(rfm_summary(lake, end, unit), rfm_summary(bare, end, unit))
    assert rfm_summary(lake, "2024-01-29", "D").loc["c1"].tolist() == [2, 14.0, 28.0, 30.0]


def test_patterns_are_the_compressed_summary_on_both_engines(cdnow):
    for db in cdnow:
        summary = rfm_summary(db, clv_tests.CALIBRATION_END)
        patterns = rfm_patterns(db, clv_tests.CALIBRATION_END)
        same_frames(patterns, rfm_compressed(summary))
        assert patterns.attrs == summary.attrs and len(patterns) < len(summary) / 2
    by = [rfm_patterns(db, clv_tests.CALIBRATION_END, by="region") for db in cdnow]
    same_frames(*by)
    assert by[0]["weight"].sum() == len(rfm_summary(cdnow[0], clv_tests.CALIBRATION_END))
    with pytest.raises(kpis.KPIError, match="unknown customer column"):
        rfm_patterns(cdnow[1], clv_tests.CALIBRATION_END, by="favourite_colour")


def test_a_spark_connect_server_gives_the_same_answers(known, cdnow, spark):
    # A Spark Connect server in the test's own Spark (as `start-connect-server.sh` runs one on a cluster).
    spark._jvm.org.apache.spark.sql.connect.service.SparkConnectService.start(spark._jsc.sc())
    duck, lake = known
    config = write_config(Path(lake.name).parent, f"sc://localhost:{CONNECT_PORT}", "connect.toml")
    remote = kpis.connect(config)
    assert type(remote.spark).__module__.startswith("pyspark.sql.connect")
    for key, period, filters, _ in known_tests.KNOWN[::4]:
        same(kpis.evaluate(remote, key, period, filters=filters), kpis.evaluate(duck, key, period, filters=filters),
             key)
    same_frames(kpis.cohort_retention(remote, "2023-01", "2023-02"), kpis.cohort_retention(duck, "2023-01", "2023-02"))
    # predictive CLV: the server's executors score every customer (mapInArrow through the Connect client)
    remote = kpis.connect(write_config(Path(cdnow[1].name).parent, f"sc://localhost:{CONNECT_PORT}", "connect.toml"))
    for key in ("customer_equity", "customers_at_risk", "value_at_risk"):
        expected = kpis.evaluate(cdnow[0], key, "1998-06")
        assert expected, key
        same(kpis.evaluate(remote, key, "1998-06"), expected, key)


# --- helpful errors ------------------------------------------------------------------------------------------


def _lake(tmp_path, spark, body: str) -> Path:
    con = duckdb.connect()
    con.execute("CREATE TABLE o AS SELECT 'c1' AS customer_id, TIMESTAMP '2024-01-05 10:00' AS ordered_at, "
                "12.5::DECIMAL(18,2) AS revenue")
    con.execute(f"COPY o TO '{tmp_path / 'orders.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT customer_id, ordered_at FROM o) TO '{tmp_path / 'no_revenue.parquet'}' (FORMAT parquet)")
    config = tmp_path / "spark.toml"
    config.write_text('engine = "spark"\nmaster = "local[2]"\n' + body)
    return config


def test_only_orders_are_needed(tmp_path, spark):
    db = kpis.connect(_lake(tmp_path, spark, '[tables]\norders = "orders.parquet"\n'))
    assert kpis.evaluate_many(db, ["orders", "revenue", "new_customers", "nps_answers"], "2024-01") == {
        "orders": 1, "revenue": 12.5, "new_customers": 1, "nps_answers": 0}
    assert db.filter_values("acquisition_channel") == ("unknown",)


def test_an_engine_config_can_name_a_duckdb_file(known, tmp_path):
    duck = Path(known[0].name)
    (tmp_path / "local.toml").write_text(f'engine = "duckdb"\npath = "{duck}"\n')
    db = kpis.connect(tmp_path / "local.toml")
    assert db.dialect == "duckdb" and kpis.evaluate(db, "orders", "2023") == 20


def test_a_session_and_catalog_tables(tmp_path, spark):
    # kpis.connect(spark_session, tables=…): here a catalog table (a global temp view) and a Parquet path.
    _lake(tmp_path, spark, "")
    spark.read.parquet(str(tmp_path / "orders.parquet")).createOrReplaceGlobalTempView("ec_orders")
    db = kpis.connect(spark, tables={"orders": "global_temp.ec_orders"}, currency="USD")
    assert db.metadata["currency"] == "USD" and db.metadata["tables"] == {"orders": "table global_temp.ec_orders"}
    assert kpis.evaluate(db, "revenue", "2024") == 12.5
    again = kpis.connect(spark, tables={"orders": str(tmp_path / "orders.parquet")})
    assert kpis.evaluate(again, "orders", "2024") == 1 and kpis.evaluate(db, "orders", "2024") == 1


@pytest.mark.parametrize("body, message", [
    ('[tables]\ncustomers = "orders.parquet"\n', r"no orders table in .*spark\.toml: add it under \[tables\]"),
    ('[tables]\norders = "no_revenue.parquet"\n', r"table orders .* has no column revenue: it needs order_id"),
    ('[tables]\norders = "missing/orders.parquet"\n', r"table orders: cannot read parquet .*check the path"),
    ('[tables]\norders = "sales.orders"\n', r"table orders: cannot read table sales\.orders .*check the name"),
    ('[tables]\norders = "orders.parquet"\nsupplier = "x.parquet"\n', r"supplier is not a table of the data model"),
    ('colour = "blue"\n[tables]\norders = "orders.parquet"\n', r"unknown setting colour"),
    ('[tables\n', r"is not valid TOML"),
])
def test_config_mistakes_say_what_to_do(tmp_path, spark, body, message):
    from kpis.spark import EngineError

    with pytest.raises(EngineError, match=message):
        kpis.connect(_lake(tmp_path, spark, body))


@pytest.mark.parametrize("master, message", [
    ("spark://127.0.0.1:9", r"cannot reach the Spark master spark://127\.0\.0\.1:9 .*set master = \"local\[\*\]\""),
    ("sc://127.0.0.1:9", r"cannot reach the Spark Connect server sc://127\.0\.0\.1:9 .*Spark Connect on 15002"),
])
def test_an_unreachable_master_says_what_to_check(tmp_path, spark, master, message):
    from kpis.spark import EngineError

    config = _lake(tmp_path, spark, '[tables]\norders = "orders.parquet"\n')
    config.write_text(config.read_text().replace('master = "local[2]"', f'master = "{master}"'))
    with pytest.raises(EngineError, match=message):
        kpis.connect(config)


def test_missing_java_says_how_to_install_it(monkeypatch):
    from kpis import spark as engine

    monkeypatch.setenv("JAVA_HOME", "/nonexistent/jdk")
    monkeypatch.setattr(engine, "_JAVA_OK", [])
    assert engine.java_problem() == "Spark needs Java: JAVA_HOME=/nonexistent/jdk has no bin/java"
    with pytest.raises(engine.EngineError, match=r"apt-get install -y openjdk-17-jre-headless.*sc://"):
        engine._check_java()
