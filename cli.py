"""Command line: build the demo database, import a company's files, describe a database."""

from __future__ import annotations

import argparse
import sys
import time

from store.files import DatabaseMissing, db_path, open_readonly


def _demo(args) -> int:
    from store.demo import build_demo

    started = time.perf_counter()
    build_demo(args.db, customers=args.customers, seed=args.seed, end=args.end, years=args.years)
    print(f"demo database ready at {db_path(args.db)} ({time.perf_counter() - started:.1f} s)")
    return _info(args)


def _import(args) -> int:
    from store.importer import ImportRejected, import_files

    started = time.perf_counter()
    try:
        import_files(args.db, orders=args.orders, customers=args.customers, feedback=args.feedback,
                     spend=args.spend, currency=args.currency)
    except ImportRejected as refused:
        print(refused, file=sys.stderr)
        return 2
    print(f"imported into {db_path(args.db)} ({time.perf_counter() - started:.1f} s)")
    return _info(args)


def _info(args) -> int:
    from store.overview import overview

    try:
        con = open_readonly(args.db)
    except DatabaseMissing as missing:
        print(missing, file=sys.stderr)
        return 2
    facts = overview(con)
    for key, value in facts.items():
        print(f"{key:>12}: {value:,.2f}" if isinstance(value, float) else f"{key:>12}: {value}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="cli.py", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    db_help = "database path (default: $EMPTYCHAIR_DB, else data/emptychair.duckdb)"

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
    imp.set_defaults(run=_import)

    info = commands.add_parser("info", help="describe a database")
    info.add_argument("--db", help=db_help)
    info.set_defaults(run=_info)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "customers", None) is not None and args.command == "demo" and args.customers < 1:
        parser().error("--customers must be at least 1")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
