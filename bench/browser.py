"""The dashboard in Debian's Chromium: first full render on a fresh server, a filter change, the server's memory.

"Idle" means the app's running indicator (stStatusWidget) has been gone for `quiet` seconds in a row while the
page shows what was asked for; the time reported is when that quiet stretch began, counted from the navigation
(or from the click that chose the filter). The server's peak memory is its VmHWM (peak RSS) from /proc.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def unavailable() -> str | None:
    """Why the browser figures cannot be measured here, or None."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return "Debian's chromium is not installed"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (requirements-dev.txt)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status_mb(pid: int, field: str) -> float | None:
    """VmHWM (peak RSS) or VmRSS of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _die_with_parent() -> None:
    """In the server's process, before it starts: SIGTERM it when the benchmark dies (Linux prctl)."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Server:
    """`streamlit run app.py -- --db PATH` on a free port, until closed."""

    def __init__(self, db: Path, timeout: float = 120):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none",
             "--", "--db", str(db)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("the dashboard did not start") from None
                time.sleep(0.2)

    def peak_mb(self) -> float | None:
        return proc_status_mb(self.process.pid, "VmHWM")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class TimedOut(Exception):
    pass


def wait_idle(page, started: float, ready, quiet: float, timeout: float) -> float:
    """Seconds from `started` until the page is `ready()` and the running indicator has stayed away `quiet` s."""
    settled = None
    while True:
        now = time.monotonic()
        if now - started > timeout:
            raise TimedOut(f"not idle after {timeout:.0f} s")
        busy = page.locator("[data-testid=stStatusWidget]").count() > 0
        if busy or not ready():
            settled = None
        elif settled is None:
            settled = now
        elif now - settled >= quiet:
            return settled - started
        page.wait_for_timeout(50)


def measure(db: Path, timeout: float = 600, quiet: float = 1.5, region: str = "FR") -> dict:
    """{first_render, filter_change, second_visit: seconds or an error text, peak_mb, rss_mb} of a fresh server."""
    from playwright.sync_api import sync_playwright

    out: dict = {}
    server = Server(db)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists()
                                        else shutil.which("chromium"), args=FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(30_000)
                # CSS, not roles: an open dropdown hides the rest of the page from the accessibility tree
                end_of_page = page.locator("h3").filter(has_text="PDF snapshot")

                started = time.monotonic()
                page.goto(server.url, wait_until="commit")
                try:
                    out["first_render"] = wait_idle(page, started, lambda: end_of_page.count() > 0, quiet, timeout)
                except TimedOut as error:
                    out["first_render"] = str(error)
                    return out

                combo = page.locator("[data-testid=stSidebar]").get_by_role("combobox", name="Region")
                combo.click()
                page.keyboard.press("ArrowDown")  # opens the list (a click on the input only focuses it)
                page.get_by_role("option", name=region, exact=True).click()
                started = time.monotonic()
                page.keyboard.press("Escape")  # close the list
                # count(), not inner_text(): a check must never wait for an element that a rerun replaced
                filtered = page.locator("[data-testid=stCaptionContainer]").filter(has_text=f"Region: {region}")
                try:
                    out["filter_change"] = wait_idle(
                        page, started, lambda: filtered.count() > 0 and end_of_page.count() > 0, quiet, timeout)
                except TimedOut as error:
                    out["filter_change"] = str(error)

                second = browser.new_page(viewport={"width": 1400, "height": 1000})
                end_of_second = second.locator("h3").filter(has_text="PDF snapshot")
                started = time.monotonic()
                second.goto(server.url, wait_until="commit")
                try:
                    out["second_visit"] = wait_idle(second, started, lambda: end_of_second.count() > 0, quiet,
                                                    timeout)
                except TimedOut as error:
                    out["second_visit"] = str(error)
            finally:
                browser.close()
    finally:
        out["peak_mb"] = server.peak_mb()
        out["rss_mb"] = proc_status_mb(server.process.pid, "VmRSS")
        server.close()
    return out


if __name__ == "__main__":
    print(measure(Path(sys.argv[1])))
