"""What every build carries beyond the raw tables, written by the KPI layer before `store` publishes it.

`store` makes the four tables and publishes a build atomically; the derived tables are definitions of this layer
(customer value tiers, the fitted CLV models of the dashboard's default view, the default model check), so they are
added here and handed to store as its `finish` step. `build_demo` and `import_files` are store's with that step.
"""

from __future__ import annotations

import json
from datetime import date

from i18n import N_, _
from kpis.clv.bridge import store_default_parts
from kpis.clv.check import store_default_check
from kpis.clv.model import STORED_FITS, store_default_models
from kpis.database import Database
from kpis.sources import materialize
from kpis.story import store_default_headlines
from kpis.valuation import store_default_valuation
from store import append, demo, importer, progress
from store.files import open_readonly
from store.schema import TABLES, customer_attributes, read_metadata

# What finish_build stores from the build's own tables, in order, each one progress step.
STORED = (
    (N_("fitting the CLV models"), store_default_models),
    (N_("computing the equity bridges"), store_default_parts),
    (N_("checking the models"), store_default_check),
    (N_("valuing the customer base"), store_default_valuation),
    (N_("writing the headlines"), store_default_headlines),  # last: its equity sentence reads the bridges and draws
)
FINISH_STEPS = 1 + len(STORED)  # the fact tables, then STORED: the top-level steps finish_build reports


def finish_build(con, previous_fits: str | None = None) -> list[date]:
    """Derived tables of a build being made (`con`, read-write): customer_value, the fact tables (orders and answers
    with their customer's segment columns), the CLV models of the dashboard's
    default view with their parameter draws (clv_fits, clv_scores, clv_draws), its two equity bridges (clv_parts),
    the default model check (clv_checks) and valuation (clv_valuations), so that no reader fits, draws or values a
    customer base again. `previous_fits`: the previous build's fits that still hold
    (kpis.clv.model.store_default_models). The dates whose fits were taken."""
    with progress.step(_("computing customer value and the fact tables")):
        materialize(con, tuple(customer_attributes(con)))
    db = Database(con, name="build")
    try:
        with progress.step(_(STORED[0][0])):  # the models: the previous build's fits given
            models = store_default_models(db, con, previous_fits)
        for label, write in STORED[1:]:
            with progress.step(_(label)):
                write(db, con)
    finally:
        db.close()  # its cursors' transactions would keep the build from checkpointing what follows
    return sorted(end for end, copied in models.items() if copied)


def finish_append(con) -> None:
    """The derived tables of a build made from a copy of the one before (store.append): made anew from the
    appended tables, as a full import makes them, but for the fitted parameters of the dates before the append's
    first changed day (its `changed_from`), taken from the copy's: those customers are only scored again."""
    appends = read_metadata(con)["appends"]
    first = date.fromisoformat(appends[-1]["changed_from"]) if appends[-1].get("changed_from") else date.max
    present = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    columns = {c for (c,) in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                           [STORED_FITS]).fetchall()}
    previous = None
    if "log_covariance" in columns:  # the fits of the unchanged dates, in memory until the build ends
        previous = f"previous_{STORED_FITS}"
        con.execute(f"CREATE TEMP TABLE {previous} AS SELECT * FROM {STORED_FITS} WHERE observation_end < ?", [first])
    for table in sorted(present - {*TABLES, "metadata"}):  # before any reader's cursor: a table read is not dropped
        con.execute(f'DROP TABLE "{table}"')
    appends[-1]["models_reused"] = [e.isoformat() for e in finish_build(con, previous)]  # said by `cli.py builds`
    con.execute("INSERT OR REPLACE INTO metadata VALUES ('appends', ?)", [json.dumps(appends)])


def build_demo(path=None, **options) -> dict:
    """store.demo.build_demo with the derived tables (options: customers, seed, end, years)."""
    progress.expect(FINISH_STEPS)  # store.demo expects its own
    return demo.build_demo(path, finish=finish_build, **options)


def import_files(db=None, **options) -> dict:
    """store.importer.import_files with the derived tables (options: orders, customers, feedback, spend, …)."""
    progress.expect(FINISH_STEPS)
    return importer.import_files(db, finish=finish_build, **options)


def append_files(db=None, **options) -> dict:
    """store.append.append_files with the derived tables renewed (options: orders, customers, feedback, spend, …)."""
    progress.expect(FINISH_STEPS)
    append.append_files(db, finish=finish_append, **options)
    con = open_readonly(db)  # as published: finish_append added what the fits reused
    try:
        return read_metadata(con)
    finally:
        con.close()
