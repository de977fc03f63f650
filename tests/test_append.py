"""`import --append`: a month added to the current build gives what a full import of everything gives; overlaps,
unknown customers and changed settings are refused with the database unchanged; `--replace-overlap` equals a full
import of the corrected files; changed customers are updated and counted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

import kpis
from kpis.build import append_files, import_files
from kpis.catalog import REGISTRY
from store.demo import build_demo
from store.files import current_file, open_readonly
from store.importer import ImportRejected

NOW = datetime(2025, 1, 1)
TABLES = ("customers", "orders", "feedback", "marketing_spend")
HEADERS = {
    "customers": "customer_id,acquired_at,acquisition_channel,region,segment\n",
    "orders": "order_id,customer_id,ordered_at,revenue,cost,category,channel\n",
    "feedback": "feedback_id,customer_id,answered_at,survey,score,touchpoint,comment\n",
    "spend": "month,channel,spend\n",
}
# January and February (A), then March (B): a new customer c4, new orders of c1 and c4, answers, spend.
A = {
    "customers": "c1,2024-01-05,search,FR,consumer\nc2,,social,BE,business\nc3,2024-02-20,,FR,consumer\n",
    "orders": "A1,c1,2024-01-05 10:00:00,100.00,60.00,books,web\nA2,c1,2024-02-05,50.5,20,books,app\n"
              "A3,c2,2024-02-07,20,5,home,web\nA4,c3,2024-02-21T08:30:00,35.10,,fashion,store\n",
    "feedback": "F1,c1,2024-01-10,nps,9,relationship,Super\nF2,,2024-01-11,csat,4,delivery,\n",
    "spend": "2024-01,search,1000\n2024-02,social,500.50\n",
}
B = {
    "customers": "c4,,referral,DE,consumer\n",
    "orders": "B1,c1,2024-03-02,70,30,books,web\nB2,c4,2024-03-05,45,20,home,app\nB3,c4,2024-03-20,15,5,home,app\n",
    "feedback": "F3,c4,2024-03-06,ces,2,returns,ok\nF4,c1,2024-03-07,nps,3,relationship,Trop cher\n",
    "spend": "2024-03,search,800\n",
}


def write(folder: Path, parts: dict[str, str], *more: dict[str, str]) -> dict[str, Path]:
    """CSV files (with their headers) of the parts given, rows of `more` appended: {import_files' name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, rows in parts.items():
        paths[name] = folder / f"{name}.csv"
        paths[name].write_text(HEADERS[name] + rows + "".join(m.get(name, "") for m in more), encoding="utf-8")
    return paths


def rows(db: Path, table: str) -> list[tuple]:
    """A table's rows, sorted (the order rows are stored in is not part of the answer)."""
    con = open_readonly(db)
    try:
        return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
    finally:
        con.close()


def tables(db: Path) -> list[str]:
    con = open_readonly(db)
    try:
        return sorted(r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall())
    finally:
        con.close()


@pytest.fixture
def appended(tmp_path) -> Path:
    """A imported, then B appended."""
    path = tmp_path / "appended.duckdb"
    import_files(path, now=NOW, **write(tmp_path / "a", A))
    append_files(path, now=NOW, **write(tmp_path / "b", B))
    return path


@pytest.fixture
def at_once(tmp_path) -> Path:
    """A ∪ B imported at once."""
    path = tmp_path / "at_once.duckdb"
    import_files(path, now=NOW, **write(tmp_path / "ab", A, B))
    return path


@pytest.mark.parametrize("table", TABLES)
def test_append_then_equals_importing_everything(appended, at_once, table):
    assert rows(appended, table) == rows(at_once, table)


def test_append_adds_what_it_says(appended):
    con = open_readonly(appended)
    meta = dict(con.execute("SELECT key, value::VARCHAR FROM metadata").fetchall())
    # c4 is new, dated by its first order (2024-03-05); 3 orders, 2 answers, 1 spend row added, nothing replaced.
    assert con.execute("SELECT acquired_at::VARCHAR, region FROM customers WHERE customer_id = 'c4'").fetchone() == (
        "2024-03-05", "DE")
    entry = json.loads(meta["appends"])[-1]
    assert entry["added"] == {"customers": 1, "orders": 3, "feedback": 2, "marketing_spend": 1}
    assert entry["replaced"] == {"orders": 0, "feedback": 0, "marketing_spend": 0}
    assert json.loads(meta["rows"]) == {"customers": 4, "orders": 7, "feedback": 4, "marketing_spend": 3}
    assert json.loads(meta["source"]) == "import"


@pytest.mark.parametrize(("name", "row", "message"), [
    ("orders", "A2,c1,2024-03-02,70,30,books,web\n", "orders.csv line 2: order_id: A2 is already in the database"),
    ("feedback", "F1,c1,2024-03-06,ces,2,returns,ok\n", "feedback.csv line 2: feedback_id: F1 is already in the "
                                                        "database"),
    ("spend", "2024-02,social,20\n", "spend.csv line 2: month, channel: 2024-02-01 00:00:00 / social is already in "
                                     "the database"),
    ("orders", "B9,c9,2024-03-02,70,30,books,web\n", "orders.csv line 2: customer_id: unknown customer 'c9' (not in "
                                                     "the database)"),
    ("feedback", "F9,c9,2024-03-06,ces,2,returns,ok\n", "unknown customer 'c9' (not in the database)"),
])
def test_an_overlap_or_unknown_customer_is_refused_and_the_database_unchanged(tmp_path, name, row, message):
    path = tmp_path / "db.duckdb"
    import_files(path, now=NOW, **write(tmp_path / "a", A))
    before, build = {t: rows(path, t) for t in tables(path)}, current_file(path)
    with pytest.raises(ImportRejected) as refused:
        append_files(path, now=NOW, **write(tmp_path / "b", {name: row}))
    assert message in str(refused.value)
    assert current_file(path) == build and {t: rows(path, t) for t in tables(path)} == before


def test_replace_overlap_equals_a_full_import_of_the_corrected_files(tmp_path):
    """A2 corrected (50.5 → 55), F2 re-scored, February's social spend corrected, and a new order."""
    fixed = {"orders": "A2,c1,2024-02-05,55,20,books,app\nB1,c1,2024-03-02,70,30,books,web\n",
             "feedback": "F2,,2024-01-11,csat,2,delivery,\n", "spend": "2024-02,social,450\n"}
    path = tmp_path / "replaced.duckdb"
    import_files(path, now=NOW, **write(tmp_path / "a", A))
    meta = append_files(path, now=NOW, replace_overlap=True, **write(tmp_path / "fix", fixed))
    assert meta["appends"][-1]["replaced"] == {"orders": 1, "feedback": 1, "marketing_spend": 1}
    corrected = {
        "customers": A["customers"],
        "orders": A["orders"].replace("A2,c1,2024-02-05,50.5,20,books,app", "A2,c1,2024-02-05,55,20,books,app")
        + "B1,c1,2024-03-02,70,30,books,web\n",
        "feedback": A["feedback"].replace("F2,,2024-01-11,csat,4", "F2,,2024-01-11,csat,2"),
        "spend": A["spend"].replace("2024-02,social,500.50", "2024-02,social,450"),
    }
    full = tmp_path / "full.duckdb"
    import_files(full, now=NOW, **write(tmp_path / "corrected", corrected))
    for table in TABLES:
        assert rows(path, table) == rows(full, table), table


def test_changed_customers_are_updated_and_counted(tmp_path):
    path = tmp_path / "db.duckdb"
    import_files(path, now=NOW, **write(tmp_path / "a", A))
    # c1 moves to BE (region), c2 becomes a consumer (segment) and keeps its date (empty), c3 is unchanged.
    changed = "c1,2024-01-05,search,BE,consumer\nc2,,social,BE,consumer\nc3,2024-02-20,,FR,consumer\n"
    meta = append_files(path, now=NOW, **write(tmp_path / "b", {"customers": changed}))
    assert meta["appends"][-1]["customers_changed"] == {"region": 1, "segment": 1}
    assert meta["appends"][-1]["added"] == {"customers": 0}
    assert rows(path, "customers") == sorted([
        ("c1", datetime(2024, 1, 5).date(), "search", "BE", "consumer"),
        ("c2", datetime(2024, 2, 7).date(), "social", "BE", "consumer"),
        ("c3", datetime(2024, 2, 20).date(), "unknown", "FR", "consumer")], key=repr)


def test_a_build_of_orders_only_takes_new_customers_from_orders_and_continues_the_ids(tmp_path):
    """Without ids, a full import numbers orders O000000001…; an append continues after the highest (2 → 3)."""
    path = tmp_path / "db.duckdb"
    first = tmp_path / "first.csv"
    first.write_text("customer_id,ordered_at,revenue\nx,2024-05-02,10\nx,2024-05-01,5\n", encoding="utf-8")
    import_files(path, now=NOW, orders=first)
    more = tmp_path / "more.csv"
    more.write_text("customer_id,ordered_at,revenue\ny,2024-06-01,7\nx,2024-06-03,4\n", encoding="utf-8")
    append_files(path, now=NOW, orders=more)
    assert [(r[0], r[1]) for r in rows(path, "orders")] == [
        ("O000000001", "x"), ("O000000002", "x"), ("O000000003", "y"), ("O000000004", "x")]
    assert [(r[0], str(r[1])) for r in rows(path, "customers")] == [("x", "2024-05-01"), ("y", "2024-06-01")]


@pytest.mark.parametrize(("options", "message"), [
    ({"currency": "USD"}, "the database's amounts are in EUR, not USD"),
    ({"margin_rate": 0.4}, "the database was imported with a margin rate of none, not 0.4"),
    ({"timezone": "Europe/Paris"}, "the database's periods are cut in UTC, not Europe/Paris"),
])
def test_an_append_keeps_the_builds_settings(tmp_path, options, message):
    path = tmp_path / "db.duckdb"
    import_files(path, now=NOW, **write(tmp_path / "a", A))
    with pytest.raises(ImportRejected, match=message):
        append_files(path, now=NOW, **write(tmp_path / "b", B), **options)


def test_an_appended_customers_file_carries_the_builds_attributes(tmp_path):
    path = tmp_path / "db.duckdb"
    import_files(path, now=NOW, **write(tmp_path / "a", A))
    other = tmp_path / "customers.csv"
    other.write_text("customer_id,acquired_at,region,plan\nc5,2024-03-01,FR,gold\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match=r"customer attributes \(plan\) are not the database's \(segment\)"):
        append_files(path, now=NOW, customers=other)


def test_an_append_reads_times_in_the_builds_zone(tmp_path):
    """A build in Europe/Paris: an order at 2024-03-31T23:30:00+00:00 is 01:30 on 1 April there (summer time)."""
    path = tmp_path / "db.duckdb"
    import_files(path, now=NOW, timezone="Europe/Paris", **write(tmp_path / "a", A))
    late = {"orders": "B1,c1,2024-03-31T23:30:00+00:00,70,30,books,web\n"}
    append_files(path, now=NOW, **write(tmp_path / "b", late))
    assert [str(r[2]) for r in rows(path, "orders") if r[0] == "B1"] == ["2024-04-01 01:30:00"]


def test_nothing_to_append_is_refused(tmp_path):
    with pytest.raises(ImportRejected, match="nothing to append"):
        append_files(tmp_path / "db.duckdb")


# --- the same on a demo base, for every derived table and every registered KPI ---------------------------------

SPLIT = "2026-10-01"  # A: the demo before October 2026; B: October
WHEN = {"orders": "ordered_at", "feedback": "answered_at", "marketing_spend": "month", "customers": "acquired_at"}


@pytest.fixture(scope="module")
def demo_pair(tmp_path_factory) -> tuple[Path, Path]:
    """A 1,500-customer demo's tables as Parquet, split at SPLIT: A imported then B appended, and A ∪ B imported."""
    folder = tmp_path_factory.mktemp("append_demo")
    source = folder / "demo.duckdb"
    build_demo(source, customers=1500, seed=3, years=2)
    con = duckdb.connect(str(current_file(source)), read_only=True)
    parts = {}
    for part, test in (("a", "{} < DATE '" + SPLIT + "'"), ("b", "{} >= DATE '" + SPLIT + "'"), ("ab", "TRUE")):
        parts[part] = {}
        for table in TABLES:
            out = folder / part / f"{table}.parquet"
            out.parent.mkdir(exist_ok=True)
            con.execute(f"COPY (SELECT * FROM {table} WHERE {test.format(WHEN[table])}) TO '{out}'")
            parts[part]["spend" if table == "marketing_spend" else table] = out
    con.close()
    now = datetime(2026, 11, 1)
    appended, at_once = folder / "appended.duckdb", folder / "at_once.duckdb"
    import_files(appended, now=now, **parts["a"])
    append_files(appended, now=now, **parts["b"])
    import_files(at_once, now=now, **parts["ab"])
    return appended, at_once


def same_rows(one: list[tuple], other: list[tuple]) -> bool:
    """Equal rows, a double within 1e-9 of its peer: sums over rows stored in another order differ in the last
    bits (176.25010703838782 and …785), nothing else may."""
    def key(row):
        return repr(tuple(f"{v:.6g}" if isinstance(v, float) else v for v in row))

    def close(a, b):
        return a == pytest.approx(b, rel=1e-9, abs=1e-9) if isinstance(a, float) and isinstance(b, float) else a == b

    if len(one) != len(other):
        return False
    pairs = zip(sorted(one, key=key), sorted(other, key=key), strict=True)
    return all(len(a) == len(b) and all(map(close, a, b)) for a, b in pairs)


def test_the_fits_of_a_date_before_the_append_are_taken(demo_pair):
    """A ends 2026-09-30: its build fitted September's end (then its last complete month); the append of October
    leaves every order and customer up to then unchanged, so the new build takes that date's fitted parameters (and
    scores its customers again) and fits the other dates; the tables below prove them equal to a fresh fit."""
    con = open_readonly(demo_pair[0])
    entry = json.loads(con.execute("SELECT value FROM metadata WHERE key = 'appends'").fetchone()[0])[-1]
    assert entry["changed_from"] == "2026-10-01" and entry["models_reused"] == ["2026-09-30"]


def test_every_table_of_the_demo_is_the_same(demo_pair):
    appended, at_once = demo_pair
    names = [t for t in tables(at_once) if t != "metadata"]
    assert tables(appended) == tables(at_once)
    for table in names:
        assert same_rows(rows(appended, table), rows(at_once, table)), table


@pytest.mark.parametrize(("period", "filters"), [
    ("2026-10", None), ("2026-Q3", None), ("2026", None), ("2026-10", {"acquisition_channel": "search"}),
])
def test_every_kpi_of_the_demo_is_the_same(demo_pair, period, filters):
    appended, at_once = (kpis.connect(p) for p in demo_pair)
    keys = list(REGISTRY)
    got, expected = (kpis.evaluate_many(db, keys, period, filters) for db in (appended, at_once))
    assert got.keys() == expected.keys() == set(keys)
    for key in keys:  # a model's number (CLV, equity) is a double computed in another row order: within 1e-9
        assert same_rows([(got[key],)], [(expected[key],)]), key


# --- the command line ---------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")} | {"LANG": "C.UTF-8"}


def cli(*args: str) -> subprocess.CompletedProcess:
    """cli.py with stdout and stderr pipes, as cron runs it."""
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, env=ENGLISH)


def test_the_command_appends_says_what_it_added_and_logs_its_steps(tmp_path):
    db = tmp_path / "db.duckdb"
    import_files(db, now=NOW, **write(tmp_path / "a", A))
    files = write(tmp_path / "b", B)
    done = cli("import", "--append", "--db", str(db), "--orders", str(files["orders"]), "--customers",
               str(files["customers"]), "--feedback", str(files["feedback"]), "--spend", str(files["spend"]))
    assert done.returncode == 0, done.stderr
    assert "added: 1 new customer, 3 orders, 2 answers, 1 spend row" in done.stdout
    stamp = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  import: "
    for step in ("copying the current build", "reading and checking the files", "appending the rows",
                 "fitting the CLV models", "writing the database file"):
        assert re.search(f"{stamp}{step}: done \\(\\d+\\.\\d s\\)$", done.stderr, re.M), step
    again = cli("import", "--append", "--db", str(db), "--orders", str(files["orders"]))
    assert again.returncode == 2 and "B1 is already in the database" in again.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["import"], "the following arguments are required: --orders"),
    (["import", "--orders", "o.csv", "--replace-overlap"], "--replace-overlap goes with --append"),
])
def test_import_arguments_that_do_not_go_together_are_usage_errors(args, message):
    done = cli(*args)
    assert done.returncode == 2 and "usage:" in done.stderr and message in done.stderr


def test_two_appends_at_once_lose_nothing(tmp_path):
    """Two months appended by two processes started together: one waits for the other's lock, then appends to the
    build the first published (it reads the current build under the lock), so the last build holds both."""
    db = tmp_path / "db.duckdb"
    import_files(db, now=NOW, **write(tmp_path / "a", A))
    march = write(tmp_path / "march", {"orders": "M1,c1,2024-03-02,70,30,books,web\n"})["orders"]
    april = write(tmp_path / "april", {"orders": "P1,c2,2024-04-02,20,5,home,web\n"})["orders"]
    started = [subprocess.Popen([sys.executable, "cli.py", "import", "--append", "--db", str(db), "--orders",
                                 str(month)], cwd=ROOT, env=ENGLISH, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for month in (march, april)]
    for process in started:
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert {r[0] for r in rows(db, "orders")} == {"A1", "A2", "A3", "A4", "M1", "P1"}
