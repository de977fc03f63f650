"""A lake's exports: a glob of Parquet files imports as one table, equal to the same rows in one file; a problem
names the file and its own row; a glob that matches nothing, or CSV files, or files typing a column otherwise, is
refused before anything is written."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from store.importer import ImportRejected, Source, _locate_parts, import_files
from store.schema import TABLES
from tests import kpi_fixture
from tests.test_import import NOW, contents

# The fixture's 38 orders in three files of 13, 12 and 13 rows: order 15 is the second row of the second file.
SPLITS = ((0, 13), (13, 25), (25, 38))
LAYOUTS = {  # how a lake names its files, and the pattern that reads them
    "flat": (("orders-2023-a.parquet", "orders-2023-b.parquet", "orders-2024.parquet"), "*.parquet"),
    "nested": (("2023/a.parquet", "2023/b.parquet", "2024/a.parquet"), "**/*.parquet"),
}


def orders_frame() -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(kpi_fixture.ORDERS), parse_dates=["ordered_at"])
    return frame.astype({"revenue": "float64", "cost": "float64"})


def write_lake(folder: Path, layout: str = "flat", change=None) -> Path:
    """The orders as the layout's three Parquet files under folder/orders; `change(index, part)` may alter a part.
    Returns the pattern."""
    names, pattern = LAYOUTS[layout]
    frame = orders_frame()
    for index, ((start, end), name) in enumerate(zip(SPLITS, names, strict=True)):
        part = frame.iloc[start:end].copy()
        part = change(index, part) if change else part
        (folder / "orders" / name).parent.mkdir(parents=True, exist_ok=True)
        part.to_parquet(folder / "orders" / name, index=False)
    return folder / "orders" / pattern


def customers_csv(folder: Path) -> Path:
    path = folder / "customers.csv"
    path.write_text(kpi_fixture.CUSTOMERS)
    return path


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_glob_imports_as_the_same_rows_in_one_file(tmp_path, layout):
    pattern = write_lake(tmp_path, layout)
    whole = tmp_path / "orders.parquet"
    orders_frame().to_parquet(whole, index=False)
    customers = customers_csv(tmp_path)
    meta = import_files(tmp_path / "lake.duckdb", orders=pattern, customers=customers, now=NOW)
    import_files(tmp_path / "one.duckdb", orders=whole, customers=customers, now=NOW)
    lake, one = contents(tmp_path / "lake.duckdb"), contents(tmp_path / "one.duckdb")
    lake.pop("metadata"), one.pop("metadata")
    assert lake == one and len(lake["orders"]) == 38
    assert meta["files"]["orders"]["file"] == str(pattern)
    assert meta["files"]["orders"]["matched"] == 3 and meta["files"]["orders"]["rows"] == 38
    assert "matched" not in meta["files"]["customers"]  # a file, not a pattern


def test_two_globs_of_the_same_shape_import_side_by_side(tmp_path):
    """orders/*.parquet and customers/*.parquet: both are *.parquet by their last part, and both read."""
    pattern = write_lake(tmp_path)
    customers = pd.read_csv(io.StringIO(kpi_fixture.CUSTOMERS), parse_dates=["acquired_at"])
    (tmp_path / "customers").mkdir()
    customers.iloc[:10].to_parquet(tmp_path / "customers" / "a.parquet", index=False)
    customers.iloc[10:].to_parquet(tmp_path / "customers" / "b.parquet", index=False)
    meta = import_files(tmp_path / "db.duckdb", orders=pattern, customers=tmp_path / "customers" / "*.parquet",
                        now=NOW)
    assert meta["rows"]["customers"] == 20 and meta["rows"]["orders"] == 38
    assert meta["files"]["customers"]["matched"] == 2


def negative_second_row_of_second_file(index: int, part: pd.DataFrame) -> pd.DataFrame:
    if index == 1:
        part.iloc[1, part.columns.get_loc("revenue")] = -5.0
    return part


@pytest.mark.parametrize("layout, file", [("flat", "orders-2023-b.parquet"), ("nested", "2023/b.parquet")])
def test_a_bad_row_names_its_file_and_its_row_there(tmp_path, layout, file):
    pattern = write_lake(tmp_path, layout, negative_second_row_of_second_file)
    db = tmp_path / "db.duckdb"
    with pytest.raises(ImportRejected) as refused:
        import_files(db, orders=pattern, customers=customers_csv(tmp_path), now=NOW)
    # Row 2 of the second file: the 15th of the 38 (13 rows in the first file + 2).
    assert f"  {file} row 2: revenue: negative amount (-5.0)" in str(refused.value).splitlines()
    assert "row 15" not in str(refused.value)
    assert not db.exists()


def text_revenue(index: int, part: pd.DataFrame) -> pd.DataFrame:
    return part.astype({"revenue": "str"}) if index == 1 else part


def write_mixed(folder: Path) -> Path:
    (folder / "mixed").mkdir()
    orders_frame().to_parquet(folder / "mixed" / "a.parquet", index=False)
    (folder / "mixed" / "b.csv").write_text(kpi_fixture.ORDERS)
    return folder / "mixed" / "*"


def write_csvs(folder: Path) -> Path:
    (folder / "csv").mkdir()
    for name in ("a.csv", "b.csv"):
        (folder / "csv" / name).write_text(kpi_fixture.ORDERS)
    return folder / "csv" / "*.csv"


# Each row: how to write the lake (returns the pattern), then what the refusal says.
REFUSED = [
    pytest.param(lambda folder: folder / "none" / "*.parquet",
                 ["none/*.parquet: no file matches this pattern (given for orders)"], id="no-match"),
    pytest.param(write_mixed, ["mixed/*: matches 1 file that is not Parquet (b.csv): a pattern reads Parquet files "
                               "only, give a CSV file by its own name"], id="csv-among-parquet"),
    pytest.param(write_csvs, ["csv/*.csv: matches 2 files that are not Parquet (a.csv…)"], id="csv-glob"),
    pytest.param(lambda folder: write_lake(folder, change=text_revenue),
                 ["orders-2023-b.parquet: revenue: typed VARCHAR here but DOUBLE in orders-2023-a.parquet: every "
                  "file of "], id="column-typed-otherwise"),
]


@pytest.mark.parametrize("lake, expected", REFUSED)
def test_a_glob_is_refused_when(tmp_path, lake, expected):
    db = tmp_path / "db.duckdb"
    with pytest.raises(ImportRejected) as refused:
        import_files(db, orders=lake(tmp_path), now=NOW)
    for fragment in expected:
        assert fragment in str(refused.value)
    assert not db.exists()


def test_rows_read_out_of_file_order_are_put_in_it():
    """Should DuckDB hand a glob's rows over interleaved, they are sorted by file then row before any is counted
    (files in another order but each in one run would be mapped as they are)."""
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE raw_orders AS SELECT * FROM (VALUES "
                "('y', 'lake/a.parquet', 0), ('x', 'lake/b.parquet', 0), ('z', 'lake/a.parquet', 1)) "
                "t(c1, _file, _file_row)")
    source = Source(TABLES["orders"], Path("lake/*.parquet"), "parquet")
    _locate_parts(con, source, ["lake/a.parquet", "lake/b.parquet"])
    # a.parquet's 2 rows first (combined rows 1-2), then b.parquet's one (row 3).
    assert source.parts == [(1, "a.parquet", 2), (3, "b.parquet", 1)]
    assert con.execute("SELECT c1 FROM raw_orders ORDER BY rowid").fetchall() == [("y",), ("z",), ("x",)]


def test_two_globs_of_the_same_last_part_still_name_the_file_of_a_bad_row(tmp_path):
    """orders/*.parquet beside customers/*.parquet: the problem names orders-2023-b.parquet and its own row 2, as
    with one glob (the checks label a glob's rows by the pattern as given, not by its last part)."""
    pattern = write_lake(tmp_path, "flat", negative_second_row_of_second_file)
    customers = pd.read_csv(io.StringIO(kpi_fixture.CUSTOMERS), parse_dates=["acquired_at"])
    (tmp_path / "customers").mkdir()
    customers.iloc[:10].to_parquet(tmp_path / "customers" / "a.parquet", index=False)
    customers.iloc[10:].to_parquet(tmp_path / "customers" / "b.parquet", index=False)
    with pytest.raises(ImportRejected) as refused:
        import_files(tmp_path / "db.duckdb", orders=pattern, customers=tmp_path / "customers" / "*.parquet", now=NOW)
    assert "orders-2023-b.parquet row 2: revenue: negative amount (-5.0)" in str(refused.value)
