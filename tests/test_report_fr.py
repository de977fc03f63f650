"""The PDF snapshots and their e-mail in French (issue #18): both editions built inside `i18n.use("fr")` read in
French from the first page to the appendix — titles, headers, footers, tables, notes, charts — with French numbers,
dates and periods; the e-mail's subject, body, attachment and refusals too. Read back with pypdf as a person would.

KPI labels and definitions come from the registry (another module's work): they are not asserted here.
"""

from __future__ import annotations

import email
import io
import re
from datetime import date
from email import policy
from types import SimpleNamespace

import pandas as pd
import pytest
from pypdf import PdfReader

import kpis
from i18n import language, use
from kpis import format as fmt
from kpis.alerts import MODELS_NOISE, SURVEY_NOISE, Move
from report import ReportError, build_report, collect, delivery, render
from report.data import EQUITY, VOLUME
from store.settings import Settings
from tests.test_delivery import PASSWORD, USER, mailboxes, servers, write_config  # noqa: F401  (fixtures)

PERIOD = "2026-Q3"  # the demo's data end on 2026-10-31
NB, NNB = "\u00a0", "\u202f"  # French: a no-break space before « : ; % € », a narrow one between thousands


def pages(pdf: bytes) -> list[str]:
    """Each page's text, runs of spaces and line breaks collapsed; the no-break spaces kept (str.split would not)."""
    return [re.sub(r"[ \t\r\n]+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def nb(text: str) -> str:
    """French typography as the catalog writes it: a no-break space before « : ; ? ! % »."""
    return re.sub(r" ([:;?!%])", NB + r"\1", text)


def loose(text: str) -> str:
    """fpdf2 draws a wrapped paragraph's no-break spaces as spaces (they still do not break): compare those so."""
    return text.replace(NB, " ")


# --- the PDFs --------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def db(demo_base):
    return kpis.connect(demo_base(4_000, 11))  # the demo tests/test_report.py reads (built once per session)


@pytest.fixture(scope="module")
def settings(db, tmp_path_factory):
    """Targets for the quarter — one on track, one at risk, one off track, one phased from the year's — and an
    event, so that the "Against target" table and an event legend are in the board edition."""
    store = Settings(tmp_path_factory.mktemp("settings") / "fr.settings.duckdb")
    actual = {k: kpis.evaluate(db, k, PERIOD) for k in ("active_customers", "new_customers", "revenue", "orders")}
    store.put_targets([
        {"kpi": "active_customers", "period": PERIOD, "segment": "", "target": actual["active_customers"] / 2,
         "tolerance": 0.05, "public": True},
        {"kpi": "new_customers", "period": PERIOD, "segment": "", "target": actual["new_customers"] * 1.02,
         "tolerance": 0.05, "public": False},
        {"kpi": "revenue", "period": PERIOD, "segment": "", "target": actual["revenue"] * 10, "tolerance": 0.05,
         "public": True},
        {"kpi": "orders", "period": "2026", "segment": "", "target": actual["orders"] * 4, "tolerance": 0.05,
         "public": False}])
    store.add_events([{"start": date(2026, 8, 3), "until": None, "label": "Rentrée", "category": "campaign",
                       "segment": ""}])
    return store.targets(), store.events()


@pytest.fixture(scope="module")
def board(db, settings):
    with use("fr"):
        snap = collect(db, PERIOD, targets=settings[0], events=settings[1])
        pdf = render(snap)
    assert language() == "en"  # the block's language does not outlive it
    return snap, pdf


@pytest.fixture(scope="module")
def partner(db):
    """The partner edition with a threshold some channels fall below (as tests/test_report.py picks it)."""
    counts = {c: kpis.evaluate(db, "new_customers", PERIOD, filters={"acquisition_channel": c})
              for c in db.filter_values("acquisition_channel")}
    threshold = sorted(counts.values())[len(counts) // 2] + 1
    with use("fr"):
        pdf = build_report(db, PERIOD, edition="partner", min_segment=threshold)
    return counts, threshold, pdf


@pytest.fixture(scope="module")
def board_text(board):
    return pages(board[1])


# Every section's French title, and the English one it replaces (no English title may be left).
SECTIONS = [
    ("La chaise vide", "The empty chair"),
    ("Ce qui a changé", "What changed"),
    ("Ce que vaut la base clients", "What the customer base is worth"),
    ("Le capital client à côté du volume et des coûts", "Customer equity next to volume and cost"),
    (f"Cohortes{NB}: les nouveaux clients restent-ils{NB}?", "Cohorts: do new customers stay?"),
    ("Concentration de la valeur", "Value concentration"),
    ("Rentabilité de l'acquisition", "Acquisition economics"),
    ("Voix du client", "Voice of the customer"),
    (f"Contrôle des modèles{NB}: peut-on se fier aux chiffres de valeur{NB}?", "Model check: can the value"),
    (f"Annexe{NB}: définitions", "Appendix: definitions"),
]


@pytest.mark.parametrize(("french", "english"), SECTIONS)
def test_every_section_of_the_board_edition_is_titled_in_french(board_text, french, english):
    text = " ".join(board_text)
    assert french in text
    assert english not in text


@pytest.mark.parametrize("said", [
    # sub-headings, table headers, notes of the board edition (strict: drawn as cells, no-break spaces kept)
    "Le client", "Volume et coûts", "Par rapport aux objectifs", "Origine de l'objectif",
    f"Canaux d'acquisition{NB}: coût et coût d'équilibre d'un nouveau client", "Rétention des cohortes, mois par mois",
    "Les acheteurs en dix groupes égaux, par chiffre d'affaires", "Décile 1 (top 10", "Dans leurs propres mots",
    "Par nombre de réachats avant la coupure", "Paramètres (erreur type)", "Mode de calcul", "Sens favorable",
    "Acquise en", "Mois 12", "Groupe NPS", "Achètent encore", "Tous les canaux", "Hypothèses",
    # in paragraphs (compared loosely: a paragraph's no-break spaces are drawn as spaces)
    "Chaque tuile compare T3 2026 à T2 2026 (la période précédente).",
    "Vide : la cohorte n'avait pas atteint cet âge à la fin de la période.",
    "Les derniers verbatims des détracteurs et des promoteurs",
    "Réachats. Ajustés sur la période du 1er nov. 2023 au 2 mai 2026, les modèles prévoyaient",
    "Événements : 1.",  # the event legend under the trend chart
])
def test_the_board_editions_words_are_french(board_text, said):
    assert loose(said) in loose(" ".join(board_text)), said


@pytest.mark.parametrize("english", [
    "compared with", "Data as of", "Amounts in", "BOARD EDITION", "Board edition", "customer snapshot",
    "Against target", "Target of", "suppressed", "In their own words", "Fitted parameters", "How it is computed",
    "no comparison", "Months since acquisition", "Cumulative repeat purchases", "Share of buyers", "holdout starts",
    "Page 1 /",
])
def test_no_english_heading_label_or_chart_title_is_left(board_text, english):
    assert english not in " ".join(board_text)


def test_every_page_carries_the_french_header_and_footer(board_text, db):
    assert 7 <= len(board_text) <= 15
    for number, page in enumerate(board_text, start=1):
        assert "ÉDITION DIRECTION" in page and "Empty Chair · synthèse clients" in page
        assert "T3 2026 · par rapport à la période précédente (T2 2026)" in page
        assert loose("Segment : tous les clients · Données au 31 oct. 2026 (dernière commande) · Source : démo") in (
            loose(page))
        assert "Montants en EUR" in page
        assert "Édition direction · confidentiel, réservé au conseil d'administration" in page
        assert f"Page {number} sur {len(board_text)}" in page


def test_numbers_are_in_french_formats_and_equal_kpis_evaluate(board_text, db):
    """Each KPI of the equity-vs-volume table reads what kpis.evaluate gives, formatted in French: a decimal comma,
    « € » after the amount, a narrow no-break space between thousands."""
    text = " ".join(board_text)
    checked = 0
    with use("fr"):
        for key in EQUITY + VOLUME:
            value = kpis.evaluate(db, key, PERIOD)
            if value is not None:
                assert loose(fmt.value(value, kpis.REGISTRY[key].unit, "EUR")) in loose(text), key  # table cells
                checked += 1
        revenue = fmt.value(kpis.evaluate(db, "revenue", PERIOD), kpis.REGISTRY["revenue"].unit, "EUR")
    assert checked >= 20
    assert re.fullmatch(rf"\d{{3}}{NNB}\d{{3}}{NB}€", revenue), revenue  # e.g. 315 635 €
    assert re.search(rf"\b\d+,\d{NB}%", text)  # 70,2 % on the tiles (strict: drawn as cells)
    assert re.search(rf"\b\d+,\d\d{NB}€", text)  # 66,32 €
    assert re.search(rf"\d,\d{NNB}k€", text)  # 315,6 k€ on the tiles


def test_dates_and_periods_are_french(board_text):
    text = loose(" ".join(board_text))
    for said in ("31 oct. 2026", "T3 2026", "T2 2026", "(oct. 2025 – sept. 2026)", "jusqu'au 31 oct. 2026"):
        assert said in text, said


@pytest.mark.parametrize("said", [
    "Mois depuis l'acquisition", "Mois d'acquisition", "Part des acheteurs, classés par valeur décroissante",
    "Réachats cumulés", "début du test", "Indice (première période = 100)", "CLV ÷ CAC (×)",
    "Effort moyen (1 = facile, 5 = difficile)", "Fin T2 2026", "Hypothèse", "en baisse", "en hausse",
    "janv. 2024",  # the model check's time axis, in vl-convert's French time locale
    f"40{NB}%",  # the cohort heat map's legend, in its French number locale
    f"262{NNB}998",  # the revenue bridge's first bar, a d3 ",.0f" label with French thousands
])
def test_the_charts_are_drawn_in_french(board_text, said):
    """The charts render in the pool of threads fpdf2 lays out beside: the language and its d3 locale reach them."""
    assert said in " ".join(board_text), said


def test_the_scorecard_reads_its_statuses_and_sources_in_french(board, board_text):
    snap, _pdf = board
    assert set(snap.scorecard["status"]) == {"on track", "at risk", "off track"}  # the data keep their keys
    text = " ".join(board_text)
    for said in ("dans la cible", "à surveiller", "hors cible", "fixé", "réparti depuis 2026"):
        assert said in text, said
    assert "on track" not in text and "phased from" not in text


@pytest.fixture(scope="module")
def partner_text(partner):
    return " ".join(pages(partner[2]))


def test_the_partner_edition_is_french_and_says_what_it_suppresses(partner, partner_text):
    counts, threshold, _pdf = partner
    text = partner_text
    assert "ÉDITION ACTIONNAIRES ET PARTENAIRES" in text and "ÉDITION DIRECTION" not in text
    assert loose(f"Édition actionnaires et partenaires · agrégats uniquement ; les groupes de moins de {threshold} "
                 "clients sont masqués") in loose(text)
    assert loose(f"Les canaux ayant acquis moins de {threshold} clients sont masqués.") in loose(text)
    rule = (f"Masquage : un chiffre, une ligne ou un point de graphique calculé sur moins de {threshold} clients (ou "
            f"réponses à une enquête) n'est pas affiché et se lit « masqué » ou « < {threshold} ».")
    assert loose(rule) in loose(text)
    for channel in (c for c, n in counts.items() if n < threshold):
        assert re.search(rf"{channel} < {threshold} ", text), channel
    assert "masqué" in text and "suppressed" not in text and "fewer than" not in text
    assert "Partner edition" not in text and "Dans leurs propres mots" not in text
    for french, english in SECTIONS:
        if not french.startswith("Contrôle des modèles"):  # the model check is the board's
            assert french in text and english not in text, french


# --- refusals ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "said"), [
    ({"period": "1999-Q1"}, "aucune donnée pour 1999-Q1 : les données vont du "),
    ({"period": PERIOD, "edition": "press"}, "édition 'press' inconnue : utilisez board ou partner"),
    ({"period": PERIOD, "compare": "last"}, "comparaison 'last' inconnue : utilisez previous ou year_ago"),
    ({"period": PERIOD, "min_segment": 0}, "min_segment doit être un nombre entier ≥ 1, et non 0"),
])
def test_a_bad_argument_is_refused_in_french(db, kwargs, said):
    with use("fr"), pytest.raises(ReportError) as refused:
        build_report(db, **kwargs)
    assert loose(said) in loose(str(refused.value))


@pytest.mark.parametrize(("attempt", "said"), [
    (lambda tmp: delivery.load_config(tmp / "none.toml"), "none.toml : aucune configuration d'envoi à cet endroit"),
    (lambda tmp: delivery.load_config(write_config(tmp / "d.toml", 25, security="tls")),
     "smtp.security doit valoir 'starttls', 'ssl', 'none', et non 'tls'"),
    (lambda tmp: delivery.load_config(write_config(tmp / "d.toml", 70000)),
     "smtp.port 70000 n'est pas un port (1 à 65535)"),
    (lambda tmp: delivery.check_recipients(delivery.load_config(write_config(tmp / "d.toml", 25)), "board",
                                           ["ceo@acme"]),
     "adresse e-mail non valide : 'ceo@acme' (écrivez nom@exemple.com)"),
    (lambda tmp: delivery.check_recipients(delivery.load_config(write_config(tmp / "d.toml", 25)), "partner",
                                           ["ceo@acme.example"]),
     "ceo@acme.example : absents des partenaires de"),
    (lambda tmp: delivery.parse_filters(["region"]), "--filter 'region' : utilisez NOM=VALEUR"),
    (lambda tmp: delivery.resolve_period("next-month", date(2026, 10, 31)), ", ou last-month, last-quarter, last-year"),
], ids=["no config", "bad security", "bad port", "bad address", "partner edition to a non-partner", "bad filter",
        "bad period"])
def test_delivery_refusals_are_french(tmp_path, attempt, said):
    with use("fr"), pytest.raises(delivery.DeliveryError) as refused:
        attempt(tmp_path)
    assert loose(said) in loose(str(refused.value)), str(refused.value)


def test_an_unreachable_server_is_said_in_french(servers, tmp_path):  # noqa: F811
    port = servers[1]["closed"]
    config = delivery.load_config(write_config(tmp_path / "d.toml", port))
    with use("fr"), pytest.raises(delivery.DeliveryError) as refused:
        delivery.send(config.smtp, PASSWORD, email.message.EmailMessage(), ["ceo@acme.example"])
    assert loose(f"connexion à 127.0.0.1:{port} : échec (") in loose(str(refused.value))
    assert loose("; rien n'a été envoyé") in loose(str(refused.value))


# --- the e-mail --------------------------------------------------------------------------------------------------

CARD = pd.DataFrame([
    {"kpi": "revenue", "label": "Revenue", "unit": "currency", "actual": 315_635.0, "target": 3_156_350.0,
     "gap": -2_840_715.0, "gap_share": -0.9, "status": "off track"},
    {"kpi": "orders", "label": "Orders", "unit": "count", "actual": 4_759.0, "target": 4_900.0, "gap": -141.0,
     "gap_share": -0.0288, "status": "at risk"}])
MOVES = [Move("customer_equity", 596_914.0, 526_094.0, 50_000.0, 90_000.0, MODELS_NOISE),
         Move("nps", 34.0, 48.0, -25.0, -3.0, SURVEY_NOISE)]


def body_lines(edition: str, card: pd.DataFrame, moves: list[Move]) -> list[str]:
    chosen = delivery.View(edition, kpis.Period.parse("2026-10"))
    snap = SimpleNamespace(data_end=date(2026, 10, 31), currency="EUR")
    with use("fr"):
        return delivery.body(chosen, delivery.Findings(card, moves), snap, b"%PDF" + b"x" * 40_000).splitlines()


@pytest.mark.parametrize(("edition", "card", "moves", "said"), [
    ("board", CARD, MOVES, "Période : oct. 2026, par rapport à la période précédente (sept. 2026)"),
    ("board", CARD, MOVES, "Segment : tous les clients"),
    ("board", CARD, MOVES, "Données au 31 oct. 2026 (dernière commande)"),
    ("board", CARD, MOVES, "Hors cible par rapport à leur objectif (1 sur 2) :"),
    ("board", CARD, MOVES, f"315{NNB}635{NB}€ pour un objectif de 3{NNB}156{NNB}350{NB}€ (-90,0{NB}%)"),
    ("board", CARD, MOVES, "À surveiller (en deçà de l'objectif, d'au plus sa tolérance) :"),
    ("board", CARD, MOVES, "Variations au-delà du bruit statistique (2) :"),
    ("board", CARD, MOVES, f"en hausse de 526{NNB}094{NB}€ à 596{NNB}914{NB}€ (+70{NNB}820{NB}€)"),
    ("board", CARD, MOVES, "au-delà de l'incertitude des modèles"),
    ("board", CARD, MOVES, "en baisse de +48 à +34 (-14,0), au-delà de la marge d'erreur"),
    ("board", CARD, MOVES, "La synthèse direction est jointe : emptychair_direction_2026-10.pdf (39 Ko)."),
    ("partner", CARD, MOVES, "Hors cible par rapport à leur objectif public (1 sur 2) :"),
    ("partner", CARD, MOVES, "La synthèse actionnaires et partenaires est jointe : emptychair_partenaires_2026-10.pdf"),
    ("board", CARD.iloc[:0], [], "Aucun objectif n'est fixé pour cette vue."),
    ("partner", CARD.iloc[:0], [], "Aucun objectif public n'est fixé pour cette vue."),
    ("board", CARD.iloc[1:], [], "Aucun indicateur n'est hors cible par rapport à son objectif (objectifs fixés : 1)."),
    ("board", CARD.iloc[:0], [], "Aucune variation au-delà du bruit statistique (l'incertitude des modèles, la marge "
                                 "d'erreur des enquêtes)."),
])
def test_the_body_reads_in_french(edition, card, moves, said):
    lines = body_lines(edition, card, moves)
    assert any(nb(said) in line for line in lines), "\n".join(lines)


def test_the_body_has_no_english_word_of_its_own():
    text = "\n".join(body_lines("board", CARD, MOVES))
    for english in ("Period:", "Data as of", "Off track", "At risk", "Changes beyond noise", "rose from", "fell from",
                    "beyond", "is attached", "KB"):
        assert english not in text, english


def test_the_french_board_arrives_in_french_with_its_pdf(board, db, servers, mailboxes, tmp_path):  # noqa: F811
    """compose and send, inside use("fr"), the board edition built in French: the subject, the body, the attachment's
    name and the PDF itself are French, and the message stays 7-bit for the server."""
    snap, pdf = board
    config = delivery.load_config(write_config(tmp_path / "delivery.toml", servers[1]["login"]))
    with use("fr"):
        chosen = delivery.view(db, "board", PERIOD)
        message = delivery.compose(chosen, delivery.Findings(CARD, []), snap, pdf, config.smtp.sender,
                                   ["ceo@acme.example"])
        delivery.send(config.smtp, PASSWORD, message, ["ceo@acme.example"])
        dry = delivery.summary(message, ["ceo@acme.example"])
    (envelope,) = mailboxes["login"].envelopes
    assert envelope.mail_from == USER and envelope.content.isascii()
    got = email.message_from_bytes(envelope.content, policy=policy.default)
    assert got["Subject"] == "Empty Chair · synthèse direction · T3 2026"
    body = got.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert nb("Période : T3 2026, par rapport à la période précédente (T2 2026)") in body
    assert nb("La synthèse direction est jointe : emptychair_direction_2026-Q3.pdf (") in body
    (part,) = got.iter_attachments()
    assert part.get_filename() == "emptychair_direction_2026-Q3.pdf"
    attached = " ".join(pages(part.get_content()))
    assert "ÉDITION DIRECTION" in attached and "La chaise vide" in attached and "The empty chair" not in attached
    assert nb("Pièce jointe : emptychair_direction_2026-Q3.pdf (") in dry
