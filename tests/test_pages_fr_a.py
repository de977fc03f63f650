"""The first dashboard pages and the shared sidebar in French (lang=fr), and back in English, over the hand-built
fixture (tests/kpi_fixture.py: data to 2024-12-20, so the default view is November 2024).

French writes a decimal comma, a no-break space (U+00A0) before €, %, « : » and inside « … », a narrow no-break space
(U+202F) between thousands; months are abbreviated « nov. 2024 », quarters « T3 2024 ». KPI labels and definitions
are the registry's (tested with it), so the pages' own words are asserted here, never a KPI's label.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit import dataframe_util

from i18n import use
from kpis import REGISTRY, Period
from tests.test_app import app, fixture_db  # noqa: F401  (fixture_db is a pytest fixture)
from ui.state import View, within
from ui.tiles import _uncertainty, kpi_help

NBSP, NNBSP = "\u00a0", "\u202f"
EMPTY_CHAIR, WHAT_CHANGED = "../pages/empty_chair.py", "../pages/what_changed.py"
EQUITY, COHORTS = "../pages/equity_vs_volume.py", "../pages/cohorts.py"
VALUE, ACQUISITION = "../pages/customer_value.py", "../pages/acquisition.py"


def page(path: str, **params):
    at = app(**params)
    at.switch_page(path).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at) -> str:
    """Every title, subheader, caption, info and markdown text of the page, one per line."""
    return "\n".join(e.value for kind in ("title", "subheader", "caption", "info", "markdown")
                     for e in getattr(at, kind))


def short_label(key: str, lang: str = "fr") -> str:
    """A KPI's tile label as the registry words it in that language (whatever those words are)."""
    with use(lang):
        return REGISTRY[key].short_label


def label(key: str, lang: str = "fr") -> str:
    """A KPI's full label as the registry words it in that language."""
    with use(lang):
        return REGISTRY[key].label


def shown_table(at, first_column: str) -> pd.DataFrame:
    """The text a table shows (its cells as formatted for people), for the table whose first column is given."""
    frame = next(d for d in at.dataframe if d.value.columns[0] == first_column)
    return dataframe_util.convert_arrow_bytes_to_pandas_df(frame.proto.arrow_data.styler.display_values)


def specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


# --- each page in French -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("fixture_db")
@pytest.mark.parametrize(("path", "params", "expected"), [
    (EMPTY_CHAIR, {}, ["La chaise vide", "Le client", "Volume et coûts", "Clients de valeur à risque",
                       "**nov. 2024** par rapport à la période précédente (oct. 2024) · tous les clients · données au "
                       "20 déc. 2024 · montants en EUR",
                       "Aucune réponse au score d'effort client (CES) sur cette période."]),
    (WHAT_CHANGED, {}, ["Ce qui a changé", "Décomposition de la variation du chiffre d'affaires",
                        "Décomposition de la variation du capital client",
                        "D'où vient l'évolution",
                        # November 2024: o37 (search, 60 €) against nothing in October; to the cent below 1,000 €.
                        f"→ 60,00{NBSP}€ (—).",
                        f"La part de chaque canal d'acquisition dans l'évolution{NBSP}: sa propre évolution."]),
    (EQUITY, {"compare": "year"}, ["Capital client et volume", "Capital client", "Dans le temps, sur une même échelle",
                                   "par rapport à la même période l'an dernier (nov. 2023)",
                                   "Les flèches comparent avec nov. 2023"]),
    (COHORTS, {}, ["Cohortes et rétention", "Qui achète encore, mois après mois", "Le parcours du client moyen",
                   "Clients acquis de déc. 2023 à **nov. 2024** · tous les clients · activité comptée jusqu'à fin "
                   "nov. 2024 (le mois en cours est exclu)"]),
    (VALUE, {"period": "2024-02"}, ["Valeur client", "À quel point la valeur est concentrée", "Déciles de valeur",
                                    "**févr. 2024** · tous les clients · données au 20 déc. 2024",
                                    f"jamais seulement «{NBSP}le client moyen{NBSP}»{NBSP}: la valeur est concentrée",
                                    # Feb 2024 buyers: c10 100, c15 75, c13 55, c04 45, c11 40.
                                    f"en févr. 2024{NBSP}: 5 acheteurs, tous les clients.",
                                    "par rapport à la période précédente (janv. 2024)"]),
    (ACQUISITION, {"period": "2023-01"}, [
        "Acquisition", "Canaux", "**janv. 2023** · tous les clients",
        f"**Cohorte de janv. 2023{NBSP}:**",
        # Jan 2023, search: (100 + 40) / 2 = 70 € of 12-month margin for a CAC of 150 € → 0.47.
        "Chaque € investi en acquisition sur **search** a rapporté **0,47×** en marge sur un an — pas encore "
        "rentabilisé"]),
])
def test_a_page_speaks_french(path, params, expected):
    shown = texts(page(path, lang="fr", **params))
    for text in expected:
        assert text in shown, text


@pytest.mark.usefixtures("fixture_db")
def test_the_empty_chair_tiles_in_french_formats():
    at = page(EMPTY_CHAIR, lang="fr")
    tiles = {m.label: m for m in at.metric}
    # November 2024: one order, o37 c19 60 € → 60 € of revenue, a no-break space before the euro sign.
    assert tiles[short_label("revenue")].value == f"60{NBSP}€"
    assert tiles[short_label("revenue")].proto.delta_description == "vs oct. 2024"
    assert "aucune réponse sur la période" in tiles[short_label("nps")].proto.delta_description
    help_text = tiles[short_label("cac")].help
    assert f"*Calcul{NBSP}:" in help_text and "Plus c'est bas, mieux c'est." in help_text


@pytest.mark.usefixtures("fixture_db")
def test_equity_tiles_and_trend_table_in_french():
    at = page(EQUITY, lang="fr")
    tiles = {m.label: m.value for m in at.metric}
    # November 2024: margin 60 − 35 = 25 of 60 → 41.7 %, with a decimal comma and a no-break space.
    assert tiles[short_label("gross_margin_rate")] == f"41,7{NBSP}%"
    trend = next(d.value for d in at.dataframe if d.value.columns[0] == "Période").set_index("Période")
    assert list(trend.index)[:2] == ["nov. 2024", "oct. 2024"] and len(trend) == 12
    # Feb 2024: of January's buyers (c12 c13 c01 c14) only c13 came back → 25 %.
    assert trend.loc["févr. 2024", label("retention_rate")] == f"25,0{NBSP}%"
    assert "Télécharger l'évolution (CSV)" in [b.proto.label for b in at.get("download_button")]
    chart = specs(at)[0]
    assert chart["config"]["locale"]["number"]["decimal"] == ","  # the axes' numbers in French (ui.charts.show)
    layers = json.dumps(chart["layer"], ensure_ascii=False)
    assert "Indice (première période = 100)" in layers and '"title": "Période"' in layers


@pytest.mark.usefixtures("fixture_db")
def test_cohort_tables_and_charts_in_french():
    at = page(COHORTS, lang="fr")
    values = next(d.value for d in at.dataframe if d.value.columns[0] == "Mois d'acquisition")
    shown = shown_table(at, "Mois d'acquisition")
    assert list(values.columns[:3]) == ["Mois d'acquisition", "Clients", "Actifs après 1 mois"]
    assert "Actifs après 12 mois" in values.columns
    # The cohort stays its key underneath ("2024-01") and reads « janv. 2024 »; c13 of c13, c14 came back.
    row = list(values["Mois d'acquisition"]).index("2024-01")
    assert shown.iloc[row]["Mois d'acquisition"] == "janv. 2024" and values.iloc[row]["Clients"] == 2
    assert values.iloc[row]["Actifs après 1 mois"] == f"50,0{NBSP}%"
    assert list(shown["Mois d'acquisition"])[:2] == ["sept. 2024", "juin 2024"]  # newest first
    assert values.set_index("Mois d'acquisition").loc["2024-09", "Actifs après 12 mois"] == "pas encore"
    heat = specs(at)[0]
    encoding = heat["layer"][0]["encoding"]
    assert encoding["y"]["title"] == "Mois d'acquisition · clients"
    assert encoding["x"]["title"] == "Mois depuis l'acquisition"
    assert [t["title"] for t in encoding["tooltip"]] == ["Acquis en", "Mois plus tard", "Clients", "Actifs",
                                                         "Part d'actifs"]
    rows = encoding["y"]["sort"]
    assert rows[0] == "déc. 2023 · 1" and "janv. 2024 · 2" in rows  # oldest first, in people's months
    curve = pd.concat([dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data)
                       for d in at.get("vega_lite_chart")[1].proto.datasets])
    assert set(curve["who"]) == {"Tous les clients"}
    assert at.segmented_control(key="cohorts:range").options == ["12 dernières", "24 dernières", "36 dernières",
                                                                  "Toutes"]


@pytest.mark.usefixtures("fixture_db")
def test_customer_value_tables_in_french():
    at = page(VALUE, lang="fr", period="2024-02")
    deciles = next(d.value for d in at.dataframe if d.value.columns[0] == "Décile")
    shown = shown_table(at, "Décile")
    # The numbers stay numbers (a column sorts as numbers); their text is French.
    assert list(deciles["Chiffre d'affaires"]) == [100, 75, 55, 45, 40]
    assert list(shown["Chiffre d'affaires"]) == [f"100{NBSP}€", f"75{NBSP}€", f"55{NBSP}€", f"45{NBSP}€",
                                                 f"40{NBSP}€"]
    assert shown.loc[0, "Chiffre d'affaires par client"] == f"100,00{NBSP}€"
    assert shown.loc[0, "Part du chiffre d'affaires"] == f"31,7{NBSP}%"  # 100 / 315
    tiers = shown_table(at, "Niveau de valeur").set_index("Niveau de valeur")
    # next 20% (« 20 % suivants »): c10 100 + c13 55 = 155 € of 315.
    assert tiers.loc[f"20{NBSP}% suivants", "Part du chiffre d'affaires"] == f"49,2{NBSP}%"
    assert tiers.loc[f"20{NBSP}% suivants", short_label("revenue_per_customer")] == f"77,50{NBSP}€"
    at.toggle(key="value:lifetime").set_value(True).run()
    # Lifetime: the top 3 of 20 buyers bring 1,550 of 3,385 € (46 %).
    assert (f"## Les 15{NBSP}% de meilleurs clients apportent 46{NBSP}% du chiffre d'affaires"
            in [m.value for m in at.markdown])
    assert f"sur toute leur vie client{NBSP}: 20 acheteurs" in texts(at)


@pytest.mark.usefixtures("fixture_db")
def test_acquisition_table_and_charts_in_french():
    at = page(ACQUISITION, lang="fr", period="2023-04")
    values = next(d.value for d in at.dataframe if d.value.columns[0] == "Canal").set_index("Canal")
    shown = shown_table(at, "Canal").set_index("Canal")
    assert values.loc["search", "Cohorte"] == "2023-03" and shown.loc["search", "Cohorte"] == "mars 2023"
    # Mar 2023: search spent 250 € for c06 → a CAC of 250 €, to the cent.
    assert values.loc["search", "CAC de cette cohorte"] == 250
    assert shown.loc["search", "CAC de cette cohorte"] == f"250,00{NBSP}€"
    # Referral: c07's 30 € of margin for a CAC of 45 € → 0.67×.
    assert shown.loc["referral", short_label("historical_clv_cac")] == "0,67×"
    assert ("La cohorte de avr. 2023 est vide (aucun client acquis)" in texts(at)
            and "**mars 2023**" in texts(at))
    at = page(ACQUISITION, lang="fr", period="2023-01")
    titles = [t.get("text") if isinstance(t, dict) else t for t in (s.get("title") for s in specs(at)) if t]
    assert titles == ["CAC, janv. 2023", "Valeur à 12 mois ÷ CAC, cohorte de janv. 2023"]
    cac, ratio = specs(at)[:2]
    assert cac["encoding"]["y"]["title"] == f"{short_label('cac')} (€)"
    assert ratio["layer"][0]["encoding"]["y"]["title"] == "Marge à 12 mois ÷ CAC (×)"
    assert cac["config"]["locale"]["number"]["decimal"] == ","


# --- the sidebar and the link ------------------------------------------------------------------------------


@pytest.mark.usefixtures("fixture_db")
@pytest.mark.parametrize(("lang", "words"), [
    ("fr", {"headers": ["Vue", "Segment"], "grain": ("Granularité", ["Mois", "Trimestre", "Année"]),
            "period": ("Période", ["nov. 2024", "oct. 2024"]),
            "compare": ("Comparer avec", ["période précédente", "même période l'an dernier"]),
            "placeholder": "Tous", "reset": "Réinitialiser la vue", "title": "La chaise vide"}),
    ("en", {"headers": ["View", "Segment"], "grain": ("Grain", ["Month", "Quarter", "Year"]),
            "period": ("Period", ["Nov 2024", "Oct 2024"]),
            "compare": ("Compare with", ["previous period", "same period last year"]),
            "placeholder": "All", "reset": "Reset view", "title": "The empty chair"}),
])
def test_the_sidebar_in_each_language(lang, words):
    at = app(lang=lang)
    assert not at.exception
    assert at.title[0].value == words["title"]
    assert [h.value for h in at.sidebar.header] == words["headers"]
    grain = at.segmented_control(key="grain:month")
    assert (grain.label, grain.options) == words["grain"]
    period = at.sidebar.selectbox[0]
    assert (period.label, period.options[:2]) == words["period"]
    compare = at.sidebar.radio[0]
    assert (compare.label, compare.options) == words["compare"]
    assert {m.proto.placeholder for m in at.sidebar.multiselect} == {words["placeholder"]}
    cohorts = at.sidebar.multiselect(key="filter:cohort:")
    assert cohorts.options[0] == words["period"][1][0]  # a cohort reads as its month
    assert words["reset"] in [b.label for b in at.sidebar.button]


@pytest.mark.usefixtures("fixture_db")
def test_a_sidebar_change_keeps_the_language_in_the_link():
    at = app(lang="fr")
    at.segmented_control(key="grain:month").set_value("quarter").run()
    assert not at.exception
    # December 2024 is in progress, so Q4 is too: the latest complete quarter is Q3 2024, « T3 2024 ».
    assert (at.query_params["period"], at.query_params["lang"]) == ("2024-Q3", "fr")
    assert at.sidebar.selectbox[0].options[:2] == ["T3 2024", "T2 2024"]
    assert at.caption[0].value.startswith("**T3 2024** par rapport à la période précédente (T2 2024)")
    at.sidebar.radio[0].set_value("year_ago").run()
    assert (at.query_params["compare"], at.query_params["lang"]) == ("year", "fr")
    assert "par rapport à la même période l'an dernier (T3 2023)" in at.caption[0].value


@pytest.mark.usefixtures("fixture_db")
@pytest.mark.parametrize(("params", "notice"), [
    ({"compare": "sideways"}, f"Comparaison «{NBSP}sideways{NBSP}» inconnue dans le lien{NBSP}: comparaison avec la "
                              "période précédente."),
    ({"grain": "week"}, f"Granularité «{NBSP}week{NBSP}» inconnue dans le lien{NBSP}: affichage par mois."),
    ({"period": "2024-13"}, f"La période «{NBSP}2024-13{NBSP}» du lien ne peut pas être affichée (écrivez 2024-03 "
                            f"pour un mois, 2024-Q1 pour un trimestre, 2024 pour une année){NBSP}: affichage de "
                            "nov. 2024."),
    ({"period": "1999-01"}, f"(aucune donnée pour 1999-01){NBSP}: affichage de nov. 2024."),
    ({"region": "Mars"}, f"Valeur inconnue pour région dans le lien, ignorée{NBSP}: «{NBSP}Mars{NBSP}»."),
    ({"region": ["Mars", "Venus"]}, f"Valeurs inconnues pour région dans le lien, ignorées{NBSP}: «{NBSP}Mars{NBSP}», "
                                    f"«{NBSP}Venus{NBSP}»."),
    ({"colour": "red"}, f"Paramètre de lien «{NBSP}colour{NBSP}» inconnu, ignoré."),
])
def test_bad_links_are_answered_in_french(params, notice):
    at = app(lang="fr", **params)
    assert not at.exception
    assert any(notice in w.value for w in at.sidebar.warning), [w.value for w in at.sidebar.warning]


@pytest.mark.parametrize(("lang", "asked", "notice"), [
    ("en", ("BE",), "Region 'BE' is outside your access: showing Region: FR."),
    ("en", ("BE", "NL"), "Region 'BE', 'NL' are outside your access: showing Region: FR."),
    ("fr", ("BE",), f"Région «{NBSP}BE{NBSP}»{NBSP}: hors de votre périmètre{NBSP}; affichage de Région{NBSP}: FR."),
])
def test_a_value_outside_the_access_is_named_in_the_language(lang, asked, notice):
    with use(lang):
        filters, notices = within({"region": asked}, {"region": ("FR",)})
    assert filters == {"region": ("FR",)} and notices == [notice]


# --- tiles ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "key", "words"), [
    ("fr", "cac", [f"*Calcul{NBSP}:", "Plus c'est bas, mieux c'est."]),
    ("fr", "revenue", ["Plus c'est élevé, mieux c'est."]),
    ("en", "cac", ["*How:", "Lower is better."]),
])
def test_a_tile_help_says_how_and_which_way_is_better(lang, key, words):
    with use(lang):
        text = kpi_help(key)
        definition = REGISTRY[key].definition
    assert text.startswith(definition)
    for word in words:
        assert word in text


@pytest.mark.parametrize(("lang", "change", "expected"), [
    # A model-based amount's 90 % interval, to two decimals in millions; a change interval covering 0 is noise.
    ("fr", (-0.1e6, 0.2e6), (f"90{NBSP}%{NBSP}: 1,23{NNBSP}M€ – 1,50{NNBSP}M€ · dans le bruit statistique", True)),
    ("fr", (0.1e6, 0.2e6), (f"90{NBSP}%{NBSP}: 1,23{NNBSP}M€ – 1,50{NNBSP}M€", False)),
    ("en", (-0.1e6, 0.2e6), ("90 %: 1.23M € – 1.50M € · within uncertainty", True)),
])
def test_a_tile_interval_in_each_language(lang, change, expected):
    key = "customer_equity"
    table = pd.DataFrame({"low": [1.234e6], "high": [1.5e6], "change_low_previous": [change[0]],
                          "change_high_previous": [change[1]]}, index=[key])
    with use(lang):
        assert _uncertainty(table, key, View(Period.parse("2024-11")), "EUR") == expected
