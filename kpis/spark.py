"""The KPI catalog on Spark: a small config file, a session, the four tables as typed views, a DuckDB-like cursor.

The KPI declarations are Ibis expressions over unbound tables; `kpis.database.Database` compiles them to DuckDB SQL,
`SparkDatabase` to Spark SQL and runs them with `spark.sql`. Only aggregates (or per-pattern summaries) come back
to Python, as Arrow, with Spark's types normalised to what DuckDB returns (decimals → float, counts → int64,
timestamps → naive UTC wall-clock time).

A config file (TOML) says where the data lives:

    engine = "spark"
    master = "local[*]"               # a cluster ("spark://host:7077", "yarn", "k8s://…") or "sc://host:15002"
    currency = "EUR"

    [tables]                          # a Parquet file or folder (relative to this file, or any Hadoop URI),
    orders = "lake/orders.parquet"    # or a catalog table: "sales.orders", { table = "orders" }, { parquet = "…" }
    customers = "lake/customers.parquet"
    feedback = "crm.survey_answers"
    marketing_spend = "lake/spend.parquet"

    [spark]                           # optional Spark settings for the session
    "spark.driver.memory" = "8g"

Only orders is required, as for an import: customers default to the buyers in orders (acquired at their first order,
channel and region "unknown"), feedback and marketing_spend to empty tables. Columns are found by name (case
ignored), cast to the declared types (store.schema), and optional columns take the importer's defaults; extra
customer columns are customer attributes. `engine = "duckdb"` with `path = "…"` opens a DuckDB file instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa

from kpis.database import Database, open_duckdb
from kpis.sources import ACTIVITY, FACTS, activity, base_tables, customer_value, facts
from store.schema import SCHEMA_VERSION, TABLES, UNKNOWN

DEFAULT_MASTER = "local[*]"
# Applied to sessions this module starts (the [spark] section overrides them). UTC: timestamps are wall-clock times
# (DuckDB TIMESTAMP), so the session must not shift them.
DEFAULTS = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false"}
# Local mode: few shuffle partitions (200 is for clusters); the in-memory catalog's warehouse folder (which Spark
# creates on first use) in the temp folder rather than wherever the process runs.
LOCAL_DEFAULTS = DEFAULTS | {"spark.sql.shuffle.partitions": str(max(4, 2 * (os.cpu_count() or 2))),
                             "spark.sql.warehouse.dir": os.path.join(tempfile.gettempdir(), "empty-chair-warehouse")}
REQUIRED_TABLES = ("orders",)
_JAVA_ADVICE = ("install Java 17 (Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless; macOS: brew install "
                "openjdk@17) or point JAVA_HOME at one; or use a Spark Connect server (master = \"sc://host:15002\"), "
                "which needs no Java on this machine")
_java_checked = threading.Lock()
_JAVA_OK: list[str] = []


class EngineError(RuntimeError):
    """The engine cannot be set up: a bad config, a missing table or column, an unreachable master, no Java."""


# --- configuration -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where one table comes from: a Parquet path (file, folder or URI) or a catalog table."""

    kind: str  # "parquet" | "table"
    location: str

    def __str__(self) -> str:
        return f"{self.kind} {self.location}"


@dataclass(frozen=True)
class SparkConfig:
    master: str = DEFAULT_MASTER
    tables: dict[str, Source] = field(default_factory=dict)
    currency: str = "EUR"
    settings: dict[str, str] = field(default_factory=dict)
    origin: str = ""  # the config file, for messages


_TABLE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*){0,2}$")
_TOP_KEYS = {"engine", "master", "currency", "tables", "spark", "path"}


def is_config(path) -> bool:
    """Whether a --db value names an engine config file (TOML) rather than a DuckDB file."""
    return isinstance(path, str | os.PathLike) and Path(path).suffix.lower() == ".toml"


def read_config(path) -> dict:
    path = Path(path)
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise EngineError(f"no engine config at {path}: see README, \"Running on Spark\"") from None
    except tomllib.TOMLDecodeError as error:
        raise EngineError(f"{path} is not valid TOML: {error}") from None


def load_config(path) -> SparkConfig:
    """Parse and check a Spark engine config file."""
    path = Path(path).absolute()
    raw = read_config(path)
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise EngineError(f"{path}: unknown setting {', '.join(unknown)}; use {', '.join(sorted(_TOP_KEYS))}")
    if raw.get("engine", "spark") != "spark":
        raise EngineError(f"{path}: engine = {raw['engine']!r} is not a Spark config (engine = \"spark\")")
    tables = raw.get("tables", {})
    if not isinstance(tables, dict):
        raise EngineError(f"{path}: [tables] must map table names to Parquet paths or catalog tables")
    extra = sorted(set(tables) - set(TABLES))
    if extra:
        raise EngineError(f"{path}: [tables] {', '.join(extra)} is not a table of the data model; "
                          f"use {', '.join(TABLES)}")
    sources = {name: _source(name, value, path) for name, value in tables.items()}
    settings = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in _flatten(raw.get("spark", {}))}
    return SparkConfig(master=str(raw.get("master", DEFAULT_MASTER)), tables=sources,
                       currency=str(raw.get("currency", "EUR")), settings=settings, origin=str(path))


def _flatten(section, prefix: str = ""):
    if not isinstance(section, dict):
        raise EngineError("[spark] must hold Spark settings, e.g. \"spark.driver.memory\" = \"8g\"")
    for key, value in section.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, name + ".")
        else:
            yield (name if name.startswith("spark.") else f"spark.{name}"), value


def _source(name: str, value, config: Path) -> Source:
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("parquet", "table"):
        kind, location = next(iter(value.items()))
    elif isinstance(value, str) and value:
        table = _TABLE_NAME.match(value) and not value.lower().endswith(".parquet")
        kind, location = ("table" if table else "parquet"), value
    else:
        raise EngineError(f"{config}: [tables] {name} = {value!r}: give a Parquet path (\"lake/{name}.parquet\") or a "
                          f"catalog table (\"sales.{name}\", or {{ table = \"{name}\" }})")
    location = str(location)
    if kind == "parquet" and "://" not in location and not os.path.isabs(location):
        location = str((config.parent / location).resolve())
    return Source(kind, location)


# --- session -------------------------------------------------------------------------------------------------


def _require_pyspark():
    try:
        import pyspark
    except ImportError:
        raise EngineError("the Spark engine needs pyspark: .venv/bin/pip install -r requirements-spark.txt") from None
    if int(pyspark.__version__.split(".")[0]) < 4:
        raise EngineError(f"pyspark {pyspark.__version__} is too old (4.0 needed): "
                          ".venv/bin/pip install -r requirements-spark.txt")
    return pyspark


def java_problem() -> str | None:
    """Why Java cannot run Spark here (None when it can): missing, or older than 17."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return f"Spark needs Java: JAVA_HOME={home} has no bin/java" if home else \
            "Spark needs Java: there is no `java` on the PATH"
    try:
        text = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    except (OSError, subprocess.SubprocessError) as error:
        return f"{java} does not run ({error})"
    found = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if found:
        major = int(found.group(2)) if found.group(1) == "1" else int(found.group(1))
        if major < 17:
            return f"Spark 4 needs Java 17 or later, and {java} is Java {major}"
    return None


def _check_java() -> None:
    with _java_checked:
        if not _JAVA_OK:
            problem = java_problem()
            if problem:
                raise EngineError(f"{problem}: {_JAVA_ADVICE}")
            _JAVA_OK.append("ok")


def _endpoints(master: str) -> list[tuple[str, int]]:
    """(host, port) pairs a master URL names, for a reachability check (none for local, yarn…)."""
    if master.startswith("sc://"):
        authority, default = master[5:].split("/")[0].split(";")[0], 15002
    elif master.startswith("spark://"):
        authority, default = master[8:].split("/")[0], 7077
    elif master.startswith("k8s://"):
        rest = master[6:]
        rest = rest.split("://", 1)[1] if "://" in rest else rest
        authority, default = rest.split("/")[0], 443
    else:
        return []
    out = []
    for part in authority.split(","):
        host, _, port = part.rpartition(":") if ":" in part else (part, "", "")
        out.append((host.strip("[]") or "localhost", int(port) if port.isdigit() else default))
    return out


def _check_reachable(master: str, timeout: float = 5.0) -> None:
    endpoints = _endpoints(master)
    errors = []
    for host, port in endpoints:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return
        except OSError as error:
            errors.append(f"{host}:{port}: {error.strerror or error}")
    if endpoints:
        kind = "Spark Connect server" if master.startswith("sc://") else "Spark master"
        raise EngineError(
            f"cannot reach the {kind} {master} ({'; '.join(errors)}): check that it is running, the host name and "
            f"the port (standalone masters listen on 7077, Spark Connect on 15002) and any firewall; or set "
            f"master = \"local[*]\" to run Spark on this machine")


def session(master: str = DEFAULT_MASTER, settings: dict | None = None, app_name: str = "empty-chair"):
    """A Spark session for the master: local[*]/local[n], a cluster URL, or sc:// (Spark Connect)."""
    _require_pyspark()
    from pyspark.sql import SparkSession

    settings = (LOCAL_DEFAULTS if master.startswith("local") else DEFAULTS) | (settings or {})
    if master.startswith("sc://"):
        _check_reachable(master)
        try:  # the Connect client itself: pyspark's generic builder would switch the whole process to Connect
            from pyspark.sql.connect.session import SparkSession as RemoteSession
        except ImportError as error:
            raise EngineError(f"Spark Connect needs its client libraries ({_first_line(error)}): "
                              ".venv/bin/pip install -r requirements-spark.txt") from None
        try:
            spark = RemoteSession.builder.remote(master).create()  # a session of its own: temp views are per session
        except Exception as error:
            raise EngineError(f"the Spark Connect server {master} refused the session: {_first_line(error)}") from None
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        return spark
    from pyspark import SparkContext

    _check_reachable(master)
    running = SparkContext._active_spark_context
    if running is None:
        _check_java()
        if master.startswith("local"):  # Python workers (CLV scoring) run this interpreter and see this project
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            settings = {"spark.executorEnv.PYTHONPATH": str(Path(__file__).resolve().parents[1])} | settings
    elif _normal_master(running.master) != _normal_master(master):
        raise EngineError(f"this process already runs Spark on {running.master}; one process holds one Spark "
                          f"context, so master {master} cannot be used here: run it in another process")
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: say why in one line, with what to do
        raise EngineError(f"Spark did not start on {master}: {_first_line(error)}; check the master URL and Java "
                          f"({_JAVA_ADVICE})") from error
    spark.sparkContext.setLogLevel("ERROR")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


def _normal_master(master: str) -> str:
    return "local[1]" if master == "local" else master.replace("local[*]", f"local[{os.cpu_count()}]")


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _isolated(spark):
    """A session of its own for one database (temp views are per session); shares the context and its cache."""
    return spark.newSession() if hasattr(spark, "newSession") else spark


# --- the tables as typed views -------------------------------------------------------------------------------

_KINDS = {  # declared type -> (accepted Spark type prefixes, what a user should give)
    "VARCHAR": (("string", "varchar", "char", "int", "bigint", "smallint", "tinyint", "decimal", "date", "timestamp",
                 "double", "float", "boolean"), "text"),
    "DATE": (("date", "timestamp", "string"), "a date"),
    "TIMESTAMP": (("timestamp", "date", "string"), "a date-time"),
    "SMALLINT": (("tinyint", "smallint", "int", "bigint", "decimal", "double", "float"), "a whole number"),
    "DECIMAL(18,2)": (("tinyint", "smallint", "int", "bigint", "decimal", "double", "float"), "an amount"),
}
_SPARK_TYPES = {"VARCHAR": "STRING", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "SMALLINT": "SMALLINT",
                "DECIMAL(18,2)": "DECIMAL(18,2)"}
_RAW = "_emptychair_raw_{}"


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _read(spark, name: str, source: Source, origin: str):
    from pyspark.errors import AnalysisException

    where = f" (in {origin})" if origin else ""
    try:
        frame = spark.read.parquet(source.location) if source.kind == "parquet" else spark.table(source.location)
        frame.schema  # noqa: B018 - resolves the source now (lazy with Spark Connect), so errors surface here
        return frame
    except AnalysisException as error:
        text = _first_line(error)
        if source.kind == "parquet":
            advice = f"check the path of [tables] {name}{where}: a Parquet file or folder Spark can read"
        else:
            advice = (f"check the name of [tables] {name}{where}: a table of the session's catalog; for a file, give "
                      f"its path (\"lake/{name}.parquet\")")
        raise EngineError(f"table {name}: cannot read {source} ({text}); {advice}") from None


def _typed_select(name: str, frame, source: Source, origin: str) -> tuple[str, list[str]]:
    """SELECT list casting the source's columns to the declared ones (defaults for absent optional columns)."""
    table = TABLES[name]
    types = {f.name.lower(): (f.name, f.dataType.simpleString()) for f in frame.schema.fields}
    where = f" (in {origin})" if origin else ""
    missing = [c.name for c in table.columns if c.required and c.name not in types]
    if missing:
        raise EngineError(
            f"table {name} ({source}) has no column {', '.join(missing)}: it needs {', '.join(table.names)} "
            f"(optional: {', '.join(c.name for c in table.columns if not c.required)}; names are case-insensitive); "
            f"rename the column in the data or point [tables] {name}{where} at the right table")
    select = []
    for column in table.columns:
        target = _SPARK_TYPES[column.sql_type]
        if column.name in types:
            actual, spark_type = types[column.name]
            accepted, wanted = _KINDS[column.sql_type]
            if not spark_type.startswith(accepted):
                raise EngineError(f"table {name} ({source}): column {actual} is {spark_type}, expected {wanted} "
                                  f"({column.sql_type})")
            value = f"CAST({_q(actual)} AS {target})"
            if column.name in ("acquisition_channel", "region", "category", "channel", "touchpoint"):
                value = f"COALESCE({value}, '{UNKNOWN}')"
        elif column.name in ("order_id", "feedback_id"):  # generated, deterministic: a hash of the row
            value = f"CONCAT('{column.name[0].upper()}', SUBSTR(SHA2(TO_JSON(STRUCT(*)), 256), 1, 20))"
        elif column.name == "acquired_at":
            value = "CAST(NULL AS DATE)"  # filled from the first order below
        else:
            value = f"CAST({column.default or 'NULL'} AS {target})"
        select.append(f"{value} AS {column.name}")
    attributes = []
    if name == "customers":
        declared = {c.name for c in table.columns}
        for lower, (actual, _) in types.items():
            if lower not in declared:
                select.append(f"CAST({_q(actual)} AS STRING) AS {_q(actual)}")
                attributes.append(actual)
    return ", ".join(select), attributes


def _empty(name: str) -> str:
    columns = ", ".join(f"CAST(NULL AS {_SPARK_TYPES[c.sql_type]}) AS {c.name}" for c in TABLES[name].columns)
    return f"SELECT {columns} WHERE false"


_FIRST_ORDERS = "SELECT customer_id, CAST(min(ordered_at) AS DATE) AS first_order FROM orders GROUP BY customer_id"


def _cached_view(spark, name: str, query: str) -> None:
    """A temp view over a query whose result Spark keeps once computed (lazily: by the first query needing it).

    Cached through the DataFrame, not CACHE TABLE … AS: a view re-analysed from SQL text does not find the cache
    again when the query holds a CTE (Spark 4.0).
    """
    if spark.catalog.tableExists(name) and spark.catalog.isCached(name):  # from an earlier register() here
        spark.catalog.uncacheTable(name)
    frame = spark.sql(query)
    frame.createOrReplaceTempView(name)
    frame.cache()


def register(spark, config: SparkConfig, name: str = "") -> tuple[str, ...]:
    """Create the views orders, customers, feedback, marketing_spend, customer_value, the fact and activity tables
    and metadata.

    Returns the customer attributes (extra customer columns). customers, customer_value and the fact and activity
    tables (kpis.sources.FACTS, ACTIVITY) are derived and cached lazily: the first query that needs one computes it,
    the next ones reuse it.
    """
    for table in REQUIRED_TABLES:
        if table not in config.tables:
            where = f" in {config.origin}" if config.origin else ""
            raise EngineError(f"no {table} table{where}: add it under [tables], e.g. "
                              f"{table} = \"lake/{table}.parquet\" (a Parquet path) or {table} = \"sales.{table}\" "
                              "(a catalog table)")
    selects, attributes = {}, []
    for table in TABLES:
        source = config.tables.get(table)
        if source is None:
            selects[table] = None
            continue
        frame = _read(spark, table, source, config.origin)
        frame.createOrReplaceTempView(_RAW.format(table))
        selects[table], extra = _typed_select(table, frame, source, config.origin)
        attributes += extra
    for table in ("orders", "feedback", "marketing_spend"):
        body = _empty(table) if selects[table] is None else f"SELECT {selects[table]} FROM {_RAW.format(table)}"
        spark.sql(f"CREATE OR REPLACE TEMP VIEW {table} AS {body}")
    spark.sql("CREATE OR REPLACE TEMP VIEW _emptychair_given_customers AS "
              + (_empty("customers") if selects["customers"] is None
                 else f"SELECT {selects['customers']} FROM {_RAW.format('customers')}"))
    # As an import does: a customer without acquisition date is acquired at its first order; buyers missing from
    # customers are added, acquired at their first order, channel and region unknown.
    extra_nulls = "".join(f", CAST(NULL AS STRING) AS {_q(a)}" for a in attributes)
    extra_cols = "".join(f", g.{_q(a)}" for a in attributes)
    _cached_view(spark, "customers", f"""
        SELECT g.customer_id, COALESCE(g.acquired_at, f.first_order) AS acquired_at, g.acquisition_channel,
               g.region{extra_cols}
        FROM _emptychair_given_customers g LEFT JOIN ({_FIRST_ORDERS}) f ON g.customer_id = f.customer_id
        UNION ALL
        SELECT f.customer_id, f.first_order, '{UNKNOWN}', '{UNKNOWN}'{extra_nulls}
        FROM ({_FIRST_ORDERS}) f LEFT ANTI JOIN _emptychair_given_customers g ON f.customer_id = g.customer_id""")
    tables = base_tables()
    _cached_view(spark, "customer_value", to_spark_sql(customer_value(tables["orders"], tables["customers"])))
    with_attributes = base_tables(tuple(attributes))
    for source, name in FACTS.items():  # segments filter the rows' own columns (kpis.sources.facts)
        _cached_view(spark, name, to_spark_sql(facts(with_attributes, source, tuple(attributes))))
    _cached_view(spark, ACTIVITY, to_spark_sql(activity(with_attributes, tuple(attributes))))
    meta = {"schema_version": SCHEMA_VERSION, "currency": config.currency, "source": "spark", "engine": "spark",
            "master": config.master, "config": config.origin or name,
            "tables": {t: str(s) for t, s in config.tables.items()},
            "built_at": datetime.now(UTC).isoformat(timespec="seconds")}
    rows = [(k, json.dumps(v)) for k, v in meta.items()]
    spark.createDataFrame(rows, "key STRING, value STRING").createOrReplaceTempView("metadata")
    return tuple(attributes)


# --- running queries -----------------------------------------------------------------------------------------


def normalise(table: pa.Table) -> pa.Table:
    """Spark's Arrow types as DuckDB returns them: decimals → float64, INT → int64, timestamps naive."""
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_decimal(kind):
            column = column.cast(pa.float64())
        elif kind == pa.int32():  # Spark's INT results (EXTRACT, DATEDIFF…) are DuckDB's BIGINT
            column = column.cast(pa.int64())
        elif pa.types.is_timestamp(kind) and kind.tz is not None:
            column = column.cast(pa.timestamp(kind.unit))  # UTC session: the wall-clock time as stored
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A normalised Arrow table as DuckDB's .df() gives it: dates as datetime64, integers with NULLs as Int64, text
    columns without a value as object."""
    columns = [c.cast(pa.timestamp("us")) if pa.types.is_date(c.type) else c for c in table.columns]
    table = pa.Table.from_arrays(columns, names=table.column_names)
    frame = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.type == pa.int64() and column.null_count == 0:
            frame[name] = frame[name].astype("int64")
        elif pa.types.is_string(column.type) and column.null_count == len(column):  # DuckDB: object, None
            frame[name] = pd.Series([None] * len(column), index=frame.index, dtype=object)
    return frame


class SparkCursor:
    """Enough of a DuckDB cursor for the catalog: execute (with ? parameters), fetchone, fetchall, df, description."""

    def __init__(self, spark):
        self.spark = spark
        self.description: list[tuple] | None = None
        self._table: pa.Table | None = None
        self._next = 0

    def execute(self, sql: str, parameters=None) -> SparkCursor:
        frame = self.spark.sql(sql, args=list(parameters)) if parameters else self.spark.sql(sql)
        self._table = normalise(frame.toArrow())
        self._next = 0
        self.description = [(f.name, str(f.type), None, None, None, None, None) for f in self._table.schema]
        return self

    def fetchall(self) -> list[tuple]:
        rows = self._rows(self._next, None)
        self._next = self._table.num_rows
        return rows

    def fetchone(self) -> tuple | None:
        if self._table is None or self._next >= self._table.num_rows:
            return None
        row = self._rows(self._next, 1)[0]
        self._next += 1
        return row

    def df(self) -> pd.DataFrame:
        return to_pandas(self._table)

    def _rows(self, start: int, length: int | None) -> list[tuple]:
        part = self._table.slice(start, length)
        columns = [c.to_pylist() for c in part.columns]
        return list(zip(*columns, strict=True)) if columns else []


class SparkConnection:
    """What Database holds for Spark: a session with the views, handing out cursors (any thread)."""

    def __init__(self, spark):
        self.spark = spark

    def cursor(self) -> SparkCursor:
        return SparkCursor(self.spark)

    def close(self) -> None:
        """Drop the cached derived tables (the session's context stays for other databases)."""
        for view in ("customers", "customer_value"):
            self.spark.sql(f"UNCACHE TABLE IF EXISTS {view}")


def _compiler():
    """Ibis's Spark SQL compiler with DuckDB's arithmetic, so that one declaration gives one number on both engines.

    - `/` divides in double precision, as DuckDB's does: Spark keeps a DECIMAL operand (a literal like 7.0 is one)
      decimal and rounds the quotient to 6 places (213 days / 7.0 would be 30.428571, not 30.428571428571427);
    - the mean of a DECIMAL is a double (Spark's is a DECIMAL rounded to 4 more places);
    - a filtered count of no rows is 0 (ibis's SUM(CAST(condition AS BIGINT)) gives NULL);
    - LIMIT … OFFSET (Spark ≥ 3.4) instead of ibis's ROW_NUMBER() OVER (ORDER BY NULL) emulation, which loses the
      order a page of verbatims is read in.
    """
    ibis.pyspark  # noqa: B018 - registers ibis.options.pyspark, which the compiler reads
    import ibis.expr.datatypes as dt
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.base import STAR, SQLGlotCompiler
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    class Compiler(PySparkCompiler):
        rewrites = SQLGlotCompiler.rewrites

        def visit_Divide(self, op, *, left, right):
            return self.binop(sge.Div, self.cast(left, dt.float64), self.cast(right, dt.float64))

        def visit_CountStar(self, op, *, arg, where):
            return self.f.count(STAR) if where is None else self.f.count_if(where)  # 0, not NULL, when empty

        def visit_Mean(self, op, *, arg, where, **kw):
            if op.arg.dtype.is_decimal():
                arg = self.cast(arg, dt.float64)
            return super().visit_Mean(op, arg=arg, where=where, **kw)

    return Compiler()


_COMPILERS: list = []


def to_spark_sql(expr: ibis.Expr) -> str:
    """An Ibis expression over the unbound tables as Spark SQL (see _compiler)."""
    if not _COMPILERS:
        _COMPILERS.append(_compiler())
    compiler = _COMPILERS[0]
    return compiler.to_sqlglot(expr.unbind()).sql(dialect=compiler.dialect, pretty=True)


class SparkDatabase(Database):
    """The KPI database on a Spark session: the same declarations, compiled to Spark SQL."""

    dialect = "pyspark"

    def __init__(self, spark, config: SparkConfig, name: str = ""):
        self.spark, self.config = spark, config
        attributes = register(spark, config, name)
        super().__init__(SparkConnection(spark), name=name or config.origin or "spark", attributes=attributes)

    def sql(self, expr: ibis.Expr) -> str:
        return to_spark_sql(expr)

    def has_table(self, name: str) -> bool:
        return self.spark.catalog.tableExists(name)

    def arrow(self, expr: ibis.Expr) -> pa.Table:
        return self.cursor().execute(self.sql(expr))._table

    def register_frame(self, name: str, frame: pd.DataFrame) -> None:
        """A temp view of this database's session (every cursor shares the session)."""
        self.spark.createDataFrame(frame.reset_index(drop=True)).createOrReplaceTempView(name)

    def keep(self, name: str, expr: ibis.Table) -> ibis.Table:
        """A temp view of the expression that Spark caches once computed (nothing comes to the driver)."""
        _cached_view(self.spark, name, self.sql(expr))
        return ibis.table(expr.schema(), name=name)

    def score_batches(self, name: str, expr: ibis.Table, fn, schema: dict[str, str]) -> ibis.Table:
        """A cached temp view of `fn` run by Spark's executors on the expression's Arrow record batches (mapInArrow):
        a distributed job whose rows never reach the driver."""
        ddl = ", ".join(f"`{c}` {_SPARK_RESULT_TYPES[t]}" for c, t in schema.items())
        frame = self.spark.sql(self.sql(expr)).mapInArrow(fn, ddl)
        frame.createOrReplaceTempView(name)
        frame.cache()
        return ibis.table(schema, name=name)

    def forget(self, name: str) -> None:
        """Uncache and drop a view kept or scored (a scored view computed from it keeps its own cache)."""
        if self.spark.catalog.tableExists(name):
            self.spark.catalog.uncacheTable(name)
            self.spark.catalog.dropTempView(name)


_SPARK_RESULT_TYPES = {"string": "string", "int64": "bigint", "float64": "double", "boolean": "boolean"}


def connect(source, tables: dict | None = None, currency: str | None = None) -> Database:
    """A KPI database on Spark, from a config file (TOML) or a SparkSession.

    With a session, `tables` maps table names to Parquet paths or catalog tables (default: the catalog tables
    orders, customers, feedback, marketing_spend) and the views are created in a new session sharing its context
    (temp views of the given session are not seen: save them as tables or Parquet).
    """
    if isinstance(source, str | os.PathLike):
        raw = read_config(source)
        if raw.get("engine", "spark") == "duckdb":
            if "path" not in raw:
                raise EngineError(f"{source}: engine = \"duckdb\" needs path = \"…/emptychair.duckdb\"")
            path = Path(raw["path"])
            return open_duckdb(path if path.is_absolute() else Path(source).absolute().parent / path)
        config = load_config(source)
        spark = session(config.master, config.settings)
        return SparkDatabase(_isolated(spark), config, name=str(Path(source).absolute()))
    _require_pyspark()
    given = tables if tables is not None else {t: t for t in TABLES}
    sources = {t: v if isinstance(v, Source) else _source(t, v, Path.cwd() / "session") for t, v in given.items()}
    config = SparkConfig(master=_master_of(source), tables=sources, currency=currency or "EUR")
    spark = _isolated(source)
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return SparkDatabase(spark, config, name=f"spark session ({config.master})")


def _master_of(spark) -> str:
    try:
        return spark.sparkContext.master
    except Exception:  # Spark Connect sessions have no SparkContext
        return "spark connect"
