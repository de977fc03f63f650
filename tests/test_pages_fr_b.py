"""The scorecard, voice, valuation, model check, partner and audit pages, the sign-in pages and the PDF snapshot in
French (lang=fr in the link), and back in English (lang=en): their words, numbers, dates and charts.

KPI labels and definitions are the registry's (tests/test_registry.py): they are looked up, never asserted here."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

import kpis
from i18n import formats, use
from store.settings import Settings, settings_path
from tests import test_app, test_page_voice
from tests.test_access import ANA, CEO, FR, PARTNER, signed_in  # noqa: F401 (fixture)
from tests.test_app import app
from tests.test_page_voice import voice_db, voice_path  # noqa: F401 (fixtures)

fixture_db = test_app.fixture_db  # the KPI fixture (data to 2024-12-20), served through $EMPTYCHAIR_DB
NBSP, NNBSP = "\u00a0", "\u202f"
SCORECARD, AUDIT = "../pages/scorecard.py", "../pages/audit.py"
VALUATION, MODEL_CHECK = "../pages/valuation.py", "../pages/model_check.py"


def page(script: str, **params) -> AppTest:
    """The app opened on a page, with the view (and the language) in the link."""
    at = app(**params).switch_page(script).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join(e.value for e in [*at.title, *at.subheader, *at.markdown, *at.caption, *at.info, *at.warning,
                                       *at.success, *at.error])


def shown_cells(frame) -> list[list[str]]:
    """A dataframe's cells as the reader sees them: the Styler's display values (the data stay numbers)."""
    styler = frame.proto.arrow_data.styler
    return pa.ipc.open_stream(styler.display_values).read_all().to_pandas().astype(str).values.tolist()


def label_of(key: str, lang: str = "fr") -> str:
    with use(lang):
        return kpis.REGISTRY[key].label


def specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def titles_in(spec) -> set[str]:
    """Every "title" anywhere in a Vega-Lite spec (axes, legends, tooltips)."""
    found = set()
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "title" and isinstance(value, str):
                found.add(value)
            found |= titles_in(value)
    elif isinstance(spec, list):
        for value in spec:
            found |= titles_in(value)
    return found


# --- the scorecard ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, title, caption, info, labels", [
    ("fr", "Tableau des objectifs", "**nov. 2024** · tous les clients · données au 20 déc. 2024 · montants en EUR",
     "Aucun objectif pour nov. 2024 (tous les clients). Fixez-en un ci-dessous",
     {"target:kpi": "Indicateur", "target:period": "Période", "target:value": "Objectif",
      "target:segment": "Segment", "target:tolerance": f"Marge «{NBSP}à surveiller{NBSP}» (%)",
      "target:public": "Public (édition partenaires)", "target:save": "Enregistrer l'objectif",
      "event:start": "Date (ou premier jour)", "event:until": "Dernier jour (pour une période)",
      "event:category": "Catégorie", "event:label": "Ce qui s'est passé", "event:save": "Ajouter l'événement"}),
    ("en", "Scorecard", "**Nov 2024** · all customers · data as of 20 Dec 2024 · amounts in EUR",
     "No target for Nov 2024 (all customers). Set one below",
     {"target:kpi": "KPI", "target:period": "Period", "target:value": "Target", "target:segment": "Segment",
      "target:tolerance": "At risk within (%)", "target:public": "Public (partner edition)",
      "target:save": "Save the target", "event:start": "Date (or first day)",
      "event:until": "Last day (for a range)", "event:category": "Category", "event:label": "What happened",
      "event:save": "Add the event"}),
])
def test_the_scorecard_speaks_the_language_of_the_link(fixture_db, lang, title, caption, info, labels):
    at = page(SCORECARD, lang=lang)
    assert at.title[0].value == title
    assert at.caption[0].value == caption
    assert any(i.value.startswith(info) for i in at.info)
    widgets = {w.key: w.label for kind in ("selectbox", "text_input", "number_input", "checkbox", "button",
                                           "date_input") for w in at.get(kind) if getattr(w, "key", None)}
    assert {key: widgets.get(key) for key in labels} == labels


@pytest.mark.parametrize("lang, saved, row, header, options", [
    # 60 € against 100 €: 40 € short, beyond 5 % of 100 → off track.
    ("fr", f"Objectif enregistré{NBSP}: {{kpi}}, 2024-11, tous les clients.",
     ["hors cible", f"60,00{NBSP}€", f"100,00{NBSP}€", f"-40,00{NBSP}€ (-40,0{NBSP}%)", "en hausse", f"5{NBSP}%"],
     ["Statut", "Indicateur", "Réel", "Objectif", "Écart", "Sens favorable", "Tolérance", "Origine de l'objectif",
      "Public"],
     ["Campagne", "Prix", "Incident", "Produit", "Autre"]),
    ("en", "Target saved: {kpi}, 2024-11, all customers.",
     ["off track", "60.00 €", "100.00 €", "-40.00 € (-40.0 %)", "higher", "5 %"],
     ["Status", "KPI", "Actual", "Target", "Gap", "Better when", "Tolerance", "Target of", "Public"],
     ["Campaign", "Price", "Incident", "Product", "Other"]),
])
def test_a_target_set_in_either_language_is_judged_in_it(fixture_db, lang, saved, row, header, options):
    at = page(SCORECARD, lang=lang)
    revenue = label_of("revenue", lang)
    at.selectbox(key="target:kpi").select(revenue)
    at.text_input(key="target:period").input("2024-11")
    at.text_input(key="target:value").input("100")
    at.button(key="target:save").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [saved.format(kpi=revenue)]
    table = at.dataframe[0].value
    assert list(table.columns) == header
    first = table.iloc[0]
    assert [first[header[0]], *first[header[2:7]]] == row
    assert at.selectbox(key="event:category").options == options
    # Stored as the store keeps it, whatever the language: the status word and the segment are not French there.
    stored = Settings(settings_path(fixture_db)).targets()
    assert stored[["kpi", "period", "segment", "target"]].values.tolist() == [["revenue", "2024-11", "", 100.0]]
    log = Settings(settings_path(fixture_db)).audit()
    assert log["view"].tolist() == ["2024-11 · all customers"]  # the audit log's rows are written in English


def test_a_refused_target_says_so_in_french(fixture_db):
    at = page(SCORECARD, lang="fr")
    at.selectbox(key="target:kpi").select(label_of("retention_rate"))
    at.text_input(key="target:value").input("140 %")
    at.button(key="target:save").click().run()
    assert [e.value.startswith(f"L'objectif n'a pas été enregistré{NBSP}: ") for e in at.error] == [True]
    assert Settings(settings_path(fixture_db)).targets().empty


def test_events_are_listed_and_added_in_french(fixture_db):
    Settings(settings_path(fixture_db)).add_events([
        {"start": date(2024, 9, 1), "until": date(2024, 10, 15), "label": "Autumn campaign", "category": "campaign",
         "segment": ""}])
    at = page(SCORECARD, lang="fr")
    events = at.dataframe[-1].value
    assert list(events.columns) == ["#", "Date", "Catégorie", "Événement", "Segment"]
    assert events[["Catégorie", "Événement", "Segment"]].values.tolist() == [
        ["Campagne", "Autumn campaign", "tous les clients"]]  # the label is the company's own words
    at.date_input(key="event:start").set_value(date(2024, 6, 18))
    at.selectbox(key="event:category").set_value("price")
    at.text_input(key="event:label").input("Hausse de prix")
    at.button(key="event:save").click().run()
    assert [s.value for s in at.success] == [f"Événement ajouté{NBSP}: Hausse de prix."]
    stored = Settings(settings_path(fixture_db)).events()
    assert stored.sort_values("id")["category"].tolist() == ["campaign", "price"]  # stored in English


def test_targets_show_their_badges_and_trend_chart_in_french(fixture_db):
    Settings(settings_path(fixture_db)).put_targets([{"kpi": "revenue", "period": "2024-11", "segment": "",
                                                      "target": 50.0, "tolerance": 0.05, "public": False}])
    at = page(SCORECARD, lang="fr")
    labels = [m.label for m in at.metric]
    assert labels == [":green-badge[dans la cible]", ":orange-badge[à surveiller]", ":red-badge[hors cible]",
                      "Non mesurable"]
    assert f"**{label_of('revenue')}** :green-badge[dans la cible]" in texts(at)
    assert [e.label for e in at.expander] == ["Tous les objectifs (1)"]
    chart = specs(at)[0]
    assert chart["config"]["locale"]["number"]["decimal"] == ","  # drawn through ui.charts.show
    assert {"Période", "Réel", "Objectif"} <= titles_in(chart)


# --- sign-in, roles and the sidebar ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, email, title, text, buttons", [
    ("fr", None, "Se connecter",
     "Le tableau de bord Empty Chair est réservé aux personnes à qui l'entreprise en a donné l'accès.",
     ["Se connecter"]),
    ("en", None, "Sign in", "The Empty Chair dashboard is for the people the company has given access to.",
     ["Sign in"]),
    ("fr", "stranger@else.example", "Pas d'accès",
     "Vous êtes connecté en tant que stranger@else.example, qui n'a pas accès à ce tableau de bord. Demandez à "
     "son administrateur de vous ajouter.", ["Se déconnecter"]),
    ("en", "stranger@else.example", "No access",
     "You are signed in as stranger@else.example, which has no access to this dashboard. Ask its administrator "
     "to add you.", ["Sign out"]),
])
def test_the_sign_in_and_no_access_pages_in_each_language(signed_in, lang, email, title, text, buttons):  # noqa: F811
    at = signed_in(email, lang=lang)
    assert at.title[0].value == title and at.markdown[0].value == text
    assert [b.label for b in at.button] == buttons and not at.metric


@pytest.mark.parametrize("lang, email, caption", [
    ("fr", "bob@acme.example", "Connecté en tant que **bob@acme.example** · analyste"),
    ("en", "bob@acme.example", "Signed in as **bob@acme.example** · analyst"),
    ("fr", CEO, f"Connecté en tant que **{CEO}** · direction"),
    ("fr", FR, f"Connecté en tant que **{FR}** · analyste · limité à Région{NBSP}: FR"),
    ("en", FR, f"Signed in as **{FR}** · analyst · limited to Region: FR"),
    ("fr", PARTNER, f"Connecté en tant que **{PARTNER}** · partenaire"),
])
def test_the_sidebar_names_the_role_in_the_language(signed_in, lang, email, caption):  # noqa: F811
    at = signed_in(email, groups=["bi-team"], lang=lang)
    assert at.sidebar.caption[0].value == caption
    assert [b.label for b in at.sidebar.button if b.key == "auth:logout"] == [
        "Se déconnecter" if lang == "fr" else "Sign out"]


def test_the_open_dashboard_says_so_in_french(fixture_db):
    at = app(lang="fr")
    assert any(c.value.startswith(f":material/lock_open: Ouvert{NBSP}: aucune connexion configurée.")
               for c in at.sidebar.caption)


# --- the partner view, the PDF snapshot and the audit log ---------------------------------------------------------

def test_the_partner_view_in_french(signed_in):  # noqa: F811
    at = signed_in(PARTNER, period="2024-02", lang="fr")
    assert at.title[0].value == "Vue partenaires"
    assert at.caption[0].value.startswith(
        f"**févr. 2024** par rapport à la période précédente (janv. 2024) · tous les clients · données au 20 déc. "
        f"2024 · montants en EUR · agrégats uniquement{NBSP}: un chiffre reposant sur moins de 10 clients")
    # February 2024's 5 buyers are fewer than 10: suppressed, in the reader's words.
    values = {m.label: m.value for m in at.metric}
    with use("fr"):
        active, revenue = (kpis.REGISTRY[k].short_label for k in ("active_customers", "revenue"))
    assert values[active] == values[revenue] == "masqué"
    assert [s.value for s in at.subheader] == ["Le client", "Volume et coûts", "Ce que vaut la base clients",
                                               "Le PDF partenaires"]
    assert (f"Cette vue en PDF A4, pour ceux qui n'ouvrent pas le tableau de bord. Actionnaires et partenaires{NBSP}: "
            f"agrégats uniquement{NBSP}; les groupes de moins de 10 clients sont masqués.") in texts(at)
    assert "Préparer le PDF" in [b.label for b in at.button]


def test_the_board_chooses_its_edition_and_downloads_it_in_french(signed_in):  # noqa: F811
    at = signed_in(CEO, "empty chair", lang="fr")
    edition = next(s for s in at.get("segmented_control") if s.key == "report:edition")
    assert edition.label == "Édition" and edition.options == ["Direction", "Actionnaires et partenaires"]
    at.button(key="report:prepare").click().run()
    assert not at.exception and not at.error
    assert [d.proto.label for d in at.get("download_button")] == ["Télécharger le PDF édition direction"]


@pytest.mark.parametrize("lang, title, headers, empty", [
    ("fr", "Journal d'audit", ["Quand (UTC)", "Qui", "Action", "Détail", "Vue"], "Rien n'a encore été enregistré."),
    ("en", "Audit log", ["When (UTC)", "Who", "What", "Detail", "View"], "Nothing recorded yet."),
])
def test_the_audit_log_translates_its_headers_not_its_rows(signed_in, fixture_db, lang, title, headers,  # noqa: F811
                                                           empty):
    at = signed_in(CEO, "audit", lang=lang)
    assert at.title[0].value == title and [i.value for i in at.info] == [empty]
    Settings(settings_path(fixture_db)).log(ANA, "target set", "revenue 2024-11 all customers = 100", "all customers")
    at = signed_in(CEO, "audit", lang=lang)
    log = at.dataframe[0].value
    assert list(log.columns) == headers
    assert log.iloc[0, 1:].tolist() == [ANA, "target set", "revenue 2024-11 all customers = 100", "all customers"]


# --- the voice of the customer ---------------------------------------------------------------------------------------

def voice(**params) -> AppTest:
    return test_page_voice.page(**params)


@pytest.mark.parametrize("lang, note, verdict, interval", [
    # April 2024: 4 NPS answers, margin 58.45; against March −45, its 95 % interval [−103.87, 44.53] (test_page_voice).
    ("fr", f"±{NBSP}58 pt · 4 réponses", f"Dans la marge d'erreur{NBSP}: pas de changement réel.",
     f"-45,0 par rapport à mars 2024{NBSP}; intervalle à 95{NBSP}% de l'écart{NBSP}: -103,9 à +44,5"),
    ("en", "± 58 pts · 4 answers", "Within the margin of error: not a real change.",
     "-45.0 vs Mar 2024; the change's 95 % interval: -103.9 to +44.5"),
])
def test_the_scores_carry_their_noise_in_the_language(voice_db, lang, note, verdict, interval):  # noqa: F811
    at = voice(period="2024-04", lang=lang)
    nps = next(m for m in at.metric if m.label == "NPS")
    assert nps.proto.delta_description == note
    assert verdict in texts(at) and interval in texts(at)


@pytest.mark.parametrize("params, expected", [
    ({"period": "2024-03", "compare": "year"}, "Aucune réponse sur mars 2023 à laquelle comparer."),
    ({"period": "2024-01"}, "Aucune réponse d'enquête sur janv. 2024 pour tous les clients"),
    ({"period": "2024-01"}, "Aucun verbatim ne correspond à ces filtres sur janv. 2024."),
    ({"period": "2024-01"}, "Aucune réponse d'effort (CES) ni de satisfaction (CSAT) sur janv. 2024."),
    ({"period": "2024-04"}, "Les 24 derniers mois jusqu'à avr. 2024."),
    ({"period": "2024-04"}, f"(dans ces données, l'étape «{NBSP}relationship{NBSP}»)"),
])
def test_the_voice_pages_sentences_in_french(voice_db, params, expected):  # noqa: F811
    at = voice(lang="fr", **params)
    assert at.title[0].value == "Voix du client"
    assert expected in texts(at)


def test_value_by_nps_group_in_french(voice_db):  # noqa: F811
    # The hand-worked June 2024 (test_page_voice.VALUE_2024_06), in French formats.
    at = voice(period="2024-06", lang="fr")
    table = at.table[0].value
    assert list(table.columns) == ["Promoteurs", "Passifs", "Détracteurs"]
    assert list(table.loc["Clients ayant répondu"]) == ["2", "3", "3"]
    assert list(table.loc["Toujours acheteurs (commande après la réponse)"]) == [f"100{NBSP}%", f"67{NBSP}%",
                                                                                  f"0{NBSP}%"]
    assert list(table.loc[label_of("revenue")]) == [f"750,00{NBSP}€", f"330,00{NBSP}€", f"470,00{NBSP}€"]
    assert {m.label: m.value for m in at.metric}["Chiffre d'affaires des détracteurs"] == f"470{NBSP}€"
    shown = texts(at)
    assert f"**30{NBSP}%** du chiffre d'affaires des clients qui ont répondu, juil. 2023 – juin 2024." in shown
    assert "4 réponses NPS anonymes de cette fenêtre comptent dans le score" in shown


@pytest.mark.parametrize("lang, first, behind", [
    # March NPS comments (test_page_voice.test_themes_compare_detractors_and_promoters).
    ("fr", "**livraison** — 67\u00a0% des verbatims de détracteurs, 25\u00a0% des verbatims de promoteurs",
     f"Verbatims sur lesquels reposent ces parts{NBSP}: 3 verbatims de détracteurs{NBSP}; 4 verbatims de promoteurs."),
    ("en", "**delivery** — 67% of detractor comments, 25% of promoter comments",
     "Comments behind these shares: 3 detractor comments; 4 promoter comments."),
])
def test_themes_in_each_language(voice_db, lang, first, behind):  # noqa: F811
    at = voice(period="2024-03", lang=lang)
    assert at.expander[0].label == first
    assert behind in texts(at)


def test_verbatims_in_french_keep_the_comments_as_written(voice_db):  # noqa: F811
    at = test_page_voice.every_period(voice(period="2024-04", lang="fr"))
    at.selectbox(key="voice:verbatims:survey").set_value("nps").run()
    groups = at.multiselect(key="voice:verbatims:group:nps")
    assert groups.label == "Groupe de score" and groups.options == ["détracteur", "passif", "promoteur"]
    groups.set_value(["detractor"]).run()
    table = test_page_voice.verbatim_table(at)
    assert set(table["group"]) == {"détracteur"} and table["comment"].iloc[0] == "Colis abîmé, produit cassé."
    assert "5 verbatims." in texts(at)


def test_the_voice_charts_are_drawn_in_french(voice_db):  # noqa: F811
    at = voice(period="2024-04", lang="fr")
    charts = specs(at)
    assert charts and all(c["config"]["locale"]["number"]["decimal"] == "," for c in charts)
    titles = set().union(*map(titles_in, charts))
    assert {"Effort moyen (1 = facile, 5 = difficile)", "Part de satisfaits (CSAT)", "Étape du parcours",
            "Part des verbatims du groupe", "Période", "Réponses"} <= titles
    themes = next(c for c in charts if "yOffset" in json.dumps(c))
    bars = next(layer for layer in themes["layer"] if "yOffset" in layer.get("encoding", {}))
    assert bars["encoding"]["color"]["scale"]["domain"] == ["détracteur", "promoteur"]  # the legend's words


# --- customer-based value and the model check (the demo) ---------------------------------------------------------

@pytest.fixture(scope="module")
def demo(demo_base):
    return kpis.connect(demo_base(20_000, 7))


def test_the_valuation_page_in_french(demo, monkeypatch):
    monkeypatch.setenv("EMPTYCHAIR_DB", demo.name)
    at = page(VALUATION, period="2026-10", lang="fr")
    assert at.title[0].value == "Valorisation par les clients"
    assert at.caption[0].value.startswith(
        "**Fin oct. 2026** · tous les clients · données au 31 oct. 2026 · montants en EUR · valorisation fondée sur "
        "les clients")
    assert at.slider(key="value:horizon").label == "Horizon (années)"
    assert at.number_input(key="value:rate").label == "Taux d'actualisation (% par an)"
    value = kpis.valuation(demo, "2026-10")
    with use("fr"):
        total = kpis.format.compact_money(value.total, "EUR", 2)
    headline = next(m.value for m in at.markdown if m.value.startswith("## La base clients vaut"))
    assert headline.startswith(f"## La base clients vaut **{total}** (intervalle à 90{NBSP}%{NBSP}: ")
    assert NNBSP + "M€" in total and "," in total  # 3,08 M€: a decimal comma, M after a narrow no-break space
    channels, cohorts = at.dataframe[0], at.dataframe[1]
    assert list(channels.value.columns) == ["Canal", "Nouveaux clients (12 mois)", "CAC", "CAC d'équilibre",
                                            "Croissance annuelle (historique)"]
    assert channels.value["CAC"].dtype.kind == "f"  # numbers in the data (the table sorts on them)…
    first = channels.value.iloc[0]
    with use("fr"):
        cac = kpis.format.money(first["CAC"], "EUR", 2)
    assert shown_cells(channels)[0][2] == cac and "," in cac  # …written the French way
    assert list(cohorts.value.columns) == ["Cohorte", "Nouveaux clients", "CAC", "Valeur par client",
                                           "Valeur ÷ CAC", "Délai de récupération (mois)", "TRI (par an)"]
    with use("fr"):
        month = formats.month(pd.Timestamp(cohorts.value.iloc[0]["Cohorte"]).date())
    assert shown_cells(cohorts)[0][0] == month
    assert f"- **Définition**{NBSP}: " in texts(at)
    assert all(c["config"]["locale"]["number"]["decimal"] == "," for c in specs(at))


def test_the_valuation_page_in_english_as_before(demo, monkeypatch):
    monkeypatch.setenv("EMPTYCHAIR_DB", demo.name)
    at = page(VALUATION, period="2026-10", lang="en")
    assert at.title[0].value == "Customer-based value"
    assert at.caption[0].value.startswith("**End of Oct 2026** · all customers · data as of 31 Oct 2026")
    channels = at.dataframe[0]
    with use("en"):
        cac = kpis.format.money(channels.value.iloc[0]["CAC"], "EUR", 2)
    assert shown_cells(channels)[0][2] == cac
    assert not any("locale" in c.get("config", {}) for c in specs(at))


def test_the_model_check_in_french(demo, monkeypatch):
    monkeypatch.setenv("EMPTYCHAIR_DB", demo.name)
    at = page(MODEL_CHECK, lang="fr")
    check = kpis.holdout_check(demo, 26)
    hold = check["holdout"]
    with use("fr"):
        predicted, actual = formats.number(hold["predicted"]), formats.number(hold["actual"])
        error = formats.number(100 * hold["relative_error"], 1, sign=True).replace("-", "−") + NBSP + "%"
    assert at.title[0].value == "Contrôle des modèles"
    assert at.button_group(key="check:holdout").options == ["13 semaines", "26 semaines", "39 semaines",
                                                            "52 semaines"]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Réachats prévus"] == predicted and NNBSP in predicted  # thousands: a narrow no-break space
    assert shown["Réachats réels"] == actual and shown["Erreur de prévision"] == error
    headline = next(m.value for m in at.markdown if m.value.startswith("## Le modèle prévoyait"))
    assert headline == (f"## Le modèle prévoyait {predicted} réachats sur la période de test de 26 semaines{NBSP}; "
                        f"il y en a eu {actual} ({error})")
    with use("fr"):
        start, split = formats.date(check["calibration_start"]), formats.date(check["calibration_end"])
    assert at.caption[0].value.startswith(f"Ajustés du {start} au {split}, contrôlés sur les 26 semaines")
    parameters = at.dataframe[0]
    assert list(parameters.value.columns)[:4] == ["Groupe d'ajustement", "Canaux d'acquisition", "Clients",
                                                  "Clients ayant réacheté"]
    with use("fr"):
        customers = formats.number(parameters.value.iloc[0]["Clients"])
    assert shown_cells(parameters)[0][2] == customers
    charts = specs(at)
    assert all(c["config"]["locale"]["number"]["decimal"] == "," for c in charts)
    assert {"Réachats avant la coupure", "Réachats cumulés", "Semaine se terminant le"} <= set().union(
        *map(titles_in, charts))
