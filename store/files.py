"""Where the database lives, how a rebuild replaces it atomically, the builds kept and a rollback to one of them.

The stable path (``data/emptychair.duckdb``) is a symbolic link to one immutable
build in ``<path>.versions/``. A rebuild writes a new file there and swaps the
link with ``os.replace`` (atomic on POSIX). Readers open the link's *target*: an
open dashboard keeps answering from the old build, and its next connection (a
different path, so not DuckDB's per-process instance cache) sees the new one.

One builder at a time (store.lock): every build and rollback holds ``<path>.lock``, so a build started while
another runs waits, then gives up with ImportBusy, having changed nothing. A build killed midway leaves the link on
the previous build; its leftovers are deleted by the next builder, which the lock tells that their writer is dead.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from i18n import _
from i18n.formats import timestamp
from store import progress
from store.lock import WAIT_SECONDS, build_lock
from store.schema import read_metadata

DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "emptychair.duckdb"
KEEP_VERSIONS = 3  # builds kept by default: the current one and the two newest others
# A build's engine memory, whatever the size of the data: DuckDB spills what does not fit to a temp folder beside the
# builds (same disk) rather than taking 80 % of the machine. $EMPTYCHAIR_BUILD_MEMORY overrides it ("8GB").
BUILD_MEMORY = "4GB"
COUNTED = ("customers", "orders", "feedback")  # the rows `builds` shows of each build

# keep / wait / command of the builds started in this context, for callers (the CLI's --keep and --wait, the
# dashboard) that reach new_build through store.demo or store.importer: see `build_options`.
_options: ContextVar[dict] = ContextVar("build_options")


class DatabaseMissing(FileNotFoundError):
    """No database at the given path."""


class DatabaseExists(FileExistsError):
    """A build meant for a missing database found one there once it held the lock."""


class RollbackRefused(LookupError):
    """No such build, an ambiguous name, or nothing to roll back to; the link was not moved."""


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
def build_options(*, keep: int | None = None, wait: float | None = None, command: str | None = None,
                  missing_only: bool | None = None) -> Iterator[None]:
    """The defaults of every new_build in the block (None leaves one as it is): builds kept, seconds a builder
    waits for another, the command the lock file names (default the process's arguments), and whether a build is
    only for a database still missing once the lock is held (DatabaseExists otherwise: a first-start demo does not
    replace the import it waited for)."""
    given = {"keep": keep, "wait": wait, "command": command, "missing_only": missing_only}
    token = _options.set(_options.get({}) | {k: v for k, v in given.items() if v is not None})
    try:
        yield
    finally:
        _options.reset(token)


@contextmanager
def new_build(path: str | os.PathLike | None = None, finish: Callable | None = None, *, keep: int | None = None,
              wait: float | None = None, start_from_current: bool = False):
    """Yield a connection to a fresh database file; publish it only if the block succeeds.

    The build lock is held from before the file is made until it is published and old builds pruned: the block may
    read the current build knowing that no other builder publishes meanwhile. `start_from_current` makes the new
    file a byte copy of the current build (DatabaseMissing without one), to be changed in place. `finish(con)`, when
    given, runs after the block and before publishing: the derived tables a reader needs (the KPI layer's
    `kpis.build.finish_build`), which `store` does not know. On any exception the new file is deleted and the
    published database is untouched. `keep` builds are kept (default KEEP_VERSIONS); a builder waits `wait`
    seconds (default 60) for another, then raises store.lock.ImportBusy.
    """
    path = db_path(path)
    options = _options.get({})
    keep = keep or options.get("keep") or KEEP_VERSIONS
    wait = options.get("wait", WAIT_SECONDS) if wait is None else wait
    folder = versions_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    with build_lock(path, wait, options.get("command")):
        if options.get("missing_only") and path.exists():
            raise DatabaseExists(_("{path} was built meanwhile").format(path=path))
        clean_leftovers(path)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = folder / f"{stamp}-{secrets.token_hex(3)}.duckdb"
        building = target.with_name(target.name + ".building")
        progress.expect(1 + start_from_current)
        if start_from_current:
            with progress.step(_("copying the current build")):
                try:
                    shutil.copyfile(current_file(path), building)
                except BaseException:  # a full disk: no half copy left behind
                    building.unlink(missing_ok=True)
                    raise
        con = duckdb.connect(str(building), config=build_settings(folder))
        try:
            yield con
            if finish is not None:
                finish(con)
            with progress.step(_("writing the database file")):
                con.execute("CHECKPOINT")
                con.close()
                os.replace(building, target)
                _point(path, target)
        except BaseException:
            con.close()
            for leftover in (building, _wal(building)):
                leftover.unlink(missing_ok=True)
            raise
        _prune(path, keep)


def build_settings(folder: Path) -> dict[str, str]:
    """DuckDB settings of a build's connection: a bounded memory and where to spill beyond it."""
    return {"memory_limit": os.environ.get("EMPTYCHAIR_BUILD_MEMORY") or BUILD_MEMORY,
            "temp_directory": str(folder / "spill")}


def clean_leftovers(path: Path) -> list[Path]:
    """Delete what killed builds left (run under the build lock, so their writers are dead): half-built files and
    their write-ahead logs, a log without its database, temp links beside the stable path, the spill folder."""
    folder = versions_dir(path)
    found = {*folder.glob("*.building"), *folder.glob("*.building.wal"),
             *(wal for wal in folder.glob("*.wal") if not wal.with_suffix("").exists()),
             *path.parent.glob(f".{path.name}.*.link"), *([folder / "spill"] if (folder / "spill").exists() else [])}
    for leftover in sorted(found):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return sorted(found)


def _wal(file: Path) -> Path:
    return file.with_name(file.name + ".wal")


def _point(path: Path, target: Path) -> None:
    """Atomically make `path` a symlink to `target` (relative, so the folder can move)."""
    link = path.with_name(f".{path.name}.{secrets.token_hex(4)}.link")
    link.symlink_to(os.path.relpath(target, path.parent))
    os.replace(link, path)


def _prune(path: Path, keep: int = KEEP_VERSIONS) -> None:
    """Keep the current build and the newest others, `keep` in all; delete the rest (open readers keep their
    inode). After a rollback the builds newer than the current one count as the newest others."""
    current = path.resolve()
    others = sorted((p for p in versions_dir(path).glob("*.duckdb") if p != current),
                    key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    for old in others[max(keep, 1) - 1:]:
        old.unlink(missing_ok=True)
        _wal(old).unlink(missing_ok=True)


@dataclass(frozen=True)
class Build:
    """One kept build, as its metadata describes it (`readable` False when the file cannot be opened)."""

    name: str  # the file's stem: 20261202T104201-a1b2c3
    file: Path
    current: bool
    modified: float  # the file's mtime (when it was published)
    readable: bool = True
    built_at: str | None = None  # UTC ISO, from the metadata
    source: str | None = None  # demo, import or append
    files: tuple[str, ...] = ()  # an import's file names
    rows: dict[str, int] = field(default_factory=dict)  # customers, orders, feedback
    models: bool = False  # clv_fits stored with rows
    problem: str = ""  # why it cannot be opened

    @property
    def moment(self) -> float:
        """When it was built: built_at, else the file's mtime (for ordering)."""
        try:
            return datetime.fromisoformat(self.built_at).timestamp()
        except (TypeError, ValueError):
            return self.modified


def builds(path: str | os.PathLike | None = None) -> list[Build]:
    """The kept builds of the database at `path`, newest first, each opened read-only and closed."""
    path = db_path(path)
    current = path.resolve() if path.exists() else None
    found = [_describe(file, file == current) for file in versions_dir(path).glob("*.duckdb")]
    return sorted(found, key=lambda b: (b.moment, b.modified, b.name), reverse=True)


def _describe(file: Path, current: bool) -> Build:
    modified = file.stat().st_mtime
    try:
        con = duckdb.connect(str(file), read_only=True)
    except duckdb.Error as error:
        return Build(file.stem, file, current, modified, readable=False, problem=str(error).splitlines()[0])
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        meta = read_metadata(con) if "metadata" in tables else {}
        rows = {t: int(n) for t, n in (meta.get("rows") or {}).items() if t in COUNTED}
        for table in COUNTED:
            if table not in rows and table in tables:
                rows[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # a name of COUNTED
        models = "clv_fits" in tables and con.execute("SELECT count(*) FROM clv_fits").fetchone()[0] > 0
    except (duckdb.Error, ValueError, AttributeError) as error:
        con.close()
        return Build(file.stem, file, current, modified, readable=False, problem=str(error).splitlines()[0])
    con.close()
    source, files = provenance(meta)
    return Build(file.stem, file, current, modified, built_at=meta.get("built_at"), source=source, files=files,
                 rows=rows, models=models)


def provenance(meta: dict) -> tuple[str | None, tuple[str, ...]]:
    """A build's source from its metadata: demo, import or append (store.append's `appends` list: then the files of
    the last append), and the names of the files it read."""
    appends = meta.get("appends") or []
    source = "append" if appends or meta.get("source") == "append" else meta.get("source")
    read = appends[-1].get("files") if appends else meta.get("files")
    files = tuple(f["file"] for f in (read or {}).values() if isinstance(f, dict) and "file" in f)
    return source, files


def describe_provenance(source: str | None, files: tuple[str, ...] = ()) -> str:
    """demo · import of orders.csv, customers.csv · append of orders.csv, in the current language."""
    named = ", ".join(files)
    if source == "demo":
        return _("demo")
    if source == "append":
        return _("append of {files}").format(files=named) if named else _("append")
    if source == "import":
        return _("import of {files}").format(files=named) if named else _("import")
    return source or "?"


def built_when(built_at: str | None) -> str:
    """A build's `built_at` in UTC, as the current language writes it (2 Dec 2026 10:42 UTC); `?` without one."""
    try:
        moment = datetime.fromisoformat(built_at)
    except (TypeError, ValueError):
        return "?"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return timestamp(moment) + " UTC"


def rollback(path: str | os.PathLike | None = None, name: str | None = None, *,
             wait: float = WAIT_SECONDS) -> tuple[Build, Build]:
    """Point the stable path at build `name` (its stem or a unique prefix), or without a name at the build made
    before the current one; (from, to). Under the build lock; RollbackRefused, the link unmoved, when no build
    fits."""
    path = db_path(path)
    current_file(path)  # DatabaseMissing when there is no database at all
    with build_lock(path, wait, _options.get({}).get("command")):
        kept = builds(path)
        current = next((b for b in kept if b.current), None)
        if current is None:
            raise RollbackRefused(_("{path} does not point to a kept build: nothing to roll back").format(path=path))
        if name is None:
            older = [b for b in kept if b.moment < current.moment or (
                b.moment == current.moment and (b.modified, b.name) < (current.modified, current.name))]
            if not older:
                raise RollbackRefused(_("no build before {name}: nothing to roll back to").format(name=current.name))
            chosen = older[0]
        else:
            matching = [b for b in kept if b.name == name] or [b for b in kept if b.name.startswith(name)]
            if not matching:
                raise RollbackRefused(_("no build {name} (`cli.py builds` lists them)").format(name=name))
            if len(matching) > 1:
                raise RollbackRefused(_("{name} names several builds: {builds}").format(
                    name=name, builds=", ".join(b.name for b in matching)))
            chosen = matching[0]
        if chosen.current:
            raise RollbackRefused(_("{name} is already the current build").format(name=chosen.name))
        if not chosen.readable:
            raise RollbackRefused(_("build {name} cannot be opened: {reason}").format(
                name=chosen.name, reason=chosen.problem))
        _point(path, chosen.file)
    return current, chosen
