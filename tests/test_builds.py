"""Builds: one at a time under <db>.lock, a killed one harmless and cleaned up, the builds kept, listed and rolled
back to — by the command line, and as an open dashboard sees it on its next rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import i18n
from kpis.build import import_files
from store import demo
from store.files import (
    DatabaseExists,
    RollbackRefused,
    build_options,
    builds,
    built_when,
    clean_leftovers,
    current_file,
    describe_provenance,
    new_build,
    provenance,
    rollback,
    versions_dir,
)
from store.lock import holder, lock_path
from store.schema import write_metadata
from tests import kpi_fixture
from tests.test_import import NOW, contents, write_files
from tests.test_lock import hold, release

ROOT = Path(__file__).resolve().parent.parent
# The build lock held by another process through store.lock (its pid and start time in the file), until stdin closes.
HOLDER = ("import sys\nfrom store.lock import build_lock\nwith build_lock(sys.argv[1], command='holder'):\n"
          "    print('held', flush=True)\n    sys.stdin.read()\n")


def cli(*args: str, lang: str = "C.UTF-8", timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "LANG": lang, "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=timeout)


def tiny(db: Path, customers: int, source: str = "demo", **build) -> str:
    """A build holding only `customers` customers (no orders, no models), published; its name."""
    with new_build(db, **build) as con:
        con.execute("CREATE TABLE customers AS SELECT 'c' || range AS customer_id FROM range(?)", [customers])
        con.execute("CREATE TABLE metadata (key VARCHAR PRIMARY KEY, value JSON NOT NULL)")
        write_metadata(con, currency="EUR", source=source)
    return current_file(db).stem


def customers_of(db: Path) -> int:
    """Customers in the current build, from `builds`."""
    return next(b for b in builds(db) if b.current).rows["customers"]


def state(db: Path) -> tuple:
    """What a refused command must leave as it was: the link's target, the files kept, every row."""
    return current_file(db), sorted(p.name for p in versions_dir(db).iterdir()), contents(db)


# --- one builder at a time ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("command, lang, expected", [
    (["demo", "--customers", "300"], "C.UTF-8", "another import is running (pid {pid}, since "),
    (["import", "--orders", "{orders}"], "C.UTF-8", "another import is running (pid {pid}, since "),
    (["rollback"], "C.UTF-8", "another import is running (pid {pid}, since "),
    (["import", "--orders", "{orders}"], "fr_FR.UTF-8", "un autre import est en cours (pid {pid}, depuis "),
])
def test_a_build_while_another_holds_the_lock_exits_2_having_changed_nothing(tmp_path, command, lang, expected):
    db = tmp_path / "db.duckdb"
    tiny(db, 1), tiny(db, 2)
    before = state(db)
    orders = write_files(tmp_path)["orders"]
    other = hold(HOLDER, str(db))
    try:
        done = cli(*[arg.format(orders=orders) for arg in command], "--db", str(db), "--wait", "1", lang=lang)
    finally:
        release(other)
    assert done.returncode == 2, done.stdout
    assert expected.format(pid=other.pid) in done.stderr and " UTC)" in done.stderr
    assert state(db) == before


def test_a_second_build_waits_for_the_first_and_both_are_kept(tmp_path):
    """No lost update: B starts while A builds, waits for A's lock, then publishes after it."""
    db = tmp_path / "db.duckdb"
    tiny(db, 1)
    first = subprocess.Popen([sys.executable, "cli.py", "demo", "--db", str(db), "--customers", "300", "--seed", "1"],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while (holder(db) is None or holder(db).pid != first.pid) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert holder(db) is not None and holder(db).pid == first.pid, "the first build never took the lock"
    second = cli("demo", "--db", str(db), "--customers", "400", "--seed", "2", "--wait", "300")
    assert first.wait(timeout=300) == 0, first.stderr.read()
    assert second.returncode == 0, second.stderr
    kept = builds(db)
    # Newest first: B (400 customers, current), then A (300), then the first tiny build (1).
    assert [(b.rows["customers"], b.current) for b in kept] == [(400, True), (300, False), (1, False)]


def test_a_killed_build_leaves_the_current_one_and_the_next_build_cleans_up(tmp_path):
    db = tmp_path / "db.duckdb"
    tiny(db, 5)
    before = state(db)
    build = subprocess.Popen([sys.executable, "cli.py", "demo", "--db", str(db), "--customers", "3000"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(versions_dir(db).glob("*.building")) and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(build.pid, signal.SIGKILL)
    build.wait(timeout=30)
    assert list(versions_dir(db).glob("*.building")), "the build was not caught midway"
    assert (current_file(db), contents(db)) == (before[0], before[2])  # the same file, opening, the same rows
    assert holder(db).pid == build.pid  # its name is left in the lock file; the kernel freed the lock
    tiny(db, 6, wait=0)  # so the next builder takes it at once, and clears what the killed one left
    assert customers_of(db) == 6
    assert not [p for p in versions_dir(db).iterdir() if not p.name.endswith(".duckdb")]


def test_leftovers_are_cleaned_and_published_builds_kept(tmp_path):
    db = tmp_path / "db.duckdb"
    name = tiny(db, 1)
    folder = versions_dir(db)
    planted = [folder / "20261202T104201-aaaaaa.duckdb.building", folder / "20261202T104201-aaaaaa.duckdb.building.wal",
               folder / "20261202T104202-bbbbbb.duckdb.wal",  # the log of a build that is not there
               tmp_path / ".db.duckdb.0a1b2c3d.link"]
    for leftover in planted:
        leftover.write_text("left by a killed build")
    (folder / "spill").mkdir()
    (folder / "spill" / "duckdb_temp_block-1.block").write_text("spilled")
    kept_log = folder / f"{name}.duckdb.wal"  # a published build's own log is the build's business
    kept_log.write_text("")
    assert clean_leftovers(db) == sorted([*planted, folder / "spill"])
    assert sorted(p.name for p in folder.iterdir()) == [f"{name}.duckdb", f"{name}.duckdb.wal"]
    assert db.is_symlink() and lock_path(db).exists()


# --- builds kept and listed --------------------------------------------------------------------------------------

@pytest.mark.parametrize("made, keep, kept", [
    (4, None, [4, 3, 2]),  # the default: three, the current one among them
    (4, 2, [4, 3]),
    (2, 1, [2]),
    (2, 5, [2, 1]),  # fewer made than may be kept
])
def test_the_newest_builds_are_kept(tmp_path, made, keep, kept):
    db = tmp_path / "db.duckdb"
    for customers in range(1, made + 1):
        tiny(db, customers, keep=keep)
    assert [b.rows["customers"] for b in builds(db)] == kept and customers_of(db) == made


def test_after_a_rollback_the_builds_newer_than_the_current_one_are_kept_first(tmp_path):
    db = tmp_path / "db.duckdb"
    names = [tiny(db, customers) for customers in (1, 2, 3)]
    rollback(db, names[0])
    tiny(db, 4, keep=3)  # current 4, then the newest others: 3 and 2; 1 (the build rolled back to) goes
    assert [b.rows["customers"] for b in builds(db)] == [4, 3, 2]


def test_builds_lists_each_build_with_its_source_rows_and_models(tmp_path):
    db = kpi_fixture.build_database(tmp_path)  # 20 customers, 38 orders, no answers; its models fitted
    tiny(db, 7)
    broken_file = versions_dir(db) / "20200101T000000-ffffff.duckdb"
    broken_file.write_bytes(b"not a database")
    os.utime(broken_file, (1577836800, 1577836800))  # 2020-01-01: no built_at to read, so its mtime places it
    small, imported, broken = builds(db)
    assert (small.current, small.source, small.files, small.rows, small.models) == (
        True, "demo", (), {"customers": 7}, False)  # counted (no `rows` in its metadata), and no other table
    assert (imported.current, imported.source, imported.files, imported.rows, imported.models) == (
        False, "import", ("orders.csv", "customers.csv", "spend.csv"), {"customers": 20, "orders": 38, "feedback": 0},
        True)
    assert (broken.name, broken.readable) == ("20200101T000000-ffffff", False)
    done = cli("builds", "--db", str(db))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    with i18n.use("en"):
        assert f"{small.name}  {built_when(small.built_at)}  demo" in lines[0]
    assert lines[0].startswith(f"* {small.name}  ") and lines[0].endswith(
        "  demo  7 customers, ? orders, ? answers  no models  (current)")
    assert lines[1].startswith(f"  {imported.name}  ") and lines[1].endswith(
        "  import of orders.csv, customers.csv, spend.csv  20 customers, 38 orders, 0 answers  models stored")
    assert lines[2].startswith("  20200101T000000-ffffff  unreadable: ")
    assert len(lines) == 3


def test_keep_on_the_command_line(tmp_path):
    db = tmp_path / "db.duckdb"
    tiny(db, 1), tiny(db, 2)
    done = cli("import", "--db", str(db), "--keep", "2", "--orders", str(write_files(tmp_path)["orders"]))
    assert done.returncode == 0, done.stderr
    assert [b.rows["customers"] for b in builds(db)] == [3, 2]  # the import (3 customers in its orders) and one more


@pytest.mark.parametrize("language, built_at, shown", [
    ("en", "2026-12-02T10:42:01+00:00", "2 Dec 2026 10:42 UTC"),
    ("en", "2026-12-02T11:42:01+01:00", "2 Dec 2026 10:42 UTC"),  # 11:42 at +01:00 is 10:42 UTC
    ("fr", "2026-12-02T10:42:01+00:00", "2 déc. 2026 10:42 UTC"),
    ("en", None, "?"),  # a build whose metadata has no date
])
def test_when_a_build_was_made(language, built_at, shown):
    with i18n.use(language):
        assert built_when(built_at) == shown


FILES = {"orders": {"file": "o.csv", "rows": 4}, "customers": {"file": "c.csv", "rows": 3}}


@pytest.mark.parametrize("language, meta, shown", [
    ("en", {"source": "demo"}, "demo"),
    ("en", {"source": "import", "files": FILES}, "import of o.csv, c.csv"),
    ("en", {"source": "import", "files": {"orders": {"file": "a.csv"}},  # store.append's: the last append's files
            "appends": [{"files": {"orders": {"file": "n.csv"}}}, {"files": {"orders": {"file": "o.csv"}}}]},
     "append of o.csv"),
    ("en", {"source": "append"}, "append"),
    ("fr", {"source": "import", "files": FILES}, "import de o.csv, c.csv"),
    ("fr", {"source": "append", "files": FILES}, "ajout de o.csv, c.csv"),
    ("fr", {"source": "demo"}, "démo"),
    ("en", {}, "?"),
])
def test_what_a_build_was_made_from(language, meta, shown):
    with i18n.use(language):
        assert describe_provenance(*provenance(meta)) == shown


# --- rollback ----------------------------------------------------------------------------------------------------

def test_rollback_goes_back_one_build_at_a_time(tmp_path):
    db = tmp_path / "db.duckdb"
    a, b, c = (tiny(db, customers) for customers in (1, 2, 3))
    assert [(was.name, now.name) for was, now in (rollback(db), rollback(db))] == [(c, b), (b, a)]
    with pytest.raises(RollbackRefused, match=f"no build before {a}: nothing to roll back to"):
        rollback(db)
    assert rollback(db, c)[1].name == c and customers_of(db) == 3  # forward again, by name
    assert rollback(db, a[:-2])[1].name == a  # a unique prefix


@pytest.mark.parametrize("name, refusal", [
    ("zzz", "error: no build zzz (`cli.py builds` lists them)"),
    ("2", "error: 2 names several builds: "),  # every name starts with the year
    ("{current}", "error: {current} is already the current build"),
    ("20200101T000000-ffffff", "error: build 20200101T000000-ffffff cannot be opened: "),
])
def test_a_rollback_to_no_build_is_refused_with_exit_2_and_nothing_changed(tmp_path, name, refusal):
    db = tmp_path / "db.duckdb"
    tiny(db, 1), tiny(db, 2)
    (versions_dir(db) / "20200101T000000-ffffff.duckdb").write_bytes(b"not a database")
    current = current_file(db).stem
    before = state(db)
    done = cli("rollback", name.format(current=current), "--db", str(db))
    assert done.returncode == 2 and refusal.format(current=current) in done.stderr
    assert state(db) == before


def test_rollback_on_the_command_line_says_from_and_to(tmp_path):
    db = tmp_path / "db.duckdb"
    a, b = tiny(db, 1), tiny(db, 2)
    done = cli("rollback", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert f"now points to build {a} (" in done.stdout and f"was {b} (" in done.stdout
    assert customers_of(db) == 1


def test_a_copy_of_the_current_build_to_change_in_place(tmp_path):
    db = tmp_path / "db.duckdb"
    tiny(db, 2), tiny(db, 3)
    rollback(db)  # the current build is the one of 2 customers: that one is copied
    with new_build(db, start_from_current=True) as con:
        con.execute("INSERT INTO customers VALUES ('c9')")
    assert customers_of(db) == 3 and [b.rows["customers"] for b in builds(db)] == [3, 3, 2]


def test_a_copy_of_no_build_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no database at"), new_build(tmp_path / "db.duckdb",
                                                                             start_from_current=True):
        pytest.fail("a build started from nothing")
    assert not list(versions_dir(tmp_path / "db.duckdb").iterdir())


# --- what an open dashboard sees ---------------------------------------------------------------------------------

def test_an_open_dashboard_sees_a_rollback_on_its_next_rerun(tmp_path, monkeypatch):
    db = kpi_fixture.build_database(tmp_path)  # build A: November 2024 revenue 60 € (o37, c19)
    monkeypatch.setenv("EMPTYCHAIR_DB", str(db))
    at = AppTest.from_file(str(ROOT / "dashboard" / "navigation.py"), default_timeout=60).run()
    assert not at.exception
    revenue = {m.label: m.value for m in at.metric}["Revenue"]
    assert revenue == "60 €"
    caption = at.sidebar.caption[-1].value  # the sidebar's last line
    assert caption.startswith("Build of ") and " UTC · import of `orders.csv`, `customers.csv`, `spend.csv` · time " \
        "zone UTC" in caption

    (tmp_path / "orders.csv").write_text(kpi_fixture.ORDERS.replace("o37,c19,2024-11-15 10:00,60,", "o37,c19,2024-11-"
                                                                    "15 10:00,100,"))
    import_files(db, now=NOW, orders=tmp_path / "orders.csv", customers=tmp_path / "customers.csv",
                 spend=tmp_path / "spend.csv")  # build B: the same order at 100 €
    at.run()
    assert {m.label: m.value for m in at.metric}["Revenue"] == "100 €"

    rollback(db)  # back to A, under the open dashboard
    at.run()
    assert not at.exception and {m.label: m.value for m in at.metric}["Revenue"] == "60 €"

    with new_build(db, start_from_current=True) as con:  # as an append writes it: A's rows, new metadata
        con.executemany("INSERT OR REPLACE INTO metadata VALUES (?, ?)",
                        [("source", json.dumps("append")), ("timezone", json.dumps("Europe/Paris"))])
    at.run()
    assert {m.label: m.value for m in at.metric}["Revenue"] == "60 €"
    assert "· append of `orders.csv`, `customers.csv`, `spend.csv` · time zone Europe/Paris" in \
        at.sidebar.caption[-1].value



def test_a_build_for_a_missing_database_stops_if_one_appeared_meanwhile(tmp_path):
    """The dashboard's first start checks for a database, then waits for the lock: an import that held it has
    published by then, and the demo must not replace it (build_options(missing_only=True), as ui.db passes)."""
    db = tmp_path / "db.duckdb"
    import_files(db, now=NOW, **write_files(tmp_path))  # the import the dashboard waited for
    before = current_file(db)
    with build_options(missing_only=True), pytest.raises(DatabaseExists, match="was built meanwhile"):
        demo.build_demo(db, customers=50)
    assert current_file(db) == before and len(list(versions_dir(db).glob("*.duckdb"))) == 1
