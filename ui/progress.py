"""The dashboard's progress bar for a long run (the first start's demo build): store.progress's steps drawn by
`st.progress`, emptied when the run ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st

from i18n import _
from store import progress


class StreamlitReporter(progress.Reporter):
    """Draws the share of top-level steps done, the heading, the current stage and the time so far on `bar` (what
    `st.progress` returned), from the script's own thread only (Streamlit draws from nowhere else)."""

    def __init__(self, bar, heading: str, clock: Callable[[], float] = time.monotonic):
        super().__init__(clock)
        self.bar, self.heading, self.thread = bar, heading, threading.current_thread()

    def on_start(self, path):
        self.draw()

    def on_end(self, path, seconds_taken, failed):
        self.draw()

    def close(self):
        self.bar.empty()

    def draw(self) -> None:
        if threading.current_thread() is not self.thread or not self.current:
            return
        text = _("{heading} — {step} ({seconds} s)").format(
            heading=self.heading, step=progress.SUB.join(self.current),
            seconds=progress.seconds(self.clock() - self.began))
        self.bar.progress(min(self.done / self.total, 1.0), text=text)


@contextmanager
def showing(heading: str) -> Iterator[StreamlitReporter]:
    """The block's progress steps on a bar under `heading`, removed after it."""
    with progress.reporting(StreamlitReporter(st.progress(0.0, text=heading), heading)) as reporter:
        yield reporter
