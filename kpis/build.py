"""What every build carries beyond the raw tables, written by the KPI layer before `store` publishes it.

`store` makes the four tables and publishes a build atomically; the derived tables are definitions of this layer
(customer value tiers, the fitted CLV models of the dashboard's default view, the default model check), so they are
added here and handed to store as its `finish` step. `build_demo` and `import_files` are store's with that step.
"""

from __future__ import annotations

from kpis.clv.bridge import store_default_parts
from kpis.clv.check import store_default_check
from kpis.clv.model import store_default_models
from kpis.database import Database
from kpis.sources import materialize
from kpis.story import store_default_headlines
from kpis.valuation import store_default_valuation
from store import append, demo, importer
from store.schema import TABLES, customer_attributes


def finish_build(con) -> None:
    """Derived tables of a build being made (`con`, read-write): customer_value, the fact tables (orders and answers
    with their customer's segment columns), the CLV models of the dashboard's
    default view with their parameter draws (clv_fits, clv_scores, clv_draws), its two equity bridges (clv_parts),
    the default model check (clv_checks) and valuation (clv_valuations), so that no reader fits, draws or values a
    customer base again."""
    materialize(con, tuple(customer_attributes(con)))
    db = Database(con, name="build")
    store_default_models(db, con)
    store_default_parts(db, con)
    store_default_check(db, con)
    store_default_valuation(db, con)
    store_default_headlines(db, con)  # last: its equity sentence reads the stored bridges and draws


def build_demo(path=None, **options) -> dict:
    """store.demo.build_demo with the derived tables (options: customers, seed, end, years)."""
    return demo.build_demo(path, finish=finish_build, **options)


def import_files(db=None, **options) -> dict:
    """store.importer.import_files with the derived tables (options: orders, customers, feedback, spend, …)."""
    return importer.import_files(db, finish=finish_build, **options)


def finish_append(con) -> None:
    """The derived tables of a build made from a copy of the one before (store.append): the copy's are dropped,
    then made anew from the appended tables, as a full import makes them."""
    declared = {*TABLES, "metadata"}
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall():
        if table not in declared:
            con.execute(f'DROP TABLE "{table}"')
    finish_build(con)


def append_files(db=None, **options) -> dict:
    """store.append.append_files with the derived tables renewed (options: orders, customers, feedback, spend, …)."""
    return append.append_files(db, finish=finish_append, **options)
