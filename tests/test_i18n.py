"""French and English: the catalog is whole, and numbers, dates and periods follow each language's conventions."""

from __future__ import annotations

import datetime as dt
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file

import i18n
from i18n import formats, use
from kpis import format as fmt
from kpis.periods import Period
from kpis.registry import Unit

ROOT = Path(__file__).resolve().parent.parent
NNBSP, NBSP = "\u202f", "\u00a0"


def extracted() -> dict[str, str]:
    """msgid -> where it is used, for every `_()`, `N_()` and `ngettext()` of the sources (as `make catalog`)."""
    found = {}
    for source in i18n.SOURCES:
        path = ROOT / source
        if path.is_dir():
            rows = ((f"{source}/{file}", *rest) for file, *rest in extract_from_dir(
                path, method_map=[("**.py", "python")], keywords=DEFAULT_KEYWORDS))
        else:
            rows = ((source, *row) for row in extract_from_file("python", path, keywords=DEFAULT_KEYWORDS))
        for file, line, message, _comments, _context in rows:
            for msgid in message[:1] if isinstance(message, tuple) else (message,):  # plural: under singular
                if msgid:
                    found.setdefault(msgid, f"{file}:{line}")
    return found


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


CATALOG = i18n.catalog("fr")
USED = extracted()


def test_every_message_of_the_code_has_its_french():
    missing = [f"{where}: {msgid!r}" for msgid, where in USED.items()
               if msgid not in CATALOG or not CATALOG[msgid].string or CATALOG[msgid].fuzzy
               or not all(CATALOG[msgid].string)]
    assert not missing, "untranslated (run `make catalog`, then translate):\n" + "\n".join(missing)


def test_the_catalog_holds_only_messages_the_code_uses():
    stale = sorted(m.id if isinstance(m.id, str) else m.id[0] for m in CATALOG if m.id
                   and (m.id if isinstance(m.id, str) else m.id[0]) not in USED)
    assert not stale, "in the catalog, not in the code (run `make catalog`): " + ", ".join(map(repr, stale))


@pytest.mark.parametrize("msgid", sorted(m for m in USED if "{" in m))
def test_a_translation_keeps_the_placeholders(msgid):
    message = CATALOG.get(msgid)
    if message is None or not message.string:
        pytest.skip("untranslated: the test above names it")
    for translated in message.string if isinstance(message.string, tuple) else (message.string,):
        assert fields(translated) == fields(msgid), f"{translated!r} vs {msgid!r}"


@pytest.mark.parametrize(("asked", "chosen"), [
    (("fr",), "fr"), (("fr-FR",), "fr"), (("fr_CA.UTF-8",), "fr"), (("FR",), "fr"),
    (("de-DE", "fr-BE"), "fr"),  # the first language we have
    (("de",), "en"), ((None, None), "en"), (("", "en-US"), "en"),
])
def test_a_language_is_chosen_from_the_preferences(asked, chosen):
    assert i18n.choose(*asked) == chosen


def test_the_command_line_follows_the_environment(monkeypatch):
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    assert i18n.from_environment() == "en"
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert i18n.from_environment() == "fr"
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")  # LC_ALL outranks LANG
    assert i18n.from_environment() == "en"


def test_the_language_is_restored_after_a_block_and_unknown_ones_are_refused():
    assert i18n.language() == "en"
    with use("fr"):
        assert i18n.language() == "fr"
        assert formats.percent(0.5, 0) == f"50{NBSP}%"
    assert i18n.language() == "en"
    with pytest.raises(ValueError, match="unknown language 'de'"):
        i18n.set_language("de")


OCT_31 = dt.date(2026, 10, 31)


@pytest.mark.parametrize(("lang", "text", "expected"), [
    # French groups thousands with a narrow no-break space and writes a decimal comma.
    ("fr", lambda: formats.number(1234.5, 1), f"1{NNBSP}234,5"),
    ("en", lambda: formats.number(1234.5, 1), "1,234.5"),
    ("fr", lambda: formats.percent(0.714), f"71,4{NBSP}%"),
    ("en", lambda: formats.percent(0.714), "71.4 %"),
    ("fr", lambda: formats.date(OCT_31), "31 oct. 2026"),
    ("en", lambda: formats.date(OCT_31), "31 Oct 2026"),
    ("fr", lambda: formats.date(dt.date(2026, 11, 1)), "1er nov. 2026"),  # the first of the month: « premier »
    ("en", lambda: formats.day_month(dt.date(2026, 11, 1)), "1 Nov"),
    ("fr", lambda: formats.timestamp(dt.datetime(2026, 3, 1, 9, 5)), "1er mars 2026 09:05"),
    ("fr", lambda: Period.parse("2026-Q3").label, "T3 2026"),
    ("en", lambda: Period.parse("2026-Q3").label, "Q3 2026"),
    ("fr", lambda: Period.parse("2026-10").label, "oct. 2026"),
    ("en", lambda: Period.parse("2026-09").label, "Sep 2026"),
    ("fr", lambda: Period.parse("2026").label, "2026"),
    # 3,080,000 € is 3.08 M: one decimal, 3,1 M€ (a narrow no-break space before M, none before €).
    ("fr", lambda: fmt.value(3.08e6, Unit.CURRENCY, "EUR", compact=True), f"3,1{NNBSP}M€"),
    ("en", lambda: fmt.value(3.08e6, Unit.CURRENCY, "EUR", compact=True), "3.1M €"),
    ("fr", lambda: fmt.value(1234.5, Unit.CURRENCY, "EUR"), f"1{NNBSP}234{NBSP}€"),  # ≥ 1,000: no cents
    ("fr", lambda: fmt.value(12.345, Unit.CURRENCY, "USD"), f"12,35{NBSP}$"),  # French puts $ after the amount
    ("en", lambda: fmt.value(12.345, Unit.CURRENCY, "USD"), "$12.35"),
    ("fr", lambda: fmt.value(0.4215, Unit.PERCENT), f"42,1{NBSP}%"),  # 0.4215 is 0.42149999… in binary
    ("fr", lambda: fmt.delta(0.012, Unit.PERCENT), "+1,2 pt"),
    ("fr", lambda: fmt.value(3.25, Unit.MONTHS), "3,2 mois"),  # 3.25 is exact: half to even
    ("fr", lambda: fmt.value(42, Unit.SCORE), "+42"),
    ("fr", lambda: formats.significant(0.012345, 3), "0,0123"),  # a fitted parameter, as :.3g writes it
    ("en", lambda: formats.significant(12345.0, 3), "1.23e+04"),
    ("fr", lambda: fmt.delta(-1500, Unit.COUNT), f"-1{NNBSP}500"),
])
def test_numbers_dates_and_periods_in_each_language(lang, text, expected):
    with use(lang):
        assert text() == expected


def test_french_plurals_treat_zero_and_one_as_singular():
    with use("fr"):
        plural = i18n.translations("fr").plural
    assert (plural(0), plural(1), plural(2)) == (0, 0, 2)


def test_no_message_is_built_by_formatting_inside_the_call():
    """`_(f"…")` cannot be extracted: the text must be the msgid, the values filled in after (`.format`)."""
    pattern = re.compile(r"\b(?:_|N_|ngettext)\(\s*f[\"']")
    offenders = [f"{p.relative_to(ROOT)}:{n}" for source in i18n.SOURCES for p in
                 ([ROOT / source] if source.endswith(".py") else (ROOT / source).rglob("*.py"))
                 for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders


def test_french_typography_keeps_its_spaces_unbreakable():
    """A line never breaks before « : ; ? ! » or after «: French puts a no-break space (U+00A0) there."""
    loose = [text for m in CATALOG if m.id for text in ((m.string,) if isinstance(m.string, str) else m.string)
             if re.search(r"(?<!`) [:;?!»]|« ", text)]  # plurals' every form too
    assert not loose
