"""A few facts about a database: what it holds and over which dates."""

from __future__ import annotations

from store.schema import read_metadata


def overview(con) -> dict:
    """Row counts, date range, total revenue, provenance and time zone of the open database (and how many months
    or files were appended to it since its import, when any)."""
    customers, orders, revenue, first, last = con.execute(
        "SELECT (SELECT count(*) FROM customers), count(*), sum(revenue), min(ordered_at), max(ordered_at) "
        "FROM orders"
    ).fetchone()
    answers = con.execute("SELECT count(*) FROM feedback").fetchone()[0]
    meta = read_metadata(con)
    return {
        "customers": customers,
        "orders": orders,
        "feedback": answers,
        "revenue": float(revenue or 0),
        "first_order": first,
        "last_order": last,
        "currency": meta.get("currency", ""),
        "source": meta.get("source", ""),
        "built_at": meta.get("built_at", ""),
        "timezone": meta.get("timezone", "UTC"),
        **({"appends": len(meta["appends"])} if meta.get("appends") else {}),
    }
