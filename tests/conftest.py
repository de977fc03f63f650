"""What several test files share: demo bases built once per session, and the engines every number must agree on.

- `demo_base(customers, seed)`: the path of a demo build made once per session for those arguments (files that
  need the same base share it instead of each building its own).
- `engine`: "duckdb" and "spark", so that a fixture built on it runs its tests on both engines; the Spark case is
  marked `spark` and skipped, saying why, without pyspark or Java 17 (CI sets EMPTYCHAIR_REQUIRE_SPARK: then a
  missing Spark is an error, never a skip).
- `on_engine(duckdb_path, engine)`: the database on that engine — the DuckDB file itself, or its four tables
  exported to Parquet and read by Spark through an engine config file, as a company's lake would be.
- `oidc_provider`: a real OpenID Connect provider (tests/oidc: the npm package oidc-provider, installed by
  `make test`) on 127.0.0.1 with the test users of tests/oidc/users.json; skipped, saying why, without Node or its
  packages (CI sets EMPTYCHAIR_REQUIRE_OIDC: then it is an error, never a skip).
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

import kpis
from kpis.build import build_demo

TABLES = ("orders", "customers", "feedback", "marketing_spend")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONNECT_PORT = _free_port()  # where tests/test_spark.py starts a Spark Connect server in the session's JVM
SPARK_SETTINGS = {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2", "spark.ui.enabled": "false",
                  "spark.connect.grpc.binding.port": str(CONNECT_PORT)}


def why_no_spark() -> str | None:
    """Why the Spark tests cannot run here, or None."""
    try:
        import pyspark
    except ImportError:
        return "pyspark is not installed (pip install -r requirements-spark.txt; `make test` does it)"
    if int(pyspark.__version__.split(".")[0]) < 4:
        return f"pyspark {pyspark.__version__} is older than 4.0 (pip install -r requirements-spark.txt)"
    from kpis.spark import java_problem

    problem = java_problem()
    return None if problem is None else (f"{problem}: Spark tests need Java 17 (apt-get install -y "
                                         "openjdk-17-jre-headless; `make test` does it as root)")


WHY_NO_SPARK = why_no_spark()
if WHY_NO_SPARK and os.environ.get("EMPTYCHAIR_REQUIRE_SPARK"):  # CI (.ci/run): a skipped engine is a failure
    raise RuntimeError(f"EMPTYCHAIR_REQUIRE_SPARK is set but {WHY_NO_SPARK}")
SPARK = [pytest.mark.spark, pytest.mark.skipif(WHY_NO_SPARK is not None, reason=f"Spark skipped: {WHY_NO_SPARK}")]


@pytest.fixture(scope="session")
def demo_base(tmp_path_factory):
    built: dict[tuple[int, int], Path] = {}

    def base(customers: int, seed: int) -> Path:
        if (customers, seed) not in built:
            path = tmp_path_factory.mktemp(f"demo_{customers}_{seed}") / "demo.duckdb"
            build_demo(path, customers=customers, seed=seed)
            built[customers, seed] = path
        return built[customers, seed]

    return base


@pytest.fixture(scope="session")
def known_path(tmp_path_factory) -> Path:
    """The hand-built 20-customer fixture (tests/kpi_fixture.py), imported once per session."""
    from tests import kpi_fixture

    return kpi_fixture.build_database(tmp_path_factory.mktemp("kpi_fixture"))


@pytest.fixture(scope="session")
def cdnow_path(tmp_path_factory) -> Path:
    """CDNOW (Fader, Hardie & Lee's sample: tests/data/cdnow_sample.csv) imported once per session."""
    from datetime import datetime

    from kpis.build import import_files

    path = tmp_path_factory.mktemp("cdnow") / "cdnow.duckdb"
    import_files(path, orders=Path(__file__).parent / "data" / "cdnow_sample.csv", now=datetime(2000, 1, 1))
    return path


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One local Spark for the whole session (started only when a Spark test asks for it)."""
    if WHY_NO_SPARK:
        pytest.skip(f"Spark skipped: {WHY_NO_SPARK}")
    from kpis.spark import session

    spark = session("local[2]", SPARK_SETTINGS | {"spark.sql.warehouse.dir": str(tmp_path_factory.mktemp("wh"))})
    yield spark
    spark.stop()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=SPARK)], scope="session")
def engine(request) -> str:
    return request.param


def export(duck: Path, folder: Path, master: str = "local[2]") -> Path:
    """The four tables of a DuckDB file as Parquet files in `folder`, and an engine config file pointing at them."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(Path(duck).resolve()), read_only=True)
    for table in TABLES:
        con.execute(f"COPY {table} TO '{folder / table}.parquet' (FORMAT parquet)")
    con.close()
    return write_config(folder, master)


def write_config(folder: Path, master: str = "local[2]", name: str = "spark.toml") -> Path:
    config = folder / name
    config.write_text(f'engine = "spark"\nmaster = "{master}"\ncurrency = "EUR"\n\n[tables]\n'
                      + "".join(f'{t} = "{t}.parquet"\n' for t in TABLES))
    return config


@pytest.fixture(scope="session")
def on_engine(request, tmp_path_factory):
    """on_engine(duckdb_path, engine) -> kpis.Database, each (path, engine) opened once per session."""
    opened: dict[tuple[str, str], kpis.Database] = {}

    def open_on(path: Path, name: str) -> kpis.Database:
        key = (str(path), name)
        if key not in opened:
            if name == "duckdb":
                opened[key] = kpis.connect(path)
            else:
                request.getfixturevalue("spark_session")
                opened[key] = kpis.connect(export(path, tmp_path_factory.mktemp("lake")))
        return opened[key]

    return open_on


OIDC = Path(__file__).parent / "oidc"


@dataclass(frozen=True)
class OIDCProvider:
    """The test provider and the one client it knows: the dashboard on `app_port`, a free port kept for it."""

    issuer: str
    client_id: str
    client_secret: str
    app_port: int
    redirect_uri: str  # the client's: the dashboard's /oauth2callback on app_port
    users: dict[str, dict]  # e-mail -> its entry in tests/oidc/users.json (email, password, name, groups)


def why_no_oidc() -> str | None:
    """Why the test provider cannot start here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (the sign-in tests run an OIDC provider on Node.js 20)"
    if not (OIDC / "node_modules" / "oidc-provider").is_dir():
        return "tests/oidc has no node_modules (npm ci --prefix tests/oidc; `make test` does it)"
    return None


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """One OIDC provider for the session (node tests/oidc/provider.mjs), stopped at its end."""
    problem = why_no_oidc()
    if problem and os.environ.get("EMPTYCHAIR_REQUIRE_OIDC"):  # CI (.ci/run): a skipped sign-in is a failure
        pytest.fail(f"EMPTYCHAIR_REQUIRE_OIDC is set but {problem}")
    if problem:
        pytest.skip(f"OIDC provider skipped: {problem}")
    client_id, client_secret, app_port = "emptychair", secrets.token_hex(16), _free_port()
    redirect_uri = f"http://127.0.0.1:{app_port}/oauth2callback"
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with log.open("w") as err:
        proc = subprocess.Popen(["node", str(OIDC / "provider.mjs"), "--port", "0", "--client-id", client_id,
                                 "--client-secret", client_secret, "--redirect-uri", redirect_uri],
                                stdout=subprocess.PIPE, stderr=err, text=True)
    line = proc.stdout.readline() if select.select([proc.stdout], [], [], 30)[0] else ""
    if not line.startswith("ready "):
        proc.kill()
        pytest.fail(f"the OIDC provider did not start: {line!r}\n{log.read_text()}")
    users = {u["email"]: u for u in json.loads((OIDC / "users.json").read_text())}
    yield OIDCProvider(line.split()[1], client_id, client_secret, app_port, redirect_uri, users)
    proc.terminate()
    proc.wait(timeout=10)

