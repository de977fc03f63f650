"""Progress of a run's long steps: which stage is running and for how long, on a terminal, in a log or on the
dashboard's first start.

Code marks its stages with `step(label)` (a step inside a step is a sub-stage: "fitting the CLV models › search")
and may say how many top-level steps are coming (`expect`). What is shown is up to the run's reporter, a context
variable that `reporting` installs: the CLI's `for_stream(sys.stderr)` (a bar on a terminal, timestamped lines in a
log), the dashboard's `ui.progress`. Without one a step shows nothing and costs next to nothing: library calls and
tests are silent, and so is a step in a worker thread unless its work was submitted through `i18n.carried`, which
takes the reporter (and the steps open around it) along.

Log lines are stamped in UTC, `2026-12-02 10:42:01Z`, as the audit log and the build files' names are.
"""

from __future__ import annotations

import contextvars
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TextIO

from i18n import _
from i18n.formats import number

SUB = " › "  # between a step and its sub-step


class Reporter:
    """What a run shows of its steps (this base shows nothing): it counts the top-level steps expected, started and
    done, and times each step by `clock` (seconds). Subclasses draw in `on_start`, `on_end` and `close`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.lock = threading.RLock()  # steps may end in worker threads (i18n.carried)
        self.expected = self.started = self.done = 0  # top-level steps
        self.began: float | None = None  # the clock when the first step started
        self.current: tuple[str, ...] = ()  # the step last started and still open, with the steps around it

    @property
    def total(self) -> int:
        """Top-level steps in all: those expected, or more when more came."""
        return max(self.expected, self.started)

    def expect(self, count: int) -> None:
        """`count` more top-level steps than those already expected or started."""
        with self.lock:
            self.expected = self.total + count

    def start(self, path: tuple[str, ...]) -> float:
        """Count and show a step beginning; return the clock's reading, for `end`."""
        with self.lock:
            now = self.clock()
            self.began = now if self.began is None else self.began
            self.started += len(path) == 1
            self.current = path
            self.on_start(path)
            return now

    def end(self, path: tuple[str, ...], since: float, failed: bool) -> None:
        """Count and show a step ending, begun at the clock's `since`."""
        with self.lock:
            self.done += len(path) == 1
            self.current = path[:-1]
            self.on_end(path, self.clock() - since, failed)

    def on_start(self, path: tuple[str, ...]) -> None:
        """A step began; `path` is its label after those of the steps it is inside."""

    def on_end(self, path: tuple[str, ...], seconds: float, failed: bool) -> None:
        """A step ended after `seconds`, by an exception when `failed`."""

    def close(self) -> None:
        """The run is over (`reporting` ends)."""


_reporter: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar("progress", default=None)
_open: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("progress steps", default=())


@contextmanager
def step(label: str) -> Iterator[None]:
    """The block is one stage of the run, `label` already translated: reported when it starts and when it ends (or
    fails: the exception goes on)."""
    reporter = _reporter.get()
    if reporter is None:
        yield
        return
    path = (*_open.get(), label)
    token = _open.set(path)
    since = reporter.start(path)
    try:
        yield
    except BaseException:
        reporter.end(path, since, failed=True)
        raise
    else:
        reporter.end(path, since, failed=False)
    finally:
        _open.reset(token)


def expect(count: int) -> None:
    """`count` more top-level steps are coming than already expected (a bar's fraction); a step beyond them only
    grows the total. Inside a step it says nothing: only the top level is counted."""
    reporter = _reporter.get()
    if reporter is not None and not _open.get():
        reporter.expect(count)


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[Reporter | None]:
    """The block's steps are shown by `reporter` (None: by nobody), which is closed after it."""
    token = _reporter.set(reporter)
    try:
        yield reporter
    finally:
        _reporter.reset(token)
        if reporter is not None:
            reporter.close()


def seconds(value: float) -> str:
    """4.2 / 4,2: a step's time, as the CLI's own messages write seconds."""
    return number(value, 1)


def _label(path: tuple[str, ...], prefix: str) -> str:
    return _("{label}: {value}").format(label=prefix, value=SUB.join(path)) if prefix else SUB.join(path)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StreamReporter(Reporter):
    """A reporter writing to a text stream, flushed at every write; one that cannot be written to (a closed pipe)
    is given up rather than failing the run."""

    def __init__(self, stream: TextIO, prefix: str = "", clock: Callable[[], float] = time.monotonic):
        super().__init__(clock)
        self.stream, self.prefix = stream, prefix

    def write(self, text: str) -> None:
        if self.stream is None:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.stream = None


class LineReporter(StreamReporter):
    """One timestamped line when a step starts and one when it ends: for logs (cron, CI, a pipe).

        2026-12-02 10:42:01Z  demo: generating customers 1–100,000…
        2026-12-02 10:42:05Z  demo: generating customers 1–100,000: done (4.2 s)
    """

    def __init__(self, stream: TextIO, prefix: str = "", clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = _utc_now):
        super().__init__(stream, prefix, clock)
        self.now = now

    def on_start(self, path):
        self._line(_("{step}…").format(step=_label(path, self.prefix)))

    def on_end(self, path, seconds_taken, failed):
        said = _("{step}: failed ({seconds} s)") if failed else _("{step}: done ({seconds} s)")
        self._line(said.format(step=_label(path, self.prefix), seconds=seconds(seconds_taken)))

    def _line(self, text: str) -> None:
        self.write(f"{self.now():%Y-%m-%d %H:%M:%S}Z  {text}\n")


class BarReporter(StreamReporter):
    """A bar redrawn in place (`\\r`) on a terminal: top-level steps done of those expected, the run's time so far,
    the current stage, cut to the terminal's width; redrawn every `tick` seconds while a step runs (None: only as
    steps start and end), and cleared when no step is open so that the command's own output starts a clean line. A
    failed step stays on screen above the error."""

    SIZE = 24  # characters of the bar itself

    def __init__(self, stream: TextIO, prefix: str = "", clock: Callable[[], float] = time.monotonic,
                 columns: int | None = None, tick: float | None = 0.5):
        super().__init__(stream, prefix, clock)
        self.columns = columns or shutil.get_terminal_size().columns
        self.tick, self.stopped, self.ticker = tick, threading.Event(), None
        self.shown = False  # a bar is on screen

    def on_start(self, path):
        self.draw()
        if self.tick and self.ticker is None:
            self.ticker = threading.Thread(target=self._redraw, daemon=True, name="progress-bar")
            self.ticker.start()

    def on_end(self, path, seconds_taken, failed):
        if failed:
            said = _("{step}: failed ({seconds} s)").format(step=_label(path, self.prefix),
                                                            seconds=seconds(seconds_taken))
            self.write(f"\r{said}\x1b[K\n")
            self.shown = False
        self.draw()

    def close(self):
        self.stopped.set()
        if self.ticker is not None:
            self.ticker.join()

    def draw(self) -> None:
        with self.lock:
            if not self.current:
                if self.shown:
                    self.write("\r\x1b[K")
                self.shown = False
                return
            filled = self.SIZE * self.done // self.total
            bar = "█" * filled + "░" * (self.SIZE - filled)
            text = (f"{self.prefix} " if self.prefix else "") + (
                f"{bar} {self.done}/{self.total}  {number(self.clock() - self.began)} s  {SUB.join(self.current)}")
            self.write("\r" + text[:self.columns - 1] + "\x1b[K")
            self.shown = True

    def _redraw(self) -> None:
        while not self.stopped.wait(self.tick):
            self.draw()


def for_stream(stream: TextIO, prefix: str = "") -> Reporter:
    """The reporter for a stream: a bar on a terminal, else timestamped lines; `prefix` names the run ("demo")."""
    return BarReporter(stream, prefix) if stream.isatty() else LineReporter(stream, prefix)
