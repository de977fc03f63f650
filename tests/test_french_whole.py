"""The dashboard in French is French throughout: every page of every role, rendered with lang=fr, shows no English
sentence — the strings a catalog test cannot see (one never wrapped in `_()`) are caught here."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_app import ROOT, fixture_db  # noqa: F401  (fixture_db is a pytest fixture)

pytestmark = pytest.mark.usefixtures("fixture_db")  # every test runs the app over the fixture database

PAGES = ["empty_chair", "scorecard", "what_changed", "equity_vs_volume", "cohorts", "customer_value", "acquisition",
         "valuation", "voice", "model_check", "glossary", "audit"]
# Words of English that French never uses on their own: one of them in a French page is an untranslated string.
ENGLISH = re.compile(r"\b(the|and|of|with|without|customers?|period|for|from|your|this|these|is|are|not|no|"
                     r"when|which|than|each|per|shows?|between|only|who|what|how|why)\b", re.IGNORECASE)
# Quoted text is the customers' own words, shown as they wrote them; code spans are commands.
QUOTED = re.compile(r"“[^”]*”|«[^»]*»|\"[^\"]*\"|`[^`]*`|\*“[^”]*”\*")
KINDS = ("title", "header", "subheader", "caption", "markdown", "info", "warning", "error", "success", "toast",
         "metric", "button", "selectbox", "multiselect", "radio", "checkbox", "toggle", "text_input", "number_input",
         "date_input", "expander", "tab", "button_group", "download_button", "slider", "select_slider", "text_area")


def texts(at: AppTest) -> list[str]:
    """Every visible string of the page's elements: bodies, labels, helps, placeholders, options."""
    found = []
    for kind in KINDS:
        for element in at.get(kind):
            for name in ("value", "body", "label", "help", "placeholder"):
                text = getattr(element, name, None) if name != "value" or kind in (
                    "title", "header", "subheader", "caption", "markdown", "info", "warning", "error",
                    "success", "toast") else None
                if isinstance(text, str):
                    found.append(text)
            options = getattr(element, "options", None)
            if isinstance(options, list | tuple):
                found += [o for o in options if isinstance(o, str)]
    return found


def english_in(strings: list[str]) -> list[str]:
    return [s for s in strings if ENGLISH.search(QUOTED.sub("", s))]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_is_french_with_lang_fr(page):
    at = AppTest.from_file(str(ROOT / "dashboard" / "navigation.py"), default_timeout=90)
    at.query_params["lang"] = "fr"
    at.run()
    if page != "empty_chair":
        at.switch_page(f"../pages/{page}.py").run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert len(shown) > 5  # a page was drawn
    assert not english_in(shown), "\n".join(english_in(shown))


def test_the_same_pages_in_english_are_caught_by_the_check():
    """The check itself: the English page trips it (else it could never fail)."""
    at = AppTest.from_file(str(ROOT / "dashboard" / "navigation.py"), default_timeout=90).run()
    assert english_in(texts(at))
