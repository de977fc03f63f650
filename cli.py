"""Command line: build the demo database, import a company's files, describe a database, write a PDF report, keep
the company's targets and events."""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import duckdb

import kpis
from kpis import format as fmt
from kpis.build import build_demo, import_files
from kpis.decisions import Refused
from kpis.events import CATEGORIES, events_of, parse_events
from kpis.labels import describe_filters
from kpis.periods import COMPARES
from kpis.spark import EngineError
from kpis.targets import parse_targets
from report import ReportError, build_report, delivery
from store.files import DatabaseMissing, db_path, open_readonly
from store.importer import ImportRejected
from store.overview import overview
from store.settings import Settings, settings_path


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
    try:
        filters = delivery.parse_filters(args.filter)
    except delivery.DeliveryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
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
        store = _settings(args)  # the company's targets (a status table) and events (on the time charts)
        pdf = build_report(db, args.period, compare=args.compare, edition=args.edition, filters=filters,
                           min_segment=args.min_segment, targets=store.targets(), events=store.events())
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        out.write_bytes(pdf)
    except OSError as error:
        print(f"error: cannot write the report to {out}: {error.strerror or error}", file=sys.stderr)
        return 2
    store.log(_who(), "pdf", f"{args.edition} PDF {args.period} written to {out.name}", describe_filters(filters))
    print(f"{args.edition} report for {args.period} written to {out} ({len(pdf) / 1024:,.0f} KB, "
          f"{time.perf_counter() - started:.1f} s)")
    return 0


def _send(args) -> int:
    """Send a view's PDF by SMTP (README, "Scheduled delivery"); every problem exits 2 with what failed, having sent
    nothing. Addresses and the config are checked before anything is computed."""
    started = time.perf_counter()
    try:
        config = delivery.load_config(args.config or delivery.config_path(args.db))
        recipients = delivery.check_recipients(config, args.edition, args.to)
        filters = delivery.parse_filters(args.filter)
        secret = None if args.dry_run else delivery.password(config)
        db = kpis.connect(args.db)
        chosen = delivery.view(db, args.edition, args.period, args.compare, filters, args.min_segment)
        settings = _settings(args)
        targets = settings.targets()
        found = delivery.findings(db, chosen, targets)
        if not found and args.only_if_off_track:  # before the PDF: a quiet month costs no build
            print(delivery.QUIET)
            return 0
        snap, pdf = delivery.build(db, chosen, targets, settings.events())
        found = delivery.shown(found, snap)
        if not found and args.only_if_off_track:  # all there was is suppressed in the partner edition
            print(delivery.QUIET)
            return 0
        message = delivery.compose(chosen, found, snap, pdf, config.smtp.sender, recipients)
        if args.dry_run:
            print(delivery.summary(message, recipients) + "\ndry run: not sent")
            return 0
        delivery.send(config.smtp, secret, message, recipients)
    except (delivery.DeliveryError, ReportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (DatabaseMissing, EngineError) as missing:
        print(missing, file=sys.stderr)
        return 2
    try:
        settings.record_sending(chosen.edition, str(chosen.period), recipients, message["Subject"], by=_who())
        settings.log(_who(), "pdf sent", f"{chosen.edition} PDF {chosen.period} to {', '.join(recipients)}",
                     describe_filters(chosen.filters))
    except (duckdb.Error, OSError) as error:
        print(f"error: sent, but not recorded in {settings.path}: {error}", file=sys.stderr)
        return 1
    print(f"sent the {chosen.edition} snapshot for {chosen.period.label} to {', '.join(recipients)} "
          f"({time.perf_counter() - started:.1f} s)")
    return 0


# --- targets and events: the company's decisions, in the settings store beside the database ----------------------

def _settings(args) -> Settings:
    return Settings(settings_path(args.db))


def _read_csv(name: str, required: tuple[str, ...], optional: tuple[str, ...]) -> list[dict]:
    """A CSV's rows as text (Refused naming the file for a missing file or column, or an unknown column)."""
    path = Path(name)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in reader.fieldnames or []]
            missing = [c for c in required if c not in columns]
            unknown = [c for c in columns if c not in required + optional]
            if missing or unknown:
                raise Refused([f"{path}: " + "; ".join(
                    ([f"no column {', '.join(missing)}"] if missing else [])
                    + ([f"unknown column {', '.join(unknown)}"] if unknown else []))
                    + f" (columns: {', '.join(required)}, optional {', '.join(optional)})"])
            return [{k.strip(): v for k, v in row.items() if k is not None} for row in reader]
    except OSError as error:
        raise Refused([f"{path}: {error.strerror or error}"]) from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise Refused([f"{path}: not a UTF-8 CSV file ({error})"]) from None


def _refused(run):
    """Run a settings command: a refusal prints every bad row and exits 2, having written nothing."""
    def command(args) -> int:
        try:
            return run(args)
        except Refused as refused:
            print(f"error: {refused}", file=sys.stderr)
            return 2
        except (DatabaseMissing, EngineError) as missing:
            print(missing, file=sys.stderr)
            return 2
    return command


@_refused
def _targets_import(args) -> int:
    rows = _read_csv(args.file, ("kpi", "period", "target"), ("segment", "tolerance", "public"))
    parsed = parse_targets(rows, kpis.connect(args.db), where=str(args.file))
    _settings(args).put_targets(parsed, by=_who())
    print(f"{len(parsed)} target(s) stored in {settings_path(args.db)}")
    return 0


def _targets_list(args) -> int:
    frame = _settings(args).targets()
    if frame.empty:
        print("no targets: add some with `cli.py targets import FILE.csv`")
        return 0
    for row in frame.to_dict("records"):
        kpi = kpis.REGISTRY.get(row["kpi"])
        shown = fmt.value(row["target"], kpi.unit) if kpi else row["target"]
        print(f"{row['kpi']:<24} {row['period']:<8} {row['segment'] or 'all customers':<28} {shown:>14}  "
              f"tolerance {100 * row['tolerance']:g} %{'  public' if row['public'] else ''}")
    return 0


@_refused
def _targets_remove(args) -> int:
    segment = args.segment or ""
    if not _settings(args).remove_target(args.kpi, args.period, segment):
        print(f"error: no target for {args.kpi} {args.period} {segment or 'all customers'} "
              "(`cli.py targets list` shows them)", file=sys.stderr)
        return 2
    print(f"removed the target of {args.kpi} for {args.period} ({segment or 'all customers'})")
    return 0


def _targets_kpis(args) -> int:
    """The KPIs a target can be set for, with what a target of each is written as."""
    for key, kpi in kpis.REGISTRY.items():
        low, high = kpi.possible
        span = "a rate: 42 % or 0.42" if kpi.unit.value == "percent" else (
            f"{low:g} to {high:g}" if high is not None else f"≥ {low:g}" if low is not None else "any amount")
        direction = "higher is better" if kpi.higher_is_better else "lower is better"
        print(f"{key:<24} {kpi.label:<36} {span:<22} {direction}")
    return 0


@_refused
def _events_add(args) -> int:
    row = {"date": args.date, "until": args.until, "label": args.label, "category": args.category,
           "segment": args.segment}
    parsed = parse_events([row], kpis.connect(args.db), where="")
    (number,) = _settings(args).add_events(parsed, by=_who())
    print(f"event {number} added: {events_of(_settings(args).events().query('id == @number'))[0].text}")
    return 0


@_refused
def _events_import(args) -> int:
    rows = _read_csv(args.file, ("date", "label"), ("until", "category", "segment"))
    parsed = parse_events(rows, kpis.connect(args.db), where=str(args.file))
    _settings(args).add_events(parsed, by=_who())
    print(f"{len(parsed)} event(s) stored in {settings_path(args.db)}")
    return 0


def _events_list(args) -> int:
    events = events_of(_settings(args).events())
    if not events:
        print("no events: add one with `cli.py events add --date 2026-03-02 --label \"Spring campaign\"`")
    for event in events:
        print(f"{event.id:>4}  {event.text}")
    return 0


def _events_remove(args) -> int:
    if not _settings(args).remove_event(args.id):
        print(f"error: no event {args.id} (`cli.py events list` shows them)", file=sys.stderr)
        return 2
    print(f"removed event {args.id}")
    return 0


def _who() -> str:
    """Who changed a setting from the command line: the system user."""
    return f"cli:{os.environ.get('USER') or os.environ.get('LOGNAME') or 'unknown'}"


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

    send = commands.add_parser("send", help="send a view's PDF by e-mail (SMTP settings in a config file beside the "
                               "database; README, \"Scheduled delivery\")")
    send.add_argument("--db", help=db_help)
    send.add_argument("--edition", choices=["board", "partner"], required=True,
                      help="board, or partner: only to the addresses the config lists as partners")
    send.add_argument("--period", required=True, help="last-month, last-quarter, last-year (the last complete one in "
                      "the data) or a period: 2026-09, 2026-Q3, 2026")
    send.add_argument("--compare", choices=COMPARES, default="previous",
                      help="compare with the previous period (default) or the same period last year")
    send.add_argument("--filter", action="append", default=[], metavar="NAME=VALUE",
                      help="customer segment, repeatable (acquisition_channel=search --filter region=FR)")
    send.add_argument("--min-segment", type=int, default=10,
                      help="partner edition: fewest customers a figure may rest on (default 10)")
    send.add_argument("--to", action="extend", nargs="+", required=True, metavar="ADDRESS",
                      help="recipient, repeatable (--to a@acme.example b@acme.example)")
    send.add_argument("--lang", choices=["en"], default="en",
                      help="language of the message and the PDF: en only for now (French is another issue)")
    send.add_argument("--only-if-off-track", action="store_true",
                      help="send only if a KPI with a target is off track or a KPI moved beyond its noise")
    send.add_argument("--config", help="the delivery config (default: beside the database, "
                      "data/emptychair.delivery.toml)")
    send.add_argument("--dry-run", action="store_true",
                      help="build the message and print it without sending (no password needed)")
    send.set_defaults(run=_send)

    def action(acts, name: str, text: str, run) -> argparse.ArgumentParser:
        sub = acts.add_parser(name, help=text)
        sub.add_argument("--db", help=db_help)
        sub.set_defaults(run=run)
        return sub

    targets = commands.add_parser("targets", help="the company's targets: a KPI's goal for a period and segment")
    acts = targets.add_subparsers(dest="action", required=True)
    action(acts, "import", "add or replace targets from a CSV (kpi,period,target[,segment,tolerance,public]); a bad "
           "row refuses the whole file", _targets_import).add_argument("file")
    action(acts, "list", "the targets stored", _targets_list)
    remove = action(acts, "remove", "remove one target", _targets_remove)
    remove.add_argument("kpi")
    remove.add_argument("period")
    remove.add_argument("--segment", help="the target's segment (region=FR); default all customers")
    action(acts, "kpis", "the KPIs a target can be set for, and how to write one", _targets_kpis)

    events = commands.add_parser("events", help="dated notes drawn on every time chart (campaigns, price changes…)")
    acts = events.add_subparsers(dest="action", required=True)
    add = action(acts, "add", "add one event", _events_add)
    add.add_argument("--date", required=True, help="its day, or first day (YYYY-MM-DD)")
    add.add_argument("--until", help="its last day, for a range")
    add.add_argument("--label", required=True, help="what happened, in a few words")
    add.add_argument("--category", default="other", help=f"one of {', '.join(CATEGORIES)} (default other)")
    add.add_argument("--segment", help="the segment it concerns (acquisition_channel=search); default everyone")
    action(acts, "import", "add events from a CSV (date,label[,until,category,segment])", _events_import
           ).add_argument("file")
    action(acts, "list", "the events stored", _events_list)
    action(acts, "remove", "remove one event by its number (events list)", _events_remove).add_argument("id", type=int)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "customers", None) is not None and args.command == "demo" and args.customers < 1:
        parser().error("--customers must be at least 1")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
