"""Targets and events: status rules, phasing, validation, and the settings store they live in.

Hand-worked figures are from the KPI fixture (tests/kpi_fixture.py): November 2024 revenue is one order (o37, 60 €);
2024-Q1 revenue is January 285 (o21 35 + o22 110 + o23 120 + o24 20) + February 315 (o25 55 + o26 100 + o27 40 +
o28 45 + o29 75) + March 365 (o30 300 + o31 65) = 965 €.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import cli
import kpis
from kpis import REGISTRY, Period
from kpis.build import import_files
from kpis.decisions import Refused, segment_of, shows
from kpis.events import events_of, legend, on_days, on_periods, parse_events
from kpis.targets import goal, parse_targets, scorecard, status, target_line
from store.settings import Settings, settings_path
from tests import kpi_fixture

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fixture_path(tmp_path_factory) -> Path:
    return kpi_fixture.build_database(tmp_path_factory.mktemp("targets"))


@pytest.fixture(scope="module")
def db(fixture_path) -> kpis.Database:
    return kpis.connect(fixture_path)


def frame(*rows) -> pd.DataFrame:
    """A targets table as the store returns it: (kpi, period, target[, segment[, tolerance[, public]]])."""
    full = [dict(zip(("kpi", "period", "target", "segment", "tolerance", "public"),
                     (*r, *("", 0.05, False)[len(r) - 3:]), strict=True)) for r in rows]
    return pd.DataFrame(full, columns=["kpi", "period", "target", "segment", "tolerance", "public"])


# --- status: direction-aware, the tolerance's edge counts as at risk ---------------------------------------------

@pytest.mark.parametrize("key, actual, target, tolerance, expected", [
    # revenue: higher is better; 5 % of 100 = 5 → at risk down to 95
    ("revenue", 120.0, 100.0, 0.05, "on track"),
    ("revenue", 100.0, 100.0, 0.05, "on track"),   # exactly on target
    ("revenue", 95.0, 100.0, 0.05, "at risk"),     # 100 − 95 = 5 = 5 % × 100: the edge
    ("revenue", 94.99, 100.0, 0.05, "off track"),  # 5.01 short
    ("revenue", 99.0, 100.0, 0.0, "off track"),    # no tolerance: any shortfall is off track
    # CAC: lower is better; 10 % of 40 = 4 → at risk up to 44
    ("cac", 30.0, 40.0, 0.10, "on track"),
    ("cac", 40.0, 40.0, 0.10, "on track"),
    ("cac", 44.0, 40.0, 0.10, "at risk"),          # 44 − 40 = 4 = 10 % × 40: the edge
    ("cac", 44.01, 40.0, 0.10, "off track"),
    # retention (a rate as a share): 0.40 target, 5 % of it = 0.02 → at risk down to 0.38
    ("retention_rate", 0.38, 0.40, 0.05, "at risk"),
    ("retention_rate", 0.379, 0.40, 0.05, "off track"),
    # NPS below zero: 5 % of |−10| = 0.5 point
    ("nps", -10.5, -10.0, 0.05, "at risk"),
    ("nps", -10.6, -10.0, 0.05, "off track"),
    ("nps", -5.0, -10.0, 0.05, "on track"),
    # CES: lower is better on a 1–5 scale; 5 % of 2.0 = 0.1
    ("ces", 2.1, 2.0, 0.05, "at risk"),
    ("ces", 2.2, 2.0, 0.05, "off track"),
    ("revenue", None, 100.0, 0.05, None),          # nothing to compare
])
def test_status_follows_the_kpi_direction(key, actual, target, tolerance, expected):
    assert status(REGISTRY[key], actual, target, tolerance) == expected


# --- phasing: a year's or quarter's target in its months ---------------------------------------------------------

@pytest.mark.parametrize("targets, key, period, expected, source", [
    ((("revenue", "2024", 1200.0),), "revenue", "2024-11", 100.0, "phased from 2024"),    # 1200 × 1/12
    ((("revenue", "2024", 1200.0),), "revenue", "2024-Q1", 300.0, "phased from 2024"),    # 1200 × 3/12
    ((("revenue", "2024-Q1", 900.0),), "revenue", "2024-02", 300.0, "phased from Q1 2024"),  # 900 × 1/3
    ((("revenue", "2024", 1200.0), ("revenue", "2024-Q1", 900.0)), "revenue", "2024-02", 300.0,
     "phased from Q1 2024"),                                                               # the quarter first
    ((("revenue", "2024", 1200.0), ("revenue", "2024-02", 250.0)), "revenue", "2024-02", 250.0, "set"),
    ((("retention_rate", "2024", 0.4),), "retention_rate", "2024-05", 0.4, "phased from 2024"),  # a rate as is
    ((("active_customers", "2024", 10.0),), "active_customers", "2024-Q2", 10.0, "phased from 2024"),  # a stock
    ((("revenue", "2024-11", 100.0),), "revenue", "2024", None, None),                    # never upwards
    ((("revenue", "2023", 100.0),), "revenue", "2024-01", None, None),
])
def test_targets_phase_into_shorter_periods(targets, key, period, expected, source):
    found = goal(frame(*targets), key, Period.parse(period), "")
    assert (None if found is None else (pytest.approx(found.target), found.source)) == (
        None if expected is None else (pytest.approx(expected), source))


def test_a_segment_target_is_about_that_segment_only():
    targets = frame(("revenue", "2024-11", 100.0, "region=FR"))
    assert goal(targets, "revenue", Period.parse("2024-11"), "region=FR").target == 100.0
    assert goal(targets, "revenue", Period.parse("2024-11"), "") is None


@pytest.mark.parametrize("filters, expected", [
    ({}, ""), ({"region": ("FR",)}, "region=FR"), ({"region": ["FR"], "cohort": []}, "region=FR"),
    ({"region": ("FR", "BE")}, None), ({"region": ("FR",), "acquisition_channel": ("search",)}, None),
])
def test_a_view_is_one_segment_or_none(filters, expected):
    assert segment_of(filters) == expected


def test_scorecard_of_the_fixture(db):
    # Nov 2024 revenue 60 € (o37) against 1200 / 12 = 100 € → gap −40 (−40 %): off track.
    # Q1 2024 revenue 965 € against 900 € → on track; its target line per month is 300 € (phased).
    targets = frame(("revenue", "2024", 1200.0, "", 0.05, True), ("revenue", "2024-Q1", 900.0))
    card = scorecard(db, targets, "2024-11").set_index("kpi")
    assert card.loc["revenue", ["actual", "target", "gap", "status", "source"]].tolist() == [
        60.0, pytest.approx(100.0), pytest.approx(-40.0), "off track", "phased from 2024"]
    assert card.loc["revenue", "gap_share"] == pytest.approx(-0.4)
    assert scorecard(db, targets, "2024-Q1").set_index("kpi").loc["revenue", "status"] == "on track"
    assert target_line(targets, "revenue", ["2023-12", "2024-01", "2024-04"], "") == [
        None, pytest.approx(300.0), pytest.approx(100.0)]
    assert scorecard(db, targets, "2024-11", {"region": ("FR", "BE")}).empty  # no single target is about it


def test_scorecard_public_only_keeps_the_public_targets(db):
    targets = frame(("revenue", "2024-11", 50.0, "", 0.05, True), ("orders", "2024-11", 3.0, "", 0.05, False))
    assert scorecard(db, targets, "2024-11")["kpi"].tolist() == ["revenue", "orders"]
    assert scorecard(db, targets, "2024-11", public_only=True)["kpi"].tolist() == ["revenue"]


# --- reading targets and events: every bad row named, nothing written --------------------------------------------

@pytest.mark.parametrize("row, message", [
    ({"kpi": "retention", "period": "2024-Q3", "target": "40 %"}, "unknown KPI 'retention'"),
    ({"kpi": "retention_rate", "period": "2024-Q5", "target": "40 %"}, "unknown period '2024-Q5'"),
    ({"kpi": "retention_rate", "period": "2024-Q3", "target": "140 %"}, "impossible for Retention rate"),
    ({"kpi": "retention_rate", "period": "2024-Q3", "target": "42"}, "a rate is written 42 % or 0.42"),
    ({"kpi": "nps", "period": "2024", "target": "120"}, "it ranges -100 to 100"),
    ({"kpi": "ces", "period": "2024", "target": "0.5"}, "it ranges 1 to 5"),
    ({"kpi": "revenue", "period": "2024", "target": "12 %"}, "is not a rate"),
    ({"kpi": "orders", "period": "2024", "target": "-3"}, "at least 0"),
    ({"kpi": "revenue", "period": "2024", "target": "lots"}, "not a number"),
    ({"kpi": "revenue", "period": "2024", "target": "100", "segment": "region=XX"}, "unknown region 'XX'"),
    ({"kpi": "revenue", "period": "2024", "target": "100", "segment": "colour=red"}, "unknown segment 'colour'"),
    ({"kpi": "revenue", "period": "2024", "target": "100", "segment": "FR"}, "write NAME=VALUE"),
    ({"kpi": "revenue", "period": "2024", "target": "100", "tolerance": "120 %"}, "tolerance"),
    ({"kpi": "revenue", "period": "2024", "target": "100", "public": "maybe"}, "write yes or no"),
])
def test_a_bad_target_is_refused_with_its_line_and_reason(db, row, message):
    good = {"kpi": "revenue", "period": "2024", "target": "1,200"}
    with pytest.raises(Refused) as refused:
        parse_targets([good, row], db, where="targets.csv")
    assert len(refused.value.problems) == 1  # the good row passed
    assert refused.value.problems[0].startswith("targets.csv line 3: ") and message in refused.value.problems[0]


@pytest.mark.parametrize("text, key, expected", [
    ("1,200,000", "revenue", 1_200_000.0), ("1 200 000", "revenue", 1_200_000.0), ("42 %", "retention_rate", 0.42),
    ("0.42", "retention_rate", 0.42), ("+35", "nps", 35.0), ("2.5", "ces", 2.5),
])
def test_targets_are_read_as_people_write_them(db, text, key, expected):
    (row,) = parse_targets([{"kpi": key, "period": "2024-Q3", "target": text, "segment": " region = FR "}], db)
    assert row == {"kpi": key, "period": "2024-Q3", "segment": "region=FR", "target": pytest.approx(expected),
                   "tolerance": 0.05, "public": False}


def test_the_same_target_twice_in_a_file_is_refused(db):
    rows = [{"kpi": "revenue", "period": "2024", "target": "1"}, {"kpi": "revenue", "period": "2024", "target": "2"}]
    with pytest.raises(Refused, match="line 3: revenue 2024 all customers is already on line 2"):
        parse_targets(rows, db, where="t.csv")


@pytest.mark.parametrize("row, message", [
    ({"date": "2024-03-31", "until": "2024-03-01", "label": "Spring"}, "ends (2024-03-01) before it starts"),
    ({"date": "31/03/2024", "label": "Spring"}, "is not a date"),
    ({"date": "2024-03-01", "label": "  "}, "no label"),
    ({"date": "2024-03-01", "label": "x" * 81}, "at most 80"),
    ({"date": "2024-03-01", "label": "Spring", "category": "party"}, "unknown category 'party'"),
    ({"date": "2024-03-01", "label": "Spring", "segment": "acquisition_channel=tv"}, "unknown acquisition_channel"),
])
def test_a_bad_event_is_refused_with_its_reason(db, row, message):
    with pytest.raises(Refused, match="events.csv line 2: .*" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_events([row], db, where="events.csv")


# --- events on charts ---------------------------------------------------------------------------------------------

def test_events_touch_the_periods_they_overlap(db):
    rows = parse_events([{"date": "2024-03-02", "until": "2024-05-10", "label": "Spring campaign",
                          "category": "campaign"},
                         {"date": "2024-07-14", "label": "Price rise", "category": "price",
                          "segment": "region=BE"},
                         {"date": "2023-01-01", "label": "Long ago"}], db)
    events = events_of(pd.DataFrame([{**r, "id": n} for n, r in enumerate(rows, start=1)]))
    marks = on_periods(events, ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07"])
    # The campaign covers March, April and May (a band); the price rise is one day of July (a rule).
    assert list(zip(marks["period"], marks["number"], marks["range"], strict=True)) == [
        ("2024-03", 1, True), ("2024-04", 1, True), ("2024-05", 1, True), ("2024-07", 2, False)]
    assert legend(marks) == ["1. 2 Mar – 10 May 2024 · Campaign · Spring campaign",
                             "2. 14 Jul 2024 · Price · Price rise (BE)"]
    # A view of France leaves out Belgium's price rise; a view of Belgium, or of everyone, keeps it.
    assert on_periods(events, ["2024-07"], {"region": ("FR",)}).empty
    assert len(on_periods(events, ["2024-07"], {"region": ("BE",)})) == 1
    assert shows("region=BE", {}) and not shows("region=BE", {"region": ["FR"]})
    days = on_days(events, date(2024, 5, 1), date(2024, 8, 1))
    assert days["end"].tolist() == [pd.Timestamp("2024-05-11"), pd.Timestamp("2024-07-15")]  # the day after


# --- the settings store -------------------------------------------------------------------------------------------

def test_settings_survive_an_import_and_a_demo_rebuild(tmp_path):
    database = kpi_fixture.build_database(tmp_path)
    store = Settings(settings_path(database))
    assert store.path == tmp_path / "fixture.settings.duckdb"
    store.put_targets([{"kpi": "revenue", "period": "2024", "segment": "", "target": 1200.0, "tolerance": 0.05,
                        "public": True}])
    store.add_events([{"start": date(2024, 3, 2), "until": None, "label": "Spring", "category": "campaign",
                       "segment": ""}])
    import_files(database, orders=tmp_path / "orders.csv", customers=tmp_path / "customers.csv")
    kpis.build.build_demo(database, customers=200, years=1)
    assert Settings(settings_path(database)).targets()[["kpi", "period", "target"]].values.tolist() == [
        ["revenue", "2024", 1200.0]]
    assert Settings(settings_path(database)).events()["label"].tolist() == ["Spring"]


WRITER = """
import sys
from datetime import date
from store.settings import Settings
store, who = Settings(sys.argv[1]), sys.argv[2]
for n in range(12):
    store.add_events([{"start": date(2024, 1, 1), "until": None, "label": f"{who} {n}", "category": "other",
                       "segment": ""}], by=who)
    store.put_targets([{"kpi": "orders", "period": f"{2000 + n}", "segment": who, "target": float(n),
                        "tolerance": 0.05, "public": False}], by=who)
"""


def test_two_writers_at_once_lose_nothing(tmp_path):
    path = tmp_path / "settings.duckdb"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), who], cwd=ROOT) for who in ("a", "b")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    store = Settings(path)
    events, targets = store.events(), store.targets()
    assert sorted(events["label"]) == sorted(f"{who} {n}" for who in "ab" for n in range(12))
    assert sorted(events["id"]) == list(range(1, 25))  # ids taken under the lock: never one twice
    assert len(targets) == 24 and set(targets["updated_by"]) == {"a", "b"}


def test_a_failed_write_writes_nothing(tmp_path):
    store = Settings(tmp_path / "s.duckdb")
    good = {"kpi": "revenue", "period": "2024", "segment": "", "target": 1.0, "tolerance": 0.05, "public": False}
    with pytest.raises(KeyError):
        store.put_targets([good, {"kpi": "orders"}])  # the second row is incomplete: the transaction rolls back
    assert store.targets().empty and store.events().empty


# --- the command line ---------------------------------------------------------------------------------------------

def test_cli_targets_and_events_round_trip(fixture_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMPTYCHAIR_SETTINGS", str(tmp_path / "cli.settings.duckdb"))
    good = tmp_path / "targets.csv"
    good.write_text("kpi,period,target,segment,tolerance,public\nrevenue,2024,1200,,,yes\n"
                    "retention_rate,2024-Q3,42 %,region=FR,3 %,\n")
    db = ["--db", str(fixture_path)]
    assert cli.main(["targets", "import", str(good), *db]) == 0
    assert cli.main(["events", "add", "--date", "2024-03-02", "--until", "2024-03-31", "--label", "Spring campaign",
                     "--category", "campaign", "--segment", "acquisition_channel=search", *db]) == 0
    capsys.readouterr()
    assert cli.main(["targets", "list", *db]) == 0 and cli.main(["events", "list", *db]) == 0
    out = capsys.readouterr().out
    assert "revenue" in out and "1,200 €" in out and "region=FR" in out and "42.0 %" in out
    assert "2 Mar – 31 Mar 2024 · Campaign · Spring campaign (search)" in out

    bad = tmp_path / "bad.csv"
    bad.write_text("kpi,period,target\norders,2024,10\nretention_rate,2024-Q3,140 %\nrevenue,2024-13,1\n")
    assert cli.main(["targets", "import", str(bad), *db]) == 2
    err = capsys.readouterr().err
    assert "bad.csv line 3: target 140 % is impossible for Retention rate" in err
    assert "bad.csv line 4: unknown period '2024-13'" in err
    assert cli.main(["events", "add", "--date", "2024-03-31", "--until", "2024-03-01", "--label", "x", *db]) == 2
    assert "before it starts" in capsys.readouterr().err
    store = Settings(tmp_path / "cli.settings.duckdb")
    assert sorted(store.targets()["kpi"]) == ["retention_rate", "revenue"]  # orders (line 2) was not written
    assert len(store.events()) == 1

    assert cli.main(["targets", "remove", "retention_rate", "2024-Q3", "--segment", "region=FR", *db]) == 0
    assert cli.main(["targets", "remove", "retention_rate", "2024-Q3", *db]) == 2  # not for all customers
    assert cli.main(["events", "remove", "1", *db]) == 0 and cli.main(["events", "remove", "1", *db]) == 2
    assert store.targets()["kpi"].tolist() == ["revenue"] and store.events().empty


def test_cli_csv_with_a_wrong_column_is_refused(fixture_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMPTYCHAIR_SETTINGS", str(tmp_path / "c.settings.duckdb"))
    wrong = tmp_path / "events.csv"
    wrong.write_text("day,label\n2024-03-01,Spring\n")
    assert cli.main(["events", "import", str(wrong), "--db", str(fixture_path)]) == 2
    assert "events.csv: no column date; unknown column day" in capsys.readouterr().err
    assert not (tmp_path / "c.settings.duckdb").exists()


def test_an_empty_store_has_the_columns_of_a_written_one(tmp_path):
    empty, written = Settings(tmp_path / "empty.duckdb"), Settings(tmp_path / "written.duckdb")
    written.log("someone", "csv", "a.csv")  # any write creates every table
    for table in ("targets", "events", "sendings", "audit"):
        assert list(empty.table(table).columns) == list(written.table(table).columns), table
