"""The tables KPIs read, as unbound Ibis tables compiled per engine; and the per-customer value table."""

from __future__ import annotations

import ibis

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


def base_tables(customer_attributes: tuple[str, ...] = ()) -> dict[str, ibis.Table]:
    """Unbound tables for the four declared tables (plus customer attributes) and customer_value."""
    tables = {}
    for table in TABLES.values():
        schema = {c.name: _IBIS_TYPES[c.sql_type] for c in table.columns}
        if table.name == "customers":
            schema |= {a: "string" for a in customer_attributes}
        tables[table.name] = ibis.table(schema, name=table.name)
    tables["customer_value"] = ibis.table(VALUE_SCHEMA, name="customer_value")
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


def customer_value_sql(dialect: str = "duckdb") -> str:
    """The customer_value query in an engine's SQL: a DuckDB table (materialize), a cached Spark view (kpis.spark)."""
    tables = base_tables()
    return ibis.to_sql(customer_value(tables["orders"], tables["customers"]), dialect=dialect)


def materialize(con) -> None:
    """Rebuild customer_value inside a database being built (called by every demo build and import)."""
    con.execute(f"CREATE OR REPLACE TABLE customer_value AS {customer_value_sql('duckdb')}")
