"""Scheduled delivery (issue 16): a snapshot PDF sent by SMTP with a short body — the period, the KPIs off track, the
changes beyond noise — to the board, or to the partners the delivery config lists.

    config = load_config(config_path(db_path))     # [smtp] and [partners]; the password from an environment variable
    recipients = check_recipients(config, "partner", ["ir@bank.example"])
    chosen = view(db, "partner", "last-quarter")
    found = findings(db, chosen, targets)           # falsy: nothing off track, no change beyond noise
    snap, pdf = build(db, chosen, targets, events)
    message = compose(chosen, shown(found, snap), snap, pdf, config.smtp.sender, recipients)
    send(config.smtp, password(config), message, recipients)

Nothing half-sent: every recipient is accepted by the server (RCPT) before the one message is handed over (DATA); a
refused one resets the transaction. Every failure is a DeliveryError saying what failed.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import tomllib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

import pandas as pd

from i18n import N_, _, formats
from kpis import REGISTRY, Period, Unit
from kpis import format as fmt
from kpis.alerts import Move, beyond_noise, described
from kpis.labels import compared_with, describe_filters
from kpis.periods import last_complete
from kpis.targets import scorecard
from report import RENDER_STEPS, collect, render
from report.data import Snapshot, check_period, edition_name, normalise_filters
from store import progress
from store.files import db_path

SECURITIES = {"starttls": 587, "ssl": 465, "none": 25}  # → the default port
SMTP_KEYS = ("host", "port", "security", "user", "from", "password_env", "timeout")
PASSWORD_ENV = "EMPTYCHAIR_SMTP_PASSWORD"
TIMEOUT = 20.0  # seconds: connecting, and each exchange with the server
RELATIVE = {"last-month": "month", "last-quarter": "quarter", "last-year": "year"}
QUIET = N_("nothing off track and no change beyond noise: not sent")  # printed translated: _(QUIET)
# What the subject, the body and the attachment call each edition (translated where used).
SNAPSHOTS = {"board": N_("board snapshot"), "partner": N_("partner snapshot")}
ATTACHED = {"board": N_("The board snapshot is attached: {file} ({size} KB)."),
            "partner": N_("The partner snapshot is attached: {file} ({size} KB).")}
ATTACHMENTS = {"board": N_("emptychair_board_{period}.pdf"), "partner": N_("emptychair_partner_{period}.pdf")}
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,63}}")


class DeliveryError(ValueError):
    """A sending that cannot go (config, recipient, server, login): nothing was sent."""


# --- the config --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    security: str  # a key of SECURITIES
    user: str | None
    sender: str  # the From header: "Empty Chair <reports@acme.example>"
    password_env: str
    timeout: float


@dataclass(frozen=True)
class Config:
    path: Path
    smtp: Smtp
    partners: frozenset[str]  # lower-case addresses


def config_path(database=None) -> Path:
    """The delivery config beside the database (data/emptychair.duckdb → data/emptychair.delivery.toml)."""
    path = db_path(database)
    return path.with_name(f"{path.stem}.delivery.toml")


def is_address(text: str) -> bool:
    """A bare address (local@domain.tld) in plain ASCII: no name, no comment, no line break."""
    return len(text) <= 254 and ADDRESS.fullmatch(text) is not None


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeliveryError(_("{path}: no delivery config there (delivery.example.toml shows one; --config PATH "
                              "names another)").format(path=path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DeliveryError(_("{path}: cannot be read ({why})").format(
            path=path, why=getattr(error, "strerror", None) or error)) from None
    except tomllib.TOMLDecodeError as error:
        raise DeliveryError(_("{path}: not valid TOML ({why})").format(path=path, why=error)) from None


_REQUIRED = object()


def _setting(table: dict, key: str, kind, what: str, problems: list[str], default=_REQUIRED):
    """smtp.<key> if it is of `kind`, else `default` (None for a required key) and a problem noted."""
    value = table.get(key, default)
    if value is _REQUIRED or not isinstance(value, kind) or isinstance(value, bool):
        problems.append(_("smtp.{key} must be {what}, not {value}").format(key=key, what=_(what), value=repr(value))
                        if key in table else _("smtp.{key} is missing").format(key=key))
        return None if default is _REQUIRED else default
    return value


def _smtp(table: dict, problems: list[str]) -> Smtp:
    problems += [_("unknown key smtp.{key}: the password is never read from the file, set the environment "
                   "variable named by password_env").format(key=k) if k == "password"
                 else _("unknown key smtp.{key}").format(key=k) for k in table if k not in SMTP_KEYS]
    host = _setting(table, "host", str, N_("a host name"), problems) or ""
    if "host" in table and not host.strip():
        problems.append(_("smtp.host is empty"))
    security = _setting(table, "security", str, N_("a string"), problems, "starttls")
    if security not in SECURITIES:
        problems.append(_("smtp.security must be {choices}, not {value}").format(
            choices=", ".join(map(repr, SECURITIES)), value=repr(security)))
        security = "starttls"
    port = _setting(table, "port", int, N_("a whole number"), problems, SECURITIES[security])
    if not 0 < port < 65536:
        problems.append(_("smtp.port {port} is not a port (1 to 65535)").format(port=port))
    user = _setting(table, "user", str, N_("a string"), problems, "") or None
    sender = _setting(table, "from", str, N_('an address ("Name <reports@acme.example>")'), problems) or ""
    if "from" in table and isinstance(table["from"], str) and not is_address(parseaddr(sender)[1]):
        problems.append(_('smtp.from {value} is not an address ("Name <reports@acme.example>")').format(
            value=repr(sender)))
    env = _setting(table, "password_env", str, N_("an environment variable's name"), problems, PASSWORD_ENV)
    timeout = _setting(table, "timeout", int | float, N_("a number of seconds"), problems, TIMEOUT)
    if timeout <= 0:
        problems.append(_("smtp.timeout must be more than 0 seconds, not {value}").format(value=timeout))
    return Smtp(host.strip(), port, security, user, sender, env, float(timeout))


def _partners(table, problems: list[str]) -> frozenset[str]:
    if not isinstance(table, dict) or not isinstance(table.get("addresses", []), list):
        problems.append(_('[partners] must hold addresses = ["ir@bank.example", …]'))
        return frozenset()
    addresses = table.get("addresses", [])
    problems += [_("unknown key partners.{key}").format(key=k) for k in table if k != "addresses"]
    problems += [_("partners.addresses: {address} is not an address").format(address=repr(a)) for a in addresses
                 if not isinstance(a, str) or not is_address(a)]
    return frozenset(a.lower() for a in addresses if isinstance(a, str))


def load_config(path) -> Config:
    """The delivery config (README, "Scheduled delivery"); DeliveryError naming the file and every problem."""
    path = Path(path)
    raw = _toml(path)
    problems = [_("unknown table or key {key} (use [smtp] and [partners])").format(key=repr(k)) for k in raw
                if k not in ("smtp", "partners")]
    smtp = _smtp(raw["smtp"], problems) if isinstance(raw.get("smtp"), dict) else None
    if smtp is None:
        problems.append(_("no [smtp] table (host, port, security, user, from)"))
    partners = _partners(raw.get("partners", {}), problems)
    if problems:
        raise DeliveryError(f"{path}: " + "; ".join(dict.fromkeys(problems)))
    return Config(path, smtp, partners)


def password(config: Config) -> str | None:
    """The SMTP password from the environment variable the config names (None when there is no login)."""
    if not config.smtp.user:
        return None
    value = os.environ.get(config.smtp.password_env)
    if not value:
        raise DeliveryError(_("no SMTP password: set the environment variable {variable} (the password_env of "
                              "{path}) for the login {user}").format(variable=config.smtp.password_env,
                                                                      path=config.path, user=config.smtp.user))
    return value


def check_recipients(config: Config, edition: str, addresses: list[str]) -> list[str]:
    """The recipients, each once; DeliveryError naming every malformed address, every partner asked to receive the
    board edition and every address not listed as a partner asked to receive the partner edition."""
    chosen: list[str] = []
    for address in (a.strip() for a in addresses):
        if address.lower() not in map(str.lower, chosen):
            chosen.append(address)
    bad = [a for a in chosen if not is_address(a)]
    if bad:
        raise DeliveryError(_("not an e-mail address: {addresses} (write name@example.com)").format(
            addresses=", ".join(map(repr, bad))))
    if edition == "board":
        wrong = [a for a in chosen if a.lower() in config.partners]
        why = _("{addresses}: listed as partners in {path}: they receive the partner edition only; nothing was sent")
    else:
        wrong = [a for a in chosen if a.lower() not in config.partners]
        why = _("{addresses}: not listed as partners in {path} ([partners] addresses): the partner edition goes to "
                "partners only; nothing was sent")
    if wrong:
        raise DeliveryError(why.format(addresses=", ".join(wrong), path=config.path))
    return chosen


# --- the view and what the message says --------------------------------------------------------------------------

@dataclass
class View:
    edition: str
    period: Period
    compare: str = "previous"
    filters: dict = field(default_factory=dict)
    min_segment: int = 10

    @property
    def partner(self) -> bool:
        return self.edition == "partner"


def resolve_period(text: str, data_end) -> Period:
    """last-month, last-quarter, last-year (the last complete one in the data) or an explicit period."""
    if text in RELATIVE:
        if data_end is None:
            raise DeliveryError(_("the database has no orders"))
        return last_complete(data_end, RELATIVE[text])
    try:
        return Period.parse(text)
    except ValueError as error:
        raise DeliveryError(_("{error}, or {choices}").format(error=error, choices=", ".join(RELATIVE))) from None


def view(db, edition: str, period: str, compare: str = "previous", filters: dict | None = None,
         min_segment: int = 10) -> View:
    """The view to send, checked against the data (ReportError or DeliveryError)."""
    if min_segment < 1:
        raise DeliveryError(_("--min-segment must be at least 1"))
    chosen = check_period(db, resolve_period(period, db.data_end))
    return View(edition, chosen, compare, normalise_filters(db, filters), min_segment)


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    """--filter NAME=VALUE items as a segment mapping."""
    filters: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = (part.strip() for part in item.partition("="))
        if not (sep and name and value):
            raise DeliveryError(_("--filter {item}: use NAME=VALUE, e.g. --filter acquisition_channel=search").format(
                item=repr(item)))
        filters.setdefault(name, []).append(value)
    return filters


@dataclass
class Findings:
    """What makes a sending worth it: the KPIs off track against their targets, and the changes beyond noise."""

    card: pd.DataFrame  # kpis.targets.scorecard: every KPI with a target for the view
    moves: list[Move]

    @property
    def off_track(self) -> pd.DataFrame:
        return self.card[self.card["status"] == "off track"]

    def __bool__(self) -> bool:
        return bool(len(self.off_track) or self.moves)


def findings(db, chosen: View, targets: pd.DataFrame) -> Findings:
    """The view's scorecard (public targets only for partners) and its changes beyond noise."""
    with progress.step(_("checking the targets and the changes beyond noise")):
        card = scorecard(db, targets, chosen.period, chosen.filters, public_only=chosen.partner)
        return Findings(card, beyond_noise(db, chosen.period, chosen.compare, chosen.filters))


def shown(found: Findings, snap: Snapshot) -> Findings:
    """What the snapshot may show of the findings: everything for the board; for partners, only KPIs whose figures
    the partner edition prints (not suppressed for too few customers, the comparison's too for a change)."""
    if not snap.partner:
        return found

    def printed(key: str, reference: bool) -> bool:
        figure = snap.figures.get(key)
        return figure is not None and figure.value is not None and (not reference or figure.reference is not None)

    card = found.card[found.card["kpi"].map(lambda key: printed(key, False)).astype(bool)]
    return Findings(card, [m for m in found.moves if printed(m.kpi, True)])


def build(db, chosen: View, targets: pd.DataFrame, events: pd.DataFrame) -> tuple[Snapshot, bytes]:
    """The view's snapshot and its PDF (report.build_report in two steps: the body reads the snapshot)."""
    progress.expect(RENDER_STEPS + 1)
    with progress.step(_("computing the snapshot")):
        snap = collect(db, chosen.period, compare=chosen.compare, edition=chosen.edition, filters=chosen.filters,
                       min_segment=chosen.min_segment, targets=targets, events=events)
    return snap, render(snap)


def subject(chosen: View) -> str:
    """"Empty Chair · board snapshot · Q3 2026", and the segment when there is one (in the current language)."""
    parts = ["Empty Chair", _(SNAPSHOTS[chosen.edition]), chosen.period.label]
    if any(chosen.filters.values()):
        parts.append(describe_filters(chosen.filters))
    return " · ".join(parts)


def attachment_name(chosen: View) -> str:
    """"emptychair_board_2026-10.pdf" ("emptychair_direction_2026-10.pdf" in French): ASCII, the period as a key."""
    return _(ATTACHMENTS[chosen.edition]).format(period=chosen.period)


def _off_track_line(row: dict, currency: str) -> str:
    unit = Unit(row["unit"])
    said = dict(kpi=REGISTRY[row["kpi"]].label,
                actual=fmt.value(row["actual"], unit, currency), target=fmt.value(row["target"], unit, currency))
    if row["gap_share"] is None:
        return "  - " + _("{kpi}: {actual} against a target of {target}").format(**said)
    return "  - " + _("{kpi}: {actual} against a target of {target} ({gap})").format(
        gap=formats.percent(row["gap_share"], 1, sign=True), **said)


def body(chosen: View, found: Findings, snap: Snapshot, pdf: bytes) -> str:
    """The message's text, in the current language: the view, the KPIs off track, the changes beyond noise, the
    attachment."""
    reference = chosen.period.reference(chosen.compare)
    lines = [f"Empty Chair · {edition_name(chosen.edition).lower()}",
             _("Period: {period}, {compared}").format(period=chosen.period.label,
                                                      compared=compared_with(chosen.compare, reference.label)),
             _("Segment: {segment}").format(segment=describe_filters(chosen.filters)),
             _("Data as of {date} (last order)").format(date=formats.date(snap.data_end)), ""]
    public = chosen.partner
    off, at_risk = found.off_track, found.card.loc[found.card["status"] == "at risk", "kpi"].tolist()
    count = dict(n=len(off), total=len(found.card))
    if not len(found.card):
        lines.append(_("No public target is set for this view.") if public else _("No target is set for this view."))
    elif len(off):
        lines.append((_("Off track against their public targets ({n} of {total}):") if public
                      else _("Off track against their targets ({n} of {total}):")).format(**count))
        lines += [_off_track_line(row, snap.currency) for row in off.to_dict("records")]
    else:
        lines.append((_("No KPI is off track against its public target ({total} set).") if public
                      else _("No KPI is off track against its target ({total} set).")).format(**count))
    if at_risk:
        names = ", ".join(REGISTRY[k].label for k in at_risk)
        lines.append((_("At risk (short of the public target by at most its tolerance): {kpis}.") if public
                      else _("At risk (short of the target by at most its tolerance): {kpis}.")).format(kpis=names))
    lines.append("")
    if found.moves:
        lines.append(_("Changes beyond noise ({n}):").format(n=len(found.moves)))
        lines += ["  - " + described(move, snap.currency) for move in found.moves]
    else:
        lines.append(_("No change beyond noise (the models' uncertainty, the surveys' margin of error)."))
    lines += ["", _(ATTACHED[chosen.edition]).format(file=attachment_name(chosen),
                                                     size=formats.number(len(pdf) / 1024))]
    return "\n".join(lines) + "\n"


def compose(chosen: View, found: Findings, snap: Snapshot, pdf: bytes, sender: str,
            recipients: list[str]) -> EmailMessage:
    """One message for every recipient; partners do not see each other's addresses."""
    message = EmailMessage()
    message["Subject"] = subject(chosen)
    message["From"] = sender
    message["To"] = ", ".join(recipients) if not chosen.partner else "undisclosed-recipients:;"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2])
    message.set_content(body(chosen, found, snap, pdf), cte="quoted-printable")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=attachment_name(chosen))
    return message


def summary(message: EmailMessage, recipients: list[str]) -> str:
    """What a dry run prints: the envelope, the headers, the attachment and the body."""
    attachment = next(message.iter_attachments())
    size = len(attachment.get_content()) / 1024
    attached = _("Attached: {file} ({size} KB)").format(file=attachment.get_filename(), size=formats.number(size))
    return (f"From: {message['From']}\nTo: {', '.join(recipients)}\nSubject: {message['Subject']}\n"
            f"{attached}\n\n{message.get_body().get_content()}")


# --- sending -----------------------------------------------------------------------------------------------------

def _reason(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{error.smtp_code} {text}"
    return str(error) or type(error).__name__


def _close(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _hand_over(client: smtplib.SMTP, sender: str, message: EmailMessage, recipients: list[str]) -> None:
    """MAIL FROM, RCPT TO for every recipient, and DATA only once all were accepted (else RSET)."""
    client.ehlo_or_helo_if_needed()
    code, reply = client.mail(parseaddr(sender)[1])
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for address in recipients:
        code, reply = client.rcpt(address)
        if code not in (250, 251):
            refused[address] = f"{code} {reply.decode(errors='replace')}"
    if refused:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            client.rset()
        raise DeliveryError(_("the server refused {addresses}: nothing was sent").format(
            addresses="; ".join(f"{a} ({why})" for a, why in refused.items())))
    client.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))


def send(smtp: Smtp, secret: str | None, message: EmailMessage, recipients: list[str]) -> None:
    """Deliver the one message to every recipient or to none; DeliveryError saying which step failed and why."""
    with progress.step(_("sending through {host}").format(host=smtp.host)):
        _deliver(smtp, secret, message, recipients)


def _deliver(smtp: Smtp, secret: str | None, message: EmailMessage, recipients: list[str]) -> None:
    step, client = _("connecting to {host}:{port}").format(host=smtp.host, port=smtp.port), None
    try:
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        if smtp.security == "starttls":
            step = _("starting TLS with {host} (STARTTLS)").format(host=smtp.host)
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            step = _("logging in to {host} as {user}").format(host=smtp.host, user=smtp.user)
            client.login(smtp.user, secret or "")
        step = _("sending through {host}").format(host=smtp.host)
        _hand_over(client, smtp.sender, message, recipients)
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryError(_("{step}: the server refused the login ({reason}); nothing was sent").format(
            step=step, reason=_reason(error))) from None
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(_("{step} failed: {reason}; nothing was sent").format(step=step,
                                                                                 reason=_reason(error))) from None
    finally:
        _close(client)
