"""The dashboard: starts on a database or builds the demo, reads the registry, keeps its view in the URL."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import kpis
from kpis.build import import_files
from store.files import open_readonly
from tests import kpi_fixture

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fixture_db(known_path, tmp_path, monkeypatch) -> Path:
    """The hand-built KPI fixture (data to 2024-12-20) in a folder of this test's own, with its CSV files, served to
    the app through $EMPTYCHAIR_DB: a copy of the session's build (tests/conftest.py, known_path)."""
    for csv in known_path.parent.glob("*.csv"):
        shutil.copyfile(csv, tmp_path / csv.name)
    path = tmp_path / "fixture.duckdb"
    shutil.copyfile(known_path.resolve(), path)
    monkeypatch.setenv("EMPTYCHAIR_DB", str(path))
    return path


def app(**params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard" / "navigation.py"), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_empty_chair_tiles_come_from_the_registry(fixture_db):
    at = app()
    assert not at.exception
    # Data ends 2024-12-20: December is incomplete, so the default period is November 2024.
    assert at.query_params["period"] == "2024-11"
    shown = metrics(at)
    for key in ("active_customers", "retention_rate", "revenue", "orders", "cac"):
        assert kpis.REGISTRY[key].short_label in shown
    # November 2024: one order, o37 c19 60 € → 1 active customer, 60.00 € revenue.
    assert shown["Active customers"] == "1" and shown["Revenue"] == "60 €"
    helps = {m.label: m.help for m in at.metric}
    assert kpis.REGISTRY["retention_rate"].definition in helps["Retention rate"]


def test_the_view_in_the_link_is_the_view_shown(fixture_db):
    at = app(period="2024-02", compare="year", region="FR")
    assert not at.exception and not at.sidebar.warning
    # 2024-02 in France: o25 c13 55, o26 c10 100, o28 c04 45, o29 c15 75 → 275.00 €.
    assert metrics(at)["Revenue"] == "275 €"
    caption = at.caption[0].value
    assert "**Feb 2024**" in caption and "(Feb 2023)" in caption and "Region: FR" in caption


@pytest.mark.parametrize(
    "params, notice",
    [
        ({"period": "2024-13"}, "Period '2024-13' in the link cannot be shown"),
        ({"period": "1999-01"}, "no data for 1999-01"),
        ({"compare": "sideways"}, "Unknown comparison 'sideways'"),
        ({"region": "Mars"}, "Unknown region 'Mars'"),
        ({"colour": "red"}, "Unknown link parameter 'colour'"),
    ],
)
def test_bad_links_fall_back_with_a_notice(fixture_db, params, notice):
    at = app(**params)
    assert not at.exception
    assert any(notice in w.value for w in at.sidebar.warning)
    assert metrics(at)["Revenue"] == "60 €"  # the default view (November 2024) is shown


def test_glossary_lists_every_kpi(fixture_db):
    at = app()
    at.switch_page("../pages/glossary.py").run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    for kpi in kpis.REGISTRY.values():
        assert f"**{kpi.label}**" in text and kpi.definition in text and kpi.formula in text


def test_first_start_builds_the_demo_and_says_so(tmp_path, monkeypatch):
    path = tmp_path / "fresh" / "emptychair.duckdb"
    monkeypatch.setenv("EMPTYCHAIR_DB", str(path))
    at = app()
    assert not at.exception and path.exists()
    assert "Demo data" in at.sidebar.info[0].value
    con = open_readonly(path)
    assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 20_000


def test_a_rerun_after_an_import_shows_the_new_data(fixture_db, tmp_path):
    at = app(period="2024-11")
    assert metrics(at)["Orders"] == "1"
    orders = kpi_fixture.ORDERS + "o39,c19,2024-11-20 10:00,10,5,books,web\n"
    files = {"customers": tmp_path / "customers.csv", "orders": tmp_path / "more.csv"}
    files["orders"].write_text(orders)
    import_files(fixture_db, now=datetime(2025, 1, 1), **files)
    assert metrics(at.run())["Orders"] == "2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dashboard_answers_on_localhost(fixture_db):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--", "--db", str(fixture_db)],
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
