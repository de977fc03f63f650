"""Import a company's own CSV or Parquet files into a new database, validated before anything is published.

Everything happens in a fresh build file (``store.files.new_build``): when any check fails,
that file is deleted and the published database stays exactly as it was.
No user text is ever pasted into SQL: file paths travel as bound parameters, and file
columns are addressed by position (``#3``), never by the names found in a header.

A file's numbers and dates are read in the file's own conventions: a decimal point or a decimal comma, ISO dates
(2026-10-31) or day/month/year (31/10/2026, as a French export writes them) or month/day/year. Each file's reading
is settled from its cells when they leave no doubt, or given (`decimal=","`, `date_format="%d/%m/%Y"`, options
checked against the readings below: only SQL written here is ever run); a file that reads two ways is refused.

Times are the company's (`timezone`, a tz database name): a time with an offset (2024-03-01T00:30:00+01:00, a
Parquet TIMESTAMP WITH TIME ZONE) is converted to that zone's wall-clock time by DuckDB's ICU (the build's session
TimeZone), a time without one is that wall-clock time already; so every period is cut in the company's zone.
A path may be a pattern of Parquet files (exports/orders/*.parquet, ** for sub-folders), read as one table; a
problem names the file and its own row.
"""

from __future__ import annotations

import bisect
import csv
import functools
import glob
import gzip
import os
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import duckdb

from i18n import N_, _, ngettext
from i18n.formats import number
from store import progress, schema
from store.files import new_build
from store.schema import SURVEYS, TABLES, Column, Table

MAX_PROBLEMS = 20
NOW = object()  # placeholder for the import's clock among a check's parameters
ATTRIBUTE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".gz": "csv", ".parquet": "parquet", ".pq": "parquet"}
AMOUNT_TYPES = ("DECIMAL(18,2)", "SMALLINT")  # read with the file's decimal mark
DATE_TYPES = ("DATE", "TIMESTAMP")  # read in the file's date order

# The readings a file's numbers and dates may have. `decimal` and `date_format` are looked up here, never pasted.
DECIMALS = (".", ",")
DATE_ORDERS = {"%Y-%m-%d": "iso", "%d/%m/%Y": "dmy", "%m/%d/%Y": "mdy"}
DATE_FORMATS = {order + time: reading for order, reading in DATE_ORDERS.items()
                for time in ("", " %H:%M", " %H:%M:%S")}  # the order is what counts: a time is read where written
READ_AS = {reading: order for order, reading in DATE_ORDERS.items()}  # a file's date order, as the metadata says
STRPTIME = {  # day/month/year cells, with or without a time (HH:MM or HH:MM:SS): DuckDB's strptime formats
    "dmy": "['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y']",
    "mdy": "['%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y']",
}
SLASH_DATE = r"^\d{1,2}/\d{1,2}/\d{4}( \d{1,2}:\d{2}(:\d{2})?)?$"  # 31/10/2026, 31/10/2026 14:05, …:07
SLASH_MONTH = r"^\d{1,2}/\d{4}$"  # a month: 10/2026
# An ISO date or date-time with no offset and no zone: the company's wall-clock time, read as written (a time the
# zone skips, 2024-03-31 02:30 in Paris, would move an hour through TIMESTAMPTZ).
NAIVE_TIME = r"^\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$"
PATTERN = re.compile(r"[*?[]")  # what makes a path a glob
# What a file's cells show of its conventions (read from the trimmed cell; patterns bound as parameters).
AMOUNT_SIGNS = {
    "point": r"^[+-]?\d*\.\d+$",  # 12.50
    "comma": r"^[+-]?\d*,\d+$",  # 12,50
    # 1 234,50 · 1.234,50 · 1,234.50 · 1.234.567: thousands grouped (a lone 1.234 or 1,234 is a decimal)
    "grouped": r"^[+-]?\d{1,3}(?:(?:[ \x{a0}\x{202f}']\d{3})+(?:[.,]\d+)?|(?:\.\d{3})+,\d+|(?:,\d{3})+\.\d+"
               r"|(?:\.\d{3}){2,}|(?:,\d{3}){2,})$",
}
DATE_SIGNS = {
    "iso": r"^\d{4}-\d{1,2}([-T ].*)?$",  # 2026-10-31 (…), or a month 2026-10
    "slash": r"^\d{1,2}/\d{1,2}/\d{4}( .*)?$|^\d{1,2}/\d{4}$",  # 31/10/2026 (…), or a month 10/2026
    "day_first": r"^(1[3-9]|2\d|3[01])/(0?[1-9]|1[0-2])/\d{4}( .*)?$",  # 31/10/2026: only day/month
    "month_first": r"^(0?[1-9]|1[0-2])/(1[3-9]|2\d|3[01])/\d{4}( .*)?$",  # 10/31/2026: only month/day
    "both_ways": r"^(0?[1-9]|1[0-2])/(0?[1-9]|1[0-2])/\d{4}( .*)?$",  # 05/10/2026: either
}
HINTS = {  # (declared type, the file's reading) -> what a cell must look like
    ("DATE", "iso"): N_("a date (YYYY-MM-DD)"),
    ("DATE", "dmy"): N_("a date (DD/MM/YYYY)"),
    ("DATE", "mdy"): N_("a date (MM/DD/YYYY)"),
    ("TIMESTAMP", "iso"): N_("a date-time (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)"),
    ("TIMESTAMP", "dmy"): N_("a date-time (DD/MM/YYYY, DD/MM/YYYY HH:MM or DD/MM/YYYY HH:MM:SS)"),
    ("TIMESTAMP", "mdy"): N_("a date-time (MM/DD/YYYY, MM/DD/YYYY HH:MM or MM/DD/YYYY HH:MM:SS)"),
    ("DECIMAL(18,2)", "."): N_("an amount (digits with a dot as decimal separator)"),
    ("DECIMAL(18,2)", ","): N_("an amount (digits with a comma as decimal separator)"),
    ("SMALLINT", "."): N_("a whole number"),
    ("SMALLINT", ","): N_("a whole number"),
}
ASK_DATE_FORMAT = "--date-format %d/%m/%Y", "--date-format %m/%d/%Y"


@dataclass(frozen=True)
class Problem:
    file: str
    row: int  # 1-based data row; CSV line numbers are worked out when reporting
    column: str
    reason: str
    where: str = "row"

    def __str__(self) -> str:
        fields = {"file": self.file, "row": self.row, "column": self.column, "reason": self.reason}
        if self.row and self.column:
            text = _("{file} line {row}: {column}: {reason}") if self.where == "line" else _(
                "{file} row {row}: {column}: {reason}")
        elif self.row:
            text = _("{file} line {row}: {reason}") if self.where == "line" else _("{file} row {row}: {reason}")
        else:
            text = _("{file}: {column}: {reason}") if self.column else _("{file}: {reason}")
        return text.format(**fields)


class ImportRejected(Exception):
    """The files were refused; nothing was written."""

    def __init__(self, problems: list[Problem], total: int):
        self.problems, self.total = problems, total
        left = total - len(problems)
        more = "\n" + ngettext("… and {count} more problem", "… and {count} more problems", left).format(
            count=number(left)) if left > 0 else ""
        super().__init__(
            ngettext("import refused, the database is unchanged: {count} problem",
                     "import refused, the database is unchanged: {count} problems", total).format(count=number(total))
            + "\n" + "\n".join(f"  {p}" for p in problems) + more
        )


class Check(NamedTuple):
    """One validation query: SQL giving (_row, value) for each bad row, and the reason, `{value}` filled in."""

    file: str
    column: str
    reason: str  # a translated text with {value} and the names of `fields`
    sql: str
    params: tuple | list = ()
    fields: dict | None = None


@dataclass
class Source:
    """One input file staged as raw table `raw_<table>`, its columns mapped to the declared ones."""

    table: Table
    path: Path
    kind: str
    mapping: dict[str, int] = field(default_factory=dict)  # declared column -> position in file (1-based)
    attributes: dict[str, int] = field(default_factory=dict)  # extra customer column -> position
    ignored: list[str] = field(default_factory=list)
    rows: int = 0
    delimiter: str | None = None  # a CSV's separator
    decimal: str = "."  # the file's decimal mark
    dates: str = "iso"  # the file's date order: iso, dmy (31/10/2026) or mdy (10/31/2026)
    months_only: bool = False  # its dates are all months (10/2026): no order to settle
    parts: list[tuple[int, str, int]] = field(default_factory=list)  # a pattern's files: (first row, name, rows)

    @property
    def file(self) -> str:
        """What problems and the metadata call it: the file's name, or a pattern as given."""
        return str(self.path) if _is_pattern(self.path) else self.path.name

    @property
    def described(self) -> dict:
        """How the file was read, for the build's metadata (`files`): name, rows, ignored columns, readings."""
        return {"file": self.file, "rows": self.rows, "ignored_columns": self.ignored, "decimal": self.decimal,
                "date_format": self.date_format, **({"matched": len(self.parts)} if self.parts else {})}

    @property
    def date_format(self) -> str:
        """How the file's dates were read, for the metadata: %Y-%m-%d, %d/%m/%Y, %m/%d/%Y or %m/%Y."""
        return "%m/%Y" if self.months_only else READ_AS[self.dates]

    @property
    def raw(self) -> str:
        return f"raw_{self.table.name}"


def import_files(
    db=None, *, orders, customers=None, feedback=None, spend=None, currency: str = "EUR",
    now: datetime | None = None, max_problems: int = MAX_PROBLEMS, finish: Callable | None = None,
    margin_rate: float | None = None, decimal: str | None = None, date_format: str | None = None,
    timezone: str = "UTC",
) -> dict:
    """Validate the files and publish a new database built from them; return its metadata. `finish(con)` adds
    derived tables before publishing (store.files.new_build; `kpis.build.import_files` passes the KPI layer's).

    `decimal` ("." or ",") and `date_format` (a key of DATE_FORMATS: "%d/%m/%Y"…) say how every file writes its
    numbers and dates; without them each file's own cells settle it, or the file is refused as ambiguous.
    `timezone` (Europe/Paris) is the company's: stored times are its wall-clock times, `now` (naive UTC) too."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    options = _check_options(margin_rate, decimal, date_format, timezone)
    if options:
        raise ImportRejected(options, len(options))
    now = _zone_time(now, timezone)
    files = check_paths({"orders": orders, "customers": customers, "feedback": feedback, "marketing_spend": spend},
                        max_problems)

    with new_build(db, finish) as con:
        con.execute("SET TimeZone = ?", [timezone])  # TIMESTAMPTZ -> TIMESTAMP: the company's wall-clock time
        progress.expect(2)
        with progress.step(_("reading and checking the files")):
            sources = read_checked(con, files, now=now, max_problems=max_problems, decimal=decimal,
                                   date_format=date_format)
        with progress.step(_("loading the tables")):
            attributes = tuple(sources["customers"].attributes) if "customers" in sources else ()
            schema.create_tables(con, customer_attributes=attributes)
            _load(con, sources)
        for source in sources.values():
            con.execute(f"DROP TABLE {source.raw}")
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        schema.write_metadata(
            con, currency=currency, source="import",
            files={n: s.described for n, s in sources.items()},
            rows=counts, timezone=timezone, **({} if margin_rate is None else {"margin_rate": margin_rate}),
        )
        return schema.read_metadata(con)


def check_paths(given: dict[str, os.PathLike | str | None], max_problems: int) -> dict[str, Path]:
    """The files given (table name -> path), each one present, readable and of a known format, else refused."""
    files = {name: Path(p) for name, p in given.items() if p is not None}
    problems = [p for name, path in files.items() for p in _check_file(name, path)]
    if problems:
        raise ImportRejected(problems[:max_problems], len(problems))
    return files


def read_checked(con, files: dict[str, Path], *, now: datetime, max_problems: int, decimal: str | None,
                 date_format: str | None, checks: Callable | None = None) -> dict[str, Source]:
    """Stage every file in `con` (typed_<table> temp tables), settle its reading and run every row check and the
    checks across files (`checks(sources)`, default the full import's `_cross_checks`): the sources, or
    ImportRejected with the first problems of each check and their count."""
    problems, sources = [], {}
    for name, path in files.items():
        source = Source(TABLES[name], path, _kind(path))
        staged = _stage(con, source)
        problems += staged or _read_as(con, source, decimal, date_format)
        sources[name] = source
    total = len(problems)
    if not problems:
        problems, total = _validate(con, sources, now, max_problems, checks or _cross_checks)
    if problems:
        shown = sorted(problems, key=lambda p: (p.file, p.row))[:max_problems]
        raise ImportRejected(_with_lines(shown, sources), total)
    return sources


def _check_options(margin_rate: float | None, decimal: str | None, date_format: str | None,
                   timezone: str = "UTC") -> list[Problem]:
    """The import's options, each against what it may be."""
    problems = []
    if margin_rate is not None and not 0 < margin_rate <= 1:
        problems.append(Problem("--margin-rate", 0, "", _(
            "{rate} is not a rate in (0, 1]: give the gross margin as a share of revenue, e.g. 0.35").format(
            rate=margin_rate)))
    if decimal is not None and decimal not in DECIMALS:
        problems.append(Problem("--decimal", 0, "", _(
            "'{value}' is not a decimal mark: pass --decimal . or --decimal ,").format(value=decimal)))
    if date_format is not None and date_format not in DATE_FORMATS:
        problems.append(Problem("--date-format", 0, "", _(
            "'{value}' is not a date format the import reads: pass %d/%m/%Y, %m/%d/%Y or %Y-%m-%d, maybe followed "
            "by %H:%M or %H:%M:%S").format(value=date_format)))
    if timezone not in _zone_names():
        problems.append(Problem("--timezone", 0, "", _(
            "'{value}' is not a time zone name (e.g. Europe/Paris, UTC)").format(value=timezone)))
    return problems


@functools.cache
def _zone_names() -> frozenset[str]:
    """The zone names both Python's tz database and DuckDB's ICU know, spelled exactly (Europe/Paris, UTC…): DuckDB
    alone would take europe/paris or UTC+1 (which it reads as Etc/GMT-1) too."""
    with duckdb.connect() as con:
        icu = {name for (name,) in con.execute("SELECT name FROM pg_timezone_names()").fetchall()}
    return frozenset(zoneinfo.available_timezones() & icu)


def _zone_time(now: datetime, timezone: str) -> datetime:
    """The import's clock (naive UTC, or aware) as the zone's wall-clock time, what stored times are compared with."""
    instant = now if now.tzinfo else now.replace(tzinfo=UTC)
    return instant.astimezone(zoneinfo.ZoneInfo(timezone)).replace(tzinfo=None)


def _kind(path: Path) -> str:
    return "parquet" if _is_pattern(path) else FORMATS.get(path.suffix.lower(), "")


def _check_file(name: str, path: Path) -> list[Problem]:
    if _is_pattern(path):
        return _check_pattern(name, path)
    if not path.is_file():
        return [Problem(str(path), 0, "", _("no such file (given for {name})").format(name=name))]
    if not os.access(path, os.R_OK):
        return [Problem(str(path), 0, "", _("file is not readable"))]
    if not _kind(path):
        return [Problem(path.name, 0, "", _("unknown format '{suffix}': expected .csv or .parquet").format(
            suffix=path.suffix))]
    return []


def _is_pattern(path: Path) -> bool:
    """A glob (exports/orders/*.parquet), not a file whose name happens to hold * ? or [."""
    return bool(PATTERN.search(str(path))) and not path.is_file()


def _matches(pattern: Path) -> list[Path]:
    """The files a pattern matches, in path order (`**` reaches into sub-folders)."""
    return sorted(Path(p) for p in glob.glob(str(pattern), recursive=True) if os.path.isfile(p))


def _pattern_root(pattern: Path) -> Path:
    """The folder a pattern's files are named from: its path up to the first component holding a wildcard."""
    fixed = []
    for part in pattern.parts[:-1]:
        if PATTERN.search(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _part_name(pattern: Path, path: Path | str) -> str:
    """A matched file's name as problems give it: from the pattern's root (orders-2026-10.parquet, 2026/10.parquet)."""
    return os.path.relpath(path, _pattern_root(pattern))


def _check_pattern(name: str, pattern: Path) -> list[Problem]:
    """A pattern must match files, all Parquet (a CSV is given by its own name: each has its own reading), readable."""
    files = _matches(pattern)
    if not files:
        return [Problem(str(pattern), 0, "", _("no file matches this pattern (given for {name})").format(name=name))]
    others = [f for f in files if FORMATS.get(f.suffix.lower()) != "parquet"]
    if others:
        return [Problem(str(pattern), 0, "", ngettext(
            "matches {count} file that is not Parquet ({file}): a pattern reads Parquet files only, give a CSV "
            "file by its own name",
            "matches {count} files that are not Parquet ({file}…): a pattern reads Parquet files only, give a CSV "
            "file by its own name", len(others)).format(count=number(len(others)),
                                                        file=_part_name(pattern, others[0])))]
    return [Problem(_part_name(pattern, f), 0, "", _("file is not readable"))
            for f in files if not os.access(f, os.R_OK)]


def _open_text(path: Path):
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    return opener(path, "rt", encoding="utf-8-sig", newline="")


def _csv_header(path: Path) -> tuple[list[str], str]:
    """The header names and the delimiter (comma, semicolon or tab, whichever the header uses most)."""
    with _open_text(path) as f:
        first = f.readline()
    delimiter = max(",;\t", key=first.count)
    return next(csv.reader([first], delimiter=delimiter)), delimiter


def _stage(con, source: Source) -> list[Problem]:
    """Copy the file as text-or-native columns c1..cN into a temp table; check its header."""
    name = source.file
    try:
        if source.kind == "csv":
            header, delimiter = _csv_header(source.path)
            source.delimiter = delimiter
            columns = {f"c{i}": "VARCHAR" for i in range(1, len(header) + 1)}
            con.execute(
                f"CREATE TEMP TABLE {source.raw} AS SELECT * FROM read_csv(?, columns = ?, delim = ?, "
                "header = true, quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, "
                "null_padding = false)",
                [str(source.path), columns, delimiter],
            )
        else:
            files = _matches(source.path) if _is_pattern(source.path) else [source.path]
            unlike = _unlike_types(con, source, files)
            if unlike:
                return unlike
            paths = [str(f) for f in files]  # one table: columns matched by name, each row knowing its file's row
            header = [r[0] for r in con.execute(
                "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true))",
                [paths]).fetchall()]
            picks = ", ".join(f"#{i} AS c{i}" for i in range(1, len(header) + 1))
            con.execute(f"CREATE TEMP TABLE {source.raw} AS SELECT {picks}, _file, file_row_number AS _file_row "
                        "FROM read_parquet(?, union_by_name = true, filename = '_file', file_row_number = true)",
                        [paths])
            if _is_pattern(source.path):
                _locate_parts(con, source, paths)
    except UnicodeDecodeError:
        return [Problem(name, 0, "", _("not UTF-8 text: save the file as UTF-8 CSV"))]
    except Exception as error:  # duckdb's parse errors carry the line; keep their first lines (DuckDB's English)
        detail = " ".join(str(error).split("\n")[:3]).replace("Invalid Input Error: ", "")
        return [Problem(name, 0, "", _("cannot read the file: {detail}").format(detail=detail))]
    source.rows = con.execute(f"SELECT count(*) FROM {source.raw}").fetchone()[0]
    return _map_header(source, header)


def _unlike_types(con, source: Source, files: list[Path]) -> list[Problem]:
    """A pattern's files must type each column alike: a file typing one otherwise than the first file having it is
    refused, naming both (a number as text in one month's export would otherwise turn the column to text)."""
    if len(files) < 2:
        return []
    first: dict[str, tuple[str, Path]] = {}
    problems = []
    for path in files:
        for column, kind in con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))",
                                        [str(path)]).fetchall():
            other_kind, other = first.setdefault(column.lower(), (kind, path))
            if other_kind != kind:
                problems.append(Problem(_part_name(source.path, path), 0, column, _(
                    "typed {type} here but {other_type} in {other}: every file of {pattern} must type a column "
                    "alike").format(type=kind, other_type=other_kind, other=_part_name(source.path, other),
                                    pattern=source.file)))
    return problems


def _locate_parts(con, source: Source, paths: list[str]) -> None:
    """Where each file of a pattern sits among the staged rows (source.parts), so that a problem's row can name its
    file and that file's own row; DuckDB keeps files in list order and rows in file order (else they are put so)."""
    spans = (f"SELECT _file, min(rowid - _file_row), max(rowid - _file_row), count(*) FROM {source.raw} "
             "GROUP BY _file")
    found = con.execute(spans).fetchall()
    if any(low != high for _file, low, high, _rows in found):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {source.raw} AS SELECT * FROM {source.raw} "
                    "ORDER BY list_position(?, _file), _file_row", [paths])
        found = con.execute(spans).fetchall()
    source.parts = sorted((low + 1, _part_name(source.path, path), rows) for path, low, _high, rows in found)


def _map_header(source: Source, header: list[str]) -> list[Problem]:
    """Match header names to the declared columns (case and spaces ignored)."""
    name, problems, seen = source.file, [], {}
    for position, label in enumerate(header, start=1):
        key = label.strip().lower()
        if key in seen:
            problems.append(Problem(name, 0, label, _("column appears twice in the header")))
        seen[key] = position
        if key in source.table.names:
            source.mapping[key] = position
        elif source.table is schema.CUSTOMERS and ATTRIBUTE_NAME.match(key):
            source.attributes[key] = position
        elif source.table is schema.CUSTOMERS:
            problems.append(Problem(name, 0, label, _("attribute names must be lower-case letters, digits, _")))
        else:
            source.ignored.append(label)
    missing = [c.name for c in source.table.columns if c.required and c.name not in source.mapping]
    if missing:
        found = ", ".join(header) or _("nothing")
        problems.append(Problem(name, 0, "", _("missing required column(s) {columns} (found: {found})").format(
            columns=", ".join(missing), found=found)))
    return problems


def _read_as(con, source: Source, decimal: str | None, date_format: str | None) -> list[Problem]:
    """Settle how the file writes numbers and dates (source.decimal, source.dates): from the options, else (a CSV)
    from its cells; a file whose cells read two ways is refused, naming a line and what to pass."""
    if decimal is not None:
        source.decimal = decimal
    if date_format is not None:
        source.dates = DATE_FORMATS[date_format]
    if source.kind != "csv":  # a Parquet file's text columns are read as the options say (ISO, a point otherwise)
        return []
    mapped = [(c, f"c{source.mapping[c.name]}") for c in source.table.columns if c.name in source.mapping]
    seen = (_signs(con, source, [(c.name, raw) for c, raw in mapped if c.sql_type in AMOUNT_TYPES], AMOUNT_SIGNS)
            | _signs(con, source, [(c.name, raw) for c, raw in mapped if c.sql_type in DATE_TYPES], DATE_SIGNS))
    file, problems = source.file, []

    if "grouped" in seen:
        row, column, value = seen["grouped"]
        problems.append(Problem(file, row, column, _(
            "'{value}' groups its thousands: write amounts without a thousands separator ({plain})").format(
            value=value, plain=_ungrouped(value))))
    if decimal is None and source.delimiter in (";", "\t") and "comma" in seen:  # not in a CSV separated by ,
        source.decimal = ","
        if "point" in seen:
            problems.append(_conflict(file, source, seen["comma"], seen["point"], (
                _("'{value}' has a decimal comma, but '{other}' (line {line}) has a decimal point: write every "
                  "amount the same way, or pass --decimal , or --decimal ."),
                _("'{value}' has a decimal point, but '{other}' (line {line}) has a decimal comma: write every "
                  "amount the same way, or pass --decimal , or --decimal ."))))

    if date_format is None and "slash" in seen and "iso" not in seen:  # ISO dates keep their reading
        if "day_first" in seen and "month_first" in seen:
            problems.append(_conflict(file, source, seen["day_first"], seen["month_first"], (
                _("'{value}' can only be day/month/year, but '{other}' (line {line}) can only be month/day/year: "
                  "write every date of the file the same way"),
                _("'{value}' can only be month/day/year, but '{other}' (line {line}) can only be day/month/year: "
                  "write every date of the file the same way"))))
        elif "month_first" in seen:
            source.dates = "mdy"
        elif "day_first" in seen or "both_ways" not in seen:  # only months (10/2026): either order reads them
            source.dates, source.months_only = "dmy", "day_first" not in seen
        else:
            row, column, value = seen["both_ways"]
            problems.append(Problem(file, row, column, _(
                "'{value}' reads as day/month or as month/day, and no date of the file has a day above 12 to "
                "tell: pass {day_first} or {month_first}").format(
                value=value, day_first=ASK_DATE_FORMAT[0], month_first=ASK_DATE_FORMAT[1])))
    return problems


def _conflict(file: str, source, one: tuple, two: tuple, texts: tuple[str, str]) -> Problem:
    """Two cells (row, column, value) read in ways that exclude each other: the later one refused, naming the earlier
    one's line; texts[0] when the later is `one`, else texts[1]."""
    later, (earlier, _column, other) = sorted((one, two), reverse=True)
    row, column, value = later
    text = texts[0] if later == one else texts[1]
    return Problem(file, row, column, text.format(value=value, other=other, line=_line(source, earlier)))


def _line(source: Source, row: int) -> int:
    """The CSV line where a data row starts."""
    return _csv_lines(source, {row}).get(row, row)


def _signs(con, source: Source, columns: list[tuple[str, str]], signs: dict[str, str]) -> dict[str, tuple]:
    """For each sign (a pattern) found in the columns' trimmed cells: its first (row, column, cell)."""
    if not columns:
        return {}
    parts, params = [], []
    for _name, raw in columns:
        for pattern in signs.values():
            cell = f"TRIM({raw})"
            parts.append(f"arg_min(struct_pack(r := rowid + 1, v := {cell}), rowid) "
                         f"FILTER (WHERE regexp_full_match({cell}, ?))")
            params.append(pattern)
    found = con.execute(f"SELECT {', '.join(parts)} FROM {source.raw}", params).fetchone()
    seen: dict[str, tuple] = {}
    for index, first in enumerate(found):
        if first is not None:
            (name, _raw), sign = columns[index // len(signs)], list(signs)[index % len(signs)]
            candidate = (first["r"], name, first["v"])
            seen[sign] = min(seen.get(sign, candidate), candidate)
    return seen


def _ungrouped(value: str) -> str:
    """1 234,50 -> 1234,50; 1.234,50 -> 1234,50; 1,234.50 -> 1234.50; 1.234.567 -> 1234567."""
    text = re.sub(r"[ \u00a0\u202f']", "", value)
    marks = [m for m in ".," if m in text]
    if len(marks) == 2:  # the last mark is the decimal one
        decimal = max(marks, key=text.rindex)
        return text.replace(".," [decimal == "."], "")
    return text.replace(marks[0], "") if marks and text.count(marks[0]) > 1 else text


def _parse(column: Column, raw: str, raw_type: str, source: Source) -> str:
    """SQL turning a staged column into the declared type, in the file's reading; NULL where it cannot."""
    if raw_type == column.sql_type:  # Parquet already typed as declared
        return raw
    text = f"NULLIF(TRIM({raw}), '')" if raw_type == "VARCHAR" else raw
    slash = raw_type == "VARCHAR" and source.dates in STRPTIME
    if column.sql_type in AMOUNT_TYPES and raw_type == "VARCHAR" and source.decimal == ",":
        text = f"CASE WHEN NOT contains({text}, '.') THEN replace({text}, ',', '.') END"  # 12.50 is not read
    if column.sql_type == "VARCHAR":
        return f"CAST({text} AS VARCHAR)"
    if column.sql_type == "TIMESTAMP" and slash:
        return _slash_date(text, source.dates)
    if column.sql_type == "TIMESTAMP":  # a Parquet TIMESTAMP WITH TIME ZONE converts to the session's zone
        return _local_time(text, "TIMESTAMP") if raw_type == "VARCHAR" else f"TRY_CAST({text} AS TIMESTAMP)"
    if column.name == "month" and slash:  # '10/2026' or any date within the month
        return (f"CAST(date_trunc('month', COALESCE({_slash_date(text, source.dates)}, CASE WHEN "
                f"regexp_full_match({text}, '{SLASH_MONTH}') THEN try_strptime({text}, '%m/%Y') END)) AS DATE)")
    if column.name == "month":  # '2024-03' or any date within the month
        return (f"date_trunc('month', COALESCE(TRY_CAST({text} AS DATE), "
                f"TRY_CAST(CAST({text} AS VARCHAR) || '-01' AS DATE)))")
    if column.sql_type == "DATE" and slash:
        return f"CAST({_slash_date(text, source.dates)} AS DATE)"
    if column.sql_type == "DATE" and raw_type == "VARCHAR":
        return _local_time(text, "DATE")
    if column.sql_type == "SMALLINT":
        return (f"CASE WHEN TRY_CAST({text} AS DOUBLE) = round(TRY_CAST({text} AS DOUBLE)) "
                f"THEN TRY_CAST(TRY_CAST({text} AS DOUBLE) AS SMALLINT) END")
    return f"TRY_CAST({text} AS {column.sql_type})"


def _local_time(text: str, sql_type: str) -> str:
    """SQL reading an ISO cell as the company's wall-clock time (TIMESTAMP or DATE): as written without an offset,
    converted from its offset (+01:00, Z) through TIMESTAMPTZ in the session's zone otherwise."""
    converted = f"TRY_CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS {sql_type})"
    if sql_type == "DATE":  # a date of another shape DuckDB reads stays read
        converted = f"COALESCE({converted}, TRY_CAST({text} AS DATE))"
    return (f"CASE WHEN regexp_full_match({text}, '{NAIVE_TIME}') THEN TRY_CAST({text} AS {sql_type}) "
            f"ELSE {converted} END")


def _slash_date(text: str, order: str) -> str:
    """SQL reading 31/10/2026, 31/10/2026 14:05 or 31/10/2026 14:05:07 in a day/month order (STRPTIME's keys)."""
    return f"CASE WHEN regexp_full_match({text}, '{SLASH_DATE}') THEN try_strptime({text}, {STRPTIME[order]}) END"


def _typed(source: Source, raw_types: dict[str, str]) -> str:
    """One pass over the staged file: _row, each declared column typed, and whether its cell was empty."""
    parts = ["rowid + 1 AS _row"]
    for col in source.table.columns:
        if col.name in source.mapping:
            raw = f"c{source.mapping[col.name]}"
            empty = f"NULLIF(TRIM({raw}), '') IS NULL" if raw_types[raw] == "VARCHAR" else f"{raw} IS NULL"
            parts += [f"{_parse(col, raw, raw_types[raw], source)} AS {col.name}", f"{empty} AS _empty_{col.name}"]
    parts += [f'c{position} AS "{name}"' for name, position in source.attributes.items()]
    return f"SELECT {', '.join(parts)} FROM {source.raw}"


def _validate(con, sources: dict[str, Source], now: datetime, limit: int,
              cross: Callable) -> tuple[list[Problem], int]:
    """Every row check of every file, then the checks across files (`cross(sources)`): (first problems of each,
    total)."""
    for source in sources.values():
        raw_types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {source.raw})").fetchall())
        con.execute(f"CREATE TEMP TABLE typed_{source.table.name} AS {_typed(source, raw_types)}")
    checks = []
    for source in sources.values():
        checks += _row_checks(source)
    checks += cross(sources)
    problems, total = [], 0
    for check in checks:
        # Each check keeps its first `limit` rows and counts the rest, so a file of errors stays cheap.
        rows = con.execute(f"SELECT *, count(*) OVER () FROM ({check.sql}) ORDER BY 1 LIMIT ?",
                           [now if p is NOW else p for p in check.params] + [limit]).fetchall()
        total += rows[0][2] if rows else 0
        fields = check.fields or {}
        problems += [Problem(check.file, row, check.column, check.reason.format(value=_short(value), **fields))
                     for row, value, _count in rows]
    return problems, total


def _short(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _row_checks(source: Source) -> list[Check]:
    """Each check of one file."""
    file, typed, checks = source.file, f"typed_{source.table.name}", []
    for col in source.table.columns:
        if col.name not in source.mapping:
            continue
        c = col.name
        as_written = (f"CAST(r.c{source.mapping[c]} AS VARCHAR) FROM {typed} t "
                      f"JOIN {source.raw} r ON r.rowid = t._row - 1")  # the cell as written, for the message
        if not col.nullable and col.default is None and col.name != "acquired_at":  # those get filled
            checks.append(Check(file, c, _("empty value"), f"SELECT _row, NULL FROM {typed} WHERE _empty_{c}"))
        if col.sql_type != "VARCHAR":
            reading = source.decimal if col.sql_type in AMOUNT_TYPES else source.dates
            hint = HINTS.get((col.sql_type, reading), col.sql_type.lower())
            checks.append(Check(file, c, _("cannot read '{value}' as {hint}"),
                                f"SELECT t._row, {as_written} WHERE NOT t._empty_{c} AND t.{c} IS NULL",
                                fields={"hint": _(hint)}))
        if col.minimum is not None:
            checks.append(Check(file, c, _("negative amount ({value})"),
                                f"SELECT t._row, {as_written} WHERE t.{c} < {col.minimum}"))
        if col.not_future:
            checks.append(Check(file, c, _("date in the future ({value})"),
                                f"SELECT t._row, {as_written} WHERE t.{c} > CAST(? AS {col.sql_type})", [NOW]))
    if source.table is schema.FEEDBACK and "survey" in source.mapping:
        checks.append(Check(file, "survey", _("unknown survey '{value}' (expected one of {surveys})"),
                            f"SELECT _row, survey FROM {typed} WHERE survey NOT IN ?", [list(SURVEYS)],
                            {"surveys": ", ".join(SURVEYS)}))
        for survey, (low, high) in SURVEYS.items():
            checks.append(Check(file, "score", _("{value} is out of range for {survey} ({low}–{high})"),
                                f"SELECT _row, score FROM {typed} WHERE survey = ? AND score NOT BETWEEN ? AND ?",
                                [survey, low, high], {"survey": survey, "low": low, "high": high}))
    key = [k for k in source.table.primary_key if k in source.mapping]
    if key == list(source.table.primary_key):
        cols = ", ".join(key)
        checks.append(Check(file, cols, _("duplicate {value}"),
                            f"SELECT _row, concat_ws(' / ', {cols}) FROM {typed} SEMI JOIN ("
                            f"SELECT {cols} FROM {typed} WHERE {' AND '.join(f'{k} IS NOT NULL' for k in key)} "
                            f"GROUP BY ALL HAVING count(*) > 1) USING ({cols})"))
    return checks


def _cross_checks(sources: dict[str, Source]) -> list[Check]:
    """Customer ids must be known (from the customers file, else from orders); each customer gets a date."""
    known_table = "typed_customers" if "customers" in sources else "typed_orders"
    known_from = sources["customers" if "customers" in sources else "orders"].file
    checks = [
        Check(sources[name].file, "customer_id", _("unknown customer '{value}' (not in {file})"),
              f"SELECT _row, customer_id FROM typed_{name} ANTI JOIN (SELECT customer_id FROM {known_table}) "
              f"USING (customer_id) WHERE customer_id IS NOT NULL", fields={"file": known_from})
        for name in ("orders", "feedback")
        if name in sources and "customer_id" in sources[name].mapping and f"typed_{name}" != known_table
    ]
    if "customers" in sources:
        cust = sources["customers"]
        undated = "WHERE _empty_acquired_at" if "acquired_at" in cust.mapping else ""
        checks.append(Check(cust.file, "acquired_at",
                            _("customer '{value}' has no acquisition date and no order to date it"),
                            "SELECT _row, customer_id FROM typed_customers ANTI JOIN "
                            f"(SELECT customer_id FROM typed_orders) USING (customer_id) {undated}"))
    return checks


def _with_lines(problems: list[Problem], sources: dict[str, Source]) -> list[Problem]:
    """Give CSV problems their true line numbers (quoted fields may span several lines), and a pattern's problems
    the file each row comes from and its row there."""
    by_file = _by_label(sources)
    out = []
    for file in dict.fromkeys(p.file for p in problems):
        mine = [p for p in problems if p.file == file]
        source = by_file.get(file)
        if source is not None and source.parts:
            out += [_in_part(p, source) for p in mine]
            continue
        if source is None or source.kind != "csv" or not any(p.row for p in mine):
            out += mine
            continue
        lines = _csv_lines(source, {p.row for p in mine if p.row})
        out += [Problem(p.file, lines.get(p.row, p.row), p.column, p.reason, "line") if p.row else p
                for p in mine]
    return out


def _by_label(sources: dict[str, Source]) -> dict[str, Source | None]:
    """Each source by the names its problems may carry (its file's name, a pattern as given); a name two sources
    share (orders/*.parquet and customers/*.parquet are both *.parquet) maps to neither: its rows stay as counted."""
    found: dict[str, Source | None] = {}
    for source in sources.values():
        for label in {source.path.name, source.file}:
            found[label] = source if found.get(label, source) is source else None
    return found


def _in_part(problem: Problem, source: Source) -> Problem:
    """A problem of a pattern's combined row, given the file it comes from and its 1-based row within that file."""
    if not problem.row:
        return Problem(source.file, 0, problem.column, problem.reason)
    index = bisect.bisect_right([first for first, _name, _rows in source.parts], problem.row) - 1
    first, name, _rows = source.parts[index]
    return Problem(name, problem.row - first + 1, problem.column, problem.reason)


def _csv_lines(source: Source, rows: set[int]) -> dict[int, int]:
    """Map 1-based data rows to the file line where each starts."""
    _, delimiter = _csv_header(source.path)
    found, last = {}, max(rows)
    with _open_text(source.path) as f:
        reader = csv.reader(f, delimiter=delimiter)
        start = 1
        for index, _record in enumerate(reader):
            if index in rows:
                found[index] = start
            if index >= last:
                break
            start = reader.line_num + 1
    return found


def _load(con, sources: dict[str, Source]) -> None:
    """Fill the final tables from the validated staging views."""
    add_customers(con, sources)
    _insert(con, sources["orders"], "order_id", "O")
    if "feedback" in sources:
        _insert(con, sources["feedback"], "feedback_id", "F")
    if "marketing_spend" in sources:
        _insert(con, sources["marketing_spend"], None, "")


def add_customers(con, sources: dict[str, Source]) -> None:
    """Insert the customers the database does not know yet (all of them, in a full import): from the customers file,
    dated by their first order when the file gives no date, and the other customers of the orders."""
    ordered = "orders" in sources
    first_orders = ("SELECT customer_id, min(ordered_at)::DATE AS first_order FROM typed_orders GROUP BY ALL"
                    if ordered else "SELECT NULL::VARCHAR AS customer_id, NULL::DATE AS first_order")
    if "customers" in sources:
        cust = sources["customers"]
        acquired = "t.acquired_at" if "acquired_at" in cust.mapping else "NULL"
        attributes = "".join(f', t."{a}"' for a in cust.attributes)
        con.execute(
            f"INSERT INTO customers BY NAME SELECT t.customer_id, COALESCE({acquired}, f.first_order) AS acquired_at, "
            f"{_value_or_default(cust, 'acquisition_channel', 't.')}, {_value_or_default(cust, 'region', 't.')}"
            f"{attributes} FROM (SELECT * FROM typed_customers ANTI JOIN customers USING (customer_id)) t "
            f"LEFT JOIN ({first_orders}) f USING (customer_id)")
    if ordered:
        con.execute(
            "INSERT INTO customers BY NAME SELECT customer_id, first_order AS acquired_at, "
            f"'{schema.UNKNOWN}' AS acquisition_channel, '{schema.UNKNOWN}' AS region "
            f"FROM ({first_orders}) ANTI JOIN (SELECT customer_id FROM customers) USING (customer_id)")


def _value_or_default(source: Source, column: str, prefix: str = "") -> str:
    default = source.table.column(column).default
    if column not in source.mapping:
        return f"{default} AS {column}"
    return f"COALESCE({prefix}{column}, {default}) AS {column}"


def _insert(con, source: Source, generated_id: str | None, id_prefix: str, offset: int = 0) -> None:
    """Insert one validated file, generating its id (numbered after `offset`) and filling absent optional
    columns."""
    parts = []
    for col in source.table.columns:
        if col.name in source.mapping:
            parts.append(_value_or_default(source, col.name) if col.default else col.name)
        elif col.name == generated_id:
            parts.append(f"'{id_prefix}' || lpad(CAST(_row + {int(offset)} AS VARCHAR), 9, '0') AS {col.name}")
        else:
            parts.append(f"{col.default} AS {col.name}")
    # Rows stored in time order: each period's rows sit together, so DuckDB skips the rest (zone maps).
    time_column = next(c.name for c in source.table.columns if c.sql_type in ("TIMESTAMP", "DATE"))
    con.execute(f"INSERT INTO {source.table.name} BY NAME SELECT {', '.join(parts)} "
                f"FROM typed_{source.table.name} ORDER BY {time_column}, _row")
