"""The interface's two languages: the language of the current run, and its gettext catalog.

Interface text is written in English inside `_()` (or marked `N_()` where it is a constant, translated at use) and
translated from `i18n/locale/fr/LC_MESSAGES/messages.po`, a Babel/gettext catalog compiled as it is first read.
`make catalog` extracts the msgids from the code and updates the catalog; tests/test_i18n.py refuses a msgid
without its French. The KPIs' own texts are not here: each declaration carries both languages (kpis.registry).

The language is a context variable: a Streamlit session's script run or one CLI command sets it once (`use`,
`set_language`); work handed to a thread pool takes it along only when submitted through `carried`.
"""

from __future__ import annotations

import contextvars
import functools
import gettext as _gettext
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = {"en": "English", "fr": "Français"}  # code -> the language's own name, for the switch
DEFAULT = "en"
LOCALES = {"en": "en", "fr": "fr_FR"}  # Babel's locale for numbers and dates ("Sep", as the dashboard had it)
CATALOGS = Path(__file__).with_name("locale")
DOMAIN = "messages"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT)


def language() -> str:
    """The current run's language code ("en", "fr")."""
    return _current.get()


def locale() -> str:
    """The current language's Babel locale ("fr_FR")."""
    return LOCALES[language()]


def supported(code: str | None) -> str | None:
    """A language we have from a tag or locale name ("fr-FR", "fr_CA.UTF-8", "FR"), else None."""
    if not code:
        return None
    base = code.replace("-", "_").split(".")[0].split("_")[0].lower()
    return base if base in LANGUAGES else None


def choose(*preferences: str | None) -> str:
    """The first supported language among the preferences (URL, browser, environment…), else English."""
    return next((lang for lang in map(supported, preferences) if lang), DEFAULT)


def from_environment() -> str:
    """The language a command line asks for: $LANGUAGE, $LC_ALL, $LC_MESSAGES, then $LANG (gettext's order)."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for tag in os.environ.get(name, "").split(":"):
            if supported(tag):
                return supported(tag)
    return DEFAULT


def set_language(code: str) -> None:
    """Make `code` the language of the rest of this run (a Streamlit script run, a CLI command)."""
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}: use one of {', '.join(LANGUAGES)}")
    _current.set(code)


@contextmanager
def use(code: str) -> Iterator[None]:
    """The block runs in `code`, and the language before it is restored after."""
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}: use one of {', '.join(LANGUAGES)}")
    token = _current.set(code)
    try:
        yield
    finally:
        _current.reset(token)


def carried(fn: Callable, *args, **kwargs) -> Callable[[], object]:
    """fn(*args, **kwargs) to run in another thread with this run's language (and other context variables)."""
    context = contextvars.copy_context()
    return lambda: context.run(fn, *args, **kwargs)


SOURCES = ("cli.py", "dashboard", "i18n", "kpis", "pages", "report", "store", "ui")  # where msgids are extracted


def catalog(code: str) -> Catalog:
    """The language's catalog, as its messages.po holds it (an untranslated entry has an empty string)."""
    with (CATALOGS / code / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        return read_po(po, locale=code, domain=DOMAIN)


@functools.cache
def translations(code: str) -> _gettext.NullTranslations:
    """The language's messages, compiled in memory from its catalog (English: the msgids themselves)."""
    if code == DEFAULT:
        return _gettext.NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, catalog(code))  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """The message in the current language."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for n, in the current language (French: 0 and 1 are singular)."""
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a constant's text for the catalog; it is translated where it is shown, with `_()`."""
    return message
