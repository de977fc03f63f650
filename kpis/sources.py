"""The tables KPIs read, as unbound Ibis tables compiled per engine; and the per-customer value table."""

from __future__ import annotations

import ibis

from kpis.periods import GRAINS
from store.schema import TABLES

_IBIS_TYPES = {"VARCHAR": "string", "DATE": "date", "TIMESTAMP": "timestamp", "SMALLINT": "int16",
               "DECIMAL(18,2)": "decimal(18, 2)"}

# Value tiers: customers ranked by lifetime revenue, cut at these shares of the customer base.
TIERS = (("top 10%", 1, 1), ("next 20%", 2, 3), ("middle 30%", 4, 6), ("bottom 40%", 7, 10))
NO_ORDERS = "no orders"

VALUE_SCHEMA = {
    "customer_id": "string", "orders": "int64", "revenue": "float64", "margin": "float64",
    "first_order": "timestamp", "last_order": "timestamp", "value_decile": "int64", "value_tier": "string",
}


# Orders and survey answers carry their customer's fixed attributes (written at build time), so that a segment is a
# filter on the rows' own columns, never a join with a million customers: FACTS[source] is the table that does.
FACTS = {"orders": "order_facts", "feedback": "feedback_facts"}
# The time column of each source a measure reads (fact tables are stored in its order: a period reads its slice).
WHEN = {"orders": "ordered_at", "acquired": "acquired_at", "spend": "month", "feedback": "answered_at",
        "activity": "start"}


# One row per customer and period (every grain) in which they bought: what most KPIs of a period read — a count of
# rows where the orders would need a count of distinct customers, a flag where they would need the next period.
ACTIVITY = "customer_periods"
ACTIVITY_COLUMNS = {"customer_id": "string", "grain": "string", "start": "date", "orders": "int64",
                    "revenue": "decimal(18, 2)", "cost": "decimal(18, 2)", "margin": "decimal(18, 2)",
                    "categories": "int64", "repeat": "boolean", "next_active": "boolean"}


def segment_columns(customer_attributes: tuple[str, ...] = (), own: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The customer columns a segment filters on that a fact table carries: all but an attribute named like one of
    the rows' `own` columns (a customer "channel" beside the order's sales channel), which segments join for."""
    return ("acquisition_channel", "region", "acquired_at", "value_tier",
            *(a for a in customer_attributes if a not in own))


def base_tables(customer_attributes: tuple[str, ...] = ()) -> dict[str, ibis.Table]:
    """Unbound tables for the four declared tables (plus customer attributes), customer_value and the fact tables."""
    tables = {}
    for table in TABLES.values():
        schema = {c.name: _IBIS_TYPES[c.sql_type] for c in table.columns}
        if table.name == "customers":
            schema |= {a: "string" for a in customer_attributes}
        tables[table.name] = ibis.table(schema, name=table.name)
    tables["customer_value"] = ibis.table(VALUE_SCHEMA, name="customer_value")
    segment = tables["customers"].schema() | {"value_tier": "string"}
    for source, name in FACTS.items():
        own = tables[source].schema()
        carried = segment_columns(customer_attributes, tuple(own))
        tables[name] = ibis.table(own | {c: segment[c] for c in carried}, name=name)
    carried = segment_columns(customer_attributes, (*ACTIVITY_COLUMNS, *tables["orders"].columns))  # order facts'
    tables[ACTIVITY] = ibis.table(ACTIVITY_COLUMNS | {c: segment[c] for c in carried}, name=ACTIVITY)
    return tables


def customer_value(orders: ibis.Table, customers: ibis.Table) -> ibis.Table:
    """One row per customer: lifetime orders, revenue, margin, value decile (1 = top) and tier."""
    per_customer = orders.group_by("customer_id").aggregate(
        orders=orders.count(),
        # exact decimal sums, then double: every engine ranks customers (deciles, tiers) on the same numbers
        revenue=orders.revenue.sum().cast("float64"),
        margin=(orders.revenue - orders.cost).sum().cast("float64"),
        first_order=orders.ordered_at.min(),
        last_order=orders.ordered_at.max(),
    )
    ranked = per_customer.mutate(
        value_decile=(ibis.ntile(10).over(order_by=[ibis.desc("revenue"), "customer_id"]) + 1).cast("int64")
    )
    tier = ibis.cases(*[(ranked.value_decile.between(lo, hi), name) for name, lo, hi in TIERS])
    ranked = ranked.mutate(value_tier=tier)
    everyone = customers.select("customer_id").left_join(ranked, "customer_id")
    return everyone.select(
        "customer_id",
        orders=everyone.orders.fill_null(0),
        revenue=everyone.revenue.fill_null(0.0),
        margin=everyone.margin,
        first_order=everyone.first_order,
        last_order=everyone.last_order,
        value_decile=everyone.value_decile,
        value_tier=everyone.value_tier.fill_null(NO_ORDERS),
    )


def facts(tables: dict[str, ibis.Table], source: str, customer_attributes: tuple[str, ...] = ()) -> ibis.Table:
    """The rows of `source` (orders or feedback) with their customer's segment columns (NULL: an anonymous answer)."""
    rows, c, v = tables[source], tables["customers"], tables["customer_value"]
    carried = segment_columns(customer_attributes, tuple(rows.columns))
    attributes = c.select("customer_id", *(name for name in carried if name != "value_tier"))
    joined = rows.left_join(attributes, "customer_id").left_join(v.select("customer_id", "value_tier"), "customer_id")
    return joined.select(*rows.columns, *carried)


def activity(tables: dict[str, ibis.Table], customer_attributes: tuple[str, ...] = ()) -> ibis.Table:
    """Each customer's activity per period of every grain (ACTIVITY_COLUMNS) with their segment columns: orders,
    revenue, cost and margin (sums over the period's orders; cost and margin over orders of known cost), distinct
    categories, `repeat` (two orders in the period or a first order before it), `next_active` (bought in the next
    period of the grain)."""
    o = tables[FACTS["orders"]]
    carried = segment_columns(customer_attributes, (*ACTIVITY_COLUMNS, *tables["orders"].columns))
    month = (o.ordered_at.year() * 12 + o.ordered_at.month() - 1).cast("int64")  # months since year 0
    money = "decimal(18, 2)"
    parts = []
    for grain, months in GRAINS.items():
        k = month - month % months  # the period's first month
        per = o.group_by(["customer_id", k.name("k")]).aggregate(
            orders=o.count(), revenue=o.revenue.sum().cast(money), cost=o.cost.sum().cast(money),
            margin=(o.revenue - o.cost).sum().cast(money), categories=o.category.nunique().cast("int64"),
            **{c: o[c].arbitrary() for c in carried})  # the customer's: the same on each of their orders
        window = {"group_by": per.customer_id, "order_by": per.k}
        before, after = per.k.lag().over(**window), per.k.lead().over(**window)
        start = ibis.date(per.k // 12, per.k % 12 + 1, 1)
        parts.append(per.select("customer_id", grain=ibis.literal(grain), start=start,
                                orders=per.orders.cast("int64"), revenue=per.revenue, cost=per.cost,
                                margin=per.margin, categories=per.categories,
                                repeat=(per.orders >= 2) | before.notnull(),  # an earlier period: an earlier order
                                next_active=(after == per.k + months).fill_null(False),
                                **{c: per[c] for c in carried}))
    return ibis.union(*parts)


def customer_value_sql(dialect: str = "duckdb") -> str:
    """The customer_value query in an engine's SQL: a DuckDB table (materialize), a cached Spark view (kpis.spark)."""
    tables = base_tables()
    return ibis.to_sql(customer_value(tables["orders"], tables["customers"]), dialect=dialect)


def facts_sql(source: str, customer_attributes: tuple[str, ...], dialect: str = "duckdb") -> str:
    """A fact table's query in an engine's SQL (rows in time order on DuckDB: a period's filter skips the rest)."""
    tables = base_tables(customer_attributes)
    expr = facts(tables, source, customer_attributes)
    return ibis.to_sql(expr.order_by(WHEN[source]) if dialect == "duckdb" else expr, dialect=dialect)


def activity_sql(customer_attributes: tuple[str, ...], dialect: str = "duckdb") -> str:
    """The activity table's query in an engine's SQL (rows by grain and period on DuckDB: a period reads its own)."""
    expr = activity(base_tables(customer_attributes), customer_attributes)
    return ibis.to_sql(expr.order_by(["grain", "start"]) if dialect == "duckdb" else expr, dialect=dialect)


def materialize(con, customer_attributes: tuple[str, ...] = ()) -> None:
    """Rebuild customer_value, the fact tables and the activity table in a database being built (every demo build
    and import)."""
    con.execute(f"CREATE OR REPLACE TABLE customer_value AS {customer_value_sql('duckdb')}")
    for source, name in FACTS.items():
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {facts_sql(source, customer_attributes)}")
    con.execute(f"CREATE OR REPLACE TABLE {ACTIVITY} AS {activity_sql(customer_attributes)}")
