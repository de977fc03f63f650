"""Opening a database: a DuckDB build, or the same tables on Spark (an engine config file or a SparkSession)."""

from __future__ import annotations

import os

from kpis.database import Database, open_duckdb
from kpis.spark import connect as connect_spark
from kpis.spark import is_config
from store.files import db_path


def connect(path=None, **spark_options) -> Database:
    """Open the current build read-only (path, else $EMPTYCHAIR_DB, else data/emptychair.duckdb).

    An engine config file (`.toml`, README "Running on Spark") or a SparkSession runs the same KPIs on Spark
    instead (kpis.spark.connect; `tables=` and `currency=` go with a session).
    """
    if path is not None and not isinstance(path, str | os.PathLike):  # a SparkSession
        return connect_spark(path, **spark_options)
    if is_config(db_path(path)):
        return connect_spark(db_path(path), **spark_options)
    if spark_options:
        raise TypeError(f"{', '.join(spark_options)}: only for a SparkSession")
    return open_duckdb(db_path(path))
