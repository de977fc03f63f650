"""The kpis package's own words in French and English: the headline sentences, movers, events, targets, refusals,
bridges, valuation and model notes, on the small fixtures (tests/kpi_fixture.py, tests/voice_fixture.py) and the
demo the "why" tests share (tests/test_why.py)."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest

import kpis
from i18n import _, use
from kpis import REGISTRY, acquisition
from kpis.access import AccessError, parse_access
from kpis.alerts import MODELS_NOISE, SURVEY_NOISE, Move, described, noise_label
from kpis.build import import_files
from kpis.clv.check import curve_period_label, holdout_check
from kpis.clv.common import ModelError
from kpis.clv.model import POOLED, fit_group_label, value_basis
from kpis.contributions import OTHER, movers_sentence, segment_label
from kpis.decisions import Refused
from kpis.decompose import describe_movers, listed
from kpis.evaluate import _map
from kpis.events import category_label, events_of, legend, on_days, on_periods, parse_events
from kpis.events import listed as events_listed
from kpis.story import _sentences, headline, nps_sentence, revenue_sentence, where_sentence
from kpis.targets import goal, parse_targets, scorecard, status_label
from kpis.valuation import assumption_label
from kpis.voice.verbatims import theme_label
from tests import kpi_fixture, voice_fixture

NNBSP, NBSP = "\u202f", "\u00a0"  # French: thousands / before « : ; % € » and inside « »


@pytest.fixture(scope="module")
def fixture_path(tmp_path_factory):
    return kpi_fixture.build_database(tmp_path_factory.mktemp("kpis_fr"))


@pytest.fixture(scope="module")
def db(fixture_path):
    return kpis.connect(fixture_path)


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kpis_fr_voice")
    files = voice_fixture.write_files(folder)
    import_files(folder / "voice.duckdb", now=datetime(2025, 1, 1), **files)
    return kpis.connect(folder / "voice.duckdb")


@pytest.fixture(scope="module")
def demo(demo_base):
    return kpis.connect(demo_base(4_000, 11))  # test_why.py's: built once a session


def in_language(lang, fn, *args, **kwargs):
    with use(lang):
        return fn(*args, **kwargs)


# --- movers: one sentence per shape, the list's "and" in the language ---------------------------------------------

CHANNELS = pd.DataFrame({"segment": ["Search", "Social", "Referral", "Email"],
                         "contribution": [12_300.0, 4_100.0, -2_000.0, 0.0]})


def _frame(pairs):
    return pd.DataFrame(pairs, columns=["segment", "contribution"])


@pytest.mark.parametrize("lang, frame, n, expected", [
    ("fr", CHANNELS, 2, f"Hausse portée par Search (+12{NNBSP}300) et Social (+4{NNBSP}100), freinée par Referral "
                        f"(-2{NNBSP}000)."),
    ("en", CHANNELS, 2, "Search (+12,300) and Social (+4,100) drove the rise; Referral (-2,000) held it back."),
    ("fr", _frame([("Search", -5000), ("Social", 1000)]), 3,
     f"Baisse entraînée par Search (-5{NNBSP}000), atténuée par Social (+1{NNBSP}000)."),
    ("fr", _frame([("A", -3), ("B", -1)]), 3, "Baisse entraînée par A (-3) et B (-1)."),
    ("fr", _frame([("A", 1), ("B", 2), ("C", 3)]), 3, "Hausse portée par C (+3), B (+2) et A (+1)."),
    ("fr", _frame([("A", 5), ("B", -5)]), 3, "A (+5) et B (-5) se compensent."),
    ("fr", _frame([("A", 0.0)]), 3, "Rien n'a bougé."),
    ("en", _frame([("A", 0.0)]), 3, "Nothing moved."),
])
def test_movers_in_each_language(lang, frame, n, expected):
    assert in_language(lang, describe_movers, frame, n=n) == expected


@pytest.mark.parametrize("lang, items, expected", [
    ("fr", ["a", "b", "c"], "a, b et c"), ("en", ["a", "b", "c"], "a, b and c"), ("fr", ["a"], "a"), ("fr", [], ""),
])
def test_a_list_ends_with_the_language_s_and(lang, items, expected):
    assert in_language(lang, listed, items) == expected


@pytest.mark.parametrize("lang, expected", [
    ("fr", "Hausse portée par Search (+10) et (autres) (+2)."), ("en", "Search (+10) and (other) (+2) drove the rise."),
])
def test_the_other_segment_is_named_in_the_language(lang, expected):
    frame = _frame([("Search", 10.0), (OTHER, 2.0)])
    assert in_language(lang, movers_sentence, frame) == expected
    assert in_language(lang, segment_label, "Search") == "Search"  # a segment value stays as the data has it


# --- the headline: what leadership reads first -------------------------------------------------------------------
# February 2024 against January on the fixture (test_why.py works it out): revenue 285 → 315 €, +30 € (+10.5 %);
# returning buyers 2 → 4 (+135 €), revenue per order 77.50 → 60 € (−50 €); by channel referral +125, social +40,
# search −135.

@pytest.mark.parametrize("lang, sentence, expected", [
    ("fr", revenue_sentence, f"Le chiffre d'affaires a progressé de 10,5{NBSP}% (+30{NBSP}€){NBSP}; les clients "
                             f"récurrents ont été plus nombreux (+135{NBSP}€) et ont dépensé moins par commande "
                             f"(−50{NBSP}€)."),
    ("en", revenue_sentence, "Revenue rose 10.5 % (+30 €); returning customers were more numerous (+135 €) and spent "
                             "less per order (−50 €)."),
    ("fr", where_sentence, f"Par canal d'acquisition, la hausse vient de Referral (+125{NBSP}€) et Social "
                           f"(+40{NBSP}€), freinée par Search (−135{NBSP}€)."),
    ("en", where_sentence, "By acquisition channel: Referral (+125 €) and Social (+40 €) drove the rise; Search "
                           "(−135 €) held it back."),
])
def test_the_headline_sentences_by_hand(db, lang, sentence, expected):
    assert in_language(lang, sentence, db, "2024-02", "previous", None, "EUR") == expected


def test_a_revenue_from_nothing_is_said_so(db):
    """November 2024 against October: October has no order (the fixture's o36 is in September)."""
    assert in_language("fr", headline, db, "2024-11", "previous") == [
        f"Le chiffre d'affaires part de zéro (+60{NBSP}€){NBSP}; les clients récurrents ont été plus nombreux "
        f"(+60{NBSP}€)."]


def _nps(within: bool, delta: float, value: float = 42.0, answers: int = 1234):
    return lambda *args, **kwargs: {"within_noise": within, "delta": delta, "value": value, "answers": answers}


@pytest.mark.parametrize("lang, change, expected", [
    ("fr", _nps(True, -3.2), f"Le NPS a varié de 3 points (1{NNBSP}234 réponses), dans la marge d'erreur{NBSP}: pas "
                             "de changement réel."),
    ("en", _nps(True, -3.2), "NPS moved 3 points (1,234 answers), within the margin of error: not a real change."),
    ("fr", _nps(True, 0.8, answers=1), f"Le NPS a varié de 1 point (1 réponse), dans la marge d'erreur{NBSP}: pas de "
                                       "changement réel."),
    ("en", _nps(True, 0.8, answers=1), "NPS moved 1 point (1 answer), within the margin of error: not a real change."),
    ("fr", _nps(False, 6.4), "Le NPS a gagné 6 points pour s'établir à +42, au-delà de la marge d'erreur."),
    ("fr", _nps(False, -1.1, value=-8), "Le NPS a perdu 1 point pour s'établir à -8, au-delà de la marge d'erreur."),
    ("en", _nps(False, -6.4, value=-8), "NPS fell 6 points to -8, beyond the margin of error."),
])
def test_the_nps_sentence_in_each_language(db, monkeypatch, lang, change, expected):
    monkeypatch.setattr("kpis.story.change_with_margin", change)
    assert in_language(lang, nps_sentence, db, "2024-02", "previous", None) == expected


@pytest.mark.parametrize("compare", ["previous", "year_ago"])
def test_the_build_stores_the_headline_in_each_language(demo, compare):
    fresh = kpis.connect(demo.name)
    stored = json.loads(fresh.cursor().execute("SELECT sentences FROM story_headlines WHERE compare = ?",
                                               [compare]).fetchone()[0])
    assert set(stored) == {"en", "fr"}
    french = in_language("fr", headline, fresh, "2026-10", compare)
    assert french == stored["fr"] == in_language("fr", _sentences, fresh, "2026-10", compare, None)
    assert french[0].startswith("Le chiffre d'affaires a ") and "Revenue" not in " ".join(french)
    assert in_language("en", headline, fresh, "2026-10", compare)[0].startswith("Revenue ")


def test_a_build_with_english_headlines_only_is_computed_again_in_french(db, tmp_path):
    """A build made before the sentences were stored per language holds a list: English reads it, French computes."""
    copy = tmp_path / "old.duckdb"
    shutil.copy(db.name, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("UPDATE story_headlines SET sentences = ? WHERE compare = 'previous'", [json.dumps(["Old."])])
    old = kpis.connect(copy)
    assert in_language("en", headline, old, "2024-11", "previous") == ["Old."]
    assert in_language("fr", headline, old, "2024-11", "previous")[0].startswith("Le chiffre d'affaires part de zéro")


# --- events: dates, categories, the caption, refusals ------------------------------------------------------------

EVENTS = [{"date": "2024-03-02", "until": "2024-05-10", "label": "Spring campaign", "category": "campaign"},
          {"date": "2024-07-14", "label": "Price rise", "category": "price", "segment": "region=BE"},
          {"date": "2023-12-30", "until": "2024-01-02", "label": "Sale"}]


@pytest.fixture(scope="module")
def events(db):
    rows = parse_events(EVENTS, db)
    return events_of(pd.DataFrame([{**r, "id": n} for n, r in enumerate(rows, start=1)]))


@pytest.mark.parametrize("lang, expected", [
    ("fr", ["1. 30 déc. 2023 – 2 janv. 2024 · Autre · Sale", "2. 2 mars – 10 mai 2024 · Campagne · Spring campaign",
            "3. 14 juil. 2024 · Prix · Price rise (BE)"]),
    ("en", ["1. 30 Dec 2023 – 2 Jan 2024 · Other · Sale", "2. 2 Mar – 10 May 2024 · Campaign · Spring campaign",
            "3. 14 Jul 2024 · Price · Price rise (BE)"]),
])
def test_events_are_listed_in_each_language(events, lang, expected):
    with use(lang):
        marks = on_periods(events, ["2023-12", "2024-01", "2024-03", "2024-07"])
        assert legend(marks) == expected
        assert events_listed(marks) == ("Événements\u00a0: " if lang == "fr" else "Events: ") + " · ".join(expected)
        days = on_days(events, date(2024, 7, 1), date(2024, 8, 1))
    assert days["category"].tolist() == [{"fr": "Prix", "en": "Price"}[lang]]


@pytest.mark.parametrize("lang, category, expected", [
    ("fr", "campaign", "Campagne"), ("fr", "incident", "Incident"), ("fr", "product", "Produit"),
    ("en", "product", "Product"), ("fr", "legacy", "legacy"),  # a category the store kept from elsewhere: as is
])
def test_a_category_is_named_in_the_language(lang, category, expected):
    assert in_language(lang, category_label, category) == expected


@pytest.mark.parametrize("lang, row, expected", [
    ("fr", {"date": "2024-03-01", "label": "Spring", "category": "party"},
     f"events.csv, ligne 2{NBSP}: catégorie 'party' inconnue (catégories possibles{NBSP}: campaign, price, incident, "
     "product, other)"),
    ("fr", {"date": "31/03/2024", "label": "Spring"},
     f"events.csv, ligne 2{NBSP}: date '31/03/2024' n'est pas une date{NBSP}: écrivez AAAA-MM-JJ, par exemple "
     "2026-03-02"),
    ("fr", {"date": "2024-03-31", "until": "2024-03-01", "label": "Spring"},
     "events.csv, ligne 2\u00a0: l'événement se termine (2024-03-01) avant de commencer (2024-03-31)"),
    ("fr", {"date": "2024-03-01", "label": "x" * 81},
     f"events.csv, ligne 2{NBSP}: libellé de 81 caractères{NBSP}: 80 au maximum"),
    ("en", {"date": "2024-03-01", "label": "Spring", "category": "party"},
     "events.csv line 2: unknown category 'party': use one of campaign, price, incident, product, other"),
])
def test_a_bad_event_is_refused_in_the_language(db, lang, row, expected):
    with use(lang), pytest.raises(Refused) as refused:
        parse_events([row], db, where="events.csv")
    assert refused.value.problems == [expected]
    opening = {"fr": f"rien n'a été enregistré{NBSP}:\n", "en": "nothing was written:\n"}[lang]
    assert str(refused.value).startswith(opening)


# --- targets: status words, phasing, refusals --------------------------------------------------------------------

@pytest.mark.parametrize("lang, state, expected", [
    ("fr", "on track", "dans la cible"), ("fr", "at risk", "à surveiller"), ("fr", "off track", "hors cible"),
    ("en", "at risk", "at risk"), ("fr", None, ""),
])
def test_a_status_is_named_in_the_language(lang, state, expected):
    assert in_language(lang, status_label, state) == expected


def targets(*rows):
    return pd.DataFrame([dict(zip(("kpi", "period", "target", "segment", "tolerance", "public"), (*r, "", 0.05, False),
                                  strict=False)) for r in rows])


@pytest.mark.parametrize("lang, set_for, period, expected", [
    ("fr", "2024-Q1", "2024-02", "réparti depuis T1 2024"),
    ("en", "2024-Q1", "2024-02", "phased from Q1 2024"),
    ("fr", "2024", "2024-02", "réparti depuis 2024"),
    ("fr", "2024-02", "2024-02", "fixé"),
    ("en", "2024-02", "2024-02", "set"),
])
def test_where_a_target_comes_from_in_the_language(lang, set_for, period, expected):
    found = goal(targets(("revenue", set_for, 900.0)), "revenue", kpis.Period.parse(period), "")
    assert in_language(lang, lambda: found.source) == expected


def test_the_scorecard_says_its_sources_in_french_and_keeps_its_statuses(db):
    card = in_language("fr", scorecard, db, targets(("revenue", "2024-Q1", 900.0)), "2024-02")
    assert card[["status", "source"]].to_dict("records") == [{"status": "on track", "source": "réparti depuis T1 2024"}]


RETENTION = REGISTRY["retention_rate"]


@pytest.mark.parametrize("row, expected", [
    ({"kpi": "revenue", "period": "2024", "target": "lots"}, "l'objectif 'lots' n'est pas un nombre"),
    ({"kpi": "retention_rate", "period": "2024-Q3", "target": "140 %"},
     f"objectif 140 % impossible pour {{kpi}}{NBSP}: valeurs possibles de 0{NBSP}% à 100{NBSP}%"),
    ({"kpi": "retention_rate", "period": "2024-Q3", "target": "42"},
     f"objectif 42 impossible pour {{kpi}}{NBSP}: valeurs possibles de 0{NBSP}% à 100{NBSP}% (un taux s'écrit "
     f"42{NBSP}% ou 0,42)"),
    ({"kpi": "nps", "period": "2024", "target": "120"}, "valeurs possibles de -100 à 100"),
    ({"kpi": "orders", "period": "2024", "target": "-3"}, "valeurs possibles à partir de 0"),
    ({"kpi": "revenue", "period": "2024", "target": "12 %"}, f"n'est pas un taux (montant){NBSP}: écrivez-le sans"),
    ({"kpi": "revenue", "period": "2024", "target": "100", "public": "maybe"},
     f"public 'maybe'{NBSP}: écrivez oui ou non"),
    ({"kpi": "revenue", "period": "2024", "target": "100", "tolerance": "120 %"},
     f"la tolérance '120 %' doit aller de 0{NBSP}% à moins de 100{NBSP}%"),
    ({"kpi": "retention", "period": "2024", "target": "1"}, "indicateur 'retention' inconnu"),
    ({"kpi": "revenue", "target": "1"}, f"aucune période indiquée{NBSP}: écrivez 2026-03 (mois)"),
    ({"kpi": "revenue", "period": "2024", "target": "100", "segment": "region=XX"},
     f"region 'XX' inconnu{NBSP}: les données contiennent BE, FR"),
    ({"kpi": "revenue", "period": "2024", "target": "100", "segment": "FR"},
     f"segment 'FR'{NBSP}: écrivez NOM=VALEUR, par exemple region=FR"),
])
def test_a_bad_target_is_refused_in_french_with_its_line(db, row, expected):
    good = {"kpi": "revenue", "period": "2024", "target": "1 200"}
    with use("fr"), pytest.raises(Refused) as refused:
        parse_targets([good, row], db, where="targets.csv")
    (problem,) = refused.value.problems
    with use("fr"):
        label = REGISTRY[row["kpi"]].label if row["kpi"] in REGISTRY else ""
    assert problem.startswith(f"targets.csv, ligne 3{NBSP}: ") and expected.format(kpi=label) in problem


def test_the_same_target_twice_is_refused_in_french(db):
    rows = [{"kpi": "revenue", "period": "2024", "target": "1"}, {"kpi": "revenue", "period": "2024", "target": "2"}]
    with use("fr"), pytest.raises(Refused) as refused:
        parse_targets(rows, db, where="t.csv")
    assert refused.value.problems == [f"t.csv, ligne 3{NBSP}: revenue 2024 tous les clients figure déjà ligne 2"]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("text, key, tolerance, public, expected", [
    ("42,5 %", "retention_rate", "5 %", "oui", (0.425, 0.05, True)),  # a decimal comma, as French writes it
    ("0,42", "retention_rate", "0,1", "non", (0.42, 0.1, False)),
    ("1,200", "revenue", "", "yes", (1200.0, 0.05, True)),  # one comma and three digits: thousands, as before
    (f"1{NNBSP}250{NNBSP}000", "revenue", "", "", (1_250_000.0, 0.05, False)),  # as French formats print it
])
def test_targets_are_read_as_people_write_them_in_either_language(db, lang, text, key, tolerance, public, expected):
    (row,) = in_language(lang, parse_targets, [{"kpi": key, "period": "2024", "target": text, "tolerance": tolerance,
                                               "public": public}], db)
    assert (row["target"], row["tolerance"], row["public"]) == pytest.approx(expected)


# --- refusals a person can provoke elsewhere ---------------------------------------------------------------------

ACCESS = [
    ('[users]\n"a@acme.example" = "analyst"\n"ceo@acme.example" = "boss"\n',
     f"access.toml, ligne 3{NBSP}: rôle 'boss' inconnu (rôles possibles{NBSP}: board, analyst, partner)"),
    ('[users]\n"fr@acme.example" = { role = "analyst", region = ["FR", "XX"] }\n',
     f"access.toml, ligne 2{NBSP}: region 'XX' inconnu{NBSP}: les données contiennent BE, FR"),
    ('[users]\n"ceo@acme.example" = "board"\n"CEO@acme.example" = "analyst"\n',
     f"access.toml, ligne 3{NBSP}: CEO@acme.example figure deux fois (aussi sous la forme ceo@acme.example, ligne 2)"),
    ('[users]\n"ceo" = "board"\n', f"access.toml, ligne 2{NBSP}: 'ceo' n'est pas une adresse e-mail"),
    ('[people]\n"ceo@acme.example" = "board"\n',
     f"access.toml{NBSP}: section [people] inconnue (sections possibles{NBSP}: [settings], [users] et [groups])"),
    ('[users]\n"ceo@acme.example" = board\n', f"access.toml{NBSP}: TOML invalide{NBSP}: Invalid value"),
]


@pytest.mark.parametrize("text, expected", ACCESS)
def test_a_wrong_access_file_is_refused_in_french(db, text, expected):
    with use("fr"), pytest.raises(AccessError) as refused:
        parse_access(text, db)
    assert str(refused.value).startswith(expected)


@pytest.mark.parametrize("lang, call, expected", [
    ("fr", lambda db: kpis.evaluate(db, "revenue", "2024-02", filters={"colour": ["red"]}),
     f"filtre «{NBSP}colour{NBSP}» inconnu (filtres possibles{NBSP}: acquisition_channel, region"),
    ("fr", lambda db: kpis.evaluate(db, "revenue", "2024-02", filters={"region": ["XX"]}),
     f"valeur 'XX' inconnue pour le filtre «{NBSP}region{NBSP}» (valeurs connues{NBSP}: BE, FR)"),
    ("en", lambda db: kpis.evaluate(db, "revenue", "2024-02", filters={"region": ["XX"]}),
     "unknown value 'XX' for filter 'region': known values BE, FR"),
    ("fr", lambda db: kpis.evaluate(db, "nps", "2024-02", params={"touchpoint": "teleport"}),
     f"point de contact 'teleport' inconnu (points de contact connus{NBSP}: aucun)"),
    ("fr", lambda db: kpis.contributions(db, "revenue", "2024-02", "colour"),
     f"impossible de ventiler par «{NBSP}colour{NBSP}» (axes possibles{NBSP}: acquisition_channel, region"),
    ("fr", lambda db: kpis.contributions(db, "top_customer_share", "2024-02", "region"),
     "ne se ventile pas par segment de clients"),
])
def test_a_request_a_person_can_get_wrong_is_refused_in_the_language(db, lang, call, expected):
    with use(lang), pytest.raises(kpis.KPIError) as refused:
        call(db)
    assert expected in str(refused.value)


def test_a_model_error_speaks_the_language_it_is_read_in(db):
    """The models of a date that cannot be fitted are remembered with their error: each reader gets it in their own
    language (the fixture's 20 customers do not identify Gamma-Gamma in November 2024)."""
    with use("fr"), pytest.raises(ModelError) as first:
        kpis.equity_bridge(db, "2024-11")
    with use("en"), pytest.raises(ModelError) as again:
        kpis.equity_bridge(db, "2024-11")
    assert first.value is again.value  # the same remembered error
    assert in_language("fr", str, first.value).startswith(f"Gamma-Gamma{NBSP}: les données ne permettent pas "
                                                          "d'identifier")
    assert str(again.value).startswith("Gamma-Gamma: the data do not identify")


@pytest.mark.parametrize("lang, expected", [
    ("fr", f"les données couvrent 102 semaines{NBSP}: une période de test de 1000 semaines ne laisse aucune période "
           f"de calibrage{NBSP}; choisissez une période de test plus courte"),
    ("en", "the data cover 102 weeks: a 1000-week holdout leaves no calibration period; choose a shorter holdout"),
])
def test_the_model_check_says_why_it_cannot_run(db, lang, expected):
    assert in_language(lang, holdout_check, db, 1000)["message"] == expected


@pytest.mark.parametrize("lang, months, expected", [
    ("fr", 20, f"historique trop court pour modéliser l'acquisition{NBSP}: 20 mois, 24 nécessaires"),
    ("en", 20, "too little history to fit acquisition: 20 months, 24 needed"),
])
def test_acquisition_refuses_in_the_language(lang, months, expected):
    first = date(2023, 1, 1)
    days = [kpis.periods.add_months(first, i) for i in range(months)]
    with use(lang), pytest.raises(kpis.KPIError, match=expected):
        acquisition.fit(days, np.full(months, 10.0))


# --- bridges, alerts, labels --------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, expected", [
    ("fr", ["Nouveaux clients", "Acheteurs récurrents (nombre)", "Commandes par acheteur récurrent",
            "Panier moyen (récurrents)"]),
    ("en", ["New customers", "Returning buyers (how many)", "Orders per returning buyer",
            "Revenue per order (returning)"]),
])
def test_the_revenue_bridge_is_labelled_in_the_language(db, lang, expected):
    assert in_language(lang, kpis.revenue_bridge, db, "2024-02")["label"].tolist() == expected


def test_the_equity_bridge_is_labelled_in_french(demo):
    frame = in_language("fr", kpis.equity_bridge, demo, "2026-10")
    assert frame["label"].tolist() == ["Clients acquis", "Rétention (encore actifs)", "Fréquence d'achat",
                                       "Dépense par achat", "Taux de marge (coût de service)",
                                       "Réajustement des modèles (hors comportement)"]


@pytest.mark.parametrize("lang, move, expected", [
    ("fr", Move("nps", 30, 10, 5, 35, SURVEY_NOISE),
     f"{{nps}}{NBSP}: en hausse de +10 à +30 (+20,0), au-delà de la marge d'erreur"),
    ("fr", Move("nps", 10, 30, -35, -5, SURVEY_NOISE),
     f"{{nps}}{NBSP}: en baisse de +30 à +10 (-20,0), au-delà de la marge d'erreur"),
    ("en", Move("nps", 10, 30, -35, -5, SURVEY_NOISE),
     "{nps} fell from +30 to +10 (-20.0), beyond the margin of error"),
    ("fr", Move("customer_equity", 2.5e6, 2e6, 1e5, 9e5, MODELS_NOISE),
     f"{{customer_equity}}{NBSP}: en hausse de 2{NNBSP}000{NNBSP}000{NBSP}€ à 2{NNBSP}500{NNBSP}000{NBSP}€ "
     f"(+500{NNBSP}000{NBSP}€), au-delà de l'incertitude des modèles"),
    ("en", Move("customer_equity", 2.5e6, 2e6, 1e5, 9e5, MODELS_NOISE),
     "{customer_equity} rose from 2,000,000 € to 2,500,000 € (+500,000 €), beyond the models' uncertainty"),
])
def test_a_change_beyond_noise_in_words(lang, move, expected):
    with use(lang):
        labels = {key: REGISTRY[key].label for key in ("nps", "customer_equity")}
        said = described(move, "EUR")
    assert said == expected.format(**labels)


@pytest.mark.parametrize("lang, label, expected", [
    ("fr", lambda: noise_label(MODELS_NOISE), "l'incertitude des modèles"),
    ("fr", lambda: noise_label(SURVEY_NOISE), "la marge d'erreur"),
    ("en", lambda: noise_label(SURVEY_NOISE), "the margin of error"),
    ("fr", lambda: theme_label("delivery"), "livraison"),
    ("fr", lambda: theme_label("website"), "site web"),
    ("en", lambda: theme_label("website"), "website"),
    ("fr", lambda: fit_group_label(POOLED), "tous les clients"),
    ("fr", lambda: fit_group_label("search"), "search"),
    ("fr", lambda: curve_period_label("holdout"), "période de test (hold-out)"),
    ("en", lambda: curve_period_label("calibration"), "calibration period"),
    ("fr", lambda: assumption_label("not included"), "Non inclus"),
    ("en", lambda: assumption_label("holdout check"), "Holdout check"),
    ("fr", lambda: value_basis(SimpleNamespace(metadata={"margin_rate": 0.35})),
     f"un taux de marge de 35{NBSP}% déclaré à l'import (les commandes ne portent aucun coût exploitable)"),
    ("en", lambda: value_basis(SimpleNamespace(metadata={"margin_rate": 0.35})),
     "margin rate 35 % as stated at import (the orders carry no usable cost)"),
    ("fr", lambda: value_basis(SimpleNamespace(metadata={}, _has_costs=[False])),
     f"le chiffre d'affaires{NBSP}: les données ne contiennent pas de coûts"),
])
def test_labels_in_the_language(lang, label, expected):
    assert in_language(lang, label) == expected


@pytest.mark.parametrize("lang, period, min_answers, filters, expected", [
    ("fr", "2024", 3, None, f"L'effort culmine au point de contact returns{NBSP}: effort moyen de 4,7 sur 5 "
                            "(3 réponses)."),
    ("en", "2024", 3, None, "Effort peaks at returns: mean effort 4.7 out of 5 (3 answers)."),
    ("fr", "2024", 1, {"region": ["FR"]}, f"L'effort culmine au point de contact returns{NBSP}: effort moyen de 4,0 "
                                          "sur 5 (1 réponse)."),
    ("en", "2024", 1, {"region": ["FR"]}, "Effort peaks at returns: mean effort 4.0 out of 5 (1 answer)."),
])
def test_the_effort_peak_in_each_language(voice, lang, period, min_answers, filters, expected):
    peak = in_language(lang, kpis.effort_peak, voice, period, min_answers=min_answers, filters=filters)
    assert peak["text"] == expected


def test_work_on_the_pool_keeps_the_language():
    """kpis.evaluate hands periods to its thread pool: what a task says is in the run's language."""
    assert in_language("fr", _map, lambda i: _("(other)") + str(i), [1, 2, 3]) == ["(autres)1", "(autres)2",
                                                                                  "(autres)3"]
    assert in_language("en", _map, lambda i: _("(other)"), [1, 2]) == ["(other)", "(other)"]


# --- the valuation: its labels and assumptions per language, its numbers once -----------------------------------

def test_the_valuation_in_french(demo):
    english = in_language("en", kpis.valuation, demo, "2026-10")
    french = in_language("fr", kpis.valuation, demo, "2026-10")
    assert french is in_language("fr", kpis.valuation, demo, "2026-10", 10, 0.10)  # cached per language
    assert french.total == english.total and french is not english
    assert french.parts["label"].tolist()[:3] == ["Clients existants", "Marge des futurs clients",
                                                  "Coût de leur acquisition"]
    assert french.parts["label"].iloc[3] == in_language("fr", _, "Customer-based value") != "Customer-based value"
    assert english.parts["label"].tolist()[0] == "Existing customers"
    assert set(french.sensitivities["label"]) == {f"Rétention (probabilité d'attrition +10{NBSP}% / −10{NBSP}%)",
                                                  f"Dépense par achat ±10{NBSP}%",
                                                  f"Coût d'acquisition client (CAC) ±10{NBSP}%",
                                                  f"Volume d'acquisition ±10{NBSP}%", "Taux d'actualisation ±2 points"}
    said = in_language("fr", lambda: french.assumptions)
    assert list(said) == list(english.assumptions)  # the same keys, in the same order
    assert said["horizon"] == (f"10 ans (120 mois) à partir du 31 oct. 2026{NBSP}; tous les montants sont actualisés "
                               "à cette date")
    assert said["discount rate"] == f"10{NBSP}% par an, appliqué mois par mois"
    assert said["not included"].startswith(f"pas une valorisation boursière{NBSP}: ni dette")
    assert "et non le capital client à 36 mois du tableau de bord" in said["existing customers"]
    assert "amortie de φ = 0,98 par mois" in said["acquisition model"]
    assert said["holdout check"].startswith("les nouveaux clients des 12 derniers mois prévus à partir des ")
    assert said["interval"].startswith(f"90{NBSP}%{NBSP}: l'incertitude sur les paramètres")
    horizon = in_language("en", lambda: english.assumptions)["horizon"]
    assert horizon.startswith("10 years (120 months) from 31 Oct 2026")


@pytest.mark.parametrize("lang, filters, expected", [
    ("fr", {"region": ["FR"]}, f"pas de valorisation pour un segment filtré sur region{NBSP}: les futurs clients"),
    ("en", {"region": ["FR"]}, "no valuation for a segment filtered on region: future customers"),
])
def test_a_valuation_refused_says_why_in_the_language(demo, lang, filters, expected):
    with use(lang), pytest.raises(kpis.KPIError) as refused:
        kpis.valuation(demo, "2026-10", filters=filters)
    assert str(refused.value).startswith(expected)
