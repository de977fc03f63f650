"""The data model, declared once: DDL, import validation and docs all read these tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

SCHEMA_VERSION = 1

# Score range of each survey (DOMAIN.md point 7): NPS 0–10, CSAT 1–5, CES 1–5 (1 = low effort).
SURVEYS: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 5)}

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Column:
    """One column: its DuckDB type and what an imported file must satisfy."""

    name: str
    sql_type: str
    description: str
    required: bool = True  # must an imported file carry it?
    nullable: bool = False
    default: str | None = None  # SQL used when an imported file lacks the column
    minimum: float | None = None
    not_future: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    checks: tuple[tuple[str, str], ...] = field(default=())  # (SQL predicate, reason when false)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


_SCORE_RANGES = " OR ".join(
    f"(survey = '{s}' AND score BETWEEN {lo} AND {hi})" for s, (lo, hi) in SURVEYS.items()
)

CUSTOMERS = Table(
    "customers",
    "One row per customer. Extra columns (segment, plan…) are kept as customer attributes.",
    (
        Column("customer_id", "VARCHAR", "Customer identifier."),
        Column(
            "acquired_at", "DATE", "Date the customer was acquired (default: first order).",
            required=False, not_future=True,
        ),
        Column(
            "acquisition_channel", "VARCHAR", "Channel that brought the customer.",
            required=False, default=f"'{UNKNOWN}'",
        ),
        Column("region", "VARCHAR", "Region of the customer.", required=False, default=f"'{UNKNOWN}'"),
    ),
    ("customer_id",),
)

ORDERS = Table(
    "orders",
    "One row per order.",
    (
        Column("order_id", "VARCHAR", "Order identifier (generated when absent).", required=False),
        Column("customer_id", "VARCHAR", "Customer who placed the order."),
        Column("ordered_at", "TIMESTAMP", "When the order was placed.", not_future=True),
        Column("revenue", "DECIMAL(18,2)", "Amount paid, in the file's currency.", minimum=0),
        Column(
            "cost", "DECIMAL(18,2)", "Cost of goods and service (unknown when absent).",
            required=False, nullable=True, default="NULL", minimum=0,
        ),
        Column("category", "VARCHAR", "Product category.", required=False, default=f"'{UNKNOWN}'"),
        Column(
            "channel", "VARCHAR", "Order channel (web, app, store…).", required=False, default=f"'{UNKNOWN}'"
        ),
    ),
    ("order_id",),
)

FEEDBACK = Table(
    "feedback",
    "One row per survey answer.",
    (
        Column("feedback_id", "VARCHAR", "Answer identifier (generated when absent).", required=False),
        Column(
            "customer_id", "VARCHAR", "Customer who answered (empty: anonymous).",
            required=False, nullable=True, default="NULL",
        ),
        Column("answered_at", "TIMESTAMP", "When the answer was given.", not_future=True),
        Column("survey", "VARCHAR", "Survey: nps, csat or ces."),
        Column("score", "SMALLINT", "Score on the survey's scale."),
        Column(
            "touchpoint", "VARCHAR", "Step of the customer journey.",
            required=False, default=f"'{UNKNOWN}'",
        ),
        Column("comment", "VARCHAR", "Free-text answer.", required=False, nullable=True, default="NULL"),
    ),
    ("feedback_id",),
    (
        (
            f"survey IN ({', '.join(repr(s) for s in SURVEYS)})",
            f"unknown survey (expected one of {', '.join(SURVEYS)})",
        ),
        (
            f"survey NOT IN ({', '.join(repr(s) for s in SURVEYS)}) OR {_SCORE_RANGES}",
            "score out of range for its survey ("
            + ", ".join(f"{s} {lo}–{hi}" for s, (lo, hi) in SURVEYS.items()) + ")",
        ),
    ),
)

MARKETING_SPEND = Table(
    "marketing_spend",
    "Acquisition spend per channel and month.",
    (
        Column("month", "DATE", "First day of the month.", not_future=True),
        Column("channel", "VARCHAR", "Acquisition channel."),
        Column("spend", "DECIMAL(18,2)", "Acquisition spend in the month.", minimum=0),
    ),
    ("month", "channel"),
)

TABLES: dict[str, Table] = {t.name: t for t in (CUSTOMERS, ORDERS, FEEDBACK, MARKETING_SPEND)}


def create_tables(con, customer_attributes: tuple[str, ...] = ()) -> None:
    """Create the four tables and the metadata table; extra customer attributes are VARCHAR."""
    for table in TABLES.values():
        cols = [
            f"{c.name} {c.sql_type}{'' if c.nullable else ' NOT NULL'}"
            + (f" CHECK ({c.name} >= {c.minimum})" if c.minimum is not None else "")
            for c in table.columns
        ]
        if table is CUSTOMERS:
            cols += [f'"{a}" VARCHAR' for a in customer_attributes]
        cols += [f"CHECK ({sql})" for sql, _ in table.checks]
        cols.append(f"PRIMARY KEY ({', '.join(table.primary_key)})")
        con.execute(f"CREATE TABLE {table.name} (\n  " + ",\n  ".join(cols) + "\n)")
    con.execute("CREATE TABLE metadata (key VARCHAR PRIMARY KEY, value JSON NOT NULL)")


def write_metadata(con, *, currency: str, source: str, **extra) -> None:
    """Record schema version, currency, build time and provenance (plus any extra keys)."""
    meta = {
        "schema_version": SCHEMA_VERSION,
        "currency": currency,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        **extra,
    }
    con.executemany(
        "INSERT OR REPLACE INTO metadata VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()]
    )


def read_metadata(con) -> dict:
    """The metadata table as a dict of decoded JSON values."""
    return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM metadata").fetchall()}


def customer_attributes(con) -> list[str]:
    """Customer columns beyond the declared ones: segment, plan…"""
    cols = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE customers)").fetchall()]
    return [c for c in cols if c not in CUSTOMERS.names]
