"""Import a company's own CSV or Parquet files into a new database, validated before anything is published.

Everything happens in a fresh build file (``store.files.new_build``): when any check fails,
that file is deleted and the published database stays exactly as it was.
No user text is ever pasted into SQL: file paths travel as bound parameters, and file
columns are addressed by position (``#3``), never by the names found in a header.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from store import schema
from store.files import new_build
from store.schema import SURVEYS, TABLES, Column, Table

MAX_PROBLEMS = 20
NOW = object()  # placeholder for the import's clock among a check's parameters
ATTRIBUTE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".gz": "csv", ".parquet": "parquet", ".pq": "parquet"}
TYPE_NAMES = {
    "DATE": "a date (YYYY-MM-DD)",
    "TIMESTAMP": "a date-time (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)",
    "DECIMAL(18,2)": "an amount (digits with a dot as decimal separator)",
    "SMALLINT": "a whole number",
}


@dataclass(frozen=True)
class Problem:
    file: str
    row: int  # 1-based data row; CSV line numbers are worked out when reporting
    column: str
    reason: str
    where: str = "row"

    def __str__(self) -> str:
        col = f" {self.column}:" if self.column else ""
        place = f" {self.where} {self.row}" if self.row else ""
        return f"{self.file}{place}:{col} {self.reason}"


class ImportRejected(Exception):
    """The files were refused; nothing was written."""

    def __init__(self, problems: list[Problem], total: int):
        self.problems, self.total = problems, total
        more = f"\n… and {total - len(problems):,} more problems" if total > len(problems) else ""
        super().__init__(
            f"import refused, the database is unchanged: {total:,} problem{'s' * (total != 1)}\n"
            + "\n".join(f"  {p}" for p in problems) + more
        )


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

    @property
    def raw(self) -> str:
        return f"raw_{self.table.name}"


def import_files(
    db=None, *, orders, customers=None, feedback=None, spend=None, currency: str = "EUR",
    now: datetime | None = None, max_problems: int = MAX_PROBLEMS, finish: Callable | None = None,
    margin_rate: float | None = None,
) -> dict:
    """Validate the files and publish a new database built from them; return its metadata. `finish(con)` adds
    derived tables before publishing (store.files.new_build; `kpis.build.import_files` passes the KPI layer's)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if margin_rate is not None and not 0 < margin_rate <= 1:
        raise ImportRejected([Problem("--margin-rate", 0, "", f"{margin_rate} is not a rate in (0, 1]: give the "
                                      "gross margin as a share of revenue, e.g. 0.35")], 1)
    given = {"orders": orders, "customers": customers, "feedback": feedback, "marketing_spend": spend}
    files = {name: Path(p) for name, p in given.items() if p is not None}
    problems = [p for name, path in files.items() for p in _check_file(name, path)]
    if problems:
        raise ImportRejected(problems[:max_problems], len(problems))

    with new_build(db, finish) as con:
        con.execute("SET TimeZone = 'UTC'")
        sources = {}
        for name, path in files.items():
            source = Source(TABLES[name], path, _kind(path))
            problems += _stage(con, source)
            sources[name] = source
        total = len(problems)
        if not problems:
            problems, total = _validate(con, sources, now, max_problems)
        if problems:
            shown = sorted(problems, key=lambda p: (p.file, p.row))[:max_problems]
            raise ImportRejected(_with_lines(shown, sources), total)

        attributes = tuple(sources["customers"].attributes) if "customers" in sources else ()
        schema.create_tables(con, customer_attributes=attributes)
        _load(con, sources)
        for source in sources.values():
            con.execute(f"DROP TABLE {source.raw}")
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        schema.write_metadata(
            con, currency=currency, source="import",
            files={n: {"file": s.path.name, "rows": s.rows, "ignored_columns": s.ignored}
                   for n, s in sources.items()},
            rows=counts, **({} if margin_rate is None else {"margin_rate": margin_rate}),
        )
        return schema.read_metadata(con)


def _kind(path: Path) -> str:
    return FORMATS.get(path.suffix.lower(), "")


def _check_file(name: str, path: Path) -> list[Problem]:
    if not path.is_file():
        return [Problem(str(path), 0, "", f"no such file (given for {name})")]
    if not os.access(path, os.R_OK):
        return [Problem(str(path), 0, "", "file is not readable")]
    if not _kind(path):
        return [Problem(path.name, 0, "", f"unknown format '{path.suffix}': expected .csv or .parquet")]
    return []


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
    name = source.path.name
    try:
        if source.kind == "csv":
            header, delimiter = _csv_header(source.path)
            columns = {f"c{i}": "VARCHAR" for i in range(1, len(header) + 1)}
            con.execute(
                f"CREATE TEMP TABLE {source.raw} AS SELECT * FROM read_csv(?, columns = ?, delim = ?, "
                "header = true, quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, "
                "null_padding = false)",
                [str(source.path), columns, delimiter],
            )
        else:
            header = [r[0] for r in con.execute(
                "SELECT name FROM parquet_schema(?) WHERE num_children IS NULL OR num_children = 0",
                [str(source.path)]).fetchall()]
            picks = ", ".join(f"#{i} AS c{i}" for i in range(1, len(header) + 1))
            con.execute(f"CREATE TEMP TABLE {source.raw} AS SELECT {picks} FROM read_parquet(?)",
                        [str(source.path)])
    except UnicodeDecodeError:
        return [Problem(name, 0, "", "not UTF-8 text: save the file as UTF-8 CSV")]
    except Exception as error:  # duckdb's parse errors carry the line; keep their first lines
        detail = " ".join(str(error).split("\n")[:3]).replace("Invalid Input Error: ", "")
        return [Problem(name, 0, "", f"cannot read the file: {detail}")]
    source.rows = con.execute(f"SELECT count(*) FROM {source.raw}").fetchone()[0]
    return _map_header(source, header)


def _map_header(source: Source, header: list[str]) -> list[Problem]:
    """Match header names to the declared columns (case and spaces ignored)."""
    name, problems, seen = source.path.name, [], {}
    for position, label in enumerate(header, start=1):
        key = label.strip().lower()
        if key in seen:
            problems.append(Problem(name, 0, label, "column appears twice in the header"))
        seen[key] = position
        if key in source.table.names:
            source.mapping[key] = position
        elif source.table is schema.CUSTOMERS and ATTRIBUTE_NAME.match(key):
            source.attributes[key] = position
        elif source.table is schema.CUSTOMERS:
            problems.append(Problem(name, 0, label, "attribute names must be lower-case letters, digits, _"))
        else:
            source.ignored.append(label)
    missing = [c.name for c in source.table.columns if c.required and c.name not in source.mapping]
    if missing:
        found = ", ".join(header) or "nothing"
        problems.append(
            Problem(name, 0, "", f"missing required column(s) {', '.join(missing)} (found: {found})")
        )
    return problems


def _parse(column: Column, raw: str, raw_type: str) -> str:
    """SQL turning a staged column into the declared type; NULL where it cannot."""
    if raw_type == column.sql_type:  # Parquet already typed as declared
        return raw
    text = f"NULLIF(TRIM({raw}), '')" if raw_type == "VARCHAR" else raw
    if column.sql_type == "VARCHAR":
        return f"CAST({text} AS VARCHAR)"
    if column.sql_type == "TIMESTAMP":
        return f"TRY_CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if column.name == "month":  # '2024-03' or any date within the month
        return (f"date_trunc('month', COALESCE(TRY_CAST({text} AS DATE), "
                f"TRY_CAST(CAST({text} AS VARCHAR) || '-01' AS DATE)))")
    if column.sql_type == "SMALLINT":
        return (f"CASE WHEN TRY_CAST({text} AS DOUBLE) = round(TRY_CAST({text} AS DOUBLE)) "
                f"THEN TRY_CAST(TRY_CAST({text} AS DOUBLE) AS SMALLINT) END")
    return f"TRY_CAST({text} AS {column.sql_type})"


def _typed(source: Source, raw_types: dict[str, str]) -> str:
    """One pass over the staged file: _row, each declared column typed, and whether its cell was empty."""
    parts = ["rowid + 1 AS _row"]
    for col in source.table.columns:
        if col.name in source.mapping:
            raw = f"c{source.mapping[col.name]}"
            empty = f"NULLIF(TRIM({raw}), '') IS NULL" if raw_types[raw] == "VARCHAR" else f"{raw} IS NULL"
            parts += [f"{_parse(col, raw, raw_types[raw])} AS {col.name}", f"{empty} AS _empty_{col.name}"]
    parts += [f'c{position} AS "{name}"' for name, position in source.attributes.items()]
    return f"SELECT {', '.join(parts)} FROM {source.raw}"


def _validate(con, sources: dict[str, Source], now: datetime, limit: int) -> tuple[list[Problem], int]:
    """Every row check of every file, then the checks across files: (first problems of each, total)."""
    for source in sources.values():
        raw_types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {source.raw})").fetchall())
        con.execute(f"CREATE TEMP TABLE typed_{source.table.name} AS {_typed(source, raw_types)}")
    checks = []
    for source in sources.values():
        checks += _row_checks(source)
    checks += _cross_checks(sources)
    problems, total = [], 0
    for file, column, reason, sql, params in checks:
        # Each check keeps its first `limit` rows and counts the rest, so a file of errors stays cheap.
        rows = con.execute(f"SELECT *, count(*) OVER () FROM ({sql}) ORDER BY 1 LIMIT ?",
                           [now if p is NOW else p for p in params] + [limit]).fetchall()
        total += rows[0][2] if rows else 0
        problems += [Problem(file, row, column, reason.format(value=_short(value))) for row, value, _ in rows]
    return problems, total


def _short(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _row_checks(source: Source) -> list[tuple]:
    """(file, column, reason, SQL giving (_row, value), params) for each check of one file."""
    file, typed, checks = source.path.name, f"typed_{source.table.name}", []
    for col in source.table.columns:
        if col.name not in source.mapping:
            continue
        c = col.name
        as_written = (f"CAST(r.c{source.mapping[c]} AS VARCHAR) FROM {typed} t "
                      f"JOIN {source.raw} r ON r.rowid = t._row - 1")  # the cell as written, for the message
        if not col.nullable and col.default is None and col.name != "acquired_at":  # those get filled
            checks.append((file, c, "empty value", f"SELECT _row, NULL FROM {typed} WHERE _empty_{c}", []))
        if col.sql_type != "VARCHAR":
            hint = TYPE_NAMES.get(col.sql_type, col.sql_type.lower())
            checks.append((file, c, f"cannot read '{{value}}' as {hint}",
                           f"SELECT t._row, {as_written} WHERE NOT t._empty_{c} AND t.{c} IS NULL", []))
        if col.minimum is not None:
            checks.append((file, c, "negative amount ({value})",
                           f"SELECT t._row, {as_written} WHERE t.{c} < {col.minimum}", []))
        if col.not_future:
            checks.append((file, c, "date in the future ({value})",
                           f"SELECT t._row, {as_written} WHERE t.{c} > CAST(? AS {col.sql_type})", [NOW]))
    if source.table is schema.FEEDBACK and "survey" in source.mapping:
        checks.append((file, "survey", f"unknown survey '{{value}}' (expected one of {', '.join(SURVEYS)})",
                       f"SELECT _row, survey FROM {typed} WHERE survey NOT IN ?", [list(SURVEYS)]))
        for survey, (low, high) in SURVEYS.items():
            checks.append((file, "score", f"{{value}} is out of range for {survey} ({low}–{high})",
                           f"SELECT _row, score FROM {typed} WHERE survey = ? AND score NOT BETWEEN ? AND ?",
                           [survey, low, high]))
    key = [k for k in source.table.primary_key if k in source.mapping]
    if key == list(source.table.primary_key):
        cols = ", ".join(key)
        checks.append((file, cols, "duplicate {value}",
                       f"SELECT _row, concat_ws(' / ', {cols}) FROM {typed} SEMI JOIN ("
                       f"SELECT {cols} FROM {typed} WHERE {' AND '.join(f'{k} IS NOT NULL' for k in key)} "
                       f"GROUP BY ALL HAVING count(*) > 1) USING ({cols})", []))
    return checks


def _cross_checks(sources: dict[str, Source]) -> list[tuple]:
    """Customer ids must be known (from the customers file, else from orders); each customer gets a date."""
    known_table = "typed_customers" if "customers" in sources else "typed_orders"
    known_from = sources["customers" if "customers" in sources else "orders"].path.name
    checks = [
        (sources[name].path.name, "customer_id", f"unknown customer '{{value}}' (not in {known_from})",
         f"SELECT _row, customer_id FROM typed_{name} ANTI JOIN (SELECT customer_id FROM {known_table}) "
         f"USING (customer_id) WHERE customer_id IS NOT NULL", [])
        for name in ("orders", "feedback")
        if name in sources and "customer_id" in sources[name].mapping and f"typed_{name}" != known_table
    ]
    if "customers" in sources:
        cust = sources["customers"]
        undated = "WHERE _empty_acquired_at" if "acquired_at" in cust.mapping else ""
        checks.append((cust.path.name, "acquired_at",
                       "customer '{value}' has no acquisition date and no order to date it",
                       "SELECT _row, customer_id FROM typed_customers ANTI JOIN "
                       f"(SELECT customer_id FROM typed_orders) USING (customer_id) {undated}", []))
    return checks


def _with_lines(problems: list[Problem], sources: dict[str, Source]) -> list[Problem]:
    """Give CSV problems their true line numbers (quoted fields may span several lines)."""
    by_file = {s.path.name: s for s in sources.values()}
    out = []
    for file in dict.fromkeys(p.file for p in problems):
        mine = [p for p in problems if p.file == file]
        source = by_file.get(file)
        if source is None or source.kind != "csv" or not any(p.row for p in mine):
            out += mine
            continue
        lines = _csv_lines(source, {p.row for p in mine if p.row})
        out += [Problem(p.file, lines.get(p.row, p.row), p.column, p.reason, "line") if p.row else p
                for p in mine]
    return out


def _csv_lines(source: Source, rows: set[int]) -> dict[int, int]:
    """Map 1-based data rows to the file line where each starts."""
    _, delimiter = _csv_header(source.path)
    found, last = {}, max(rows)
    with _open_text(source.path) as f:
        reader = csv.reader(f, delimiter=delimiter)
        start = 1
        for index, _ in enumerate(reader):
            if index in rows:
                found[index] = start
            if index >= last:
                break
            start = reader.line_num + 1
    return found


def _load(con, sources: dict[str, Source]) -> None:
    """Fill the final tables from the validated staging views."""
    orders = sources["orders"]
    first_orders = ("SELECT customer_id, min(ordered_at)::DATE AS first_order FROM typed_orders GROUP BY ALL")
    if "customers" in sources:
        cust = sources["customers"]
        acquired = "t.acquired_at" if "acquired_at" in cust.mapping else "NULL"
        attributes = "".join(f', t."{a}"' for a in cust.attributes)
        con.execute(
            f"INSERT INTO customers BY NAME SELECT t.customer_id, "
            f"COALESCE({acquired}, f.first_order) AS acquired_at, "
            f"{_value_or_default(cust, 'acquisition_channel', 't.')}, "
            f"{_value_or_default(cust, 'region', 't.')}{attributes} "
            f"FROM typed_customers t LEFT JOIN ({first_orders}) f USING (customer_id)"
        )
    con.execute(
        "INSERT INTO customers BY NAME SELECT customer_id, first_order AS acquired_at, "
        f"'{schema.UNKNOWN}' AS acquisition_channel, '{schema.UNKNOWN}' AS region "
        f"FROM ({first_orders}) ANTI JOIN (SELECT customer_id FROM customers) USING (customer_id)"
    )
    _insert(con, orders, "order_id", "O")
    if "feedback" in sources:
        _insert(con, sources["feedback"], "feedback_id", "F")
    if "marketing_spend" in sources:
        _insert(con, sources["marketing_spend"], None, "")


def _value_or_default(source: Source, column: str, prefix: str = "") -> str:
    default = source.table.column(column).default
    if column not in source.mapping:
        return f"{default} AS {column}"
    return f"COALESCE({prefix}{column}, {default}) AS {column}"


def _insert(con, source: Source, generated_id: str | None, id_prefix: str) -> None:
    """Insert one validated file, generating its id and filling absent optional columns."""
    parts = []
    for col in source.table.columns:
        if col.name in source.mapping:
            parts.append(_value_or_default(source, col.name) if col.default else col.name)
        elif col.name == generated_id:
            parts.append(f"'{id_prefix}' || lpad(CAST(_row AS VARCHAR), 9, '0') AS {col.name}")
        else:
            parts.append(f"{col.default} AS {col.name}")
    # Rows stored in time order: each period's rows sit together, so DuckDB skips the rest (zone maps).
    time_column = next(c.name for c in source.table.columns if c.sql_type in ("TIMESTAMP", "DATE"))
    con.execute(f"INSERT INTO {source.table.name} BY NAME SELECT {', '.join(parts)} "
                f"FROM typed_{source.table.name} ORDER BY {time_column}, _row")
