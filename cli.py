"""Command line: build the demo database, import a company's files, describe a database, write a PDF report, keep
the company's targets and events.

It speaks the language of the environment ($LANGUAGE, $LC_ALL, $LC_MESSAGES, $LANG: `LANG=fr_FR.UTF-8` for
French), and `report` and `send` take --lang en|fr for the PDF and the e-mail as well as their messages.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

import i18n
import kpis
from i18n import N_, _, formats, ngettext
from i18n.formats import number, percent
from kpis import format as fmt
from kpis.build import append_files, build_demo, import_files
from kpis.decisions import Refused
from kpis.events import CATEGORIES, events_of, parse_events
from kpis.labels import describe_filters
from kpis.periods import COMPARES
from kpis.spark import EngineError
from kpis.targets import parse_targets
from report import ReportError, build_report, delivery
from store import progress
from store.files import (
    COUNTED,
    KEEP_VERSIONS,
    Build,
    DatabaseMissing,
    RollbackRefused,
    build_options,
    builds,
    built_when,
    db_path,
    describe_provenance,
    open_readonly,
    rollback,
)
from store.importer import DATE_FORMATS, DECIMALS, ImportRejected
from store.lock import WAIT_SECONDS, ImportBusy
from store.overview import overview
from store.settings import Settings, settings_path


def _demo(args) -> int:
    if not _writes_duckdb(args):
        return 2

    started = time.perf_counter()
    try:
        with build_options(keep=args.keep, wait=args.wait):
            build_demo(args.db, customers=args.customers, seed=args.seed, end=args.end, years=args.years)
    except ImportBusy as busy:  # another build holds the lock: nothing was changed
        print(busy, file=sys.stderr)
        return 2
    print(_("demo database ready at {path} ({seconds} s)").format(path=db_path(args.db), seconds=_seconds(started)))
    return _info(args)


def _import(args) -> int:
    if not _writes_duckdb(args):
        return 2

    started = time.perf_counter()
    files = {"orders": args.orders, "customers": args.customers, "feedback": args.feedback, "spend": args.spend,
             "margin_rate": args.margin_rate, "decimal": args.decimal, "date_format": args.date_format}
    try:
        with build_options(keep=args.keep, wait=args.wait):
            if args.append:  # currency and zone: the build's, unless given (then they must be it)
                meta = append_files(args.db, replace_overlap=args.replace_overlap, currency=args.currency,
                                    timezone=args.timezone, **files)
            else:
                meta = import_files(args.db, currency=args.currency or "EUR", timezone=args.timezone or "UTC", **files)
    except (ImportRejected, ImportBusy, DatabaseMissing) as refused:  # DatabaseMissing: nothing to append to
        print(refused, file=sys.stderr)
        return 2
    read_files = meta["appends"][-1]["files"] if args.append else meta.get("files", {})
    for read in read_files.values():  # how each file's numbers and dates were read, when not plain
        if read.get("decimal") == ",":
            print(_("{file}: amounts read with a decimal comma").format(file=read["file"]))
        if read.get("date_format") in READ_DATES:
            print(_(READ_DATES[read["date_format"]]).format(file=read["file"]))
    if args.append:
        print(_appended(meta["appends"][-1]))
        print(_("appended to {path} ({seconds} s)").format(path=db_path(args.db), seconds=_seconds(started)))
    else:
        print(_("imported into {path} ({seconds} s)").format(path=db_path(args.db), seconds=_seconds(started)))
    return _info(args)


def _import_usage(args) -> str | None:
    """What the import's arguments lack together (a usage error), or None: --orders but for an append."""
    if not args.append and args.orders is None:
        return _("the following arguments are required: %s") % "--orders"
    if args.replace_overlap and not args.append:
        return _("--replace-overlap goes with --append")
    return None


def _rows_added(table: str, count: int) -> str:
    """A count of rows an append added or replaced, in words (3 orders, 1 new customer)."""
    text = {"customers": ngettext("{count} new customer", "{count} new customers", count),
            "orders": ngettext("{count} order", "{count} orders", count),
            "feedback": ngettext("{count} answer", "{count} answers", count),
            "marketing_spend": ngettext("{count} spend row", "{count} spend rows", count)}[table]
    return text.format(count=number(count))


def _appended(entry: dict) -> str:
    """One line of what an append added, replaced and updated."""
    def counted(counts: dict) -> str:
        return ", ".join(_rows_added(table, n) for table, n in counts.items() if n)

    text = _("added: {rows}").format(rows=counted(entry["added"]) or _("nothing"))
    replaced = {t: n for t, n in entry.get("replaced", {}).items() if n}
    if replaced:
        text += "; " + _("replaced: {rows}").format(rows=counted(replaced))
    changed = entry.get("customers_changed", {})
    if changed:
        text += "; " + _("customers updated: {columns}").format(
            columns=", ".join(f"{column} {number(n)}" for column, n in changed.items()))
    reused = entry.get("models_reused")
    if reused:  # the dates before the first day the append touched: their fits were taken, not refitted
        text += "; " + _("CLV fits reused for {dates}").format(
            dates=", ".join(formats.date(date.fromisoformat(day)) for day in reused))
    return text


READ_DATES = {"%d/%m/%Y": N_("{file}: dates read as day/month/year (31/10/2026)"),
              "%m/%d/%Y": N_("{file}: dates read as month/day/year (10/31/2026)"),
              "%m/%Y": N_("{file}: months read as month/year (10/2026)")}
# What `info` prints, by overview's key (the English words are the keys, as the command always printed them).
FACTS = {"customers": N_("customers"), "orders": N_("orders"), "feedback": N_("feedback"), "revenue": N_("revenue"),
         "first_order": N_("first_order"), "last_order": N_("last_order"), "currency": N_("currency"),
         "source": N_("source"), "built_at": N_("built_at"), "timezone": N_("timezone"), "appends": N_("appends")}


def _seconds(started: float) -> str:
    """The time since `started`, in seconds with one decimal (3.2 / 3,2)."""
    return number(time.perf_counter() - started, 1)


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
    labels = {key: _(FACTS[key]) if key in FACTS else key for key in facts}
    width = max(map(len, labels.values()))
    for key, value in facts.items():
        print(_("{label}: {value}").format(label=labels[key].rjust(width),
                                           value=number(value, 2) if isinstance(value, float) else value))
    return 0


def _report(args) -> int:
    """Write a PDF snapshot; bad arguments (period, filter, edition, output path) exit 2 with the reason."""
    try:
        filters = delivery.parse_filters(args.filter)
    except delivery.DeliveryError as error:
        _error(error)
        return 2
    out = Path(args.out)
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK) or (
            out.exists() and not os.access(out, os.W_OK)):
        reason = (_("error: cannot write the report to {path}: it is a folder") if out.is_dir() else
                  _("error: cannot write the report to {path}: no such folder") if not folder.is_dir() else
                  _("error: cannot write the report to {path}: not writable"))
        print(reason.format(path=out), file=sys.stderr)
        return 2
    if args.min_segment < 1:
        print(_("error: --min-segment must be at least 1"), file=sys.stderr)
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
        _error(error)
        return 2
    try:
        out.write_bytes(pdf)
    except OSError as error:
        print(_("error: cannot write the report to {path}: {reason}").format(path=out, reason=error.strerror or error),
              file=sys.stderr)
        return 2
    with i18n.use("en"):  # the audit log is kept in one language, whatever the command spoke
        store.log(_who(), "pdf", f"{args.edition} PDF {args.period} written to {out.name}", describe_filters(filters))
    done = (_("partner report for {period} written to {path} ({size} KB, {seconds} s)") if args.edition == "partner"
            else _("board report for {period} written to {path} ({size} KB, {seconds} s)"))
    print(done.format(period=kpis.Period.parse(args.period).label, path=out, size=number(len(pdf) / 1024),
                      seconds=_seconds(started)))
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
            print(_(delivery.QUIET))
            return 0
        snap, pdf = delivery.build(db, chosen, targets, settings.events())
        found = delivery.shown(found, snap)
        if not found and args.only_if_off_track:  # all there was is suppressed in the partner edition
            print(_(delivery.QUIET))
            return 0
        message = delivery.compose(chosen, found, snap, pdf, config.smtp.sender, recipients)
        if args.dry_run:
            print(delivery.summary(message, recipients) + "\n" + _("dry run: not sent"))
            return 0
        delivery.send(config.smtp, secret, message, recipients)
    except (delivery.DeliveryError, ReportError) as error:
        _error(error)
        return 2
    except (DatabaseMissing, EngineError) as missing:
        print(missing, file=sys.stderr)
        return 2
    try:
        settings.record_sending(chosen.edition, str(chosen.period), recipients, message["Subject"], by=_who())
        with i18n.use("en"):  # the audit log is kept in one language, whatever the command spoke
            settings.log(_who(), "pdf sent", f"{chosen.edition} PDF {chosen.period} to {', '.join(recipients)}",
                         describe_filters(chosen.filters))
    except (duckdb.Error, OSError) as error:
        print(_("error: sent, but not recorded in {path}: {reason}").format(path=settings.path, reason=error),
              file=sys.stderr)
        return 1
    sent = (_("sent the partner snapshot for {period} to {recipients} ({seconds} s)") if chosen.edition == "partner"
            else _("sent the board snapshot for {period} to {recipients} ({seconds} s)"))
    print(sent.format(period=chosen.period.label, recipients=", ".join(recipients), seconds=_seconds(started)))
    return 0


# --- the builds kept, and a rollback to one of them ---------------------------------------------------------------

def _builds(args) -> int:
    """The kept builds, newest first: name, current marker, when, source, rows, whether the models are stored."""
    kept = builds(args.db)
    if not kept:
        print(_("no builds at {path}: run `python cli.py demo` or `python cli.py import`").format(
            path=db_path(args.db)), file=sys.stderr)
        return 2
    width = max(len(b.name) for b in kept)
    for build in kept:
        marker = "*" if build.current else " "
        if not build.readable:
            print(f"{marker} {build.name:<{width}}  " + _("unreadable: {reason}").format(reason=build.problem))
            continue
        current = "  " + _("(current)") if build.current else ""
        models = _("models stored") if build.models else _("no models")
        print(f"{marker} {build.name:<{width}}  {built_when(build.built_at)}  "
              f"{describe_provenance(build.source, build.files)}  {_rows(build)}  {models}{current}")
    return 0


def _rows(build: Build) -> str:
    counts = {table: number(build.rows[table]) if table in build.rows else "?" for table in COUNTED}
    return _("{customers} customers, {orders} orders, {feedback} answers").format(**counts)


def _rollback(args) -> int:
    """Point the database at another kept build: the named one, or the one before the current one."""
    try:
        before, after = rollback(args.db, args.build, wait=WAIT_SECONDS if args.wait is None else args.wait)
    except RollbackRefused as refused:
        _error(refused)
        return 2
    except (ImportBusy, DatabaseMissing) as missing:
        print(missing, file=sys.stderr)
        return 2
    print(_("{path} now points to build {to} ({to_when}), was {was} ({was_when})").format(
        path=db_path(args.db), to=after.name, to_when=built_when(after.built_at), was=before.name,
        was_when=built_when(before.built_at)))
    return 0


def _error(error: Exception) -> None:
    """A refusal explained by another layer (its message already in the command's language)."""
    print(_("error: {message}").format(message=error), file=sys.stderr)


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
                text = (_("{file}: no column {missing}; unknown column {unknown} (columns: {required}, optional "
                          "{optional})") if missing and unknown else
                        _("{file}: no column {missing} (columns: {required}, optional {optional})") if missing else
                        _("{file}: unknown column {unknown} (columns: {required}, optional {optional})"))
                raise Refused([text.format(file=path, missing=", ".join(missing), unknown=", ".join(unknown),
                                           required=", ".join(required), optional=", ".join(optional))])
            return [{k.strip(): v for k, v in row.items() if k is not None} for row in reader]
    except OSError as error:
        raise Refused([_("{file}: {reason}").format(file=path, reason=error.strerror or error)]) from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise Refused([_("{file}: not a UTF-8 CSV file ({reason})").format(file=path, reason=error)]) from None


def _refused(run):
    """Run a settings command: a refusal prints every bad row and exits 2, having written nothing."""
    def command(args) -> int:
        try:
            return run(args)
        except Refused as refused:
            _error(refused)
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
    print(ngettext("{count} target stored in {path}", "{count} targets stored in {path}", len(parsed)).format(
        count=len(parsed), path=settings_path(args.db)))
    return 0


def _targets_list(args) -> int:
    frame = _settings(args).targets()
    if frame.empty:
        print(_("no targets: add some with `cli.py targets import FILE.csv`"))
        return 0
    for row in frame.to_dict("records"):
        kpi = kpis.REGISTRY.get(row["kpi"])
        shown = fmt.value(row["target"], kpi.unit) if kpi else row["target"]
        tolerance = _("tolerance {share}").format(share=_share(row["tolerance"]))
        public = "  " + _("public") if row["public"] else ""
        print(f"{row['kpi']:<24} {row['period']:<8} {row['segment'] or _('all customers'):<28} {shown:>14}  "
              f"{tolerance}{public}")
    return 0


def _share(share: float) -> str:
    """A tolerance as a percentage with the decimals it has (5 %, 2.5 %)."""
    hundredths = round(100 * share, 6)
    return percent(share, 0 if hundredths == int(hundredths) else len(f"{hundredths:g}".partition(".")[2]))


@_refused
def _targets_remove(args) -> int:
    segment = args.segment or ""
    if not _settings(args).remove_target(args.kpi, args.period, segment):
        print(_("error: no target for {kpi} {period} {segment} (`cli.py targets list` shows them)").format(
            kpi=args.kpi, period=args.period, segment=segment or _("all customers")), file=sys.stderr)
        return 2
    print(_("removed the target of {kpi} for {period} ({segment})").format(
        kpi=args.kpi, period=args.period, segment=segment or _("all customers")))
    return 0


def _targets_kpis(args) -> int:
    """The KPIs a target can be set for, with what a target of each is written as."""
    for key, kpi in kpis.REGISTRY.items():
        low, high = kpi.possible
        span = _("a rate: 42 % or 0.42") if kpi.unit.value == "percent" else (
            _("{low} to {high}").format(low=f"{low:g}", high=f"{high:g}") if high is not None else
            _("≥ {low}").format(low=f"{low:g}") if low is not None else _("any amount"))  # as a target file writes
        direction = _("higher is better") if kpi.higher_is_better else _("lower is better")
        print(f"{key:<24} {kpi.label:<36} {span:<22} {direction}")
    return 0


@_refused
def _events_add(args) -> int:
    row = {"date": args.date, "until": args.until, "label": args.label, "category": args.category,
           "segment": args.segment}
    parsed = parse_events([row], kpis.connect(args.db), where="")
    (added,) = _settings(args).add_events(parsed, by=_who())
    print(_("event {number} added: {event}").format(
        number=added, event=events_of(_settings(args).events().query("id == @added"))[0].text))
    return 0


@_refused
def _events_import(args) -> int:
    rows = _read_csv(args.file, ("date", "label"), ("until", "category", "segment"))
    parsed = parse_events(rows, kpis.connect(args.db), where=str(args.file))
    _settings(args).add_events(parsed, by=_who())
    print(ngettext("{count} event stored in {path}", "{count} events stored in {path}", len(parsed)).format(
        count=len(parsed), path=settings_path(args.db)))
    return 0


def _events_list(args) -> int:
    events = events_of(_settings(args).events())
    if not events:
        print(_("no events: add one with `cli.py events add --date 2026-03-02 --label \"Spring campaign\"`"))
    for event in events:
        print(f"{event.id:>4}  {event.text}")
    return 0


def _events_remove(args) -> int:
    if not _settings(args).remove_event(args.id):
        print(_("error: no event {number} (`cli.py events list` shows them)").format(number=args.id),
              file=sys.stderr)
        return 2
    print(_("removed event {number}").format(number=args.id))
    return 0


def _who() -> str:
    """Who changed a setting from the command line: the system user."""
    return f"cli:{os.environ.get('USER') or os.environ.get('LOGNAME') or 'unknown'}"


def _engine_config(path) -> bool:
    """--db names an engine config file (README, "Running on Spark") rather than a DuckDB file."""
    return db_path(path).suffix.lower() == ".toml"


def _writes_duckdb(args) -> bool:
    if _engine_config(args.db):
        print(_("{path} is an engine config: `{command}` builds a DuckDB file, give --db PATH.duckdb (a lake read "
                "by Spark is built by the company's own pipelines)").format(path=db_path(args.db),
                                                                           command=args.command), file=sys.stderr)
        return False
    return True


DESCRIPTION = N_("Command line: build the demo database, import a company's files, describe a database, write a "
                 "PDF report, keep the company's targets and events.")
# argparse's own messages (its usage line, errors and help headings), translated from this catalog while the
# command line is parsed (`_argparse_speaks`). The msgids are those of Python 3.11's argparse.
ARGPARSE = (
    N_("usage: "), N_("positional arguments"), N_("options"), N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"), N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"), N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"), N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"), N_("expected at least one argument"), N_("expected at most one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"), N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"), N_("one of the arguments %s is required"),
)


def _at_least(minimum: int):
    """An argparse type: a whole number, at least `minimum`."""
    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(_("'{value}' is not a whole number").format(value=text)) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(_("must be at least {minimum}").format(minimum=minimum))
        return value
    return whole


def _wait(text: str) -> float:
    """An argparse type: seconds to wait, 0 or more (a decimal point or comma)."""
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(_("'{value}' is not a number of seconds").format(value=text)) from None
    if value < 0:
        raise argparse.ArgumentTypeError(_("must be at least {minimum}").format(minimum=0))
    return value


def _rate(text: str) -> float:
    """An argparse type: a number, with a decimal point or a decimal comma (0.35, 0,35)."""
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(_("'{value}' is not a number (e.g. 0.35)").format(value=text)) from None


def _day(text: str) -> str:
    """An argparse type: a day written YYYY-MM-DD."""
    try:
        date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("'{value}' is not a day (YYYY-MM-DD)").format(value=text)) from None
    return text


def parser() -> argparse.ArgumentParser:
    """The command line, its help in the current language (built after the language is set: see `main`)."""
    root = argparse.ArgumentParser(prog="cli.py", description=_(DESCRIPTION))
    commands = root.add_subparsers(dest="command", required=True)
    db_help = _("database path (default: $EMPTYCHAIR_DB, else data/emptychair.duckdb); info also takes an engine "
                "config (.toml) to compute with Spark")
    lang_help = _("language of the PDF, the e-mail and the messages: en or fr (default: the environment's, "
                  "$LANG or $LANGUAGE)")

    demo = commands.add_parser("demo", help=_("build a demo database of a realistic customer base"))
    demo.add_argument("--db", help=db_help)
    demo.add_argument("--customers", type=_at_least(1), default=20_000,
                      help=_("number of customers (default 20000)"))
    demo.add_argument("--seed", type=_at_least(0), default=7, help=_("random seed (default 7)"))
    demo.add_argument("--end", type=_day, default="2026-10-31", help=_("last day of the data (default 2026-10-31)"))
    demo.add_argument("--years", type=_at_least(1), default=3, help=_("years of history (default 3)"))
    demo.set_defaults(run=_demo)
    keep_help = _("builds kept, the current one included (default {keep})").format(keep=KEEP_VERSIONS)
    wait_help = _("seconds to wait for another import or rollback to finish (default {seconds})").format(
        seconds=int(WAIT_SECONDS))
    demo.add_argument("--keep", type=_at_least(1), metavar="N", help=keep_help)
    demo.add_argument("--wait", type=_wait, metavar="SECONDS", help=wait_help)

    imp = commands.add_parser("import", help=_("import CSV or Parquet files into a new database"))
    imp.add_argument("--db", help=db_help)
    imp.add_argument("--append", action="store_true", help=_(
        "add the files to the current database instead of replacing it: rows already there are refused, new "
        "customers added, changed customers updated"))
    imp.add_argument("--replace-overlap", action="store_true", help=_(
        "with --append: rows whose id (or spend month and channel) is already there replace the old ones"))
    imp.add_argument("--orders", help=_("orders file (required, but for --append)"))
    imp.add_argument("--customers", help=_("customers file"))
    imp.add_argument("--feedback", help=_("survey answers file"))
    imp.add_argument("--spend", help=_("monthly marketing spend file"))
    imp.add_argument("--currency", help=_("currency of the amounts (default EUR; an append keeps the database's)"))
    imp.add_argument("--margin-rate", type=_rate, help=_(
        "gross margin as a share of revenue, for orders without a cost column (e.g. 0.35); without it and without "
        "costs, value KPIs are computed on revenue"))
    imp.add_argument("--decimal", choices=DECIMALS, metavar="MARK", help=_(
        "the files' decimal mark, . or , (default: a point, or a comma in a file separated by ; or tabs whose "
        "amounts all have a comma)"))
    imp.add_argument("--date-format", metavar="FORMAT", help=_(
        "how the files write dates: {formats}, maybe followed by %H:%M or %H:%M:%S (default: ISO, or day/month/year "
        "when every date of a file has / and one has a day above 12)").format(
        formats=", ".join(f for f in DATE_FORMATS if " " not in f)).replace("%", "%%"))
    imp.add_argument("--timezone", metavar="ZONE", help=_(
        "the company's time zone, a tz database name (e.g. Europe/Paris): times with an offset are converted to "
        "it, times without one are its local time, and periods are cut in it (default UTC; an append keeps the "
        "database's)"))
    imp.set_defaults(run=_import, usage=_import_usage, parser=imp)
    imp.add_argument("--keep", type=_at_least(1), metavar="N", help=keep_help)
    imp.add_argument("--wait", type=_wait, metavar="SECONDS", help=wait_help)

    listed = commands.add_parser("builds", help=_("list the kept builds of the database, newest first"))
    listed.add_argument("--db", help=db_help)
    listed.set_defaults(run=_builds)

    back = commands.add_parser("rollback", help=_("point the database at a kept build again (default: the one "
                                                  "before the current one)"))
    back.add_argument("build", nargs="?", help=_("the build's name as `builds` lists it, or the start of it"))
    back.add_argument("--db", help=db_help)
    back.add_argument("--wait", type=_wait, metavar="SECONDS", help=wait_help)
    back.set_defaults(run=_rollback)

    info = commands.add_parser("info", help=_("describe a database"))
    info.add_argument("--db", help=db_help)
    info.set_defaults(run=_info)

    editions = ["board", "partner"]
    rep = commands.add_parser("report", help=_("write a PDF snapshot for the board or for partners"))
    rep.add_argument("--db", help=db_help)
    rep.add_argument("--period", required=True, help=_("2024-Q3 (quarter), 2024-09 (month) or 2024 (year)"))
    rep.add_argument("--compare", choices=COMPARES, default="previous",
                     help=_("compare with the previous period (default) or the same period last year"))
    rep.add_argument("--edition", choices=editions, default="board",
                     help=_("board (default) or partner: aggregates only, small groups suppressed"))
    rep.add_argument("--filter", action="append", default=[], metavar="NAME=VALUE",
                     help=_("customer segment, repeatable (acquisition_channel=search --filter region=FR)"))
    rep.add_argument("--min-segment", type=int, default=10,
                     help=_("partner edition: fewest customers a figure may rest on (default 10)"))
    rep.add_argument("--lang", choices=list(i18n.LANGUAGES), help=lang_help)
    rep.add_argument("--out", required=True, help=_("the PDF file to write"))
    rep.set_defaults(run=_report)

    send = commands.add_parser("send", help=_("send a view's PDF by e-mail (SMTP settings in a config file beside "
                                              "the database; README, \"Scheduled delivery\")"))
    send.add_argument("--db", help=db_help)
    send.add_argument("--edition", choices=editions, required=True,
                      help=_("board, or partner: only to the addresses the config lists as partners"))
    send.add_argument("--period", required=True, help=_("last-month, last-quarter, last-year (the last complete "
                                                        "one in the data) or a period: 2026-09, 2026-Q3, 2026"))
    send.add_argument("--compare", choices=COMPARES, default="previous",
                      help=_("compare with the previous period (default) or the same period last year"))
    send.add_argument("--filter", action="append", default=[], metavar="NAME=VALUE",
                      help=_("customer segment, repeatable (acquisition_channel=search --filter region=FR)"))
    send.add_argument("--min-segment", type=int, default=10,
                      help=_("partner edition: fewest customers a figure may rest on (default 10)"))
    send.add_argument("--to", action="extend", nargs="+", required=True, metavar="ADDRESS",
                      help=_("recipient, repeatable (--to a@acme.example b@acme.example)"))
    send.add_argument("--lang", choices=list(i18n.LANGUAGES), help=lang_help)
    send.add_argument("--only-if-off-track", action="store_true",
                      help=_("send only if a KPI with a target is off track or a KPI moved beyond its noise"))
    send.add_argument("--config", help=_("the delivery config (default: beside the database, "
                                         "data/emptychair.delivery.toml)"))
    send.add_argument("--dry-run", action="store_true",
                      help=_("build the message and print it without sending (no password needed)"))
    send.set_defaults(run=_send)

    def action(acts, name: str, text: str, run) -> argparse.ArgumentParser:
        sub = acts.add_parser(name, help=text)
        sub.add_argument("--db", help=db_help)
        sub.set_defaults(run=run)
        return sub

    targets = commands.add_parser("targets", help=_("the company's targets: a KPI's goal for a period and segment"))
    acts = targets.add_subparsers(dest="action", required=True)
    action(acts, "import", _("add or replace targets from a CSV (kpi,period,target[,segment,tolerance,public]); a "
                             "bad row refuses the whole file"), _targets_import).add_argument("file")
    action(acts, "list", _("the targets stored"), _targets_list)
    remove = action(acts, "remove", _("remove one target"), _targets_remove)
    remove.add_argument("kpi")
    remove.add_argument("period")
    remove.add_argument("--segment", help=_("the target's segment (region=FR); default all customers"))
    action(acts, "kpis", _("the KPIs a target can be set for, and how to write one"), _targets_kpis)

    events = commands.add_parser("events", help=_("dated notes drawn on every time chart (campaigns, price "
                                                  "changes…)"))
    acts = events.add_subparsers(dest="action", required=True)
    add = action(acts, "add", _("add one event"), _events_add)
    add.add_argument("--date", required=True, help=_("its day, or first day (YYYY-MM-DD)"))
    add.add_argument("--until", help=_("its last day, for a range"))
    add.add_argument("--label", required=True, help=_("what happened, in a few words"))
    add.add_argument("--category", default="other", help=_("one of {categories} (default other)").format(
        categories=", ".join(CATEGORIES)))
    add.add_argument("--segment", help=_("the segment it concerns (acquisition_channel=search); default everyone"))
    action(acts, "import", _("add events from a CSV (date,label[,until,category,segment])"), _events_import
           ).add_argument("file")
    action(acts, "list", _("the events stored"), _events_list)
    action(acts, "remove", _("remove one event by its number (events list)"), _events_remove
           ).add_argument("id", type=_at_least(1))
    return root


def _asked_language(argv: list[str]) -> str:
    """The language the command speaks: --lang when given and known (report, send), else the environment's."""
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        value = arg.partition("=")[2] if arg.startswith("--lang=") else (
            argv[index + 1] if arg == "--lang" and index + 1 < len(argv) else None)
        if value in i18n.LANGUAGES:
            return value
    return i18n.from_environment()


@contextmanager
def _argparse_speaks() -> Iterator[None]:
    """argparse's own messages in the current language (it looks them up through its module's `_`)."""
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _, ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


PROGRESS = ("demo", "import", "report", "send")  # the long commands: their steps on stderr (store.progress)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # The language first: argparse writes the help and the usage errors as the parser is built and run.
    with i18n.use(_asked_language(argv)):
        with _argparse_speaks():
            args = parser().parse_args(argv)
            complaint = getattr(args, "usage", lambda _args: None)(args)
            if complaint:
                args.parser.error(complaint)  # usage, the complaint, exit 2
        reporter = progress.for_stream(sys.stderr, args.command) if args.command in PROGRESS else None
        with i18n.use(getattr(args, "lang", None) or i18n.language()), progress.reporting(reporter):
            return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
