"""Sign-in through a real OpenID Connect provider (tests/oidc), in Debian's Chromium: passwords, access, sign-out."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import kpi_fixture

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium")
REQUIRED = bool(os.environ.get("EMPTYCHAIR_REQUIRE_OIDC"))  # CI: the sign-in tests never skip
pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    CHROMIUM is None and not REQUIRED, reason="Debian's chromium is not installed (make test installs it)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
USER_COOKIE = "_streamlit_user"  # Streamlit's signed-in cookie (and its chunks, _streamlit_user_1…)


def healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


@pytest.fixture(scope="module")
def dashboard(oidc_provider, tmp_path_factory):
    """The dashboard on the port the provider's client was registered for, signing in through the provider."""
    folder = tmp_path_factory.mktemp("signin")
    db = kpi_fixture.build_database(folder)
    (folder / "secrets.toml").write_text(
        f'[auth]\nredirect_uri = "{oidc_provider.redirect_uri}"\ncookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{oidc_provider.client_id}"\nclient_secret = "{oidc_provider.client_secret}"\n'
        f'server_metadata_url = "{oidc_provider.issuer}/.well-known/openid-configuration"\n'
        'client_kwargs = { scope = "openid email profile groups" }\n')
    (folder / "access.toml").write_text('[users]\n"ceo@acme.example" = "board"\n\n[groups]\n"bi-team" = "analyst"\n')
    port = oidc_provider.app_port
    env = os.environ | {"EMPTYCHAIR_DB": str(db), "EMPTYCHAIR_ACCESS": str(folder / "access.toml")}
    with (folder / "streamlit.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
             "127.0.0.1", "--server.headless", "true", "--secrets.files", str(folder / "secrets.toml")],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
    while not healthy(url):
        assert proc.poll() is None and time.monotonic() < deadline, (folder / "streamlit.log").read_text()
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        pytest.fail("EMPTYCHAIR_REQUIRE_OIDC is set but Debian's chromium is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) for each test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


def sign_in(page, dashboard, oidc_provider, email: str, password: str | None = None) -> None:
    """From the dashboard's sign-in page through the provider's login form as `email` (their password unless told)."""
    page.goto(dashboard)
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{oidc_provider.issuer}/interaction/**")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(oidc_provider.users[email]["password"] if password is None else password)
    page.get_by_role("button", name="Continue").click()


def signed_in(page) -> bool:
    return any(c["name"].startswith(USER_COOKIE) for c in page.context.cookies())


def test_the_right_password_reaches_the_dashboard(page, dashboard, oidc_provider):
    sign_in(page, dashboard, oidc_provider, "ceo@acme.example")
    page.wait_for_url(f"{dashboard}/**")
    page.get_by_role("heading", name="The empty chair").wait_for()
    page.locator("[data-testid=stSidebar]").get_by_text("Signed in as ceo@acme.example").wait_for()
    assert signed_in(page)


def test_a_wrong_password_stays_at_the_provider(page, dashboard, oidc_provider):
    sign_in(page, dashboard, oidc_provider, "ceo@acme.example", "board-pass-wrong")
    page.get_by_role("alert").filter(has_text="Wrong e-mail or password").wait_for()
    assert page.url.startswith(f"{oidc_provider.issuer}/interaction/")
    assert page.get_by_label("Password").input_value() == ""
    assert not signed_in(page)


def test_signing_out_ends_the_session(page, dashboard, oidc_provider):
    sign_in(page, dashboard, oidc_provider, "ceo@acme.example")
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_text("Signed in as ceo@acme.example").wait_for()
    with page.expect_request(f"{oidc_provider.issuer}/session/end/confirm"):  # the provider's session ends too
        sidebar.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{dashboard}/**")
    page.get_by_role("heading", name="Sign in").wait_for()
    assert not signed_in(page)
    page.reload()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.get_by_role("heading", name="The empty chair").count() == 0


def test_the_groups_claim_reaches_the_access_file(page, dashboard, oidc_provider):
    # ana@acme.example is not listed by e-mail: her ID token's groups (["bi-team"]) make her an analyst.
    sign_in(page, dashboard, oidc_provider, "ana@acme.example")
    page.locator("[data-testid=stSidebar]").get_by_text("Signed in as ana@acme.example · analyst").wait_for()
    page.get_by_role("heading", name="The empty chair").wait_for()


def test_a_user_absent_from_the_access_file_sees_no_kpi(page, dashboard, oidc_provider):
    sign_in(page, dashboard, oidc_provider, "stranger@else.example")
    page.get_by_role("heading", name="No access").wait_for()
    page.get_by_role("button", name="Sign out").wait_for()
    assert signed_in(page)
    assert page.locator("[data-testid=stMetric]").count() == 0
    assert page.locator("[data-testid=stSidebarNav]").count() == 0  # no page to go to either
    assert page.get_by_role("heading", name="The empty chair").count() == 0
