"""French exports import as their English twins (`;`, decimal comma, JJ/MM/AAAA), an ambiguous file is refused with
the line and what to pass, and the command line speaks the environment's language (or --lang's)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import gettext
import io
import os
import re
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import cli
import i18n
from kpis.build import import_files as import_with_kpis
from store.files import current_file, open_readonly, versions_dir
from store.importer import ImportRejected, import_files
from store.schema import read_metadata
from tests import kpi_fixture
from tests.test_import import contents

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 1, 1)
NBSP, NNBSP = "\u00a0", "\u202f"
AMOUNTS = ("revenue", "cost", "spend")


def with_cents(orders: str) -> str:
    """The fixture's orders with cents on every other order (the fixture's amounts are whole)."""
    lines = orders.splitlines(keepends=True)
    out = [lines[0]]
    for index, line in enumerate(lines[1:], start=1):
        cells = line.rstrip("\n").split(",")
        if index % 2:
            cells[3], cells[4] = f"{cells[3]}.{index:02d}", f"{cells[4]}.5"
        out.append(",".join(cells) + "\n")
    return "".join(out)


def timed(orders: str, time: str) -> str:
    """The orders with their times as HH:MM (the fixture's), HH:MM:SS, or none."""
    if time == "HH:MM:SS":
        return re.sub(r"( \d{2}:\d{2})(?=,)", r"\1:07", orders)
    if time == "none":
        return re.sub(r" \d{2}:\d{2}(?=,)", "", orders)
    return orders


def english(time: str = "HH:MM") -> dict[str, str]:
    return {"customers": kpi_fixture.CUSTOMERS, "orders": timed(with_cents(kpi_fixture.ORDERS), time),
            "spend": kpi_fixture.SPEND.replace("2023-02,social,120", "2023-02,social,120.75")}


def french(text: str, delimiter: str = ";") -> str:
    """What a French company's export of the same table looks like: `;`, 12,50, 31/10/2026 (14:05), 10/2026."""
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(rows[0])
    for row in rows[1:]:
        cells = []
        for name, cell in zip(rows[0], row, strict=True):
            if day := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(.*)", cell):
                cell = f"{day[3]}/{day[2]}/{day[1]}{day[4]}"
            elif month := re.fullmatch(r"(\d{4})-(\d{2})", cell):
                cell = f"{month[2]}/{month[1]}"
            elif name in AMOUNTS:
                cell = cell.replace(".", ",")
            cells.append(cell)
        writer.writerow(cells)
    return out.getvalue()


def write(folder: Path, files: dict[str, str]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in files.items():
        paths[name] = folder / f"{name}.csv"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def tables(db: Path) -> dict[str, tuple[list, list]]:
    """Every table of a database: its columns and types, and its rows in order (metadata without its clock and the
    way each file was read, which say when and from what the build was made)."""
    con = open_readonly(db)
    try:
        found = {}
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
            types = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()
            query = ("SELECT * FROM metadata WHERE key NOT IN ('built_at', 'files')" if table == "metadata"
                     else f"SELECT * FROM {table}")
            found[table] = (types, sorted(map(repr, con.execute(query).fetchall())))
        return found
    finally:
        con.close()


def files_read(db: Path) -> dict[str, tuple[str, str]]:
    """How the import read each file (the metadata): (decimal mark, date format)."""
    con = open_readonly(db)
    try:
        return {name: (f["decimal"], f["date_format"]) for name, f in read_metadata(con)["files"].items()}
    finally:
        con.close()


# --- the same data, in English and as a French export --------------------------------------------------------------

@pytest.mark.parametrize("time, delimiter", [
    pytest.param("HH:MM", ";", id="semicolon, 31/10/2026 14:05"),
    pytest.param("HH:MM:SS", ";", id="semicolon, 31/10/2026 14:05:07"),
    pytest.param("none", ";", id="semicolon, 31/10/2026"),
    pytest.param("HH:MM", "\t", id="tab, 31/10/2026 14:05"),
])
def test_a_french_export_is_detected_and_gives_the_english_tables(tmp_path, time, delimiter):
    source = english(time)
    import_files(tmp_path / "en.duckdb", now=NOW, **write(tmp_path / "en", source))
    exported = {name: french(text, delimiter) for name, text in source.items()}
    assert "05/01/2023" in exported["orders"] and "100,01" in exported["orders"]  # the export is French indeed
    import_files(tmp_path / "fr.duckdb", now=NOW, **write(tmp_path / "fr", exported))
    assert tables(tmp_path / "fr.duckdb") == tables(tmp_path / "en.duckdb")
    assert files_read(tmp_path / "fr.duckdb") == {
        "customers": (".", "%d/%m/%Y"), "orders": (",", "%d/%m/%Y"), "marketing_spend": (",", "%m/%Y")}
    assert files_read(tmp_path / "en.duckdb") == dict.fromkeys(("customers", "orders", "marketing_spend"),
                                                               (".", "%Y-%m-%d"))


def test_every_table_of_the_build_is_the_same_both_ways(tmp_path):
    """With the KPI layer's derived tables too, compared in DuckDB both ways (EXCEPT ALL) with their types."""
    source = english()
    import_with_kpis(tmp_path / "en.duckdb", now=NOW, **write(tmp_path / "en", source))
    import_with_kpis(tmp_path / "fr.duckdb", now=NOW,
                     **write(tmp_path / "fr", {name: french(text) for name, text in source.items()}))
    con = duckdb.connect()
    for side in ("en", "fr"):
        con.execute(f"ATTACH '{current_file(tmp_path / f'{side}.duckdb')}' AS {side} (READ_ONLY)")
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'en' ORDER BY 1").fetchall()]
    assert {"orders", "customers", "marketing_spend", "order_facts"} <= set(names)
    assert names == [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'fr' ORDER BY 1").fetchall()]
    for table in names:
        types = "SELECT column_name, column_type FROM (DESCRIBE {}.{})"
        assert con.execute(types.format("en", table)).fetchall() == con.execute(types.format("fr", table)).fetchall()
        keep = " WHERE key NOT IN ('built_at', 'files')" if table == "metadata" else ""
        for a, b in (("en", "fr"), ("fr", "en")):
            extra = con.execute(f"SELECT * FROM {a}.{table}{keep} EXCEPT ALL SELECT * FROM {b}.{table}{keep}")
            assert extra.fetchall() == [], f"{table}: rows of {a} not in {b}"
    written = sum(Decimal(row["revenue"]) for row in csv.DictReader(io.StringIO(source["orders"])))
    assert con.execute("SELECT sum(revenue) FROM fr.orders").fetchone()[0] == written


# --- explicit options ---------------------------------------------------------------------------------------------

AMBIGUOUS = "customer_id;ordered_at;revenue\nc1;05/01/2024 10:00;12,50\nc2;06/02/2024;7\nc1;07/03/2024;1,5\n"


@pytest.mark.parametrize("options, first_order, revenue", [
    ({"date_format": "%d/%m/%Y"}, datetime(2024, 1, 5, 10), Decimal("21.00")),
    ({"date_format": "%d/%m/%Y %H:%M"}, datetime(2024, 1, 5, 10), Decimal("21.00")),  # the order is what counts
    ({"date_format": "%m/%d/%Y"}, datetime(2024, 5, 1, 10), Decimal("21.00")),
    ({"date_format": "%m/%d/%Y %H:%M:%S", "decimal": ","}, datetime(2024, 5, 1, 10), Decimal("21.00")),
])
def test_the_date_format_settles_an_ambiguous_file(tmp_path, options, first_order, revenue):
    paths = write(tmp_path, {"orders": AMBIGUOUS})
    import_files(tmp_path / "db.duckdb", now=NOW, **paths, **options)
    con = open_readonly(tmp_path / "db.duckdb")
    assert con.execute("SELECT ordered_at FROM orders WHERE revenue = 12.5").fetchone()[0] == first_order
    assert con.execute("SELECT sum(revenue) FROM orders").fetchone()[0] == revenue


@pytest.mark.parametrize("orders, options, expected", [
    # A file separated by commas keeps the point: a quoted 12,50 is read only when asked.
    ('customer_id,ordered_at,revenue\nc1,2024-01-05,"12,50"\nc2,2024-01-06,"7,25"\n', {"decimal": ","},
     Decimal("19.75")),
    ("customer_id;ordered_at;revenue\nc1;2024-01-05;12.50\nc2;2024-01-06;7\n", {}, Decimal("19.50")),
    ("customer_id;ordered_at;revenue\nc1;2024-01-05;12.50\nc2;2024-01-06;7\n", {"decimal": "."}, Decimal("19.50")),
    ("customer_id;ordered_at;revenue\nc1;31/01/2024;12,50\nc2;01/02/2024;7,25\n", {}, Decimal("19.75")),
])
def test_the_decimal_mark_given_or_detected(tmp_path, orders, options, expected):
    import_files(tmp_path / "db.duckdb", now=NOW, **write(tmp_path, {"orders": orders}), **options)
    con = open_readonly(tmp_path / "db.duckdb")
    assert con.execute("SELECT sum(revenue) FROM orders").fetchone()[0] == expected


def test_a_parquet_files_text_dates_follow_the_option(tmp_path):
    parquet = tmp_path / "orders.parquet"
    duckdb.sql("SELECT 'c1' AS customer_id, '31/10/2024 14:05' AS ordered_at, '12,50' AS revenue").write_parquet(
        str(parquet))
    with pytest.raises(ImportRejected, match=r"cannot read '31/10/2024 14:05' as a date-time \(YYYY-MM-DD"):
        import_files(tmp_path / "db.duckdb", now=NOW, orders=parquet)  # no guess made in a Parquet file
    import_files(tmp_path / "db.duckdb", now=NOW, orders=parquet, decimal=",", date_format="%d/%m/%Y")
    con = open_readonly(tmp_path / "db.duckdb")
    assert con.execute("SELECT ordered_at, revenue FROM orders").fetchone() == (datetime(2024, 10, 31, 14, 5),
                                                                               Decimal("12.50"))


# --- refusals: the file, the line, what to pass; the database untouched ---------------------------------------------

HEADER = "order_id;customer_id;ordered_at;revenue;cost;category;channel\n"
REFUSED = [
    pytest.param({"orders": HEADER + "A1;c1;05/01/2024 10:00;12,50;5;books;web\nA2;c1;06/02/2024;7;1;books;web\n"}, {},
                 ["orders.csv line 2: ordered_at: '05/01/2024 10:00' reads as day/month or as month/day",
                  "pass --date-format %d/%m/%Y or --date-format %m/%d/%Y"], id="ambiguous-dates"),
    pytest.param({"orders": HEADER + "A1;c1;31/01/2024;12,50;5;books;web\nA2;c1;01/02/2024;7.5;1;books;web\n"}, {},
                 ["orders.csv line 3: revenue: '7.5' has a decimal point, but '12,50' (line 2) has a decimal comma",
                  "pass --decimal , or --decimal ."], id="mixed-decimal-marks"),
    pytest.param({"orders": HEADER + 'A1;c1;31/01/2024;12.5;5;"two\nlines";web\nA2;c1;01/02/2024;2,5;1;books;web\n'},
                 {}, ["orders.csv line 4: revenue: '2,5' has a decimal comma, but '12.5' (line 2) has a decimal point"],
                 id="mixed-marks-after-a-quoted-line-break"),
    pytest.param({"orders": HEADER + "A1;c1;31/01/2024;12,50;5;books;web\nA2;c1;01/13/2024;7;1;books;web\n"}, {},
                 ["orders.csv line 3: ordered_at: '01/13/2024' can only be month/day/year, but '31/01/2024' (line 2)"
                  " can only be day/month/year"], id="dates-both-ways"),
    pytest.param({"orders": HEADER + "A1;c1;31/01/2024;1 234,50;5;books;web\n"}, {},
                 ["orders.csv line 2: revenue: '1 234,50' groups its thousands", "(1234,50)"], id="thousands-space"),
    pytest.param({"orders": HEADER + f"A1;c1;31/01/2024;5;1{NBSP}234,50;books;web\n"}, {},
                 [f"orders.csv line 2: cost: '1{NBSP}234,50' groups its thousands", "(1234,50)"],
                 id="thousands-no-break-space"),
    pytest.param({"orders": HEADER + f"A1;c1;31/01/2024;1{NNBSP}234;5;books;web\n"}, {},
                 ["groups its thousands", "(1234)"], id="thousands-narrow-no-break-space"),
    pytest.param({"orders": HEADER + "A1;c1;31/01/2024;1.234,50;5;books;web\n"}, {"decimal": ","},
                 ["orders.csv line 2: revenue: '1.234,50' groups its thousands", "(1234,50)"], id="thousands-dot"),
    pytest.param({"orders": HEADER + "A1;c1;31/01/2024;12.50;5;books;web\n"}, {"decimal": ","},
                 ["orders.csv line 2: revenue: cannot read '12.50' as an amount (digits with a comma as decimal "
                  "separator)"], id="point-when-comma-given"),
    pytest.param({"orders": HEADER + "A1;c1;31/01/2024;12,50;5;books;web\n"}, {"decimal": "."},
                 ["orders.csv line 2: revenue: cannot read '12,50' as an amount (digits with a dot"],
                 id="comma-when-point-given"),
    pytest.param({"orders": HEADER + "A1;c1;31/01/2024;12,50;5;books;web\n"}, {"date_format": "%m/%d/%Y"},
                 ["orders.csv line 2: ordered_at: cannot read '31/01/2024' as a date-time (MM/DD/YYYY"],
                 id="day-above-12-when-month-first-given"),
    pytest.param({"orders": HEADER + "A1;c1;31/01/24;12,50;5;books;web\n"}, {"date_format": "%d/%m/%Y"},
                 ["cannot read '31/01/24' as a date-time (DD/MM/YYYY"], id="two-digit-year"),
    pytest.param({"orders": HEADER + "A1;c1;31/01/2024;12,50;5;books;web\n"}, {"decimal": ";"},
                 ["--decimal: ';' is not a decimal mark: pass --decimal . or --decimal ,"], id="bad-decimal-option"),
    pytest.param({"orders": HEADER + "A1;c1;31/01/2024;12,50;5;books;web\n"}, {"date_format": "%d.%m.%Y"},
                 ["--date-format: '%d.%m.%Y' is not a date format the import reads"], id="bad-date-format-option"),
    pytest.param({"orders": HEADER + "A1;c1;2024-01-31;12,50;5;books;web\n"}, {"date_format": "%d/%m/%Y"},
                 ["cannot read '2024-01-31' as a date-time (DD/MM/YYYY"], id="iso-when-day-first-given"),
]


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "company.duckdb"
    import_files(path, now=NOW, **write(tmp_path / "good", english()))
    return path


@pytest.mark.parametrize("files, options, expected", REFUSED)
def test_an_ambiguous_or_wrong_file_is_refused_and_the_database_untouched(tmp_path, db, files, options, expected):
    before, build = contents(db), current_file(db)
    with pytest.raises(ImportRejected) as refused:
        import_files(db, now=NOW, **write(tmp_path / "bad", files), **options)
    message = str(refused.value)
    assert message.startswith("import refused, the database is unchanged")
    for fragment in expected:
        assert fragment in message
    assert current_file(db) == build and contents(db) == before
    assert not [p for p in versions_dir(db).iterdir() if p != build]


# --- the command line's language ----------------------------------------------------------------------------------

def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**clean, **env})


@pytest.mark.parametrize("env, expected", [
    ({"LANG": "fr_FR.UTF-8"}, ["import refusé, la base est inchangée\u00a0: 1 problème",
                               "orders.csv ligne 2\u00a0: ordered_at\u00a0: «\u00a005/01/2024 10:00\u00a0» se lit "
                               "jour/mois ou mois/jour",
                               "passez --date-format %d/%m/%Y ou --date-format %m/%d/%Y"]),
    ({"LANG": "C.UTF-8", "LANGUAGE": "fr_FR:en"}, ["import refusé, la base est inchangée"]),
    ({}, ["import refused, the database is unchanged: 1 problem",
          "orders.csv line 2: ordered_at: '05/01/2024 10:00' reads as day/month or as month/day",
          "pass --date-format %d/%m/%Y or --date-format %m/%d/%Y"]),
    ({"LANG": "fr_FR.UTF-8", "LC_ALL": "en_US.UTF-8"}, ["import refused, the database is unchanged"]),
])
def test_an_import_refusal_speaks_the_environments_language(tmp_path, env, expected):
    paths = write(tmp_path, {"orders": AMBIGUOUS})
    done = run_cli("import", "--db", str(tmp_path / "db.duckdb"), "--orders", str(paths["orders"]), **env)
    assert done.returncode == 2
    for fragment in expected:
        assert fragment in done.stderr
    assert not (tmp_path / "db.duckdb").exists()


def test_a_french_import_says_how_it_read_the_files_in_french(tmp_path):
    paths = write(tmp_path, {name: french(text) for name, text in english().items()})
    done = run_cli("import", "--db", str(tmp_path / "db.duckdb"), "--orders", str(paths["orders"]),
                   "--customers", str(paths["customers"]), "--spend", str(paths["spend"]), LANG="fr_FR.UTF-8")
    assert done.returncode == 0, done.stderr
    for line in ("orders.csv\u00a0: montants lus avec une virgule décimale",
                 "orders.csv\u00a0: dates lues en jour/mois/année (31/10/2026)",
                 "spend.csv\u00a0: mois lus en mois/année (10/2026)",
                 "clients\u00a0: 20", f"chiffre d'affaires\u00a0: 3{NNBSP}388,61"):
        assert line in done.stdout
    assert "customers.csv\u00a0: montants" not in done.stdout  # its dates only: it has no amounts


def in_process(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(args))
        except SystemExit as leaving:
            code = leaving.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def english_environment(monkeypatch):
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("command, lang, expected", [
    (["report", "--period", "2024-11", "--out", "x.pdf"], "fr", "aucune base à"),
    (["report", "--period", "2024-11", "--out", "x.pdf"], "en", "no database at"),
    (["report", "--period", "2024-11", "--out", "x.pdf", "--min-segment", "0"], "fr",
     "erreur\u00a0: --min-segment doit valoir au moins 1"),
])
def test_report_takes_lang_over_the_environment(tmp_path, english_environment, monkeypatch, command, lang,
                                                expected):
    monkeypatch.setenv("LANG", "fr_FR.UTF-8" if lang == "en" else "en_US.UTF-8")  # --lang wins
    monkeypatch.chdir(tmp_path)
    code, _out, err = in_process(*command, "--lang", lang, "--db", str(tmp_path / "none.duckdb"))
    assert code == 2 and expected in err and "usage" not in err and "utilisation" not in err
    assert i18n.language() == "en"  # the command's language ends with it
    assert argparse._ is gettext.gettext  # and argparse speaks its own again


@pytest.mark.parametrize("command", [
    ["report", "--period", "2024-11", "--out", "x.pdf"],
    ["send", "--edition", "board", "--period", "last-month", "--to", "a@acme.example"],
])
@pytest.mark.parametrize("lang, expected", [
    ("de", "argument --lang: invalid choice: 'de' (choose from 'en', 'fr')"),
    ("english", "argument --lang: invalid choice: 'english' (choose from 'en', 'fr')"),
])
def test_an_unknown_lang_is_a_usage_error(english_environment, command, lang, expected):
    code, _out, err = in_process(*command, "--lang", lang)
    assert code == 2 and "usage: cli.py" in err and expected in err


def test_send_accepts_french(tmp_path, english_environment):
    """`send --lang fr` is no usage error any more (en was the only choice): what fails next is the missing config."""
    code, _out, err = in_process("send", "--edition", "board", "--period", "last-month", "--to", "a@acme.example",
                                 "--lang", "fr", "--db", str(tmp_path / "none.duckdb"))
    assert code == 2 and "invalid choice" not in err and "choix invalide" not in err and err.startswith("erreur\u00a0:")


@pytest.mark.parametrize("args, expected", [
    (["import", "--help"], ["utilisation\u00a0: cli.py import", "afficher cette aide et quitter",
                            "séparateur décimal des fichiers", "%d/%m/%Y"]),
    (["report", "--help"], ["langue du PDF, de l'e-mail et des messages\u00a0: en ou fr"]),
])
def test_the_help_is_french_in_a_french_environment(english_environment, monkeypatch, args, expected):
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    code, out, _err = in_process(*args)
    assert code == 0
    for fragment in expected:
        assert fragment in out


@pytest.mark.parametrize("args, expected", [
    (["import"], "cli.py import\u00a0: erreur\u00a0: arguments obligatoires manquants\u00a0: --orders"),
    (["demo", "--customers", "0"], "argument --customers\u00a0: doit valoir au moins 1"),
    (["demo", "--end", "31/10/2026"], "argument --end\u00a0: «\u00a031/10/2026\u00a0» n'est pas un jour (AAAA-MM-JJ)"),
    (["import", "--orders", "o.csv", "--decimal", ";"], "argument --decimal\u00a0: choix invalide\u00a0: ';'"),
])
def test_usage_errors_are_french_in_a_french_environment(english_environment, monkeypatch, args, expected):
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    code, _out, err = in_process(*args)
    assert code == 2 and expected in err


@pytest.mark.parametrize("environment, expected", [("fr_FR.UTF-8", "par exemple 0,35"), ("en_US.UTF-8", "e.g. 0.35")])
def test_the_margin_rate_takes_a_decimal_comma(tmp_path, english_environment, monkeypatch, environment, expected):
    monkeypatch.setenv("LANG", environment)
    paths = write(tmp_path, english())
    code, _out, err = in_process("import", "--db", str(tmp_path / "db.duckdb"), "--orders", str(paths["orders"]),
                                 "--margin-rate", "1,5")  # read as 1.5: out of range, said in the language
    assert code == 2 and "--margin-rate" in err and expected in err
    assert not (tmp_path / "db.duckdb").exists()


def test_a_day_is_checked_before_the_demo_runs(english_environment):
    code, _out, err = in_process("demo", "--end", "2026-02-30")
    assert code == 2 and "'2026-02-30' is not a day (YYYY-MM-DD)" in err
