"""Progress of the long steps (store.progress): timestamped lines in a log, a bar on a terminal, a bar on the
dashboard's first start; silent without a reporter."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import i18n
from kpis.build import FINISH_STEPS
from kpis.build import build_demo as kpis_build_demo
from store import demo, progress
from ui import db as ui_db
from ui.progress import StreamlitReporter

ROOT = Path(__file__).resolve().parent.parent
NB, NNB = "\u00a0", "\u202f"
STAMP = "2026-12-02 10:42:01Z  "
FINISH = ["computing customer value and the fact tables", "fitting the CLV models", "computing the equity bridges",
          "checking the models", "valuing the customer base", "writing the headlines"]


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def ticking(*readings: float):
    """A clock reading `readings` in turn: Reporter reads it once as a step starts and once as it ends."""
    return iter(readings).__next__


def at_noon() -> datetime:
    return datetime(2026, 12, 2, 10, 42, 1, tzinfo=UTC)


def nested_run(fail: type[BaseException] | None = None) -> None:
    """"customers" (its sub-step "chunk 1") then "models"; `fail` raised inside "chunk 1"."""
    with progress.step("customers"):
        with progress.step("chunk 1"):
            if fail:
                raise fail("boom")
    with progress.step("models"):
        pass


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


# Clock readings: customers starts at 0, chunk 1 at 1 and ends at 5.2 (4.2 s), customers ends at 6.5 (6.5 s),
# models runs from 6.5 to 16.5 (10 s, written with one decimal).
@pytest.mark.parametrize("lang, prefix, expected", [
    ("en", "demo", ["demo: customers…", "demo: customers › chunk 1…", "demo: customers › chunk 1: done (4.2 s)",
                    "demo: customers: done (6.5 s)", "demo: models…", "demo: models: done (10.0 s)"]),
    ("en", "", ["customers…", "customers › chunk 1…", "customers › chunk 1: done (4.2 s)",
                "customers: done (6.5 s)", "models…", "models: done (10.0 s)"]),
    ("fr", "demo", [f"demo{NB}: customers…", f"demo{NB}: customers › chunk 1…",
                    f"demo{NB}: customers › chunk 1{NB}: terminé (4,2 s)", f"demo{NB}: customers{NB}: terminé (6,5 s)",
                    f"demo{NB}: models…", f"demo{NB}: models{NB}: terminé (10,0 s)"]),
])
def test_the_line_reporter_writes_a_stamped_line_as_each_step_starts_and_ends(lang, prefix, expected):
    out = io.StringIO()
    reporter = progress.LineReporter(out, prefix, clock=ticking(0, 1, 5.2, 6.5, 6.5, 16.5), now=at_noon)
    with i18n.use(lang), progress.reporting(reporter):
        nested_run()
    assert lines(out) == [STAMP + line for line in expected]


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_a_failed_step_is_reported_failed_and_its_exception_goes_on(error):
    out = io.StringIO()
    with pytest.raises(error, match="boom"), progress.reporting(
            progress.LineReporter(out, clock=ticking(0, 1, 3.5, 4), now=at_noon)):
        nested_run(fail=error)
    # chunk 1 fails after 3.5 − 1 = 2.5 s, and customers around it after 4 − 0 = 4 s; models never starts
    assert lines(out) == [STAMP + line for line in ("customers…", "customers › chunk 1…",
                                                    "customers › chunk 1: failed (2.5 s)", "customers: failed (4.0 s)")]
    with progress.reporting(progress.LineReporter(out, clock=lambda: 0.0, now=at_noon)):  # the failed ones closed
        with progress.step("next"):
            pass
    assert lines(out)[-1].endswith("  next: done (0.0 s)")


def test_without_a_reporter_a_step_shows_nothing(capsys):
    nested_run()
    with pytest.raises(ValueError):
        nested_run(fail=ValueError)
    progress.expect(3)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("submit, expected", [
    (lambda job: job, []),  # a plain thread starts with an empty context: no reporter, silent
    (i18n.carried, ["outer › in a worker…", "outer › in a worker: done (0.0 s)"]),  # the context goes along
])
def test_a_step_in_a_worker_thread_is_shown_only_when_its_context_was_carried(submit, expected):
    out = io.StringIO()

    def job():
        with progress.step("in a worker"):
            pass

    with progress.reporting(progress.LineReporter(out, clock=lambda: 0.0, now=at_noon)):
        with progress.step("outer"):
            worker = threading.Thread(target=submit(job))
            worker.start()
            worker.join()
    assert lines(out) == [STAMP + line for line in ("outer…", *expected, "outer: done (0.0 s)")]


@pytest.mark.parametrize("expects, steps, total", [
    ((3,), 2, 3),
    ((1,), 3, 3),  # more steps than expected: the total grows with them
    ((2, 3), 4, 5),  # expectations add up: finish_build's, then the demo's own
    ((), 2, 2),
])
def test_the_expected_steps_make_the_total(expects, steps, total):
    reporter = progress.Reporter()
    with progress.reporting(reporter):
        for count in expects:
            progress.expect(count)
        for number in range(steps):
            with progress.step(f"step {number}"):
                progress.expect(10)  # inside a step: not counted, only the top level is
                with progress.step("sub-step"):
                    pass
    assert (reporter.total, reporter.done) == (total, steps)


def test_a_step_begun_before_the_plan_still_counts():
    reporter = progress.Reporter()
    with progress.reporting(reporter):
        with progress.step("unplanned"):
            pass
        progress.expect(2)  # two more than the one already started
        assert reporter.total == 3


@pytest.mark.parametrize("stream, kind", [
    (FakeTTY(), progress.BarReporter), (io.StringIO(), progress.LineReporter),
])
def test_a_terminal_gets_a_bar_and_anything_else_lines(stream, kind):
    assert type(progress.for_stream(stream, "demo")) is kind


ERASE = "\x1b[K"


# expect(4); clock (read as a step starts, as the bar is drawn, as a step ends): a starts at 0 (the run's start) and
# ends at 1; b starts at 1.4 and ends at 3. The bar is 24 characters, 24 × 1 // 4 = 6 filled once a is done; the
# run's time in whole seconds (1.4 → 1). Cut to 36 columns: 35 characters, "demo " + 24 + " 0/4  ".
@pytest.mark.parametrize("columns, drawn", [
    (80, ["\rdemo " + "░" * 24 + " 0/4  0 s  a" + ERASE, "\r" + ERASE,
          "\rdemo " + "█" * 6 + "░" * 18 + " 1/4  1 s  b" + ERASE, "\r" + ERASE]),
    (36, ["\rdemo " + "░" * 24 + " 0/4  " + ERASE, "\r" + ERASE,
          "\rdemo " + "█" * 6 + "░" * 18 + " 1/4  " + ERASE, "\r" + ERASE]),
])
def test_the_bar_is_redrawn_in_place_and_cleared_between_steps(columns, drawn):
    tty = FakeTTY()
    with progress.reporting(progress.BarReporter(tty, "demo", clock=ticking(0, 0, 1, 1.4, 1.4, 3),
                                                 columns=columns, tick=None)):
        progress.expect(4)
        for label in ("a", "b"):
            with progress.step(label):
                pass
    assert re.findall(r"\r[^\r]*", tty.getvalue()) == drawn


def test_the_bar_leaves_a_failed_step_on_screen():
    tty = FakeTTY()
    with pytest.raises(ValueError), progress.reporting(
            progress.BarReporter(tty, clock=ticking(0, 0, 2.5, 2.5), columns=80, tick=None)):
        with progress.step("models"):
            raise ValueError
    assert tty.getvalue().endswith("\rmodels: failed (2.5 s)" + ERASE + "\n")


@pytest.mark.parametrize("lang, expected", [
    ("en", ["generating customers 1–1,000", "generating customers 1,001–1,500",
            "writing the customers, orders and survey answers", "simulating the marketing spend",
            "writing the database file"]),
    ("fr", [f"génération des clients 1–1{NNB}000", f"génération des clients 1{NNB}001–1{NNB}500",
            "écriture des clients, des commandes et des réponses aux enquêtes", "simulation des dépenses marketing",
            "écriture du fichier de la base"]),
])
def test_the_demo_reports_its_chunks_and_tables_in_the_run_language(tmp_path, monkeypatch, lang, expected):
    monkeypatch.setattr(demo, "CHUNK", 1_000)  # 1,500 customers: two chunks, 1–1,000 and 1,001–1,500
    reporter = progress.Reporter()
    started = []
    monkeypatch.setattr(reporter, "on_start", lambda path: started.append(path))
    with i18n.use(lang), progress.reporting(reporter):
        demo.build_demo(tmp_path / "demo.duckdb", customers=1_500)
    assert started == [(label,) for label in expected]
    # demo.steps(1_500): two chunks, the tables, the spend; then store.files.new_build's publishing
    assert (reporter.total, reporter.done) == (5, 5)


ENGLISH = {name: value for name, value in os.environ.items() if name not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")
           } | {"LANG": "C.UTF-8"}


@pytest.fixture(scope="module")
def demo_stderr(tmp_path_factory) -> subprocess.CompletedProcess:
    """`cli.py demo --customers 300` with stderr a pipe, as cron or CI runs it."""
    db = tmp_path_factory.mktemp("progress") / "demo.duckdb"
    return subprocess.run([sys.executable, "cli.py", "demo", "--db", str(db), "--customers", "300"], cwd=ROOT,
                          capture_output=True, text=True, env=ENGLISH)


@pytest.mark.parametrize("label", ["generating customers 1–300", "writing the customers, orders and survey answers",
                                   "simulating the marketing spend", *FINISH])
def test_the_demo_command_logs_its_steps_on_stderr(demo_stderr, label):
    assert demo_stderr.returncode == 0, demo_stderr.stderr
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  demo: "
    assert re.search(f"^{stamp}{re.escape(label)}…$", demo_stderr.stderr, re.M)
    assert re.search(rf"^{stamp}{re.escape(label)}: done \(\d+\.\d s\)$", demo_stderr.stderr, re.M)


def test_the_demo_command_keeps_its_summary_on_stdout(demo_stderr):
    assert demo_stderr.stdout.startswith("demo database ready at ") and "customers: 300" in demo_stderr.stdout
    assert "done (" not in demo_stderr.stdout
    # the demo's steps, finish_build's, the publishing: nothing else on stderr
    assert len(demo_stderr.stderr.splitlines()) == 2 * (demo.steps(300) + FINISH_STEPS + 1)


class FakeBar:
    """What st.progress returns, recording its calls."""

    def __init__(self):
        self.calls = []

    def progress(self, fraction, text):
        self.calls.append((fraction, text))

    def empty(self):
        self.calls.append("emptied")


# Clock: a starts at 0 (the run's start), ends at 2; b starts at 3 and ends at 4.5; two steps expected.
@pytest.mark.parametrize("lang, calls", [
    ("en", [(0.0, "Building — a (0.0 s)"), (0.5, "Building — b (3.0 s)"), "emptied"]),
    ("fr", [(0.0, "Building — a (0,0 s)"), (0.5, "Building — b (3,0 s)"), "emptied"]),
])
def test_the_dashboard_bar_shows_the_share_done_and_the_stage(lang, calls):
    bar = FakeBar()
    with i18n.use(lang), progress.reporting(StreamlitReporter(bar, "Building", clock=ticking(0, 0, 2, 3, 3, 4.5))):
        progress.expect(2)
        for label in ("a", "b"):
            with progress.step(label):
                pass
    assert bar.calls == calls  # a step's end draws nothing once no step is open: the next start does


def test_the_dashboard_bar_ignores_other_threads():
    bar = FakeBar()
    with progress.reporting(StreamlitReporter(bar, "Building")):
        worker = threading.Thread(target=i18n.carried(nested_run))
        worker.start()
        worker.join()
    assert bar.calls == ["emptied"]


def test_first_start_shows_the_demo_build_on_a_bar_then_clears_it(tmp_path, monkeypatch):
    path = tmp_path / "fresh" / "emptychair.duckdb"
    monkeypatch.setenv("EMPTYCHAIR_DB", str(path))
    monkeypatch.setattr(ui_db, "build_demo", lambda where: kpis_build_demo(where, customers=300))
    drawn = []
    draw = StreamlitReporter.draw
    monkeypatch.setattr(StreamlitReporter, "draw", lambda self: (drawn.append((self.current, self.total)),
                                                                draw(self)))
    at = AppTest.from_file(str(ROOT / "dashboard" / "navigation.py"), default_timeout=60).run()
    assert not at.exception and path.exists()
    stages = ["generating customers 1–300", "writing the customers, orders and survey answers",
              "simulating the marketing spend", *FINISH, "writing the database file"]
    total = demo.steps(300) + FINISH_STEPS + 1  # 1 chunk + the tables + the spend, finish_build's 6, publishing = 10
    assert [current for current, _total in drawn if current] == [(stage,) for stage in stages]
    assert {seen for _current, seen in drawn} == {total}
    assert not at.get("progress")  # emptied once the build is done
