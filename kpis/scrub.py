"""Remove personal data from free text before it reaches a page or an export (DOMAIN.md point 9).

`scrub(text)` replaces, in this order:
  [email]  e-mail addresses (plus signs, dots, hyphens, subdomains: jean.dupont+sav@mail.example.fr)
  [iban]   IBANs, grouped or not (FR76 3000 6000 0112 3456 7890 189), with at least 10 digits in all,
           and French RIBs (bank 5 digits, branch 5, account 11, key 2: 30006 00001 12345678901 89)
  [id]     French social security numbers (1 85 05 78 006 084 36)
  [card]   payment card numbers: 13 to 19 digits, together or in groups of 3–6 split by spaces or dashes,
           that pass the Luhn check every card number passes (so most 13-digit EANs or order numbers stay;
           a card number mistyped by its owner stays too)
  [phone]  phone numbers as Google's libphonenumber (the phonenumbers package) finds them, read as written in
           France and then in North America: French numbers (06 12 34 56 78, 01.23.45.67.89, 0612345678), any
           number written with a + or 00 country code (+33 6 12 34 56 78, +33 (0)6 …, 0033 6 …, +44 20 7946 0958,
           +1 415-555-2671), and North-American numbers in their own notation ((555) 123-4567, 555-123-4567)
Built to leave look-alikes alone: prices (49,90 €, 1 299 €, $1,299.00), dates (12/03/2024, 2024-03-12),
order numbers (order #A123456, commande 2024-00123, 100-200-3000), times (14:30), percentages, quantities and
short numbers. A phone number without a country code must be grouped as its country writes it (06.12.34.56.78,
not 03.12.2024 14) or be a French number in one block (see _is_phone).
Pure Python (`re` and phonenumbers); what it cannot see (a number spelled out in words, "jean at example dot
com", a French number grouped oddly such as 06 1234 5678) stays.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher, ValidationResult

EMAIL, IBAN, PHONE, ID, CARD = "[email]", "[iban]", "[phone]", "[id]", "[card]"

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.%+-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])"
)
_IBAN = re.compile(
    r"(?<![\w])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?(?![\w])", re.IGNORECASE
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


# Phone numbers: libphonenumber's PhoneNumberMatcher, as if written in France, then as if in North America.
# Leniency.POSSIBLE (the right count of digits for the country) finds the candidates, and _is_phone keeps those
# written as phone numbers: VALID and STRICT_GROUPING would take the date and hour "03.12.2024 14" for the valid
# landline 03 12 20 24 14, EXACT_GROUPING would leave every number outside the ranges libphonenumber knows as
# assigned (the fictional (555) 123-4567 and +44 7700 900123, a new range, a mistyped digit), and POSSIBLE alone
# takes order numbers such as 2024-00123 (a possible 02 02 40 01 23).
_REGIONS = ("FR", "US")
_SEVEN_DIGITS = re.compile(r"\d(?:\D{0,4}\d){6}")  # no phone number has fewer; the matcher allows 4 signs between


def _is_phone(match: phonenumbers.PhoneNumberMatch, region: str) -> bool:
    """Whether a possible number is written as a phone number, in one of three ways.

    1. Its digit groups are the ones libphonenumber writes it in, in national form without a country code
       (06 12 34 56 78, (555) 123-4567) or international form after one (+33 (0)6 12 34 56 78, 0033 6 12 34 56 78),
       whether or not the number is assigned: EXACT_GROUPING's rule without its validity check.
    2. It is valid and written after a + or 00 country code, in any grouping (+33 6 1234 5678).
    3. It is a valid French number written in one block with its 0 (0612345678). A block of 10 digits without
       a country code is left otherwise: most are valid North-American numbers (2024000123 is one), and in these
       comments more likely an order number.
    """
    number = match.number
    explicit = match.raw_string.lstrip("(").startswith(("+", "00"))  # the matcher drops country_code_source
    groups = [phonenumbers.normalize_digits_only(g) for g in re.findall(r"\d+", match.raw_string)]
    written = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL if explicit else
                                         PhoneNumberFormat.NATIONAL)
    expected = re.findall(r"\d+", written)[1 if explicit else 0:]  # without the country code's own group
    if number.extension:  # written after the number (ext. 12) and formatted after it: left out of both
        groups, expected = groups[:-1], expected[:-1]
    local = phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE  # 555-1234
    if not local and 1 < len(expected) <= len(groups):
        tail = groups[-len(expected):]
        if tail[1:] == expected[1:] and tail[0].endswith(expected[0]):  # +33 (0)6 …: the (0) before the 6
            return True
    if not phonenumbers.is_valid_number(number):
        return False
    return explicit or (region == "FR" and len(groups) == 1 and groups[0].startswith("0"))


def _phones(text: str) -> str:
    """The text with every phone number _is_phone accepts replaced by [phone]."""
    if not _SEVEN_DIGITS.search(text):
        return text
    text = _mask(text, _found(text))
    return _RUN.sub(_run, text)


def _found(text: str) -> list[tuple[int, int]]:
    """Start and end of each phone number the matcher finds in text, for either region (without the spaces a
    match can begin with: "12 / 06 12 34 56 78" gives " 06 12 34 56 78")."""
    return [(m.end - len(m.raw_string.lstrip()), m.end) for region in _REGIONS
            for m in PhoneNumberMatcher(text, region, Leniency.POSSIBLE) if _is_phone(m, region)]


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with each span replaced by [phone]; spans that overlap (one number, two regions) as one."""
    out, end = [], 0
    for start, stop in sorted(spans):
        if start >= end:
            out.append(text[end:start] + PHONE)
        end = max(end, stop)
    return "".join(out) + text[end:]


# Digits joined by spaces, dots, dashes, slashes or brackets: the matcher reads such a run as one candidate, so a
# phone number between other numbers (commande 123456 06 12 34 56 78, two numbers side by side) goes unseen.
_RUN = re.compile(r"[+(]{0,2}\d(?:[\s.)/\-]{0,4}[+(]{0,2}\d)*")
_MOST_GROUPS, _MOST_DIGITS = 8, 17  # +33 (0)6 12 34 56 78 has 7 groups; no number has more than 15 digits + 00
_NATIONAL_DIGITS = (10, 11)  # without a country code: French 0 + 9 digits, North-American 10 or 1 + 10
_MOST_RUN_GROUPS = 40  # eight French numbers side by side; a longer run (a table of figures) is left as it is


def _run(match: re.Match) -> str:
    """A run of digits the matcher left, with the phone numbers among its digit groups masked.

    From the end of the run back, the longest window of whole digit groups that is one phone number on its own:
    "le 12/03 06 12 34 56 78" is a date and a number, not 12/[phone] 78 (03 06 12 34 56 is a valid landline too).
    """
    run = match.group()
    if not _SEVEN_DIGITS.search(run):
        return run
    groups = [g.span() for g in re.finditer(r"\d+", run)]
    if len(groups) > _MOST_RUN_GROUPS:
        return run
    out, done, j = [], len(run), len(groups)
    while j > 0:
        stop = groups[j - 1][1]
        starts = [_signed(run, groups[i][0]) for i in range(max(0, j - _MOST_GROUPS), j)]
        start = next((a for a in starts if _could_be(run[a:stop]) and _whole(run[a:stop])), None)
        if start is None:
            j -= 1
            continue
        out.append(PHONE + run[stop:done])
        done, j = start, sum(1 for g in groups if g[1] <= start)
    return run[:done] + "".join(reversed(out))


def _signed(run: str, start: int) -> int:
    """Where a digit group starts, with the + and ( just before it (+33, (555))."""
    while start > 0 and run[start - 1] in "+(":
        start -= 1
    return start


def _could_be(window: str) -> bool:
    """A cheap test before the matcher: the digit count of a number of _REGIONS, or of one after a country code."""
    digits = _digits(window)
    return 7 <= digits <= _MOST_DIGITS if window.startswith(("+", "(+", "00")) else digits in _NATIONAL_DIGITS


def _whole(window: str) -> bool:
    """Whether the window, on its own, is one phone number _is_phone accepts (signs before it aside)."""
    return any(stop == len(window) and not any(c.isdigit() for c in window[:start]) for start, stop in _found(window))


def scrub(text: str | None) -> str | None:
    """The text with e-mail addresses, IBANs, phone, social security and card numbers masked."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _IBAN.sub(_between(IBAN, 10, 32), text)
    text = _RIB.sub(IBAN, text)
    text = _NIR.sub(ID, text)  # before phones: its digit groups would pass for a 00 country code
    text = _CARD.sub(_card, text)  # before phones too: the matcher reads no digit of a card number or an IBAN
    return _phones(text)


def scrub_all(texts) -> list:
    """scrub() over an iterable (None and empty strings pass through)."""
    return [scrub(t) for t in texts]
