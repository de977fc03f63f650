"""The dashboard starts on an existing database, builds the demo when there is none, and answers over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from store.files import open_readonly
from tests.test_import import NOW, write_files

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def small_db(tmp_path, monkeypatch) -> Path:
    from store.importer import import_files

    folder = tmp_path / "files"
    folder.mkdir()
    path = tmp_path / "small.duckdb"
    import_files(path, now=NOW, **write_files(folder))
    monkeypatch.setenv("EMPTYCHAIR_DB", str(path))
    return path


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_headline_numbers_come_from_the_database(small_db):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    # The good fixture: 3 customers, 4 orders, 205.60 EUR of revenue, 3 survey answers.
    assert metrics(at) == {"Customers": "3", "Orders": "4", "Revenue (EUR)": "206", "Survey answers": "3"}
    assert not at.sidebar.info  # imported data: no demo banner


def test_first_start_builds_the_demo_and_says_so(tmp_path, monkeypatch):
    path = tmp_path / "fresh" / "emptychair.duckdb"
    monkeypatch.setenv("EMPTYCHAIR_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert path.exists()
    assert "Demo data" in at.sidebar.info[0].value
    con = open_readonly(path)
    customers = con.execute("SELECT count(*) FROM customers").fetchone()[0]
    assert metrics(at)["Customers"] == f"{customers:,}"


def test_a_rerun_after_an_import_shows_the_new_data(small_db, tmp_path):
    from store.importer import import_files
    from tests.test_import import GOOD

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert metrics(at)["Orders"] == "4"
    folder = tmp_path / "more"
    folder.mkdir()
    import_files(small_db, now=NOW, **write_files(folder, orders=GOOD["orders"] + "A5,c2,2024-03-05,12,3,home,web\n"))
    assert metrics(at.run())["Orders"] == "5"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dashboard_answers_on_localhost(small_db):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--", "--db", str(small_db)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline, health = time.monotonic() + 60, ""
        while time.monotonic() < deadline and health != "ok":
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read().decode()
            except OSError:
                time.sleep(0.3)
        assert health == "ok"
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
        assert "<title>" in page
    finally:
        server.terminate()
        server.wait(timeout=10)
