"""Sign-in and roles: the access file, and what each role and scope sees (AppTest with `at.user`), over the KPI
fixture (tests/kpi_fixture.py). February 2024's revenue is 315 € for everyone and 275 € in France (o25 c13 55 +
o26 c10 100 + o28 c04 45 + o29 c15 75; Belgium's o27 c11 40 is the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import cli
import kpis
from kpis.access import AccessError, Grant, parse_access
from store.settings import Settings, settings_path
from tests import test_app

ROOT = Path(__file__).resolve().parent.parent
fixture_db = test_app.fixture_db  # the fixture database, served to the app through $EMPTYCHAIR_DB

ACCESS = """[settings]
groups_claim = "groups"

[users]
"ceo@acme.example" = "board"
"ana@acme.example" = "analyst"
"fr.manager@acme.example" = { role = "analyst", region = ["FR"] }
"partner@bank.example" = "partner"

[groups]
"bi-team" = "analyst"
"investors" = "partner"
"""
CEO, ANA, FR, PARTNER = "ceo@acme.example", "ana@acme.example", "fr.manager@acme.example", "partner@bank.example"
PAGES = {name: f"../pages/{script}.py" for name, script in (
    ("empty chair", "empty_chair"), ("voice", "voice"), ("model check", "model_check"), ("audit", "audit"),
    ("partner", "partner"), ("equity", "equity_vs_volume"), ("scorecard", "scorecard"), ("glossary", "glossary"))}
TITLES = {"empty chair": "The empty chair", "voice": "Voice of the customer", "model check": "Model check",
          "audit": "Audit log", "partner": "Partner view", "equity": "Customer equity vs volume",
          "scorecard": "Scorecard", "glossary": "Glossary"}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> kpis.Database:
    from tests import kpi_fixture

    return kpis.connect(kpi_fixture.build_database(tmp_path_factory.mktemp("access")))


@pytest.fixture
def signed_in(fixture_db, tmp_path, monkeypatch):
    """An app run as a signed-in person (None: signed out), with the access file above."""
    (tmp_path / "access.toml").write_text(ACCESS)
    monkeypatch.setenv("EMPTYCHAIR_ACCESS", str(tmp_path / "access.toml"))

    def run(email: str | None, page: str | None = None, groups: list | None = None, **params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "dashboard" / "navigation.py"), default_timeout=60)
        at.user = {"is_logged_in": email is not None, "email": email, **({"groups": groups} if groups else {})}
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        if page:
            at.switch_page(PAGES[page]).run()
        assert not at.exception, at.exception
        return at
    return run


def title(at: AppTest) -> str:
    return at.title[0].value if at.title else ""


# --- the access file ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ('[users]\n"ceo@acme.example" = board\n', "access.toml: not valid TOML: Invalid value (at line 2, column 22)"),
    ('[users]\n"a@acme.example" = "analyst"\n"ceo@acme.example" = "boss"\n',
     "access.toml line 3: unknown role 'boss': use one of board, analyst, partner"),
    ('[users]\n\n"fr@acme.example" = { role = "analyst", colour = ["red"] }\n',
     "access.toml line 3: unknown segment 'colour'"),
    ('[users]\n"fr@acme.example" = { role = "analyst", region = ["FR", "XX"] }\n',
     "access.toml line 2: unknown region 'XX'"),
    ('[groups]\n"bi" = { role = "analyst", region = "FR" }\n"ops" = { role = "analyst", region = [] }\n',
     "access.toml line 3: region must be a list of values"),
    ('[users]\n"ceo@acme.example" = "board"\n"CEO@acme.example" = "analyst"\n',
     "access.toml line 3: CEO@acme.example is listed twice (also as ceo@acme.example, line 2)"),
    ('[users]\n"ceo@acme.example" = "board"\n"ceo@acme.example" = "analyst"\n',
     "access.toml: not valid TOML: Cannot overwrite a value (at line 3"),
    ('[users]\n"ceo" = "board"\n', "access.toml line 2: 'ceo' is not an e-mail address"),
    ('[people]\n"ceo@acme.example" = "board"\n', "access.toml: unknown section [people]"),
])
def test_a_wrong_access_file_is_refused_naming_its_line(db, text, message):
    with pytest.raises(AccessError) as refused:
        parse_access(text, db)
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize("email, groups, expected", [
    (CEO, [], Grant("board", {}, "users: ceo@acme.example")),
    ("CEO@Acme.example ", [], Grant("board", {}, "users: ceo@acme.example")),     # e-mails match in any case
    (FR, [], Grant("analyst", {"region": ("FR",)}, "users: fr.manager@acme.example")),
    ("bob@acme.example", ["bi-team"], Grant("analyst", {}, "groups: bi-team")),
    ("bob@acme.example", ["investors", "bi-team"], Grant("analyst", {}, "groups: bi-team")),  # most trusted
    (PARTNER, ["bi-team"], Grant("partner", {}, "users: partner@bank.example")),  # the person's own line wins
    ("stranger@else.example", ["other"], None),                                  # deny by default
    (None, [], None),
])
def test_grants_follow_the_file(db, email, groups, expected):
    assert parse_access(ACCESS, db).grant_for(email, {"groups": groups}) == expected


# --- who sees what ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("email, page, shown", [
    (CEO, "empty chair", "empty chair"), (CEO, "voice", "voice"), (CEO, "audit", "audit"),
    (CEO, "partner", "empty chair"),                      # the partner view is the partners' page
    (ANA, "model check", "model check"), (ANA, "audit", "empty chair"),  # the audit log is the board's
    (PARTNER, "empty chair", "partner"), (PARTNER, "voice", "partner"), (PARTNER, "model check", "partner"),
    (PARTNER, "audit", "partner"), (PARTNER, "scorecard", "partner"), (PARTNER, "glossary", "glossary"),
])
def test_each_role_reaches_its_pages_and_is_refused_the_others(signed_in, email, page, shown):
    at = signed_in(email, page)
    assert title(at) == TITLES[shown]
    refused = [w.value for w in at.warning if "is not part of your access" in w.value]
    assert refused == ([] if page == shown else [f"“{at_title(page)}” is not part of your access: showing "
                                                 f"“{at_title(shown)}”."])


def at_title(page: str) -> str:
    """The navigation's title of a page (as the refusal names it)."""
    return {"empty chair": "Empty chair", "voice": "Voice of the customer", "model check": "Model check",
            "audit": "Audit log", "partner": "Partner view", "scorecard": "Scorecard", "glossary": "Glossary"}[page]


def test_signed_out_people_see_the_sign_in_page_and_strangers_no_access(signed_in):
    at = signed_in(None)
    assert title(at) == "Sign in" and [b.label for b in at.button] == ["Sign in"] and not at.metric
    at = signed_in("stranger@else.example")
    assert title(at) == "No access" and "stranger@else.example" in at.markdown[0].value and not at.metric
    assert [b.label for b in at.button] == ["Sign out"]


def test_a_group_claim_gives_its_role(signed_in):
    at = signed_in("bob@acme.example", "model check", groups=["bi-team"])
    assert title(at) == "Model check" and "Signed in as **bob@acme.example** · analyst" in at.sidebar.caption[0].value


def test_partners_see_aggregates_only(signed_in):
    at = signed_in(PARTNER)
    assert title(at) == "Partner view"
    # Suppression as in the partner PDF: February 2024's 5 buyers are fewer than 10.
    values = {m.label: m.value for m in signed_in(PARTNER, period="2024-02").metric}
    assert values["Active customers"] == "suppressed" and values["Revenue"] == "suppressed"
    assert not at.get("download_button") and not at.dataframe  # no CSV, no customer-level table
    assert not [m for m in at.markdown if "“" in m.value]  # no comment
    assert sorted(b.label for b in at.button) == ["Prepare the PDF", "Reset view", "Sign out"]
    assert not [s for s in at.get("segmented_control") if s.label == "Edition"]  # the partner edition only


@pytest.mark.parametrize("email, csv", [(ANA, True), (CEO, False), (FR, True)])
def test_only_analysts_take_csv_files(signed_in, email, csv):
    at = signed_in(email, "equity")
    assert bool([d for d in at.get("download_button") if "(CSV)" in d.label]) is csv


@pytest.mark.parametrize("params, notice", [
    ({}, None),                                                              # no filter in the link: the scope
    ({"region": "FR"}, None),
    ({"region": "BE"}, "Region 'BE' is outside your access: showing Region: FR."),  # another region
    ({"region": ["FR", "BE"]}, "Region 'BE' is outside your access: showing Region: FR."),
])
def test_a_scoped_analyst_sees_only_the_scope_whatever_the_link(signed_in, db, params, notice):
    at = signed_in(FR, period="2024-02", **params)
    values = {m.label.split("] ")[-1]: m.value for m in at.metric}
    france = kpis.evaluate(db, "revenue", "2024-02", filters={"region": ["FR"]})
    assert france == 275.0 and values["Revenue"] == "275 €"  # never 315 € (everyone)
    assert at.query_params["region"] == "FR"
    assert [w.value for w in at.warning] == ([notice] if notice else [])
    assert at.sidebar.multiselect(key="filter:region:FR").options == ["FR"]  # nothing outside the scope offered


def test_a_broken_access_file_stops_the_dashboard_with_its_line(signed_in, tmp_path):
    (tmp_path / "access.toml").write_text('[users]\n"ceo@acme.example" = "boss"\n')
    at = signed_in(CEO)
    assert title(at) == "The access file cannot be used" and not at.metric
    assert at.error[0].value.startswith("access.toml line 2: unknown role 'boss'")


def test_without_sign_in_the_dashboard_is_open_and_says_so(fixture_db):
    at = test_app.app()
    assert title(at) == "The empty chair"
    assert any(c.value.startswith(":material/lock_open: Open: no sign-in configured.") for c in at.sidebar.caption)


# --- the audit log ------------------------------------------------------------------------------------------------

def test_changes_and_exports_are_in_the_audit_log(signed_in, fixture_db, tmp_path, monkeypatch):
    at = signed_in(ANA, "scorecard")
    at.selectbox(key="target:kpi").select("Revenue")
    at.text_input(key="target:value").input("100")
    at.button(key="target:save").click().run()
    at = signed_in(ANA, "equity")
    csv = next(d for d in at.get("download_button") if "(CSV)" in d.label)
    csv.click().run()
    assert cli.main(["events", "add", "--date", "2024-06-18", "--label", "Price rise", "--db", str(fixture_db)]) == 0
    log = Settings(settings_path(fixture_db)).audit()
    assert log[["who", "action"]].values.tolist() == [
        [f"cli:{__import__('os').environ.get('USER') or 'unknown'}", "event added"],
        [ANA, "csv"], [ANA, "target set"]]  # newest first
    assert log["detail"].iloc[2] == "revenue 2024-11 all customers = 100 (tolerance 0.05)"
    assert log["detail"].iloc[1] == "emptychair_equity_vs_volume_2024-11.csv"
    at = signed_in(CEO, "audit")
    assert at.dataframe[0].value["Who"].tolist()[1:] == [ANA, ANA]
    board = signed_in(CEO, "scorecard")  # the board reads targets, analysts set them
    assert not board.get("form") or not [b for b in board.button if b.key == "target:save"]
