"""Remove personal data from free text before it reaches a page or an export (DOMAIN.md point 9).

`scrub(text)` replaces, in this order:
  [email]  e-mail addresses (plus signs, dots, hyphens, subdomains: jean.dupont+sav@mail.example.fr)
  [iban]   IBANs, grouped or not (FR76 3000 6000 0112 3456 7890 189), with at least 10 digits in all,
           and French RIBs (bank 5 digits, branch 5, account 11, key 2: 30006 00001 12345678901 89)
  [id]     French social security numbers (1 85 05 78 006 084 36)
  [phone]  French numbers (06 12 34 56 78, 06.12.34.56.78, 0612345678, +33 6 12 34 56 78, +33 (0)6 …,
           0033 6 …), any number written with a + or 00 country code (+1 555 123 4567, +44 20 7946 0958,
           +41 79 123 45 67: 8 to 15 digits), and North-American numbers ((555) 123-4567, 555-123-4567)
  [card]   payment card numbers: 13 to 19 digits, together or in groups of 3–6 split by spaces or dashes,
           that pass the Luhn check every card number passes (so most 13-digit EANs or order numbers stay;
           a card number mistyped by its owner stays too)
Built to leave look-alikes alone: prices (49,90 €, 1 299 €, $1,299.00), dates (12/03/2024, 2024-03-12),
order numbers (order #A123456, commande 2024-00123), times (14:30), percentages, quantities and short
numbers. French national numbers must keep one separator throughout (06.12.34.56.78, not 03.12.2024 14).
Pure Python `re`; what it cannot see (a number spelled out in words, "jean at example dot com") stays.
"""

from __future__ import annotations

import re

EMAIL, IBAN, PHONE, ID, CARD = "[email]", "[iban]", "[phone]", "[id]", "[card]"

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.%+-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])"
)
_IBAN = re.compile(
    r"(?<![\w])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?(?![\w])", re.IGNORECASE
)
_SEP = r"[ .\-]"
_PHONES = (
    # French international: +33 6 12 34 56 78, +33 (0)6 12 34 56 78, 0033 6 12 34 56 78, +33612345678
    re.compile(rf"(?:\+|(?<![\w-])00)33{_SEP}?(?:\(0\){_SEP}?)?[1-9](?:{_SEP}?\d{{2}}){{4}}(?!\d)"),
    # any other country code: +1 555 123 4567, +44 20 7946 0958, +41 79 123 45 67, 0044 20 7946 0958
    re.compile(rf"(?:(?<![\w+])\+|(?<![\w+-])00)[1-9]\d{{0,2}}(?:{_SEP}?(?:\(\d{{1,4}}\)|\d{{1,4}})){{2,6}}(?!\d)"),
    # French national, one separator throughout: 06 12 34 56 78, 06.12.34.56.78, 0612345678
    re.compile(r"(?<![\w+,.-])0[1-9](?P<sep>[ .\-]?)\d{2}(?:(?P=sep)\d{2}){3}(?![\w]|[.,-]\d)"),
    # North American: (555) 123-4567, 555-123-4567, 555.123.4567
    re.compile(r"(?:(?<![\w(])\(\d{3}\)[ .\-]?|(?<![\w+,.-])\d{3}(?P<sep>[.\-]))\d{3}"
               r"(?(sep)(?P=sep)|[ .\-])\d{4}(?![\w]|[.,-]\d)"),
)
_NIR = re.compile(r"(?<![\w+,.-])[12] ?\d{2} ?(?:0[1-9]|1[0-2]) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\w]|[.,]\d)")
_RIB = re.compile(r"(?<![\w+,.-])\d{5} ?\d{5} ?[A-Z0-9]{11} ?\d{2}(?![\w]|[.,-]\d)", re.IGNORECASE)
_CARD = re.compile(r"(?<![\w+,.-])(?:\d{13,19}|\d{3,6}(?:[ \-]\d{3,6}){2,5})(?![\w]|[.,-]\d)")


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _between(token: str, low: int, high: int):
    """A replacement callback: the token when the match holds low..high digits, else the match unchanged."""
    return lambda m: token if low <= _digits(m.group()) <= high else m.group()


def luhn(digits: str) -> bool:
    """The check every payment card number passes (ISO/IEC 7812): doubled every second digit from the right."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card(match: re.Match) -> str:
    """[card] over the longest run of leading digit groups that holds 13–19 digits and passes the Luhn
    check; the rest of the match unchanged (a year after the number, say)."""
    text = match.group()
    digits, ends = "", []
    for group in re.finditer(r"\d+", text):
        digits += group.group()
        if 13 <= len(digits) <= 19 and luhn(digits):
            ends.append(group.end())
    return CARD + text[ends[-1]:] if ends else text


def scrub(text: str | None) -> str | None:
    """The text with e-mail addresses, IBANs, phone, social security and card numbers masked."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _IBAN.sub(_between(IBAN, 10, 32), text)
    text = _RIB.sub(IBAN, text)
    text = _NIR.sub(ID, text)  # before phones: its digit groups would pass for a 00 country code
    for pattern in _PHONES:
        text = pattern.sub(_between(PHONE, 8, 15), text)
    return _CARD.sub(_card, text)


def scrub_all(texts) -> list:
    """scrub() over an iterable (None and empty strings pass through)."""
    return [scrub(t) for t in texts]
