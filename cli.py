"""Command line: build the demo database, import a company's files, describe a database, write a PDF report."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import kpis
from kpis.build import build_demo, import_files
from kpis.periods import COMPARES
from kpis.spark import EngineError
from report import ReportError, build_report
from store.files import DatabaseMissing, db_path, open_readonly
from store.importer import ImportRejected
from store.overview import overview


def _demo(args) -> int:
    if not _writes_duckdb(args):
        return 2

    started = time.perf_counter()
    build_demo(args.db, customers=args.customers, seed=args.seed, end=args.end, years=args.years)
    print(f"demo database ready at {db_path(args.db)} ({time.perf_counter() - started:.1f} s)")
    return _info(args)


def _import(args) -> int:
    if not _writes_duckdb(args):
        return 2

    started = time.perf_counter()
    try:
        import_files(args.db, orders=args.orders, customers=args.customers, feedback=args.feedback,
                     spend=args.spend, currency=args.currency, margin_rate=args.margin_rate)
    except ImportRejected as refused:
        print(refused, file=sys.stderr)
        return 2
    print(f"imported into {db_path(args.db)} ({time.perf_counter() - started:.1f} s)")
    return _info(args)


def _info(args) -> int:
    try:
        if _engine_config(args.db):  # the same facts, computed by the engine the config names (Spark)
            con = kpis.connect(args.db).cursor()
        else:
            con = open_readonly(args.db)
    except (DatabaseMissing, EngineError) as missing:  # EngineError says what to do
        print(missing, file=sys.stderr)
        return 2
    facts = overview(con)
    for key, value in facts.items():
        print(f"{key:>12}: {value:,.2f}" if isinstance(value, float) else f"{key:>12}: {value}")
    return 0


def _report(args) -> int:
    """Write a PDF snapshot; bad arguments (period, filter, edition, output path) exit 2 with the reason."""
    filters: dict[str, list[str]] = {}
    for item in args.filter:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            print(f"error: --filter {item!r}: use NAME=VALUE, e.g. --filter acquisition_channel=search",
                  file=sys.stderr)
            return 2
        filters.setdefault(name.strip(), []).append(value.strip())
    out = Path(args.out)
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK) or (
            out.exists() and not os.access(out, os.W_OK)):
        print(f"error: cannot write the report to {out}: "
              + ("it is a folder" if out.is_dir() else "no such folder" if not folder.is_dir() else "not writable"),
              file=sys.stderr)
        return 2
    if args.min_segment < 1:
        print("error: --min-segment must be at least 1", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        db = kpis.connect(args.db)  # a DuckDB build, or an engine config (Spark)
    except (DatabaseMissing, EngineError) as missing:  # the same message as `info`
        print(missing, file=sys.stderr)
        return 2
    try:
        pdf = build_report(db, args.period, compare=args.compare, edition=args.edition, filters=filters,
                           min_segment=args.min_segment)
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        out.write_bytes(pdf)
    except OSError as error:
        print(f"error: cannot write the report to {out}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(f"{args.edition} report for {args.period} written to {out} ({len(pdf) / 1024:,.0f} KB, "
          f"{time.perf_counter() - started:.1f} s)")
    return 0


def _engine_config(path) -> bool:
    """--db names an engine config file (README, "Running on Spark") rather than a DuckDB file."""
    return db_path(path).suffix.lower() == ".toml"


def _writes_duckdb(args) -> bool:
    if _engine_config(args.db):
        print(f"{db_path(args.db)} is an engine config: `{args.command}` builds a DuckDB file, give --db PATH.duckdb "
              "(a lake read by Spark is built by the company's own pipelines)", file=sys.stderr)
        return False
    return True


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="cli.py", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    db_help = ("database path (default: $EMPTYCHAIR_DB, else data/emptychair.duckdb); info also takes an engine "
               "config (.toml) to compute with Spark")

    demo = commands.add_parser("demo", help="build a demo database of a realistic customer base")
    demo.add_argument("--db", help=db_help)
    demo.add_argument("--customers", type=int, default=20_000, help="number of customers (default 20000)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--end", default="2026-10-31", help="last day of the data (default 2026-10-31)")
    demo.add_argument("--years", type=int, default=3, help="years of history (default 3)")
    demo.set_defaults(run=_demo)

    imp = commands.add_parser("import", help="import CSV or Parquet files into a new database")
    imp.add_argument("--db", help=db_help)
    imp.add_argument("--orders", required=True, help="orders file (required)")
    imp.add_argument("--customers", help="customers file")
    imp.add_argument("--feedback", help="survey answers file")
    imp.add_argument("--spend", help="monthly marketing spend file")
    imp.add_argument("--currency", default="EUR", help="currency of the amounts (default EUR)")
    imp.add_argument("--margin-rate", type=float, help="gross margin as a share of revenue, for orders without a cost "
                     "column (e.g. 0.35); without it and without costs, value KPIs are computed on revenue")
    imp.set_defaults(run=_import)

    info = commands.add_parser("info", help="describe a database")
    info.add_argument("--db", help=db_help)
    info.set_defaults(run=_info)

    rep = commands.add_parser("report", help="write a PDF snapshot for the board or for partners")
    rep.add_argument("--db", help=db_help)
    rep.add_argument("--period", required=True, help="2024-Q3 (quarter), 2024-09 (month) or 2024 (year)")
    rep.add_argument("--compare", choices=COMPARES, default="previous",
                     help="compare with the previous period (default) or the same period last year")
    rep.add_argument("--edition", choices=["board", "partner"], default="board",
                     help="board (default) or partner: aggregates only, small groups suppressed")
    rep.add_argument("--filter", action="append", default=[], metavar="NAME=VALUE",
                     help="customer segment, repeatable (acquisition_channel=search --filter region=FR)")
    rep.add_argument("--min-segment", type=int, default=10,
                     help="partner edition: fewest customers a figure may rest on (default 10)")
    rep.add_argument("--out", required=True, help="the PDF file to write")
    rep.set_defaults(run=_report)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "customers", None) is not None and args.command == "demo" and args.customers < 1:
        parser().error("--customers must be at least 1")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
