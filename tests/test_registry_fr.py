"""Every KPI in English and in French: the declarations carry both, `kpi.label`… read the current language, and the
glossary shows them in the reader's language."""

from __future__ import annotations

import re

import pytest

import kpis
from i18n import LANGUAGES, use
from kpis.registry import KPI, Group, Measure, Text, Unit, build_registry
from tests.test_app import app, fixture_db  # noqa: F401  (fixture_db is a pytest fixture)

ALL = list(kpis.REGISTRY.values())
ACRONYM = re.compile(r"[A-Z]{2,5}")  # NPS, CAC, CSAT, CES: the same in both languages


@pytest.mark.parametrize("kpi", ALL, ids=lambda k: k.key)
def test_every_kpi_has_its_words_in_both_languages(kpi):
    assert set(kpi.texts) == set(LANGUAGES)
    for text in kpi.texts.values():
        assert text.label.strip() and text.definition.strip() and text.formula.strip()
        assert text.definition.endswith("."), text.definition
    en, fr = kpi.en, kpi.fr
    assert fr.label != en.label or ACRONYM.fullmatch(en.label), f"{kpi.key}: its French label is the English one"
    assert fr.definition != en.definition, f"{kpi.key}: its French definition is the English one"
    assert bool(fr.short) == bool(en.short)
    if fr.short == en.short:
        assert not fr.short or ACRONYM.fullmatch(fr.short), f"{kpi.key}: its French short label is the English one"


@pytest.mark.parametrize("kpi", ALL, ids=lambda k: k.key)
def test_a_french_tile_label_is_as_short_as_an_english_one(kpi):
    """Tiles are narrow: the label a tile shows (short, else full) is no longer in French than in English, or than
    22 characters."""
    with use("en"):
        english = kpi.short_label
    with use("fr"):
        french = kpi.short_label
    assert len(french) <= max(len(english), 22), french


@pytest.mark.parametrize("kpi", ALL, ids=lambda k: k.key)
def test_the_french_words_follow_french_typography(kpi):
    """A no-break space (U+00A0) before « : ; ? ! % » and inside « », French quotes, no English abbreviation."""
    for field in ("label", "short", "definition", "formula"):
        text = getattr(kpi.fr, field)
        assert not re.search(r" [:;?!%»]|« ", text), f"{kpi.key}.{field}: a breaking space in {text!r}"
        assert not re.search(r"[^\s][:;?!%»]|«[^\u00a0]", text), f"{kpi.key}.{field}: no space in {text!r}"
        assert not re.search("[\"“”]", text), f"{kpi.key}.{field}: English quotes in {text!r}"


def test_french_labels_are_unique():
    labels = [k.fr.label for k in ALL]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize(("key", "label", "short_label"), [
    ("retention_rate", "Taux de rétention", "Taux de rétention"),
    ("churn_rate", "Taux d'attrition", "Taux d'attrition"),
    ("repeat_purchase_rate", "Taux de réachat", "Taux de réachat"),
    ("repeat_rate_90d", "Réachat sous 90 jours", "Réachat à 90 j"),
    ("average_order_value", "Panier moyen", "Panier moyen"),
    ("purchase_frequency", "Fréquence d'achat", "Fréquence d'achat"),
    ("revenue", "Chiffre d'affaires", "Chiffre d'affaires"),
    ("revenue_per_customer", "Chiffre d'affaires par client", "CA/client"),
    ("gross_margin", "Marge brute", "Marge brute"),
    ("marketing_spend", "Dépenses marketing", "Dépenses marketing"),
    ("cac", "Coût d'acquisition client (CAC)", "CAC"),
    ("customer_equity", "Capital client", "Capital client"),
    ("predictive_clv", "Valeur vie client prédictive", "CLV prédictive"),
    ("customers_at_risk", "Clients de valeur à risque", "Clients à risque"),
    ("nps", "Net Promoter Score (NPS)", "NPS"),
    ("csat", "Satisfaction client (CSAT)", "CSAT"),
    ("ces", "Score d'effort client (CES)", "CES"),
    ("nps_answers", "Réponses NPS", "Réponses NPS"),
])
def test_labels_in_french(key, label, short_label):
    kpi = kpis.REGISTRY[key]
    with use("fr"):
        assert (kpi.label, kpi.short_label) == (label, short_label)
    assert kpi.label == kpi.en.label != label  # outside the block, English again


@pytest.mark.parametrize(("key", "lang", "definition", "formula"), [
    ("active_customers", "fr", "Clients ayant passé au moins une commande sur la période.",
     "nombre de clients distincts ayant commandé sur la période"),
    ("active_customers", "en", "Customers who placed at least one order in the period.",
     "count of distinct customers with an order in the period"),
    ("retention_rate", "fr", "Part des clients ayant acheté sur la période précédente qui ont de nouveau acheté sur "
     "celle-ci.", "clients actifs à la fois sur la période précédente et sur celle-ci ÷ clients actifs sur la période "
     "précédente"),
    ("average_order_value", "fr", "Chiffre d'affaires moyen par commande sur la période.",
     "chiffre d'affaires ÷ commandes"),
    ("churn_rate", "fr", "Part des clients ayant acheté sur la période précédente qui n'ont pas racheté sur celle-ci.",
     "1 − taux de rétention"),
    ("nps", "fr", None, "100 × (promoteurs − détracteurs) ÷ réponses NPS"),
    ("csat", "fr", None, "réponses CSAT notées 4–5 ÷ réponses CSAT"),
    ("ces", "en", None, "mean score of CES answers"),
])
def test_definitions_and_formulas_in_each_language(key, lang, definition, formula):
    kpi = kpis.REGISTRY[key]
    with use(lang):
        assert kpi.formula == formula
        if definition is not None:
            assert kpi.definition == definition


@pytest.mark.parametrize(("key", "words"), [
    # The model's constants come in French numbers: 36 mois, 10 % a year, P(actif) < 0,5, 50 %.
    ("predictive_clv", ["sur les 36 prochains mois", "actualisés à 10\u00a0% par an", "BG/NBD", "Gamma-Gamma"]),
    ("customer_equity", ["Ce que vaut la clientèle actuelle\u00a0:", "sur les 36 prochains mois"]),
    ("customers_at_risk", ["passée sous 50\u00a0%", "P(actif) < 0,5"]),
    ("csat", ["«\u00a0Avez-vous été satisfait\u00a0?\u00a0»"]),
    ("top_customer_share", ["15\u00a0%"]),
])
def test_french_numbers_inside_the_words(key, words):
    kpi = kpis.REGISTRY[key]
    with use("fr"):
        text = f"{kpi.definition} {kpi.formula}"
    for word in words:
        assert word in text, word
    assert "0.5" not in text and "10%" not in text


def test_a_kpi_declared_in_both_languages_builds():
    both = KPI("a", Text("A", "A definition.", "a formula", short="A"), Text("Un A", "Une définition.", "une formule",
               short="A"), Unit.COUNT, True, Group.VOLUME, Measure("orders", lambda o: o.count()), base=None)
    registry = build_registry([both])
    with use("fr"):
        assert (registry["a"].label, registry["a"].definition, registry["a"].formula) == (
            "Un A", "Une définition.", "une formule")
    assert registry["a"].label == "A"


def _glossary(**params):
    at = app(**params)
    at.switch_page("../pages/glossary.py").run()
    assert not at.exception
    return at


@pytest.mark.usefixtures("fixture_db")
def test_the_glossary_in_french():
    at = _glossary(lang="fr")
    assert at.title[0].value == "Glossaire"
    assert [s.value for s in at.subheader] == ["Capital client", "Volume et coûts", "Voix du client"]
    assert any(c.value.startswith("Une seule définition pour toutes les équipes") for c in at.caption)
    assert at.text_input[0].label == "Rechercher un indicateur"
    text = "\n".join(m.value for m in at.markdown)
    with use("fr"):
        for kpi in ALL:
            assert f"**{kpi.label}**" in text and kpi.definition in text and kpi.formula in text, kpi.key
    assert "**Taux de rétention** :gray-badge[pourcentage] :green-badge[hausse favorable]" in text
    assert "*Calcul\u00a0:* 1 − taux de rétention · `churn_rate`" in text
    assert ":orange-badge[baisse favorable]" in text
    assert "Retention rate" not in text and "higher is better" not in text and "How:" not in text


@pytest.mark.usefixtures("fixture_db")
def test_the_glossary_search_reads_the_french_words():
    at = _glossary(lang="fr")
    at.text_input[0].input("réachat").run()
    labels = re.findall(r"^\*\*(.+?)\*\*", "\n".join(m.value for m in at.markdown), re.M)
    assert labels == ["Taux de réachat", "Réachat sous 90 jours"]
    assert [s.value for s in at.subheader] == ["Capital client"]


@pytest.mark.usefixtures("fixture_db")
def test_the_glossary_in_english_again():
    at = _glossary(lang="en")
    assert at.title[0].value == "Glossary"
    assert [s.value for s in at.subheader] == ["Customer equity", "Volume and cost", "Voice of the customer"]
    text = "\n".join(m.value for m in at.markdown)
    assert "**Retention rate** :gray-badge[percent] :green-badge[higher is better]" in text
    assert "*How:* 1 − retention rate · `churn_rate`" in text
    assert "Taux de rétention" not in text and "Calcul" not in text
