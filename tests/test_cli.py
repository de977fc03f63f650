"""The command line: exit codes, messages, and where the database goes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from store.files import DEFAULT_DB, db_path
from tests.test_import import GOOD, write_files

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, env=env)


@pytest.mark.parametrize(
    "explicit, env, expected",
    [
        (None, None, DEFAULT_DB),
        (None, "/tmp/from-env.duckdb", Path("/tmp/from-env.duckdb")),
        ("/tmp/flag.duckdb", "/tmp/from-env.duckdb", Path("/tmp/flag.duckdb")),  # the flag wins
    ],
)
def test_db_path_precedence(monkeypatch, explicit, env, expected):
    monkeypatch.delenv("EMPTYCHAIR_DB", raising=False)
    if env:
        monkeypatch.setenv("EMPTYCHAIR_DB", env)
    assert db_path(explicit) == expected


def test_import_then_info(tmp_path):
    paths = write_files(tmp_path)
    db = tmp_path / "db.duckdb"
    done = cli("import", "--db", str(db), "--orders", str(paths["orders"]), "--customers", str(paths["customers"]),
               "--feedback", str(paths["feedback"]), "--spend", str(paths["spend"]))
    assert done.returncode == 0, done.stderr
    assert "customers: 3" in done.stdout and "orders: 4" in done.stdout


def test_refused_import_exits_non_zero_with_the_reason(tmp_path):
    paths = write_files(tmp_path, orders=GOOD["orders"].replace("50.5", "-50.5"), customers=None)
    done = cli("import", "--db", str(tmp_path / "db.duckdb"), "--orders", str(paths["orders"]))
    assert done.returncode == 2
    assert "orders.csv line 3: revenue: negative amount (-50.5)" in done.stderr
    assert not (tmp_path / "db.duckdb").exists()


def test_info_on_a_missing_database(tmp_path):
    done = cli("info", "--db", str(tmp_path / "none.duckdb"))
    assert done.returncode == 2 and "python cli.py demo" in done.stderr


def test_demo_command_builds_a_database(tmp_path):
    db = tmp_path / "demo.duckdb"
    done = cli("demo", "--db", str(db), "--customers", "300", "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert "customers: 300" in done.stdout and "source: demo" in done.stdout


@pytest.mark.parametrize("args", [["demo", "--customers", "0"], ["demo", "--customers", "many"], ["import"]])
def test_bad_arguments_are_usage_errors(args):
    done = cli(*args)
    assert done.returncode == 2 and "usage:" in done.stderr
