"""Scheduled delivery (`cli.py send`, report/delivery.py) against real SMTP servers on 127.0.0.1 (aiosmtpd): the PDF
arrives, partners get the partner edition only, and a refused login, an unreachable server, a bad or refused address
exit 2 with nothing sent and nothing recorded; --only-if-off-track stays silent on a quiet view."""

from __future__ import annotations

import contextlib
import email
import io
import re
import shlex
from datetime import date
from email import policy
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pypdf import PdfReader

import cli
import kpis
from kpis.alerts import MODELS_NOISE, SURVEY_NOISE, Move, beyond_noise
from kpis.intervals import INTERVAL_KPIS, change_interval
from report import delivery
from report.data import Figure
from store.settings import Settings
from tests.conftest import _free_port

ROOT = Path(__file__).resolve().parent.parent
PERIOD = "2026-10"  # `--period last-month` on the demo (data end 31 Oct 2026): the dates its build stored models for
QUIET = ["--filter", "cohort=2026-10"]  # the month's own new customers: no earlier period to have moved from
USER, PASSWORD, PASSWORD_ENV = "reports@acme.example", "s3cret", "EMPTYCHAIR_TEST_SMTP_PASSWORD"
PARTNER = "ir@bank.example"
BOARD = ["ceo@acme.example", "cfo@acme.example"]
REFUSED = "nobody@acme.example"
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # on purpose: see servers


# --- SMTP servers ------------------------------------------------------------------------------------------------

class Mailbox:
    """An aiosmtpd handler keeping every message it accepts; it refuses the addresses in `refuse` at RCPT."""

    def __init__(self, refuse: tuple[str, ...] = ()):
        self.envelopes, self.refuse = [], refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """One user and password, as a mail provider's submission port has."""
    valid = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (USER.encode(),
                                                                                                PASSWORD.encode())
    return AuthResult(success=valid, handled=False)  # aiosmtpd then answers 535 itself


@pytest.fixture(scope="module")
def servers():
    """"login": login required (without TLS: a test certificate would prove nothing here); "plain": no login, and it
    refuses REFUSED; "closed": a port nobody listens on."""
    mailboxes = {"login": Mailbox(), "plain": Mailbox(refuse=(REFUSED,))}
    options = {"login": {"auth_required": True, "auth_require_tls": False, "authenticator": authenticate},
               "plain": {}}
    controllers = [Controller(mailboxes[n], hostname="127.0.0.1", port=_free_port(), **options[n]) for n in options]
    for controller in controllers:
        controller.start()
    ports = {name: c.port for name, c in zip(options, controllers, strict=True)} | {"closed": _free_port()}
    yield mailboxes, ports
    for controller in controllers:
        controller.stop()


@pytest.fixture
def mailboxes(servers):
    """The servers' mailboxes, emptied for each test."""
    for box in servers[0].values():
        box.envelopes.clear()
    return servers[0]


def received(boxes) -> list:
    return [e for box in boxes.values() for e in box.envelopes]


def write_config(path: Path, port: int, **smtp) -> Path:
    """A delivery config for a server on 127.0.0.1 (no TLS, login as USER unless user=None), with PARTNER listed."""
    settings = {"host": "127.0.0.1", "port": port, "security": "none", "user": USER,
                "from": "Empty Chair <reports@acme.example>", "password_env": PASSWORD_ENV} | smtp
    lines = [f"{key} = {value!r}".replace("'", '"') for key, value in settings.items() if value is not None]
    path.write_text("[smtp]\n" + "\n".join(lines) + f'\n\n[partners]\naddresses = ["{PARTNER}"]\n')
    return path


# --- the database, its settings, and the PDFs --------------------------------------------------------------------

@pytest.fixture(scope="module")
def base(demo_base, tmp_path_factory, servers):
    """data/emptychair.duckdb linked to the 2,000-customer demo, its settings store with three targets that are
    off track in October 2026, and the delivery config beside it (the "login" server)."""
    folder = tmp_path_factory.mktemp("delivery") / "data"
    folder.mkdir()
    (folder / "emptychair.duckdb").symlink_to(demo_base(2_000, 7))
    db = kpis.connect(folder / "emptychair.duckdb")
    cohort = {"cohort": ["2026-10"]}
    targets = [("revenue", "", kpis.evaluate(db, "revenue", PERIOD), False),
               ("new_customers", "cohort=2026-10", kpis.evaluate(db, "new_customers", PERIOD, filters=cohort), True),
               ("orders", "cohort=2026-10", kpis.evaluate(db, "orders", PERIOD, filters=cohort), False)]
    Settings(folder / "emptychair.settings.duckdb").put_targets(
        {"kpi": kpi, "period": PERIOD, "segment": segment, "target": 10 * actual, "tolerance": 0.05, "public": public}
        for kpi, segment, actual, public in targets)
    write_config(folder / "emptychair.delivery.toml", servers[1]["login"])
    return folder / "emptychair.duckdb", db


@pytest.fixture(scope="module", autouse=True)
def environment():
    with pytest.MonkeyPatch.context() as patch:
        for name in ("EMPTYCHAIR_DB", "EMPTYCHAIR_SETTINGS", PASSWORD_ENV):
            patch.delenv(name, raising=False)
        yield patch


@pytest.fixture(scope="module")
def builds(environment):
    """delivery.build made once per view: a PDF takes seconds and equal arguments give an equal result, so the file's
    sendings share each view's. Returns the views asked for, one per call."""
    real, made, asked = delivery.build, {}, []

    def build(db, chosen, targets, events):
        asked.append(chosen)
        key = (db.name, repr(chosen), targets.to_json(date_format="iso"), events.to_json(date_format="iso"))
        if key not in made:
            made[key] = real(db, chosen, targets, events)
        return made[key]

    environment.setattr(delivery, "build", build)
    return asked


def run(*args: str, password: str | None = PASSWORD) -> tuple[int, str, str]:
    """cli.py in this process (so that the PDFs are shared): exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        if password is not None:
            patch.setenv(PASSWORD_ENV, password)
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


def send(base, *args: str, password: str | None = PASSWORD) -> tuple[int, str, str]:
    return run("send", "--db", str(base[0]), "--period", "last-month", *args, password=password)


def sendings(base):
    return Settings(base[0].with_name("emptychair.settings.duckdb")).sendings()


def message_of(envelope):
    return email.message_from_bytes(envelope.content, policy=policy.default)


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def section(body: str, heading: str) -> list[str]:
    """The lines under a heading of the body, to the next blank line."""
    return body.split(f"{heading}\n", 1)[1].split("\n\n", 1)[0].splitlines()


def attached(message) -> tuple[str, str]:
    """The attachment's file name and its PDF's text."""
    (part,) = message.iter_attachments()
    assert part.get_content_type() == "application/pdf"
    reader = PdfReader(io.BytesIO(part.get_content()))
    return part.get_filename(), " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture(scope="module")
def board_sent(base, servers, builds):
    """The board edition of last month, for all customers, sent to two board members through the "login" server."""
    before = len(sendings(base))
    box = servers[0]["login"]
    box.envelopes.clear()
    outcome = send(base, "--edition", "board", "--to", *BOARD)
    return outcome, list(box.envelopes), sendings(base).iloc[before:]


@pytest.fixture(scope="module")
def partner_sent(base, servers, builds):
    """The partner edition of last month's cohort to the partner, sent because its public target is off track."""
    box = servers[0]["login"]
    box.envelopes.clear()
    outcome = send(base, "--edition", "partner", *QUIET, "--only-if-off-track", "--to", PARTNER)
    return outcome, list(box.envelopes)


# --- what arrives ------------------------------------------------------------------------------------------------

def test_the_board_edition_arrives_with_its_pdf(board_sent):
    (code, out, err), envelopes, _ = board_sent
    assert code == 0, err
    assert "sent the board snapshot for Oct 2026" in out
    (envelope,) = envelopes
    assert envelope.mail_from == USER and envelope.rcpt_tos == BOARD
    assert envelope.content.isascii()  # the server needs neither 8BITMIME nor SMTPUTF8
    message = message_of(envelope)
    assert message["Subject"] == "Empty Chair · board snapshot · Oct 2026"
    assert message["To"] == ", ".join(BOARD)
    name, text = attached(message)
    assert name == "emptychair_board_2026-10.pdf"
    assert "BOARD EDITION" in text and "PARTNER EDITION" not in text
    assert "Oct 2026 · compared with the previous period (Sep 2026)" in text and "Segment: all customers" in text


def test_the_board_body_tells_the_period_the_kpis_off_track_and_the_changes_beyond_noise(board_sent, base):
    (_, _, _), (envelope,), _ = board_sent
    body = text_of(message_of(envelope))
    assert "Period: Oct 2026, compared with the previous period (Sep 2026)" in body
    (off_track,) = section(body, "Off track against their targets (1 of 1):")
    assert off_track.startswith("  - Revenue: ") and off_track.endswith("(-90.0 %)")
    moved = beyond_noise(base[1], PERIOD)
    assert moved, "the demo's October moves beyond noise (customer equity): else this test proves little"
    changes = section(body, f"Changes beyond noise ({len(moved)}):")
    assert [re.sub(r" (rose|fell) from .*", "", line) for line in changes] == [
        f"  - {kpis.REGISTRY[m.kpi].label}" for m in moved]
    assert "The board snapshot is attached: emptychair_board_2026-10.pdf" in body


def test_a_sending_is_recorded_in_the_settings_store(board_sent):
    _, _, recorded = board_sent
    (row,) = recorded.to_dict("records")
    assert (row["edition"], row["period"], list(row["recipients"])) == ("board", PERIOD, BOARD)
    assert row["subject"] == "Empty Chair · board snapshot · Oct 2026" and row["sent_by"].startswith("cli:")


def test_the_partner_edition_arrives_to_the_partner_and_is_the_partner_edition(partner_sent, base):
    (code, out, err), envelopes = partner_sent
    assert beyond_noise(base[1], PERIOD, filters={"cohort": ["2026-10"]}) == []  # it went for its target alone
    assert code == 0, err
    (envelope,) = envelopes
    assert envelope.rcpt_tos == [PARTNER]
    message = message_of(envelope)
    assert message["Subject"] == "Empty Chair · partner snapshot · Oct 2026 · Acquisition cohort: Oct 2026"
    assert message["To"] == "undisclosed-recipients:;"  # partners do not learn of each other
    name, text = attached(message)
    assert name == "emptychair_partner_2026-10.pdf"
    assert "PARTNER EDITION" in text and "BOARD EDITION" not in text and "Oct 2026" in text
    body = text_of(message)
    assert "Off track against their public targets (1 of 1):" in body and "New customers:" in body
    assert "Orders" not in body  # its target is not public


def test_the_board_sees_the_target_a_partner_does_not(base):
    """The same view's findings: the private target (orders) counts for the board only."""
    found = {edition: delivery.findings(base[1], delivery.view(base[1], edition, PERIOD, filters={"cohort": "2026-10"}),
                                        Settings(base[0].with_name("emptychair.settings.duckdb")).targets())
             for edition in ("board", "partner")}
    assert list(found["board"].off_track["kpi"]) == ["new_customers", "orders"]
    assert list(found["partner"].off_track["kpi"]) == ["new_customers"]


def test_a_dry_run_prints_the_message_and_sends_nothing(base, mailboxes, builds):
    before = len(sendings(base))
    code, out, err = send(base, "--edition", "board", "--to", BOARD[0], "--dry-run", password=None)
    assert code == 0, err
    assert "Subject: Empty Chair · board snapshot · Oct 2026" in out and "Attached: emptychair_board_2026-10.pdf" in out
    assert out.rstrip().endswith("dry run: not sent")
    assert received(mailboxes) == [] and len(sendings(base)) == before


# --- --only-if-off-track ----------------------------------------------------------------------------------------

def test_only_if_off_track_stays_silent_on_a_quiet_view(base, mailboxes, builds, tmp_path, monkeypatch):
    """The cohort of October without any target (a settings store of its own) and nothing beyond noise: no PDF is
    even built."""
    assert beyond_noise(base[1], PERIOD, filters={"cohort": ["2026-10"]}) == []
    monkeypatch.setenv("EMPTYCHAIR_SETTINGS", str(tmp_path / "empty.settings.duckdb"))
    asked = len(builds)
    code, out, err = send(base, "--edition", "board", *QUIET, "--only-if-off-track", "--to", BOARD[0])
    assert (code, out.strip()) == (0, delivery.QUIET)
    # on stderr only the progress of the one step run (store.progress): the check, started and done; no snapshot
    checking = "send: checking the targets and the changes beyond noise"
    assert [re.sub(r"^\S+ \S+Z  |\(.* s\)$", "", line) for line in err.splitlines()] == [
        f"{checking}…", f"{checking}: done "]
    assert received(mailboxes) == [] and len(builds) == asked
    assert Settings(tmp_path / "empty.settings.duckdb").sendings().empty


def test_the_partner_body_leaves_out_what_the_partner_pdf_suppresses():
    """A KPI whose figure the partner edition suppresses (too few customers), or whose comparison it suppresses for a
    change, is not in the partner's body; the board's keeps everything."""
    card = pd.DataFrame({"kpi": ["new_customers", "revenue"], "status": ["off track", "off track"]})
    moves = [Move("nps", 30, 10, 5, 35, SURVEY_NOISE), Move("customer_equity", 2e6, 1e6, 5e5, 1.5e6, MODELS_NOISE)]
    figures = {"new_customers": Figure("new_customers", None, 5, suppressed=True), "revenue": Figure("revenue", 1, 2),
               "nps": Figure("nps", 30, None, reference_suppressed=True),
               "customer_equity": Figure("customer_equity", 2e6, 1e6)}
    found = delivery.Findings(card, moves)
    partner = delivery.shown(found, SimpleNamespace(partner=True, figures=figures))
    assert list(partner.off_track["kpi"]) == ["revenue"] and [m.kpi for m in partner.moves] == ["customer_equity"]
    assert delivery.shown(found, SimpleNamespace(partner=False, figures=figures)) is found


def test_beyond_noise_is_each_kpis_own_interval_excluding_zero(base):
    """Region DE in October: model-based moves and a CSAT move, each the interval its own module gives."""
    db, segment = base[1], {"region": ["DE"]}
    moves = {m.kpi: m for m in beyond_noise(db, PERIOD, filters=segment)}
    assert moves["csat"].noise == SURVEY_NOISE and moves["customer_equity"].noise == MODELS_NOISE
    for key in INTERVAL_KPIS:
        bounds = change_interval(db, key, PERIOD, "previous", segment)
        assert (key in moves) == (bounds is not None and not bounds[0] <= 0 <= bounds[1]), key
        if key in moves:
            assert (moves[key].low, moves[key].high) == pytest.approx(bounds, rel=1e-9)  # DuckDB's sums' order
    for key in ("nps", "csat"):
        change = kpis.change_with_margin(db, key, PERIOD, "previous", segment)
        assert (key in moves) == (change["within_noise"] is False), key


# --- nothing half-sent: exit 2, nothing received, nothing recorded -----------------------------------------------

@pytest.mark.parametrize(("server", "smtp", "password", "said"), [
    ("login", {}, "wrong", "logging in to 127.0.0.1 as reports@acme.example: the server refused the login (535"),
    ("closed", {}, PASSWORD, "connecting to 127.0.0.1:{port} failed: [Errno 111] Connection refused"),
    ("plain", {"security": "starttls"}, PASSWORD, "(STARTTLS) failed: STARTTLS extension not supported by server"),
    ("plain", {}, PASSWORD, "logging in to 127.0.0.1 as reports@acme.example failed: SMTP AUTH extension not "
                            "supported by server"),
], ids=["refused login", "unreachable server", "no STARTTLS", "no login offered"])
def test_a_failing_server_exits_2_with_what_failed(base, servers, mailboxes, builds, tmp_path, server, smtp,
                                                   password, said):
    port = servers[1][server]
    config = write_config(tmp_path / "delivery.toml", port, **smtp)
    before = len(sendings(base))
    code, out, err = send(base, "--edition", "board", "--to", *BOARD, "--config", str(config), password=password)
    assert code == 2 and said.format(port=port) in err and "nothing was sent" in err, err
    assert received(mailboxes) == [] and len(sendings(base)) == before


def test_one_refused_recipient_sends_nothing_to_the_other(base, servers, mailboxes, builds, tmp_path):
    config = write_config(tmp_path / "delivery.toml", servers[1]["plain"], user=None)
    before = len(sendings(base))
    code, _, err = send(base, "--edition", "board", "--to", BOARD[0], REFUSED, "--config", str(config))
    assert code == 2
    assert f"the server refused {REFUSED} (550 5.1.1 no such mailbox): nothing was sent" in err
    assert received(mailboxes) == [] and len(sendings(base)) == before


@pytest.mark.parametrize(("edition", "to", "said"), [
    ("board", ["ceo@acme"], "not an e-mail address: 'ceo@acme'"),
    ("board", ["ceo@acme.example\nBcc: spy@evil.example"], "not an e-mail address"),
    ("board", ["Ceo <ceo@acme.example>"], "not an e-mail address"),
    ("board", [BOARD[0], PARTNER], f"{PARTNER}: listed as partners in"),
    ("board", ["IR@Bank.Example"], "IR@Bank.Example: listed as partners in"),
    ("partner", [PARTNER, BOARD[0]], f"{BOARD[0]}: not listed as partners in"),
], ids=["no domain", "header injection", "with a name", "a partner among the board", "a partner in capitals",
        "the partner edition to a non-partner"])
def test_recipients_are_refused_before_anything_is_built(servers, mailboxes, tmp_path, edition, to, said):
    """--db names no database: the refusal comes before it would be opened."""
    config = write_config(tmp_path / "delivery.toml", servers[1]["login"])
    code, _, err = run("send", "--db", str(tmp_path / "none.duckdb"), "--config", str(config), "--edition", edition,
                       "--period", "last-month", "--to", *to)
    assert code == 2 and said in err and "python cli.py demo" not in err, err
    assert received(mailboxes) == []


def test_each_recipient_is_sent_to_once(tmp_path):
    config = delivery.load_config(write_config(tmp_path / "delivery.toml", 25))
    assert delivery.check_recipients(config, "board", [BOARD[0], f" {BOARD[0].upper()}", BOARD[1]]) == BOARD


def test_a_missing_password_is_said_before_anything_is_built(servers, tmp_path):
    config = write_config(tmp_path / "delivery.toml", servers[1]["login"])
    code, _, err = run("send", "--db", str(tmp_path / "none.duckdb"), "--config", str(config), "--edition", "board",
                       "--period", "last-month", "--to", BOARD[0], password=None)
    assert code == 2 and f"set the environment variable {PASSWORD_ENV}" in err


# --- the config, the period, the README --------------------------------------------------------------------------

GOOD_SMTP = '[smtp]\nhost = "smtp.example.com"\nfrom = "reports@acme.example"\n'


@pytest.mark.parametrize(("text", "said"), [
    (None, "no delivery config there"),
    ("[smtp\nhost = 1", "not valid TOML"),
    ('[partners]\naddresses = []\n', "no [smtp] table"),
    (GOOD_SMTP + 'hots = "smtp.example.com"\n', "unknown key smtp.hots"),
    (GOOD_SMTP + '[mail]\n', "unknown table or key 'mail'"),
    (GOOD_SMTP + 'security = "tls"\n', "smtp.security must be 'starttls', 'ssl', 'none', not 'tls'"),
    (GOOD_SMTP + 'port = "587"\n', "smtp.port must be a whole number, not '587'"),
    (GOOD_SMTP + 'port = 70000\n', "smtp.port 70000 is not a port"),
    (GOOD_SMTP + 'timeout = 0\n', "smtp.timeout must be more than 0 seconds"),
    (GOOD_SMTP + 'password = "hunter2"\n', "the password is never read from the file"),
    ('[smtp]\nhost = "smtp.example.com"\n', "smtp.from is missing"),
    ('[smtp]\nhost = "smtp.example.com"\nfrom = "Reports <reports>"\n', "smtp.from 'Reports <reports>' is not an"),
    (GOOD_SMTP + '[partners]\naddresses = ["ir-at-bank"]\n', "partners.addresses: 'ir-at-bank' is not an address"),
    (GOOD_SMTP + '[partners]\nlist = []\n', "unknown key partners.list"),
])
def test_a_bad_config_is_refused_naming_the_file(tmp_path, text, said):
    path = tmp_path / "delivery.toml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(delivery.DeliveryError) as refused:
        delivery.load_config(path)
    assert str(refused.value).startswith(f"{path}: ") and said in str(refused.value)


def test_a_bad_config_exits_2_from_the_command_line(tmp_path):
    (tmp_path / "emptychair.delivery.toml").write_text('[smtp]\nhost = "smtp.example.com"\nsecurity = "tls"\n')
    code, _, err = run("send", "--db", str(tmp_path / "emptychair.duckdb"), "--edition", "board", "--period",
                       "last-month", "--to", BOARD[0])
    assert code == 2 and f"{tmp_path / 'emptychair.delivery.toml'}: " in err and "smtp.security" in err


def test_the_example_config_is_a_valid_config():
    config = delivery.load_config(ROOT / "delivery.example.toml")
    assert (config.smtp.host, config.smtp.port, config.smtp.security) == ("smtp.example.com", 587, "starttls")
    assert config.smtp.password_env == "EMPTYCHAIR_SMTP_PASSWORD" and config.partners == {PARTNER}


def test_the_config_lives_beside_the_database():
    assert delivery.config_path("data/emptychair.duckdb") == Path("data/emptychair.delivery.toml").absolute()


@pytest.mark.parametrize(("text", "data_end", "period"), [
    ("last-month", date(2026, 10, 31), "2026-10"),
    ("last-month", date(2026, 10, 30), "2026-09"),  # October is not complete yet
    ("last-quarter", date(2026, 10, 31), "2026-Q3"),
    ("last-year", date(2026, 10, 31), "2025"),
    ("2026-Q3", date(2026, 10, 31), "2026-Q3"),
    ("2026-09", date(2026, 10, 31), "2026-09"),
])
def test_periods(text, data_end, period):
    assert str(delivery.resolve_period(text, data_end)) == period


def test_an_unknown_period_names_the_choices():
    with pytest.raises(delivery.DeliveryError, match="last-month, last-quarter, last-year"):
        delivery.resolve_period("next-month", date(2026, 10, 31))


def test_the_readme_schedules_commands_that_parse():
    """The cron line and the systemd service send with arguments cli.py takes."""
    readme = (ROOT / "README.md").read_text()
    cron = re.findall(r"^(?:\S+ ){5}cd \S+ && .*cli\.py send .*$", readme, flags=re.M)
    service = re.findall(r"^ExecStart=.*cli\.py send .*$", readme, flags=re.M)
    assert cron and service and "[Timer]" in readme and "OnCalendar=" in readme
    for line in cron + service:
        args = shlex.split(line.split("cli.py", 1)[1])
        assert cli.parser().parse_args(args).command == "send"
