"""The dashboard in a real browser (Debian's Chromium): shared links, page switches, filters in the URL."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.test_app import fixture_db, free_port  # noqa: F401  (pytest fixture)

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def server(fixture_db):  # noqa: F811
    """A fresh dashboard process on a free port (each test gets a server that has served nothing yet)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--", "--db", str(fixture_db)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def _browser_page(locale: str | None = None):
    """A Chromium page; `locale` is the browser's preferred language (navigator.language)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser.new_page(viewport={"width": 1400, "height": 1000}, **({"locale": locale} if locale else {}))
        browser.close()


@pytest.fixture
def page():
    yield from _browser_page()


@pytest.fixture
def french_page():
    yield from _browser_page("fr-FR")


def settle(page, quiet_ms: int = 2000, timeout_s: float = 90):
    """Wait until the app has been idle (no running-script indicator) for `quiet_ms` in a row."""
    page.wait_for_selector("[data-testid=stApp]")
    deadline, quiet = time.monotonic() + timeout_s, 0
    while quiet < quiet_ms:
        assert time.monotonic() < deadline, "the app never settled"
        page.wait_for_timeout(250)
        quiet = 0 if page.locator("[data-testid=stStatusWidget]").count() else quiet + 250


def test_a_shared_link_to_a_page_is_the_first_request(server, page):
    # A fresh server whose first visitor follows a link to the glossary with a filter in it.
    page.goto(f"{server}/glossary?region=FR")
    settle(page)
    nav = page.locator("[data-testid=stSidebarNav]").inner_text()
    assert "Empty chair" in nav and "Glossary" in nav and "app" not in nav.split()
    assert page.get_by_role("heading", name="Glossary").is_visible()


def test_the_view_travels_in_the_url_and_survives_page_switches(server, page):
    page.goto(f"{server}/?period=2024-02&region=FR")
    settle(page)
    assert "period=2024-02" in page.url and "region=FR" in page.url
    assert "Feb 2024" in page.locator("[data-testid=stMain] [data-testid=stCaptionContainer]").first.inner_text()
    page.locator("[data-testid=stSidebarNav]").get_by_text("Glossary").click()
    settle(page)
    page.locator("[data-testid=stSidebarNav]").get_by_text("Empty chair").click()
    settle(page)
    assert "period=2024-02" in page.url and "region=FR" in page.url  # the session's view is written back


def test_changing_a_filter_updates_the_link(server, page):
    page.goto(f"{server}/?period=2024-02")
    settle(page)
    page.locator("[data-testid=stSidebar]").get_by_text("same period last year").click()
    settle(page)
    assert "compare=year" in page.url
    assert "(Feb 2023)" in page.locator("[data-testid=stMain] [data-testid=stCaptionContainer]").first.inner_text()


def test_a_french_browser_is_answered_in_french_until_the_switch_says_otherwise(server, french_page):
    french_page.goto(server)  # no lang= in the link: the browser's preferred language (st.context.locale)
    settle(french_page)
    assert french_page.get_by_role("heading", name="La chaise vide").is_visible()
    assert "lang=fr" in french_page.url  # kept in the link, so that it shows the same words to whoever opens it
    caption = french_page.locator("[data-testid=stMain] [data-testid=stCaptionContainer]").first.inner_text()
    assert "nov. 2024" in caption and "par rapport à la période précédente" in caption
    french_page.locator("[data-testid=stSidebar]").get_by_text("English", exact=True).click()
    settle(french_page)
    assert "lang=en" in french_page.url
    assert french_page.get_by_role("heading", name="The empty chair").is_visible()
    french_page.goto(f"{server}/glossary?lang=en")  # a link's language wins over the browser's
    settle(french_page)
    assert french_page.get_by_role("heading", name="Glossary").is_visible()


# What the app's st.navigation (dashboard/navigation.py) declares: each page's title and URL path ("" is "/").
NAVIGATION = {"Empty chair": "", "Scorecard": "scorecard", "What changed": "what_changed",
              "Customer equity vs volume": "equity_vs_volume",
              "Cohorts & retention": "cohorts", "Customer value": "customer_value", "Acquisition": "acquisition",
              "Customer-based value": "valuation", "Voice of the customer": "voice", "Model check": "model_check",
              "Glossary": "glossary", "Audit log": "audit"}  # open: no sign-in configured, every page
# Streamlit's legacy `pages/` navigation names its entries after the files: the script it runs, then each page.
FILE_NAMED = {"app", "navigation"} | {p.stem.replace("_", " ") for p in (ROOT / "pages").glob("*.py")}
# Records every sidebar navigation entry the page draws from its first paint on, even one gone between two polls.
RECORD_NAV = """(() => {
  const seen = new Set();
  window.__nav = [];
  new MutationObserver(() => {
    for (const a of document.querySelectorAll('[data-testid=stSidebarNav] a, a[data-testid=stSidebarNavLink]')) {
      const label = a.querySelector('[label]');
      const entry = [label ? label.getAttribute('label') : a.innerText.trim(), a.getAttribute('href') || ''];
      if (!seen.has(entry.join(' '))) { seen.add(entry.join(' ')); window.__nav.push(entry); }
    }
  }).observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
})();"""


def watch_navigation(page, url: str, timeout_s: float = 30, quiet_ms: int = 2000) -> None:
    """Open `url` and poll the sidebar every 100 ms, from the first paint until the app's own navigation is shown
    and the app has been idle for `quiet_ms`: fail as soon as it has drawn an entry the app does not declare
    (Streamlit's legacy navigation, named after the files)."""
    page.add_init_script(RECORD_NAV)
    page.goto(url, wait_until="commit")
    start = time.monotonic()
    quiet = 0
    while True:
        state = page.evaluate("""() => ({
            nav: (window.__nav || []).splice(0),
            shown: [...document.querySelectorAll('[data-testid=stSidebarNav] a')].map(
                a => (a.querySelector('[label]') || a).getAttribute('label') || a.innerText.trim()),
            running: document.querySelector('[data-testid=stStatusWidget]') !== null})""")
        drawn = {(label, urllib.parse.urlsplit(href).path.strip("/")) for label, href in state["nav"]}
        at = f"{time.monotonic() - start:.1f} s after opening {url}"
        legacy = sorted(label for label, _ in drawn if label in FILE_NAMED)
        assert not legacy, f"Streamlit's legacy pages/ navigation drawn {at}: {legacy}"
        undeclared = sorted(f"{label} -> /{path}" for label, path in drawn if NAVIGATION.get(label) != path)
        assert not undeclared, f"entries the app does not declare drawn {at}: {undeclared}"
        real = set(state["shown"]) == set(NAVIGATION)
        quiet = quiet + 100 if real and not state["running"] else 0
        if quiet >= quiet_ms:
            return
        assert time.monotonic() < start + timeout_s, f"the app's navigation never settled (sidebar: {state['shown']})"
        page.wait_for_timeout(100)


def test_the_first_paint_of_a_fresh_server_is_the_apps_navigation(server, page):
    watch_navigation(page, f"{server}/")
    assert page.get_by_role("heading", name="The empty chair").is_visible()


def test_a_deep_link_as_a_fresh_servers_first_request_is_drawn_by_the_apps_navigation(server, page):
    watch_navigation(page, f"{server}/voice?region=FR")
    assert page.get_by_role("heading", name="Voice of the customer").is_visible()
    assert "Region: FR" in page.locator("[data-testid=stMain] [data-testid=stCaptionContainer]").first.inner_text()
    assert "/voice" in page.url and "region=FR" in page.url
    current = page.locator("[data-testid=stSidebarNav] a[aria-current=page]").inner_text()
    assert "Voice of the customer" in current
