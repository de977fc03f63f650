"""Append new data to the current build: last month's orders, answers and spend, new and changed customers.

The files are read and checked exactly as a full import reads them (store.importer.read_checked), and also against
the build they join: an order, answer or spend month × channel already present is refused (or, with
`replace_overlap`, replaces the row it overlaps), a customer must be known (in the build, in the appended customers
file, or, for a build whose customers come from its orders, an appended order). New customers are added; a known
customer's changed attributes are updated and counted.

The new build starts as a copy of the current one, made under the import lock (store.files.new_build with
`start_from_current`): nothing another import publishes meanwhile is lost, and a refused or killed append leaves the
current build as it was. Appending A then B gives the tables of a full import of A ∪ B (tests/test_append.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial

from i18n import _
from store import progress, schema
from store.files import new_build
from store.importer import (
    MAX_PROBLEMS,
    Check,
    ImportRejected,
    Problem,
    Source,
    _check_options,
    _insert,
    _value_or_default,
    _zone_time,
    add_customers,
    check_paths,
    read_checked,
)
from store.schema import CUSTOMERS, TABLES

# Table -> the key an appended row must not share with a row of the build (unless it replaces it).
KEYS = {"orders": ("order_id",), "feedback": ("feedback_id",), "marketing_spend": ("month", "channel")}
GENERATED = {"orders": ("order_id", "O"), "feedback": ("feedback_id", "F")}  # ids made for a file without them
CHANGES = "reordered_customers"  # temp table: the customers whose orders the append added or replaced


def append_files(
    db=None, *, orders=None, customers=None, feedback=None, spend=None, replace_overlap: bool = False,
    currency: str | None = None, margin_rate: float | None = None, decimal: str | None = None,
    date_format: str | None = None, timezone: str | None = None, now: datetime | None = None,
    max_problems: int = MAX_PROBLEMS, finish: Callable | None = None, **build_options,
) -> dict:
    """Check the files against the current build and publish a new build with them; return its metadata, whose
    `appends` list ends with what this one added, replaced and updated. Times are read in the build's time zone
    (`timezone`, when given, must be it). `finish(con)` renews the derived tables (`kpis.build.append_files` passes
    the KPI layer's); `build_options` go to new_build (keep, wait)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    problems = _check_options(margin_rate, decimal, date_format, timezone or "UTC")
    given = {"orders": orders, "customers": customers, "feedback": feedback, "marketing_spend": spend}
    if all(path is None for path in given.values()):
        problems.append(Problem("--append", 0, "", _("nothing to append: give --orders, --customers, --feedback or "
                                                     "--spend")))
    if problems:
        raise ImportRejected(problems, len(problems))
    files = check_paths(given, max_problems)

    with new_build(db, finish, start_from_current=True, **build_options) as con:
        meta = schema.read_metadata(con)
        problems = _same_settings(meta, currency, margin_rate, timezone)
        if problems:
            raise ImportRejected(problems, len(problems))
        zone = meta.get("timezone", "UTC")
        con.execute("SET TimeZone = ?", [zone])  # the build's periods are cut in it: so are the new rows'
        now = _zone_time(now, zone)
        listed = _keeps_a_customer_list(meta)
        progress.expect(2)
        with progress.step(_("reading and checking the files")):
            sources = read_checked(con, files, now=now, max_problems=max_problems, decimal=decimal,
                                   date_format=date_format, checks=partial(_against_build, listed=listed,
                                                                           replace=replace_overlap))
            problems = _same_attributes(con, sources)
            if problems:
                raise ImportRejected(problems, len(problems))
        with progress.step(_("appending the rows")):
            done = _apply(con, sources, listed)
        for source in sources.values():
            con.execute(f"DROP TABLE {source.raw}")
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"),
                 "files": {n: s.described for n, s in sources.items()},
                 **done}
        kept = {k: v for k, v in meta.items() if k not in ("schema_version", "built_at", "currency", "source")}
        schema.write_metadata(con, currency=meta.get("currency", "EUR"), source=meta.get("source", "import"),
                              **{**kept, "rows": counts, "appends": [*meta.get("appends", []), entry]})
        return schema.read_metadata(con)


def _same_settings(meta: dict, currency: str | None, margin_rate: float | None, timezone: str | None) -> list[Problem]:
    """An append keeps the build's currency, margin rate and time zone: another one given is refused."""
    problems = []
    if timezone is not None and timezone != meta.get("timezone", "UTC"):
        problems.append(Problem("--timezone", 0, "", _(
            "the database's periods are cut in {build}, not {given}: an append keeps the build's time zone").format(
            build=meta.get("timezone", "UTC"), given=timezone)))
    if currency is not None and currency != meta.get("currency", "EUR"):
        problems.append(Problem("--currency", 0, "", _(
            "the database's amounts are in {build}, not {given}: an append keeps the currency of the build").format(
            build=meta.get("currency", "EUR"), given=currency)))
    if margin_rate is not None and margin_rate != meta.get("margin_rate"):
        problems.append(Problem("--margin-rate", 0, "", _(
            "the database was imported with a margin rate of {build}, not {given}: an append keeps it").format(
            build=meta.get("margin_rate", _("none")), given=margin_rate)))
    return problems


def _keeps_a_customer_list(meta: dict) -> bool:
    """Whether the build's customers come from a list (a customers file, the demo), not only from its orders."""
    return meta.get("source") == "demo" or "customers" in meta.get("files", {}) or any(
        "customers" in entry.get("files", {}) for entry in meta.get("appends", []))


def _against_build(sources: dict[str, Source], *, listed: bool, replace: bool) -> list[Check]:
    """The checks across files of an append: customers known to the build or the appended files, new customers
    dated, and no row sharing its key with a row of the build (unless it replaces it)."""
    known = ["SELECT customer_id FROM customers"]
    if "customers" in sources:
        known.append("SELECT customer_id FROM typed_customers")
    elif not listed and "orders" in sources:  # a build of orders only: a new customer is one who ordered
        known.append("SELECT customer_id FROM typed_orders")
    named = sources["customers"].file if "customers" in sources else None
    unknown = (_("unknown customer '{value}' (not in {file} nor in the database)") if named else
               _("unknown customer '{value}' (not in the database)"))
    checks = [
        Check(sources[name].file, "customer_id", unknown,
              f"SELECT _row, customer_id FROM typed_{name} ANTI JOIN ({' UNION ALL '.join(known)}) "
              f"USING (customer_id) WHERE customer_id IS NOT NULL", fields={"file": named or ""})
        for name in ("orders", "feedback") if name in sources and "customer_id" in sources[name].mapping
    ]
    if "customers" in sources:
        cust = sources["customers"]
        undated = "WHERE _empty_acquired_at" if "acquired_at" in cust.mapping else ""
        ordered = "SELECT customer_id FROM typed_orders" if "orders" in sources else "SELECT NULL AS customer_id"
        checks.append(Check(cust.file, "acquired_at",
                            _("customer '{value}' has no acquisition date and no order to date it"),
                            "SELECT _row, customer_id FROM (SELECT * FROM typed_customers ANTI JOIN customers "
                            f"USING (customer_id)) ANTI JOIN ({ordered}) USING (customer_id) {undated}"))
    for name, key in KEYS.items():
        if name in sources and not replace and all(k in sources[name].mapping for k in key):
            cols = ", ".join(key)
            checks.append(Check(sources[name].file, cols, _(
                "{value} is already in the database: pass --replace-overlap to replace the rows already imported"),
                f"SELECT _row, concat_ws(' / ', {cols}) FROM typed_{name} SEMI JOIN {name} USING ({cols})"))
    return checks


def _same_attributes(con, sources: dict[str, Source]) -> list[Problem]:
    """An appended customers file carries the build's customer attributes, no more and no fewer."""
    if "customers" not in sources:
        return []
    build = set(schema.customer_attributes(con))
    source = sources["customers"]
    if set(source.attributes) == build:
        return []
    return [Problem(source.file, 0, "", _(
        "its customer attributes ({given}) are not the database's ({build}): give the same columns").format(
        given=", ".join(sorted(source.attributes)) or _("none"), build=", ".join(sorted(build)) or _("none")))]


def _apply(con, sources: dict[str, Source], listed: bool) -> dict:
    """Write the checked rows into the build: replaced rows out, new rows in, customers added and updated. What was
    done, for the metadata, with `changed_from`: the first day whose orders or customers differ from the build's
    (an order's day, a new or changed customer's acquisition)."""
    con.execute(f"CREATE TEMP TABLE {CHANGES} (customer_id VARCHAR)")
    changed_from = [_first_day(con, "typed_orders")] if "orders" in sources else []
    replaced = {}
    for name, key in KEYS.items():
        if name in sources and all(k in sources[name].mapping for k in key):
            if name == "orders":  # an order replaced is a change on its day too
                changed_from.append(_first_day(con, "orders SEMI JOIN typed_orders USING (order_id)"))
                con.execute(f"INSERT INTO {CHANGES} SELECT customer_id FROM orders SEMI JOIN typed_orders "
                            "USING (order_id)")  # whose order it was: the customer may change with it
            match = " AND ".join(f"{name}.{k} = s.{k}" for k in key)
            replaced[name] = con.execute(f"DELETE FROM {name} USING typed_{name} s WHERE {match}").fetchone()[0]
    before = con.execute("SELECT count(*) FROM customers").fetchone()[0]
    changed = {}
    if "customers" in sources:
        # a new customer from the file counts from their acquisition (one dated by an order, from that order's day)
        changed_from.append(con.execute("SELECT min(acquired_at) FROM typed_customers ANTI JOIN customers "
                                        "USING (customer_id)").fetchone()[0])
        changed, since = _update_customers(con, sources["customers"])
        changed_from.append(since)
    add_customers(con, sources)
    added = {"customers": con.execute("SELECT count(*) FROM customers").fetchone()[0] - before}
    for name, source in sources.items():
        if name == "customers":
            continue
        generated, prefix = GENERATED.get(name, (None, ""))
        numbered = generated and generated not in source.mapping  # a file without ids: they continue the build's
        offset = _last_generated(con, name, generated, prefix) if numbered else 0
        _insert(con, source, generated, prefix, offset)
        added[name] = source.rows
    if "orders" in sources:
        con.execute(f"INSERT INTO {CHANGES} SELECT DISTINCT customer_id FROM typed_orders")
    if not listed and "orders" in sources:  # customers dated by their first order: it may be an appended one
        con.execute(f"""UPDATE customers SET acquired_at = f.first_order FROM (
            SELECT customer_id, min(ordered_at)::DATE AS first_order FROM orders SEMI JOIN {CHANGES} USING (customer_id)
            GROUP BY ALL) f WHERE customers.customer_id = f.customer_id AND customers.acquired_at <> f.first_order""")
    first = min((d for d in changed_from if d is not None), default=None)
    return {"added": added, "replaced": replaced, "customers_changed": changed,
            "changed_from": first.isoformat() if first else None}


def _first_day(con, rows: str) -> date | None:
    """The first day of some orders (a table or a join written here, never from input)."""
    return con.execute(f"SELECT min(ordered_at)::DATE FROM {rows}").fetchone()[0]


def _update_customers(con, source: Source) -> tuple[dict[str, int], date | None]:
    """Set the appended values of known customers (a column the file lacks, or an empty acquisition date, keeps
    the build's): the number of customers whose value changed, by column, and the first acquisition (before or
    after) of those changed, since when their segment's numbers differ."""
    def value(name: str, build: str) -> str:
        if name == "acquired_at":
            return f"COALESCE(t.acquired_at, {build}.acquired_at)"
        if name in source.attributes:
            return f't."{name}"'
        return _value_or_default(source, name, "t.").rsplit(" AS ", 1)[0]

    names = [c.name for c in CUSTOMERS.columns if c.name in source.mapping and c.name != "customer_id"]
    names += list(source.attributes)
    if not names:
        return {}, None
    differs = {name: f'{value(name, "c")} IS DISTINCT FROM c."{name}"' for name in names}
    *counts, since = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {d})" for d in differs.values())
        + f", min(least(c.acquired_at, {value('acquired_at', 'c')})) FILTER (WHERE {' OR '.join(differs.values())})"
        " FROM typed_customers t JOIN customers c USING (customer_id)").fetchone()
    changed = {name: n for name, n in zip(differs, counts, strict=True) if n}
    if changed:
        sets = ", ".join(f'"{name}" = {value(name, "customers")}' for name in changed)
        con.execute(f"UPDATE customers SET {sets} FROM typed_customers t WHERE customers.customer_id = t.customer_id")
    return changed, since


def _last_generated(con, table: str, column: str, prefix: str) -> int:
    """The highest number among the ids a full import generated (O000000042 → 42): appended rows continue it."""
    found = con.execute(f"SELECT max(CAST(substr({column}, 2) AS BIGINT)) FROM {table} "
                        f"WHERE regexp_full_match({column}, ?)", [f"{prefix}[0-9]{{9}}"]).fetchone()[0]
    return int(found or 0)
