"""The voice of the customer page, over tests/voice_fixture.py: its numbers are the kpis' numbers, worked out by hand
in tests/test_voice.py, and it never shows a person."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import kpis
from kpis import Unit
from kpis import format as fmt
from kpis.build import import_files
from tests import voice_fixture

ROOT = Path(__file__).resolve().parent.parent
PAGE = "../pages/voice.py"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+\d{1,3}[ .]?\d|\b0\d([ .]?\d\d){4}\b|\(\d{3}\)|\b\d{3}-\d{3}-\d{4}\b")


@pytest.fixture(scope="module")
def voice_path(tmp_path_factory) -> Path:
    """The hand-worked voice fixture: answers in March and April 2024, data to 2024-07-05."""
    folder = tmp_path_factory.mktemp("voice_page")
    files = voice_fixture.write_files(folder)
    path = folder / "voice.duckdb"
    import_files(path, now=datetime(2025, 1, 1), **files)
    return path


@pytest.fixture
def voice_db(voice_path, monkeypatch) -> kpis.Database:
    monkeypatch.setenv("EMPTYCHAIR_DB", str(voice_path))
    return kpis.connect(voice_path)


def page(**params) -> AppTest:
    """The app opened straight on the voice page, with the view in the link."""
    at = AppTest.from_file(str(ROOT / "dashboard" / "navigation.py"), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest) -> str:
    return "\n".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.subheader])


def verbatim_table(at: AppTest):
    frames = [f.value for f in at.dataframe if "comment" in f.value.columns]
    assert len(frames) == 1, "one verbatims table"
    return frames[0]


def test_the_page_is_in_the_navigation_and_runs(voice_db):
    at = page()
    assert at.title[0].value == "Voice of the customer"
    # Data ends 2024-07-05: the default period is June 2024, where nobody answered a survey.
    assert at.query_params["period"] == "2024-06"


# A year is shown once complete: the fixture's data end in July 2024, so months and quarters it is.
@pytest.mark.parametrize("period, shown", [("2024-03", "+20"), ("2024-04", "-25"), ("2024-Q2", "-25")])
def test_nps_tile_is_the_registry_nps(voice_db, period, shown):
    at = page(period=period)
    assert at.query_params["period"] == period
    expected = fmt.value(kpis.evaluate(voice_db, "nps", period), Unit.SCORE, compact=True)
    assert metrics(at)["NPS"] == expected == shown  # 100 × (5 − 3) / 10 · 100 × (1 − 2) / 4 · April alone
    for label, key in (("CSAT", "csat"), ("CES", "ces")):
        assert metrics(at)[label] == fmt.value(kpis.evaluate(voice_db, key, period), kpis.REGISTRY[key].unit,
                                               compact=True)


def test_nps_tile_carries_its_margin_answers_and_noise_verdict(voice_db):
    at = page(period="2024-04")
    nps = next(m for m in at.metric if m.label == "NPS")
    # April: 4 answers, adjusted-Wald margin 58.45 (test_voice.MARGINS); against March the change is −45 and the
    # difference's noise 196 √(30.5/343 + 119.5/2197) = 74.20, its interval [−103.87, 44.53] covers 0: within the
    # noise (test_voice.test_april_drop_is_within_the_noise).
    assert nps.proto.delta_description == "± 58 pts · 4 answers"
    assert nps.delta == "-45.0"
    assert "Within the margin of error: not a real change" in texts(at)
    assert "the change's 95 % interval: -103.9 to +44.5" in texts(at)  # [−103.87, 44.53]


def test_a_change_beyond_the_noise_is_called_real(voice_db):
    # March 2024 against March 2023 (no answers): nothing to compare; the verdict says so, not "real".
    at = page(period="2024-03", compare="year")
    assert "No answers in Mar 2023 to compare with." in texts(at)
    assert "a real change" not in texts(at) and "not a real change" not in texts(at)


def test_a_period_without_answers_shows_dashes_and_says_so(voice_db):
    at = page(period="2024-01")  # orders, no survey answer
    shown = metrics(at)
    assert (shown["NPS"], shown["CSAT"], shown["CES"]) == ("—", "—", "—")
    infos = [i.value for i in at.info]
    assert any("No survey answers in Jan 2024" in i for i in infos)
    assert any("No comment matches" in i for i in infos)
    assert any("No effort (CES) or satisfaction (CSAT) answers in Jan 2024" in i for i in infos)


def every_period(at: AppTest) -> AppTest:
    at.toggle(key="voice:verbatims:every").set_value(True).run()
    assert not at.exception
    return at


def test_verbatims_show_no_customer_and_no_personal_data(voice_db):
    at = every_period(page(period="2024-04"))
    table = verbatim_table(at)
    assert list(table.columns) == ["answered_at", "survey", "score", "group", "touchpoint", "comment"]
    assert len(table) == 23  # every comment (32 answers, 9 without a comment)
    cells = table.astype(str)
    assert not cells.apply(lambda col: col.str.fullmatch(r"c\d\d")).any().any()  # no customer id anywhere
    for comment in table["comment"]:
        assert "@" not in comment and not PHONE.search(comment) and not EMAIL.search(comment), comment
    # The personal data was there and came out masked (f08, f22; f09, f12, f30, f31).
    assert cells["comment"].str.contains(r"\[email\]").sum() == 2
    assert cells["comment"].str.contains(r"\[phone\]").sum() == 4
    assert list(table["answered_at"]) == sorted(table["answered_at"], reverse=True)  # newest first


def test_verbatim_filters_reach_the_table(voice_db):
    at = every_period(page(period="2024-04"))
    at.selectbox(key="voice:verbatims:survey").set_value("nps").run()
    at.multiselect(key="voice:verbatims:group:nps").set_value(["detractor"]).run()
    assert not at.exception
    # NPS detractors with a comment, newest first: f13, f12, f10, f09, f08.
    comments = list(verbatim_table(at)["comment"])
    assert comments == list(kpis.verbatims(voice_db, None, survey="nps", group="detractor")["comment"])
    assert len(comments) == 5 and comments[0] == "Colis abîmé, produit cassé."


@pytest.mark.parametrize("search", ["x' OR '1'='1", "'); DELETE FROM feedback; --", '"quoted" \\ %_'])
def test_a_search_with_quotes_is_only_text(voice_db, search):
    at = every_period(page(period="2024-04"))
    at.text_input(key="voice:verbatims:search").set_value(search).run()
    assert not at.exception
    assert any("No comment matches" in i.value for i in at.info)
    assert kpis.evaluate(voice_db, "nps_answers", "2024") == 14  # nothing was touched


def test_a_search_finds_a_comment_with_a_quote(voice_db):
    at = page(period="2024-04")
    at.text_input(key="voice:verbatims:search").set_value("l'écoute").run()
    assert list(verbatim_table(at)["comment"]) == ["Conseillère très à l'écoute, merci ! Mon mail : [email]"]


def test_the_journey_step_focuses_the_page(voice_db):
    at = page(period="2024-04")
    at.segmented_control(key="voice:step").set_value("returns").run()
    assert not at.exception
    shown = metrics(at)
    # returns in April: CES f30 4, f31 5 → 4.5; CSAT f21 3 → none satisfied; no NPS at this step.
    ces = kpis.evaluate(voice_db, "ces", "2024-04", params={"touchpoint": "returns"})
    assert shown["CES"] == fmt.value(ces, Unit.SCORE, compact=True) == "4.50"
    assert shown["CSAT"] == "0.0 %"
    assert shown["NPS"] == "—"
    nps = next(m for m in at.metric if m.label == "NPS")
    assert nps.proto.delta_description == "NPS is not asked at this step"
    assert set(verbatim_table(at)["touchpoint"]) == {"returns"}
    assert "NPS is a relationship survey" in texts(at) and "“relationship” step" in texts(at)


# Value by NPS group, 2024-06 (window Jul 2023 – Jun 2024), worked out in tests/test_voice.py:
#   promoters  c02 c08: 2 customers, both bought after answering, 5 orders, 750 → AOV 150, 375 per customer
#   passives   c03 c04 c05: 3, c03 and c05 bought again (2/3), 6 orders, 330 → 2.0 per customer, AOV 55, 110
#   detractors c01 c06 c07: 3, nobody bought again, 5 orders, 470 → 5/3, AOV 94, 156.67 — the revenue at risk
#   anonymous NPS answers in the window: f04 f05 f10 f13.
VALUE_2024_06 = {
    "Customers who answered": ["2", "3", "3"],
    "Still buying (ordered after answering)": ["100%", "67%", "0%"],
    "Purchase frequency (orders per customer)": ["2.50", "2.00", "1.67"],
    "Average order value": ["150.00 €", "55.00 €", "94.00 €"],
    "Revenue per customer": ["375.00 €", "110.00 €", "156.67 €"],
    "Revenue": ["750.00 €", "330.00 €", "470.00 €"],
}


def test_value_by_nps_group_is_the_hand_worked_one(voice_db):
    at = page(period="2024-06")
    assert len(at.table) == 1
    table = at.table[0].value
    assert list(table.columns) == ["Promoters", "Passives", "Detractors"]
    assert {row: list(table.loc[row]) for row in table.index} == VALUE_2024_06
    assert metrics(at)["Revenue held by detractors"] == "470 €"
    assert "**30%** of the revenue" in texts(at)  # 470 / (750 + 330 + 470)
    assert "4 anonymous NPS answers" in texts(at)
    assert "Jul 2023 – Jun 2024" in texts(at)


def test_value_by_nps_group_follows_the_segment(voice_db):
    # FR in 2024-06 (test_voice.VALUE_FR): promoters c02 c08, passive c05, detractors c01 (140) and c07 (30).
    at = page(period="2024-06", region="FR")
    table = at.table[0].value
    assert list(table.loc["Customers who answered"]) == ["2", "1", "2"]
    assert list(table.loc["Revenue"]) == ["750.00 €", "120.00 €", "170.00 €"]
    assert metrics(at)["Revenue held by detractors"] == "170 €"
    assert "anonymous NPS answers in this window" not in texts(at)  # a segment holds none
    assert "Anonymous answers count in the score for all customers but belong to no segment" in texts(at)


def test_themes_compare_detractors_and_promoters(voice_db):
    at = page(period="2024-03")
    titles = [e.label for e in at.expander]
    # March NPS comments (test_voice.test_late_delivery_counts_for_detractors_in_both_languages):
    #   detractors (3): f08 delivery · f09 delivery, support · f10 price, app
    #   promoters (4, f04 is empty): f01 none · f02 delivery, support · f03 price · f05 quality, price
    # Sorted by the detractors' share: delivery 2/3, then app, price, support at 1/3, then quality 0/3.
    assert titles == [
        "**delivery** — 67% of detractor comments, 25% of promoter comments",
        "**app** — 33% of detractor comments, 0% of promoter comments",
        "**price** — 33% of detractor comments, 50% of promoter comments",
        "**support** — 33% of detractor comments, 25% of promoter comments",
        "**quality** — 0% of detractor comments, 25% of promoter comments",
    ]
    assert "Comments behind these shares: 3 detractor comments; 4 promoter comments." in texts(at)


def test_themes_say_how_many_comments_they_are_out_of(voice_db):
    # April NPS comments: detractors f12 (delivery, support), f13 (delivery, quality); promoter f11 "Super
    # service, je recommande." mentions no theme ("service" alone is none): its share is 0, not unknown.
    at = page(period="2024-04")
    assert "Comments behind these shares: 2 detractor comments; promoter comments mention none of these themes." \
        in texts(at)
    assert [e.label for e in at.expander][0] == "**delivery** — 100% of detractor comments, 0% of promoter comments"
