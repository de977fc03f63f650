"""Where the database lives, and how a rebuild replaces it atomically.

The stable path (``data/emptychair.duckdb``) is a symbolic link to one immutable
build in ``<path>.versions/``. A rebuild writes a new file there and swaps the
link with ``os.replace`` (atomic on POSIX). Readers open the link's *target*: an
open dashboard keeps answering from the old build, and its next connection (a
different path, so not DuckDB's per-process instance cache) sees the new one.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from i18n import _

DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "emptychair.duckdb"
KEEP_VERSIONS = 2  # the current build and the one before it
# A build's engine memory, whatever the size of the data: DuckDB spills what does not fit to a temp folder beside the
# builds (same disk) rather than taking 80 % of the machine. $EMPTYCHAIR_BUILD_MEMORY overrides it ("8GB").
BUILD_MEMORY = "4GB"


class DatabaseMissing(FileNotFoundError):
    """No database at the given path."""


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    """The database path: an explicit one, else $EMPTYCHAIR_DB, else data/emptychair.duckdb."""
    return Path(explicit or os.environ.get("EMPTYCHAIR_DB") or DEFAULT_DB).absolute()


def versions_dir(path: Path) -> Path:
    return path.with_name(path.name + ".versions")


def current_file(path: str | os.PathLike) -> Path:
    """The build the stable path points to now (the path itself for a plain file)."""
    path = Path(path)
    if not path.exists():
        raise DatabaseMissing(_("no database at {path}: run `python cli.py demo` or `python cli.py import`").format(
            path=path))
    return path.resolve()


def open_readonly(path: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current build."""
    return duckdb.connect(str(current_file(db_path(path))), read_only=True)


@contextmanager
def new_build(path: str | os.PathLike | None = None, finish: Callable | None = None, start_from_current: bool = False):
    """Yield a connection to a fresh database file; publish it only if the block succeeds.

    `finish(con)`, when given, runs after the block and before publishing: the derived tables a reader needs (the
    KPI layer's `kpis.build.finish_build`), which `store` does not know. On any exception the new file is deleted and
    the published database is untouched.
    """
    path = db_path(path)
    folder = versions_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = folder / f"{stamp}-{secrets.token_hex(3)}.duckdb"
    building = target.with_name(target.name + ".building")
    if start_from_current:
        shutil.copyfile(current_file(path), building)
    con = duckdb.connect(str(building), config=build_settings(folder))
    try:
        yield con
        if finish is not None:
            finish(con)
        con.execute("CHECKPOINT")
        con.close()
        os.replace(building, target)
        _point(path, target)
    except BaseException:
        con.close()
        for leftover in (building, building.with_name(building.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    _prune(path)


def build_settings(folder: Path) -> dict[str, str]:
    """DuckDB settings of a build's connection: a bounded memory and where to spill beyond it."""
    return {"memory_limit": os.environ.get("EMPTYCHAIR_BUILD_MEMORY") or BUILD_MEMORY,
            "temp_directory": str(folder / "spill")}


def _point(path: Path, target: Path) -> None:
    """Atomically make `path` a symlink to `target` (relative, so the folder can move)."""
    link = path.with_name(f".{path.name}.{secrets.token_hex(4)}.link")
    link.symlink_to(os.path.relpath(target, path.parent))
    os.replace(link, path)


def _prune(path: Path) -> None:
    """Delete builds older than the last KEEP_VERSIONS (open readers keep their inode)."""
    current = path.resolve()
    builds = sorted(versions_dir(path).glob("*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
    keep = {current, *builds[:KEEP_VERSIONS]}
    for old in builds:
        if old not in keep:
            old.unlink(missing_ok=True)
