"""Scrubbing personal data out of comments: what must go, and the look-alikes that must stay."""

from __future__ import annotations

import pytest

from kpis.scrub import scrub, scrub_all

MASKED = [
    # --- e-mail addresses ---
    ("Write to jean.dupont+sav@mail.example.fr about my refund.", "Write to [email] about my refund."),
    ("Écrivez-moi à marie.martin@example.com pour le remboursement.",
     "Écrivez-moi à [email] pour le remboursement."),
    ("Send the invoice to j.smith@example.co.uk please.", "Send the invoice to [email] please."),
    ("mail: First.Last-Name@sub.dept.example.org.", "mail: [email]."),
    ("(contact: a_b%c@example.io)", "(contact: [email])"),
    ("Deux adresses : a@example.fr et b+promo@example.fr", "Deux adresses : [email] et [email]"),
    # --- French phone numbers ---
    ("Rappelez-moi au 06 12 34 56 78.", "Rappelez-moi au [phone]."),
    ("Rappelez-moi au 06.12.34.56.78, merci.", "Rappelez-moi au [phone], merci."),
    ("Tél : 0612345678", "Tél : [phone]"),
    ("tel. 06-12-34-56-78.", "tel. [phone]."),
    ("Contactez-moi au 01 23 45 67 89 s'il vous plaît.", "Contactez-moi au [phone] s'il vous plaît."),
    ("Call me at +33 6 12 34 56 78 please.", "Call me at [phone] please."),
    ("+33 (0)6 12 34 56 78", "[phone]"),
    ("+33612345678", "[phone]"),
    ("0033 6 12 34 56 78", "[phone]"),
    # --- international numbers ---
    ("My number is +1 555 123 4567.", "My number is [phone]."),
    ("My number is (555) 123-4567, call me.", "My number is [phone], call me."),
    ("555-123-4567", "[phone]"),
    ("London office +44 20 7946 0958", "London office [phone]"),
    ("Joignable au +41 79 123 45 67 en journée.", "Joignable au [phone] en journée."),
    ("0044 20 7946 0958", "[phone]"),
    # --- bank and card numbers, social security number ---
    ("IBAN FR76 3000 6000 0112 3456 7890 189 pour le remboursement",
     "IBAN [iban] pour le remboursement"),
    ("iban fr7630006000011234567890189", "iban [iban]"),
    ("GB29 NWBK 6016 1331 9268 19", "[iban]"),
    ("Carte 5105 1051 0510 5100 refusée", "Carte [card] refusée"),  # card numbers pass the Luhn check
    ("card 4111-1111-1111-1111", "card [card]"),
    ("4111111111111111", "[card]"),
    ("Amex 3782 822463 10005.", "Amex [card]."),
    ("card 4111 1111 1111 1111 2024", "card [card] 2024"),  # a year after the number stays
    ("NIR 1 85 05 78 006 084 36", "NIR [id]"),
    ("RIB 30006 00001 12345678901 89", "RIB [iban]"),
    # --- several at once ---
    ("Appelez le 06 12 34 56 78 ou écrivez à x@example.fr", "Appelez le [phone] ou écrivez à [email]"),
]

LOOK_ALIKES = [
    "Payé 49,90 € pour rien.",
    "Un canapé à 1 299 € livré cassé.",
    "It cost $1,299.00 and broke.",
    "Paid 1,299.99 EUR, refund of 12.50 EUR.",
    "Commandé le 12/03/2024, reçu le 2024-03-19.",
    "Livré le 03.12.2024 14:30, trop tard.",
    "Delivered 2024-03-12 14:30:00.",
    "Order #A123456 never arrived.",
    "Ma commande 2024-00123 est bloquée.",
    "Réduction de 15 % annoncée, -20% en caisse, +10 % de frais.",
    "Rendez-vous à 14:30 ou 9h45.",
    "2 x 3 articles, 12 pièces, 250 g, 0,5 kg.",
    "J'attends depuis 10 jours, entre 10 et 12 jours annoncés.",
    "Version 2.0.1 of the app crashes.",
    "Plus de 2 500 000 clients, +2 500 000 selon la pub.",
    "Colis LA123456789FR introuvable.",
    "EAN 3017620422003, ISBN 978-2-07-036822-8, ISBN 9782070368228",  # 13 digits failing the Luhn check
    "Tracking 1Z999AA10123456784",
    "Référence AB12 test word.",
    "Note : 3/5, 10/10 pour le livreur.",
    "Born in 1985, customer since 2019.",
    "Et 1 299 999 € plus tard…",
    "Hello @support, any news?",
    "",
]


# Phone numbers, found by libphonenumber (kpis/scrub.py, _is_phone): comment, scrubbed comment, and why.
PHONES = [
    # --- French national numbers ---
    ("Rappelez-moi au 07 12 34 56 78 après 18 h.", "Rappelez-moi au [phone] après 18 h."),  # 0712 not assigned yet
    ("Fixe : 01.23.45.67.89.", "Fixe : [phone]."),  # landline with dots; the full stop after it stays
    ("Mon numéro 0612345678, merci", "Mon numéro [phone], merci"),  # one block with its 0
    ("Box : 09 70 12 34 56", "Box : [phone]"),  # 09, internet-box numbers
    ("Tél. 06\u00a012\u00a034\u00a056\u00a078", "Tél. [phone]"),  # non-breaking spaces, as word processors type
    ("06 - 12 - 34 - 56 - 78", "[phone]"),  # three signs between pairs: the digit pre-check must let it through
    ("N°06 12 34 56 78", "N°[phone]"),  # glued to the word before it
    ("06 12 34 56 78 ext. 12", "[phone]"),  # an extension goes with the number
    # --- international numbers ---
    ("Call me at +1 415-555-2671 tonight.", "Call me at [phone] tonight."),  # North America with +1
    ("+44 20 7946 0958 (bureau de Londres)", "[phone] (bureau de Londres)"),  # London, as the UK groups it
    ("Depuis l'étranger : 0033 6 12 34 56 78.", "Depuis l'étranger : [phone]."),  # 00, France's exit code
    ("(+33) 6 12 34 56 78", "[phone]"),  # country code in brackets
    ("+33 6 1234 5678", "[phone]"),  # grouped oddly, but valid after a + country code
    ("UK mobile +44 7700 900123 please", "UK mobile [phone] please"),  # Ofcom's fiction range: invalid, UK-grouped
    ("Call +1 555 123 4567 now", "Call [phone] now"),  # area code 555 is not assigned: NA-grouped is enough
    ("Berlin: +49 30 12345678.", "Berlin: [phone]."),  # German landline, area code then the rest
    ("Joignable au +32 470 12 34 56", "Joignable au [phone]"),  # Belgian mobile
    ("tel:+33612345678", "tel:[phone]"),  # one block after a + country code
    # --- North-American numbers without +1, in their own notation ---
    ("Office (415) 555-2671, ask for Ann", "Office [phone], ask for Ann"),  # area code in brackets
    ("415.555.2671", "[phone]"),  # dotted 3-3-4, as North America groups it
    # --- several, side by side, and next to other numbers or personal data ---
    ("06 12 34 56 78 ou 07 12 34 56 78", "[phone] ou [phone]"),  # two numbers, two tokens
    ("06 12 34 56 78 06 98 76 54 32", "[phone] [phone]"),  # side by side: the matcher reads one run, too long
    ("0612345678 0698765432", "[phone] [phone]"),  # two blocks side by side
    ("commande 123456 06 12 34 56 78", "commande 123456 [phone]"),  # after another number, in the same run
    ("le 12/03 06 12 34 56 78", "le 12/03 [phone]"),  # read from the end of the run: not "12/[phone] 78"
    ("Commande 2024-00123 / 06 12 34 56 78", "Commande 2024-00123 / [phone]"),  # order number first, then the phone
    ("12 / 06 12 34 56 78", "12 / [phone]"),  # the matcher's match begins with the space after the slash: kept
    ("IBAN FR76 3000 6000 0112 3456 7890 189, tél 06 12 34 56 78", "IBAN [iban], tél [phone]"),  # IBAN masked first
    ("Carte 4111 1111 1111 1111, tél +33 6 12 34 56 78", "Carte [card], tél [phone]"),  # card masked first
]

# Numbers that look like phone numbers to a looser rule, and why they stay.
PHONE_LOOK_ALIKES = [
    "100-200-3000",  # order number: the old North-American pattern masked it; no area code starts with 1
    "Commande 100-200-3000 jamais reçue.",  # the same in a sentence
    "commande 2024-000123",  # a valid Washington number (202-400-0123), but not grouped as one
    "commande 2024000123",  # the same in one block: only French numbers count in one block
    "Colis 6A12345678901",  # tracking number; its tail 12345678901 is a valid +1 number in one block
    "Total 1 234 567 890 €",  # amount: ten digits, the count of a North-American number
    "Remboursé 1 234,56 € le 31/10/2026.",  # amount and date, eight digits in a run: a digit count would mask them
    "Livré le 2026-10-31 à 14:30.",  # ISO date and time: the same
    "le 05 10 2026 14h",  # date and hour: the valid landline 05 10 20 26 14, grouped 2-2-4-2
    "Livré le 03-12-2024 14:30.",  # the same with dashes
    "Livrable au 75011 Paris, pas au 06000 06100",  # postcodes; the last two hold the valid mobile 06 00 00 61 00
    "zones 06000/06100 non desservies",  # two postcodes: the digits of the valid mobile 06 00 00 61 00
    "Facture FA-2026-000457",  # invoice number: a possible French number (2 02 60 00 45 7), not grouped as one
    "Facture n° 0457 2026 12",  # invoice number with a leading 0
    "SIREN 732 829 320",  # company number: nine digits, a possible French number without its 0
    "commande 2 06 12 34 56",  # a French number without its 0 (or its +33): not how France writes it
    "réf. 100-200-3000 / 100-200-3001",  # two order numbers; 200-3000 is a North-American number without area code
    "555-1234",  # seven digits: a North-American number without its area code is too little to go on
    "commande n° 01 23 45 67 8",  # nine digits in pairs: one short of a French number
    "ticket 12 34 56 78 90",  # ten digits in pairs without the leading 0
]


@pytest.mark.parametrize("text, expected", MASKED + PHONES)
def test_personal_data_is_masked(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize("text", LOOK_ALIKES + PHONE_LOOK_ALIKES)
def test_look_alikes_survive(text):
    assert scrub(text) == text


def test_scrub_is_idempotent_and_keeps_none():
    for text, expected in MASKED + PHONES:
        assert scrub(scrub(text)) == expected
    assert scrub(None) is None
    assert scrub_all(["a@example.fr", None, ""]) == ["[email]", None, ""]


def test_demo_personal_comments_are_all_caught():
    demo = pytest.importorskip("store.demo", reason="store.demo is another helper's module")
    for comment in getattr(demo, "PII_COMMENTS", ()):
        scrubbed = scrub(comment)
        assert "[email]" in scrubbed or "[phone]" in scrubbed, comment
        assert "@" not in scrubbed
