"""The build lock (store.lock): one builder at a time, who holds it said in the file, a dead holder's lock free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import i18n
from store.lock import ImportBusy, build_lock, holder, lock_path

ROOT = Path(__file__).resolve().parent.parent
# A bare flock on the lock file, its content left as the test wrote it; "held" once it has the lock, released when
# its stdin closes.
FLOCK = ("import fcntl, sys\nhandle = open(sys.argv[1], 'a')\nfcntl.flock(handle, fcntl.LOCK_EX)\n"
         "print('held', flush=True)\nsys.stdin.read()\n")


def hold(script: str, *args: str) -> subprocess.Popen:
    """Another process holding a lock until its stdin is closed."""
    proc = subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def release(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(timeout=30)


def dead_pid() -> int:
    """The pid of a process that has exited."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.mark.parametrize("language, content, expected", [
    ("en", {"pid": 1234, "since": "2026-12-02T10:42:01+00:00", "command": "cli.py import"},
     "another import is running (pid 1234, since 2026-12-02 10:42:01 UTC): wait for it or try again later"),
    ("en", {"pid": 1234, "since": "2026-12-02T11:42:01+01:00", "command": "dashboard"},  # 11:42 at +01:00 = 10:42 UTC
     "another import is running (pid 1234, since 2026-12-02 10:42:01 UTC): wait for it or try again later"),
    ("fr", {"pid": 1234, "since": "2026-12-02T10:42:01+00:00", "command": "cli.py import"},
     "un autre import est en cours (pid 1234, depuis 2026-12-02 10:42:01 UTC)\u00a0: attendez qu'il se termine ou "
     "réessayez plus tard"),
    ("en", "not json", "another import is running (pid unknown): wait for it or try again later"),
    ("en", "", "another import is running (pid unknown): wait for it or try again later"),  # held, not yet written
    ("en", {"pid": 1234}, "another import is running (pid unknown): wait for it or try again later"),
    ("fr", "not json", "un autre import est en cours (pid inconnu)\u00a0: attendez qu'il se termine ou réessayez "
                       "plus tard"),
])
def test_a_held_lock_says_who_holds_it(tmp_path, language, content, expected):
    db = tmp_path / "db.duckdb"
    lock_path(db).write_text(content if isinstance(content, str) else json.dumps(content))
    other = hold(FLOCK, str(lock_path(db)))
    try:
        with i18n.use(language), pytest.raises(ImportBusy) as busy, build_lock(db, wait=0.2):
            pytest.fail("the lock was taken while another process held it")
    finally:
        release(other)
    assert str(busy.value) == expected


def test_the_holder_is_written_and_cleared(tmp_path):
    db = tmp_path / "db.duckdb"
    with build_lock(db, command="cli.py demo") as me:
        assert holder(db) == me and me.pid == os.getpid() and me.command == "cli.py demo"
    assert lock_path(db).read_text() == "" and holder(db) is None  # released: nobody named
    with build_lock(db, wait=0):  # and free at once
        pass


def test_a_second_builder_in_another_process_is_told_the_first_ones_pid(tmp_path):
    db = tmp_path / "db.duckdb"
    script = "import sys\nfrom store.lock import build_lock\nwith build_lock(sys.argv[1]):\n" + "".join(
        "    " + line + "\n" for line in ("print('held', flush=True)", "sys.stdin.read()"))
    other = hold(script, str(db))
    try:
        with pytest.raises(ImportBusy, match=rf"\(pid {other.pid}, since \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)"):
            with build_lock(db, wait=0.2):
                pass
    finally:
        release(other)
    with build_lock(db, wait=0):  # released when its holder finished
        pass


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    db = tmp_path / "db.duckdb"
    dead = dead_pid()
    lock_path(db).write_text(json.dumps({"pid": dead, "since": "2026-12-02T10:42:01+00:00", "command": "killed"}))
    with build_lock(db, wait=0) as me:  # no flock held: the file is a leftover, the lock is free
        assert holder(db) == me and me.pid == os.getpid() != dead
