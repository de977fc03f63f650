"""Importing a company's files: happy paths in CSV and Parquet, and every class of bad input refused."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from kpis.build import import_files
from store.files import KEEP_VERSIONS, current_file, open_readonly, versions_dir
from store.importer import ImportRejected

NOW = datetime(2025, 1, 1)  # the import's clock: anything later is "in the future"

GOOD = {
    "orders": (
        "order_id,customer_id,ordered_at,revenue,cost,category,channel\n"
        "A1,c1,2024-01-05 10:00:00,100.00,60.00,books,web\n"
        "A2,c1,2024-02-05,50.5,20,books,app\n"
        "A3,c2,2024-02-07,20,5,home,web\n"
        "A4,c3,2024-03-01T08:30:00,35.10,,fashion,store\n"
    ),
    "customers": (
        "customer_id,acquired_at,acquisition_channel,region,segment\n"
        "c1,2024-01-05,search,FR,consumer\n"
        "c2,,social,BE,business\n"
        "c3,2024-02-20,,FR,consumer\n"
    ),
    "feedback": (
        "customer_id,answered_at,survey,score,touchpoint,comment\n"
        'c1,2024-01-10,nps,9,relationship,"Super, merci\nsur deux lignes"\n'
        ",2024-01-11,csat,4,delivery,\n"
        "c2,2024-02-10,ces,2,returns,ok\n"
    ),
    "spend": "month;channel;spend\n2024-01;search;1000\n2024-02;social;500.50\n",
}


def write_files(folder: Path, **overrides: str) -> dict[str, Path]:
    """The good files, with some replaced; a value of None drops that file."""
    paths = {}
    for name, text in {**GOOD, **overrides}.items():
        if text is not None:
            paths[name] = folder / f"{name}.csv"
            paths[name].write_text(text, encoding="utf-8")
    return paths


def contents(db: Path) -> dict[str, list]:
    """Every row of every table, to compare a database before and after."""
    con = open_readonly(db)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}
    finally:
        con.close()


@pytest.fixture
def db(tmp_path) -> Path:
    """A database already imported from the good files."""
    path, folder = tmp_path / "company.duckdb", tmp_path / "good"
    folder.mkdir()
    import_files(path, now=NOW, **write_files(folder))
    return path


def test_csv_import_loads_every_table(db):
    con = open_readonly(db)
    customers = dict(con.execute("SELECT customer_id, acquired_at::VARCHAR FROM customers").fetchall())
    # c2 has no acquisition date: it is acquired at its first order (2024-02-07).
    assert customers == {"c1": "2024-01-05", "c2": "2024-02-07", "c3": "2024-02-20"}
    assert con.execute("SELECT acquisition_channel FROM customers WHERE customer_id = 'c3'").fetchone() == (
        "unknown",
    )
    assert con.execute("SELECT segment FROM customers ORDER BY customer_id").fetchall() == [
        ("consumer",), ("business",), ("consumer",),
    ]
    # 100.00 + 50.50 + 20.00 + 35.10 = 205.60; the empty cost of A4 stays unknown (NULL), not 0.
    assert float(con.execute("SELECT sum(revenue) FROM orders").fetchone()[0]) == pytest.approx(205.60)
    assert con.execute("SELECT cost FROM orders WHERE order_id = 'A4'").fetchone() == (None,)
    feedback = con.execute("SELECT feedback_id, customer_id, survey, score, comment FROM feedback "
                           "ORDER BY feedback_id").fetchall()
    assert feedback == [
        ("F000000001", "c1", "nps", 9, "Super, merci\nsur deux lignes"),
        ("F000000002", None, "csat", 4, None),
        ("F000000003", "c2", "ces", 2, "ok"),
    ]
    spend = con.execute("SELECT month::VARCHAR, channel, spend::DOUBLE FROM marketing_spend ORDER BY 1").fetchall()
    assert spend == [("2024-01-01", "search", 1000.0), ("2024-02-01", "social", 500.5)]
    meta = dict(con.execute("SELECT key, value FROM metadata").fetchall())
    assert meta["source"] == '"import"' and meta["currency"] == '"EUR"'


def test_orders_alone_make_customers_and_ids(tmp_path):
    orders = "customer_id,ordered_at,revenue\nx,2024-05-02,10\nx,2024-05-01,5\ny,2024-06-01,7\n"
    paths = write_files(tmp_path, orders=orders, customers=None, feedback=None, spend=None)
    import_files(tmp_path / "db.duckdb", now=NOW, **paths)
    con = open_readonly(tmp_path / "db.duckdb")
    assert con.execute("SELECT customer_id, acquired_at::VARCHAR, region FROM customers ORDER BY 1").fetchall() == [
        ("x", "2024-05-01", "unknown"), ("y", "2024-06-01", "unknown"),
    ]
    assert con.execute("SELECT order_id FROM orders ORDER BY 1").fetchall() == [
        ("O000000001",), ("O000000002",), ("O000000003",),
    ]


def test_parquet_import_equals_csv_import(tmp_path, db):
    typed = {
        "orders": "SELECT order_id, customer_id, CAST(ordered_at AS TIMESTAMP) AS ordered_at, "
                  "CAST(revenue AS DOUBLE) AS revenue, CAST(cost AS DOUBLE) AS cost, category, channel",
        "customers": "SELECT customer_id, CAST(acquired_at AS DATE) AS acquired_at, acquisition_channel, "
                     "region, segment",
        "feedback": "SELECT customer_id, CAST(answered_at AS TIMESTAMP) AS answered_at, survey, "
                    "CAST(score AS INTEGER) AS score, touchpoint, comment",
        "spend": "SELECT month, channel, spend",
    }
    csvs = write_files(tmp_path)
    con = duckdb.connect()
    parquet = {}
    for name, select in typed.items():
        parquet[name] = tmp_path / f"{name}.parquet"
        con.sql(f"{select} FROM read_csv(?, all_varchar = true)", params=[str(csvs[name])]).write_parquet(
            str(parquet[name])
        )
    import_files(tmp_path / "from_parquet.duckdb", now=NOW, **parquet)
    before, after = contents(db), contents(tmp_path / "from_parquet.duckdb")
    before.pop("metadata"), after.pop("metadata")
    assert after == before


# Each row: files to replace, then what the message must say (file, place, reason).
BAD_INPUTS = [
    pytest.param({"orders": "order_id,customer_id,ordered_at\nA1,c1,2024-01-05\n"},
                 ["orders.csv", "missing required column(s) revenue"], id="missing-column"),
    pytest.param({"orders": GOOD["orders"].replace("2024-02-05", "05/02/2024")},
                 ["orders.csv line 3", "ordered_at", "cannot read '05/02/2024' as a date-time"], id="bad-date"),
    pytest.param({"orders": GOOD["orders"].replace("50.5,", '"50,5",')},
                 ["orders.csv line 3", "revenue", "cannot read '50,5' as an amount"], id="bad-number"),
    pytest.param({"orders": GOOD["orders"].replace("20,5,home", "-20,5,home")},
                 ["orders.csv line 4", "revenue", "negative amount (-20)"], id="negative-revenue"),
    pytest.param({"orders": GOOD["orders"].replace("100.00,60.00", "100.00,-1")},
                 ["orders.csv line 2", "cost", "negative amount (-1)"], id="negative-cost"),
    pytest.param({"orders": GOOD["orders"].replace("A3,", "A1,")},
                 ["orders.csv line 2", "orders.csv line 4", "duplicate A1"], id="duplicate-order"),
    pytest.param({"customers": GOOD["customers"] + "c1,2024-01-06,search,FR,consumer\n"},
                 ["customers.csv line 5", "duplicate c1"], id="duplicate-customer"),
    pytest.param({"orders": GOOD["orders"] + "A5,zz,2024-03-02,10,1,books,web\n"},
                 ["orders.csv line 6", "unknown customer 'zz' (not in customers.csv)"], id="unknown-customer"),
    pytest.param({"feedback": GOOD["feedback"] + "ghost,2024-02-11,csat,5,delivery,\n"},
                 ["feedback.csv line 6", "unknown customer 'ghost'"], id="unknown-customer-feedback"),
    pytest.param({"feedback": GOOD["feedback"].replace("nps,9", "nps,11")},
                 ["feedback.csv line 2: score: 11 is out of range for nps (0–10)"], id="nps-out-of-range"),
    pytest.param({"feedback": GOOD["feedback"].replace("csat,4", "csat,0")},
                 ["feedback.csv line 4: score: 0 is out of range for csat (1–5)"], id="csat-out-of-range"),
    pytest.param({"feedback": GOOD["feedback"].replace("ces,2", "ces,6")},
                 ["feedback.csv line 5: score: 6 is out of range for ces (1–5)"], id="ces-out-of-range"),
    pytest.param({"feedback": GOOD["feedback"].replace("nps,9", "nps,7.5")},
                 ["feedback.csv line 2", "cannot read '7.5' as a whole number"], id="fractional-score"),
    pytest.param({"feedback": GOOD["feedback"].replace("ces,2", "effort,2")},
                 ["feedback.csv line 5: survey: unknown survey 'effort' (expected one of nps, csat, ces)"],
                 id="unknown-survey"),
    pytest.param({"orders": GOOD["orders"].replace("2024-02-07", "2031-02-07")},
                 ["orders.csv line 4", "ordered_at", "date in the future (2031-02-07)"], id="future-date"),
    pytest.param({"spend": GOOD["spend"].replace("2024-02", "2025-06")},
                 ["spend.csv line 3", "month", "date in the future"], id="future-month"),
    pytest.param({"orders": GOOD["orders"] + "A9,c1,2024-03-03,1,1,books,web,extra\n"},
                 ["orders.csv", "cannot read the file", "Line: 6"], id="malformed-csv"),
    pytest.param({"orders": GOOD["orders"].replace("A2,c1", "A2,")},
                 ["orders.csv line 3", "customer_id: empty value"], id="empty-required"),
]


@pytest.mark.parametrize("overrides, expected", BAD_INPUTS)
def test_bad_input_is_refused_and_database_untouched(tmp_path, db, overrides, expected):
    before, build = contents(db), current_file(db)
    folder = tmp_path / "bad"
    folder.mkdir()
    with pytest.raises(ImportRejected) as refused:
        import_files(db, now=NOW, **write_files(folder, **overrides))
    message = str(refused.value)
    assert message.startswith("import refused, the database is unchanged")
    for fragment in expected:
        assert fragment in message
    assert current_file(db) == build and contents(db) == before
    assert not [p for p in versions_dir(db).iterdir() if p != build]  # no half-built file left behind


def test_unknown_format_and_missing_file_are_refused(tmp_path, db):
    before = contents(db)
    sheet = tmp_path / "orders.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    with pytest.raises(ImportRejected, match=r"orders.xlsx: unknown format '.xlsx'"):
        import_files(db, orders=sheet)
    with pytest.raises(ImportRejected, match=r"nowhere.csv: no such file"):
        import_files(db, orders=tmp_path / "nowhere.csv")
    assert contents(db) == before


def test_non_utf8_file_is_refused(tmp_path, db):
    path = tmp_path / "orders.csv"
    path.write_bytes(GOOD["orders"].replace("books", "livres café").encode("latin-1"))
    with pytest.raises(ImportRejected, match="UTF-8"):
        import_files(db, orders=path)


def test_many_problems_show_the_first_and_a_count(tmp_path, db):
    rows = "".join(f"B{i},c1,2024-01-05,-{i},1,books,web\n" for i in range(1, 31))
    header = "order_id,customer_id,ordered_at,revenue,cost,category,channel\n"
    paths = write_files(tmp_path, orders=header + rows, customers=None, feedback=None, spend=None)
    with pytest.raises(ImportRejected) as refused:
        import_files(db, now=NOW, **paths)
    # 30 negative revenues; the first 20 are listed (lines 2..21), then "… and 10 more".
    assert refused.value.total == 30 and len(refused.value.problems) == 20
    assert "orders.csv line 21" in str(refused.value) and "orders.csv line 22" not in str(refused.value)
    assert "and 10 more problems" in str(refused.value)


def test_import_beside_an_open_reader(tmp_path, db):
    """A dashboard holding the old build keeps answering; a new connection sees the new data."""
    reader = open_readonly(db)
    assert reader.execute("SELECT count(*) FROM orders").fetchone() == (4,)
    extra = GOOD["orders"] + "A5,c2,2024-03-05,12,3,home,web\n"
    folder = tmp_path / "next"
    folder.mkdir()
    import_files(db, now=NOW, **write_files(folder, orders=extra))
    assert reader.execute("SELECT count(*) FROM orders").fetchone() == (4,)  # old handle, old data
    fresh = open_readonly(db)
    assert fresh.execute("SELECT count(*) FROM orders").fetchone() == (5,)
    reader.close(), fresh.close()


def test_old_builds_are_pruned(tmp_path, db):
    for round_ in range(3):
        folder = tmp_path / f"round{round_}"
        folder.mkdir()
        import_files(db, now=NOW, **write_files(folder))
    builds = sorted(versions_dir(db).glob("*.duckdb"))
    assert len(builds) == KEEP_VERSIONS == 3 and current_file(db) in builds  # 4 made: the fixture's and 3 rounds
    assert os.path.islink(db)
