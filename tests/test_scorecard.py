"""The scorecard and events in the dashboard and the PDF, over the KPI fixture (tests/kpi_fixture.py): data ends
2024-12-20, so the default view is November 2024, whose revenue is one order (o37, 60 €)."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from pypdf import PdfReader

import cli
import kpis
from report import build_report
from store.settings import Settings, settings_path
from tests import test_app
from tests.test_app import app

fixture_db = test_app.fixture_db  # the fixture database, served to the app through $EMPTYCHAIR_DB

SCORECARD, EMPTY_CHAIR, EQUITY = "../pages/scorecard.py", "../pages/empty_chair.py", "../pages/equity_vs_volume.py"


def labels(at) -> dict[str, str]:
    """Each tile's label by its KPI's short label (the badge comes first)."""
    return {m.label.split("] ")[-1]: m.label for m in at.metric}


def test_a_target_set_in_the_form_is_a_badge_on_the_empty_chair(fixture_db):
    at = app().switch_page(SCORECARD).run()
    assert not at.exception
    assert any("No target for Nov 2024" in i.value for i in at.info)
    at.selectbox(key="target:kpi").select("Revenue")
    at.text_input(key="target:period").input("2024-11")
    at.text_input(key="target:value").input("100")
    at.button(key="target:save").click().run()
    assert not at.exception and not at.error
    assert "Target saved: Revenue, 2024-11, all customers." in [s.value for s in at.success]
    # 60 € against 100 €: 40 € short, beyond 5 % of 100 → off track, in the table and on the tile.
    table = at.dataframe[0].value
    assert table.loc[0, ["Status", "KPI", "Actual", "Target", "Gap"]].tolist() == [
        "off track", "Revenue", "60.00 €", "100.00 €", "-40.00 € (-40.0 %)"]
    at.switch_page(EMPTY_CHAIR).run()
    assert labels(at)["Revenue"] == ":red-badge[off track] Revenue"
    assert labels(at)["Orders"] == "Orders"  # no target: no badge
    revenue = next(m for m in at.metric if m.label.endswith("Revenue"))
    assert revenue.proto.delta_description.startswith("target 100 €")
    stored = Settings(settings_path(fixture_db)).targets()
    assert stored[["kpi", "period", "segment", "target", "updated_by"]].values.tolist() == [
        ["revenue", "2024-11", "", 100.0, "open dashboard"]]


def test_a_bad_target_in_the_form_is_refused_and_not_stored(fixture_db):
    at = app().switch_page(SCORECARD).run()
    at.selectbox(key="target:kpi").select("Retention rate")
    at.text_input(key="target:value").input("140 %")
    at.button(key="target:save").click().run()
    assert [e.value for e in at.error] == [
        "The target was not saved: target 140 % is impossible for Retention rate: it ranges 0 % to 100 %"]
    assert Settings(settings_path(fixture_db)).targets().empty


def test_a_target_of_one_segment_shows_in_that_segment_only(fixture_db):
    Settings(settings_path(fixture_db)).put_targets([{"kpi": "revenue", "period": "2024-11", "segment": "region=FR",
                                                      "target": 50.0, "tolerance": 0.05, "public": False}])
    assert labels(app(region="FR"))["Revenue"] == ":green-badge[on track] Revenue"  # c19 is French: 60 ≥ 50
    assert labels(app())["Revenue"] == "Revenue"


def test_an_event_is_drawn_on_the_trend_chart_and_listed_under_it(fixture_db):
    Settings(settings_path(fixture_db)).add_events([
        {"start": date(2024, 6, 18), "until": None, "label": "Price rise", "category": "price", "segment": ""},
        {"start": date(2024, 9, 1), "until": date(2024, 10, 15), "label": "Autumn campaign", "category": "campaign",
         "segment": "region=BE"}])
    at = app().switch_page(EQUITY).run()
    assert not at.exception
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    layers = spec["layer"]
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in layers]
    assert marks[:3] == ["rect", "rule", "text"]  # the campaign's band, the price rise's rule, their numbers
    captions = [c.value for c in at.caption]
    assert ("Events: 1. 18 Jun 2024 · Price · Price rise · 2. 1 Sep – 15 Oct 2024 · Campaign · Autumn campaign (BE)"
            in captions)
    at = app(region="FR").switch_page(EQUITY).run()  # Belgium's campaign is not in a view of France
    assert "Events: 1. 18 Jun 2024 · Price · Price rise" in [c.value for c in at.caption]


@pytest.fixture
def settings_frames(fixture_db):
    store = Settings(settings_path(fixture_db))
    store.put_targets([
        {"kpi": "revenue", "period": "2024", "segment": "", "target": 1200.0, "tolerance": 0.05, "public": True},
        {"kpi": "orders", "period": "2024-11", "segment": "", "target": 1.0, "tolerance": 0.05, "public": False}])
    store.add_events([{"start": date(2024, 6, 18), "until": None, "label": "Price rise", "category": "price",
                       "segment": ""}])
    return store.targets(), store.events()


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_board_pdf_has_a_status_column_and_the_events(fixture_db, settings_frames, tmp_path):
    out = tmp_path / "board.pdf"  # `cli.py report` reads the settings store beside the database
    assert cli.main(["report", "--period", "2024-11", "--out", str(out), "--db", str(fixture_db)]) == 0
    text = text_of(out.read_bytes())
    log = Settings(settings_path(fixture_db)).audit()  # the export is in the audit log
    assert log[["action", "detail", "view"]].values.tolist()[0] == [
        "pdf", "board PDF 2024-11 written to board.pdf", "all customers"]
    # Revenue 60 € against 1200 / 12 = 100 €: off track; orders 1 against 1: on track.
    assert "Against target" in text
    assert "Revenue 60.00 € 100.00 € −40.00 € off track phased from 2024" in text
    assert "Orders 1 1 +0 on track set" in text
    assert "Events: 1. 18 Jun 2024 · Price · Price rise" in text


def test_the_partner_pdf_shows_public_targets_only(fixture_db, settings_frames):
    targets, events = settings_frames
    text = text_of(build_report(kpis.connect(fixture_db), "2024-11", edition="partner", min_segment=1,
                                targets=targets, events=events))
    assert "Revenue 60.00 € 100.00 € −40.00 € off track phased from 2024" in text
    assert "+0 on track" not in text  # orders' target is not public
    assert "Only the targets the company made public are shown." in " ".join(text.split())


@pytest.mark.parametrize("until, expected", [
    (None, "Event added: Price rise."),
    (date(2024, 6, 1), "The event was not added: the event ends (2024-06-01) before it starts (2024-06-18)"),
])
def test_events_are_added_in_the_form(fixture_db, until, expected):
    at = app().switch_page(SCORECARD).run()
    at.date_input(key="event:start").set_value(date(2024, 6, 18))
    at.date_input(key="event:until").set_value(until)
    at.selectbox(key="event:category").select("price")
    at.text_input(key="event:label").input("Price rise")
    at.button(key="event:save").click().run()
    assert expected in [m.value for m in (*at.success, *at.error)]
    stored = Settings(settings_path(fixture_db)).events()
    assert stored["label"].tolist() == ([] if until else ["Price rise"])
