"""The README's Python examples run, as written, on a demo database: they cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import SPARK

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 2 and "kpis.connect(\"data/emptychair.duckdb\")" in BLOCKS[0]


def test_the_first_example_runs_on_the_demo(demo_base, tmp_path, monkeypatch):
    """`data/emptychair.duckdb` in a folder of its own holding a demo build (a link, as a real build is)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "emptychair.duckdb").symlink_to(demo_base(3_000, 7))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(BLOCKS[0], "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["bg"].params["r"] > 0 and len(namespace["s"]) > 1000


@SPARK[0]
@SPARK[1]
def test_the_spark_example_runs_on_a_lake(demo_base, on_engine, monkeypatch):
    spark = [b for b in BLOCKS if "lake.toml" in b]
    assert spark
    lake = on_engine(demo_base(3_000, 7), "spark")  # a Parquet lake and its engine config (tests/conftest.py)
    folder = Path(lake.name).parent  # the Parquet files; the README's config file is called lake.toml
    (folder / "lake.toml").write_text(Path(lake.name).read_text())
    monkeypatch.chdir(folder)
    namespace: dict = {"kpis": __import__("kpis")}
    exec(compile(spark[0].replace("kpis.connect(spark_session, tables={\"orders\": \"sales.orders\"})", ""),
                 "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["db"].dialect == "pyspark"
