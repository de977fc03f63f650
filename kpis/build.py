"""What every build carries beyond the raw tables, written by the KPI layer before `store` publishes it.

`store` makes the four tables and publishes a build atomically; the derived tables are definitions of this layer
(customer value tiers, the fitted CLV models of the dashboard's default view, the default model check), so they are
added here and handed to store as its `finish` step. `build_demo` and `import_files` are store's with that step.
"""

from __future__ import annotations

from i18n import N_, _
from kpis.clv.bridge import store_default_parts
from kpis.clv.check import store_default_check
from kpis.clv.model import store_default_models
from kpis.database import Database
from kpis.sources import materialize
from kpis.story import store_default_headlines
from kpis.valuation import store_default_valuation
from store import demo, importer, progress
from store.schema import customer_attributes

# What finish_build stores from the build's own tables, in order, each one progress step.
STORED = (
    (N_("fitting the CLV models"), store_default_models),
    (N_("computing the equity bridges"), store_default_parts),
    (N_("checking the models"), store_default_check),
    (N_("valuing the customer base"), store_default_valuation),
    (N_("writing the headlines"), store_default_headlines),  # last: its equity sentence reads the bridges and draws
)
FINISH_STEPS = 1 + len(STORED)  # the fact tables, then STORED: the top-level steps finish_build reports


def finish_build(con) -> None:
    """Derived tables of a build being made (`con`, read-write): customer_value, the fact tables (orders and answers
    with their customer's segment columns), the CLV models of the dashboard's
    default view with their parameter draws (clv_fits, clv_scores, clv_draws), its two equity bridges (clv_parts),
    the default model check (clv_checks) and valuation (clv_valuations), so that no reader fits, draws or values a
    customer base again."""
    with progress.step(_("computing customer value and the fact tables")):
        materialize(con, tuple(customer_attributes(con)))
    db = Database(con, name="build")
    for label, write in STORED:
        with progress.step(_(label)):
            write(db, con)


def build_demo(path=None, **options) -> dict:
    """store.demo.build_demo with the derived tables (options: customers, seed, end, years)."""
    progress.expect(FINISH_STEPS)  # store.demo expects its own
    return demo.build_demo(path, finish=finish_build, **options)


def import_files(db=None, **options) -> dict:
    """store.importer.import_files with the derived tables (options: orders, customers, feedback, spend, …)."""
    progress.expect(FINISH_STEPS)
    return importer.import_files(db, finish=finish_build, **options)
