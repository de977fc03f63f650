"""The company's time zone: times with an offset become its wall-clock time before any period is cut, times without
one are read as written, `now` is its now, the zone is refused unless a tz database name, and the build (metadata,
the PDF's header) says it."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import kpis
from i18n import use
from kpis.build import import_files as import_with_kpis
from report import collect, render
from store.files import current_file, open_readonly
from store.importer import ImportRejected, import_files
from store.schema import read_metadata
from tests import kpi_fixture
from tests.test_import import contents
from tests.test_import_fr import in_process
from tests.test_report import pages

NOW = datetime(2025, 1, 1)  # naive UTC, as the import's clock is
HEADER = "order_id,customer_id,ordered_at,revenue\n"


def orders_at(folder: Path, *times: str) -> Path:
    """An orders file with one order per time, customer c<n> for the n-th."""
    path = folder / "orders.csv"
    path.write_text(HEADER + "".join(f"o{n},c{n},{at},10\n" for n, at in enumerate(times, start=1)))
    return path


def stored(db: Path, sql: str) -> list:
    con = open_readonly(db)
    try:
        return [row[0] for row in con.execute(sql).fetchall()]
    finally:
        con.close()


# Each row: the cell as the file writes it, the company's zone, the wall-clock time stored (hand-worked).
TIMES = [
    pytest.param("2024-02-05T23:30:00+01:00", "UTC", "2024-02-05 22:30:00", id="offset-to-utc"),  # 23:30 − 1 h
    pytest.param("2024-02-05T23:30:00+01:00", "Europe/Paris", "2024-02-05 23:30:00", id="paris-winter"),  # +01:00
    pytest.param("2024-03-01T00:30:00+01:00", "Europe/Paris", "2024-03-01 00:30:00", id="paris-1st-of-march"),
    pytest.param("2024-03-01T00:30:00+01:00", "UTC", "2024-02-29 23:30:00", id="utc-leap-day"),  # 2024 is leap
    pytest.param("2024-07-01 00:30", "Europe/Paris", "2024-07-01 00:30:00", id="naive-stays"),
    pytest.param("2024-07-01T00:30:00+02:00", "Europe/Paris", "2024-07-01 00:30:00", id="paris-summer"),  # +02:00
    pytest.param("2024-07-01T00:30:00+02:00", "UTC", "2024-06-30 22:30:00", id="summer-to-utc"),  # 00:30 − 2 h
    pytest.param("2024-06-30T22:30:00Z", "Europe/Paris", "2024-07-01 00:30:00", id="zulu-to-paris"),  # + 2 h
    pytest.param("2024-02-05T23:30:00+01:00", "America/New_York", "2024-02-05 17:30:00", id="new-york"),  # 22:30 − 5 h
    pytest.param("2024-03-31 02:30", "Europe/Paris", "2024-03-31 02:30:00", id="naive-in-the-skipped-hour"),
]


@pytest.mark.parametrize("cell, zone, expected", TIMES)
def test_times_are_stored_in_the_companys_zone(tmp_path, cell, zone, expected):
    db = tmp_path / "db.duckdb"
    import_files(db, orders=orders_at(tmp_path, cell), now=NOW, timezone=zone)
    assert stored(db, "SELECT CAST(ordered_at AS VARCHAR) FROM orders") == [expected]
    # The customer is acquired on the order's day in the zone: the period the order counts in.
    assert stored(db, "SELECT CAST(acquired_at AS VARCHAR) FROM customers") == [expected[:10]]


@pytest.mark.parametrize("zone, months", [
    # Both orders at 00:30 Paris time on the 1st: in Paris they count in March and July; in UTC the first is
    # 2024-02-29 23:30 (February) and the second 2024-06-30 22:30 (June).
    ("Europe/Paris", ["2024-03", "2024-07"]),
    ("UTC", ["2024-02", "2024-06"]),
])
def test_the_month_an_order_counts_in_is_the_companys(tmp_path, zone, months):
    db = tmp_path / "db.duckdb"
    import_files(db, orders=orders_at(tmp_path, "2024-03-01T00:30:00+01:00", "2024-07-01T00:30:00+02:00"),
                 now=NOW, timezone=zone)
    assert stored(db, "SELECT strftime(ordered_at, '%Y-%m') FROM orders ORDER BY order_id") == months


@pytest.mark.parametrize("cell, zone, expected", [
    ("2024-02-29T23:30:00-01:00", "Europe/Paris", "2024-03-01"),  # 00:30 UTC on March 1st, 01:30 in Paris
    ("2024-02-29T23:30:00-01:00", "UTC", "2024-03-01"),  # 00:30 UTC
    ("2024-02-29", "Europe/Paris", "2024-02-29"),  # a plain date is the company's day
])
def test_a_date_column_takes_the_zones_day(tmp_path, cell, zone, expected):
    customers = tmp_path / "customers.csv"
    customers.write_text(f"customer_id,acquired_at\nc1,{cell}\n")
    db = tmp_path / "db.duckdb"
    import_files(db, orders=orders_at(tmp_path, "2024-03-05 10:00"), customers=customers, now=NOW, timezone=zone)
    assert stored(db, "SELECT CAST(acquired_at AS VARCHAR) FROM customers") == [expected]


# The clock reads 2024-02-29 23:45 UTC, 2024-03-01 00:45 in Paris (+01:00).
@pytest.mark.parametrize("cell, zone, future", [
    ("2024-03-01 00:40", "Europe/Paris", False),  # 5 minutes ago in Paris
    ("2024-03-01 00:50", "Europe/Paris", True),  # in 5 minutes
    ("2024-03-01 00:40", "UTC", True),  # 55 minutes ahead of 23:45 UTC
    ("2024-02-29T23:40:00Z", "Europe/Paris", False),  # 00:40 in Paris
])
def test_the_future_is_after_now_in_the_zone(tmp_path, cell, zone, future):
    now = datetime(2024, 2, 29, 23, 45)
    call = lambda: import_files(tmp_path / "db.duckdb", orders=orders_at(tmp_path, cell), now=now,  # noqa: E731
                                timezone=zone)
    if future:
        with pytest.raises(ImportRejected, match=r"orders.csv line 2: ordered_at: date in the future"):
            call()
    else:
        call()


def parquet_orders(folder: Path, aware: bool) -> Path:
    """2024-02-29 23:30 UTC as a tz-aware Parquet column, or the same wall-clock time naive."""
    at = pd.Timestamp("2024-02-29 23:30", tz="UTC" if aware else None)
    path = folder / "orders.parquet"
    pd.DataFrame({"customer_id": ["c1"], "ordered_at": [at], "revenue": [10.0]}).to_parquet(path)
    return path


@pytest.mark.parametrize("aware, zone, expected", [
    (True, "Europe/Paris", "2024-03-01 00:30:00"),  # 23:30 UTC + 1 h
    (True, "America/New_York", "2024-02-29 18:30:00"),  # 23:30 UTC − 5 h
    (True, "UTC", "2024-02-29 23:30:00"),
    (False, "Europe/Paris", "2024-02-29 23:30:00"),  # a naive TIMESTAMP is the company's time already
])
def test_parquet_times_with_a_zone_convert(tmp_path, aware, zone, expected):
    db = tmp_path / "db.duckdb"
    import_files(db, orders=parquet_orders(tmp_path, aware), now=NOW, timezone=zone)
    assert stored(db, "SELECT CAST(ordered_at AS VARCHAR) FROM orders") == [expected]


@pytest.mark.parametrize("zone", ["Europe/Pariss", "+01:00", "", "europe/paris", "UTC+1", "localtime"])
def test_an_unknown_zone_is_refused_before_anything_is_read(tmp_path, zone):
    db = tmp_path / "db.duckdb"
    import_files(db, orders=orders_at(tmp_path, "2024-02-05 10:00"), now=NOW)
    before, build = contents(db), current_file(db)
    with pytest.raises(ImportRejected) as refused:  # the missing file is not looked at: the option comes first
        import_files(db, orders=tmp_path / "nowhere.csv", now=NOW, timezone=zone)
    assert str(refused.value) == ("import refused, the database is unchanged: 1 problem\n"
                                  f"  --timezone: '{zone}' is not a time zone name (e.g. Europe/Paris, UTC)")
    assert current_file(db) == build and contents(db) == before


@pytest.mark.parametrize("options, zone", [({}, "UTC"), ({"timezone": "Europe/Paris"}, "Europe/Paris")])
def test_the_metadata_carries_the_zone(tmp_path, options, zone):
    meta = import_files(tmp_path / "db.duckdb", orders=orders_at(tmp_path, "2024-02-05 10:00"), now=NOW, **options)
    assert meta["timezone"] == zone


def test_the_command_line_imports_in_the_zone(tmp_path, monkeypatch):
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "db.duckdb"
    orders = orders_at(tmp_path, "2024-03-01T00:30:00+01:00")
    code, _out, err = in_process("import", "--db", str(db), "--orders", str(orders), "--timezone", "Europe/Paris")
    assert code == 0, err
    assert stored(db, "SELECT CAST(ordered_at AS VARCHAR) FROM orders") == ["2024-03-01 00:30:00"]
    con = open_readonly(db)
    assert read_metadata(con)["timezone"] == "Europe/Paris"
    con.close()
    code, _out, err = in_process("import", "--db", str(db), "--orders", str(orders), "--timezone", "Paris")
    assert code == 2 and "--timezone: 'Paris' is not a time zone name" in err


# --- the PDF says the zone --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def paris(tmp_path_factory):
    """The known fixture imported as a company in Paris."""
    folder = tmp_path_factory.mktemp("paris")
    files = {}
    for name, text in (("customers", kpi_fixture.CUSTOMERS), ("orders", kpi_fixture.ORDERS),
                       ("spend", kpi_fixture.SPEND)):
        files[name] = folder / f"{name}.csv"
        files[name].write_text(text)
    import_with_kpis(folder / "paris.duckdb", now=NOW, timezone="Europe/Paris", **files)
    return folder / "paris.duckdb"


@pytest.mark.parametrize("edition, lang, words", [
    ("board", "en", "Times in Europe/Paris"),
    ("partner", "fr", "Fuseau horaire : Europe/Paris"),  # pages() reads the no-break space as a space
])
def test_the_pdf_header_names_the_zone(paris, edition, lang, words):
    with use(lang):
        snap = collect(kpis.connect(paris), "2024-Q4", edition=edition)
        first = pages(render(snap))[0]
    assert words in first


def test_a_build_without_a_zone_reads_as_utc(paris, tmp_path):
    copy = tmp_path / "old.duckdb"
    shutil.copy(current_file(paris), copy)
    con = duckdb.connect(str(copy))
    con.execute("DELETE FROM metadata WHERE key = 'timezone'")  # a build made before the zone was recorded
    con.close()
    assert collect(kpis.connect(copy), "2024-Q4").timezone == "UTC"
