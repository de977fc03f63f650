"""One builder at a time: an exclusive lock on ``<db>.lock`` beside the database, held for a whole build.

The lock is `fcntl.flock` on the file, so the kernel frees it when its holder dies, even by kill -9: a lock file
left by a dead process is a free lock and is simply taken, its content rewritten. The file says who holds it (pid,
since when, the command) for the message a second builder gets; it is never deleted (a builder waiting on the old
inode would then lock a file nobody else sees). Readers never take it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from i18n import _

WAIT_SECONDS = 60.0  # how long a second builder waits before giving up
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the lock."""

    pid: int
    since: str  # UTC ISO, seconds
    command: str


class ImportBusy(RuntimeError):
    """Another build holds the lock; nothing was changed."""

    def __init__(self, holder: Holder | None):
        self.holder = holder
        since = _since(holder.since) if holder else None
        super().__init__(
            _("another import is running (pid {pid}, since {since}): wait for it or try again later").format(
                pid=holder.pid, since=since) if holder and since else
            _("another import is running (pid unknown): wait for it or try again later"))


def _since(moment: str) -> str | None:
    """2026-12-02T10:42:01+00:00 as 2026-12-02 10:42:01 UTC (None when it is not a time)."""
    try:
        return datetime.fromisoformat(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (TypeError, ValueError):
        return None


def lock_path(path: str | os.PathLike) -> Path:
    """The lock file of a database: data/emptychair.duckdb.lock."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


def holder(path: str | os.PathLike) -> Holder | None:
    """What the lock file of database `path` says of its holder (None when empty or unreadable)."""
    try:
        info = json.loads(lock_path(path).read_text(encoding="utf-8"))
        return Holder(int(info["pid"]), str(info["since"]), str(info.get("command", "")))
    except (OSError, ValueError, TypeError, KeyError):
        return None


@contextmanager
def build_lock(path: str | os.PathLike, wait: float = WAIT_SECONDS, command: str | None = None) -> Iterator[Holder]:
    """Hold the build lock of database `path` for the block, waiting up to `wait` seconds (ImportBusy after)."""
    file = lock_path(path)
    handle = file.open("a+", encoding="utf-8")  # never truncates before the lock is ours
    try:
        deadline = time.monotonic() + max(wait, 0)
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ImportBusy(holder(path)) from None
                time.sleep(POLL_SECONDS)
        me = Holder(os.getpid(), datetime.now(UTC).isoformat(timespec="seconds"),
                    " ".join(sys.argv) if command is None else command)
        _write(handle, json.dumps({"pid": me.pid, "since": me.since, "command": me.command}) + "\n")
        try:
            yield me
        finally:
            _write(handle, "")  # released: nobody holds it (a killed holder leaves its name, harmlessly)
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _write(handle, text: str) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(text)
    handle.flush()
