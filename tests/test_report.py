"""PDF snapshots (report/): opened with pypdf and read as a person would — headers on every page, the definitions
appendix, no personal data, partner suppression, and the same numbers as kpis.evaluate."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

import kpis
from kpis import format as fmt
from kpis.build import import_files
from kpis.registry import Unit
from report import ReportError, build_report, collect, render
from report.data import EQUITY, REFERENCE_SKIP, VOLUME
from tests import voice_fixture

ROOT = Path(__file__).resolve().parent.parent
PERIOD = "2026-Q3"  # the demo's data end on 2026-10-31
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONES = (
    re.compile(r"(?<![\w.,])0[1-9](?:[ .-]?\d{2}){4}(?!\d)"),  # 06 12 34 56 78, 06.12.34.56.78
    re.compile(r"(?:\+|\b00)\d{1,3}[ .-]?(?:\(0\)[ .-]?)?\d(?:[ .-]?\d){6,12}"),  # +33 6 12 34 56 78
    re.compile(r"\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"),  # (555) 123-4567
)


def pages(pdf: bytes) -> list[str]:
    """The text of each page, whitespace collapsed (a wrapped line reads as one)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def text(pdf: bytes) -> str:
    return " ".join(pages(pdf))


# --- fixtures ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_path(demo_base):
    path = demo_base(4_000, 11)  # shared with tests/test_kpis_demo.py (tests/conftest.py)
    return path


@pytest.fixture(scope="module")
def db(demo_path):
    return kpis.connect(demo_path)


@pytest.fixture(scope="module")
def board_setup(db):
    snap = collect(db, PERIOD)
    return snap, render(snap)


@pytest.fixture(scope="module")
def board(board_setup):
    return board_setup[1]


@pytest.fixture(scope="module")
def partner_setup(db):
    """A partner edition whose threshold falls between the channels' numbers of new customers: some suppressed."""
    counts = {c: kpis.evaluate(db, "new_customers", PERIOD, filters={"acquisition_channel": c})
              for c in db.filter_values("acquisition_channel")}
    ordered = sorted(counts.values())
    threshold = ordered[len(ordered) // 2] + 1  # at least half the channels fall below it
    snap = collect(db, PERIOD, edition="partner", min_segment=threshold)
    return counts, threshold, snap, render(snap)


@pytest.fixture(scope="module")
def voice_db(tmp_path_factory):
    """Eight customers whose comments carry e-mail addresses, phone numbers and French accents (March 2024)."""
    folder = tmp_path_factory.mktemp("voice")
    files = voice_fixture.write_files(folder)
    import_files(folder / "voice.duckdb", now=datetime(2024, 7, 10), **files)
    return kpis.connect(folder / "voice.duckdb")


# --- what every page carries -------------------------------------------------------------------------------------

def test_every_page_carries_title_period_segment_source_and_page_number(board, db):
    texts = pages(board)
    assert 7 <= len(texts) <= 14, len(texts)
    for number, page in enumerate(texts, start=1):
        assert "Empty Chair" in page and "BOARD EDITION" in page
        assert "Q3 2026 · compared with the previous period (Q2 2026)" in page
        assert "Segment: all customers" in page
        assert f"Data as of {db.data_end:%d %b %Y}" in page and "Source: demo" in page and "Amounts in EUR" in page
        assert f"Page {number} / {len(texts)}" in page


def test_pages_are_a4_portrait_with_every_font_embedded(board):
    reader = PdfReader(io.BytesIO(board))
    seen = set()
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            seen.add(str(font["/BaseFont"]).split("+")[-1])
    assert any("DejaVuSansCondensed" in name for name in seen)


def test_filters_and_comparison_are_printed_on_every_page(db):
    pdf = build_report(db, PERIOD, compare="year_ago", filters={"acquisition_channel": ["search", "social"],
                                                             "region": "FR"})
    for page in pages(pdf):
        assert "Q3 2026 · compared with the same period last year (Q3 2025)" in page
        assert "Segment: Acquisition channel: search, social; Region: FR" in page


def test_charts_are_vectors_with_their_text(board):
    """The charts are vl-convert PDFs merged in: their labels are text in the page, not pixels (and the chart font
    is found: with the wrong family name vl-convert silently draws no text)."""
    all_text = text(board)
    for label in ("Months since acquisition", "Share of buyers, most valuable first", "CLV ÷ CAC (×)",
                  "Index (first period = 100)", "Cumulative repeat purchases"):
        assert label in all_text, label
    reader = PdfReader(io.BytesIO(board))
    assert not any("/Image" in str(x.get_object().get("/Subtype")) for page in reader.pages
                   for x in page["/Resources"].get("/XObject", {}).values())


def test_appendix_gives_every_kpi_of_the_edition_its_registry_definition(board_setup, partner_setup):
    for snap, pdf in (board_setup, partner_setup[2:]):
        texts = pages(pdf)
        start = next(i for i, page in enumerate(texts) if "Appendix: definitions" in page)
        appendix = " ".join(texts[start:])
        assert len(snap.kpis()) >= 30
        for key in snap.kpis():
            kpi = kpis.REGISTRY[key]
            assert kpi.label in appendix, key
            assert " ".join(kpi.definition.split()) in appendix, key
            assert " ".join(kpi.formula.split()) in appendix, key


# --- privacy -----------------------------------------------------------------------------------------------------

def test_no_email_or_phone_number_anywhere(voice_db):
    """The fixture's latest March comments carry an e-mail address and a phone number: the PDF shows the
    comments, masked."""
    pdf = build_report(voice_db, "2024-03")
    all_text = text(pdf)
    assert "Parcel arrived a week late. Write to me at [email]" in all_text
    assert "Rappelez-moi au [phone]" in all_text
    assert not EMAIL.search(all_text), EMAIL.search(all_text)
    for pattern in PHONES:
        assert not pattern.search(all_text), pattern.search(all_text)


def test_accented_french_and_euro_signs_survive(voice_db):
    pdf = build_report(voice_db, "2024-03")
    all_text = text(pdf)
    assert "Très bon rapport qualité-prix." in all_text  # a promoter's comment, accents intact
    assert re.search(r"\d €", all_text)


def test_partner_edition_has_no_comments(voice_db, board):
    pdf = build_report(voice_db, "2024-03", edition="partner")
    all_text = text(pdf)
    assert "PARTNER EDITION" in all_text
    for comment in ("Parcel arrived", "Livraison", "Très bon rapport", "[email]", "[phone]", "In their own words"):
        assert comment not in all_text, comment
    assert "In their own words" in text(board)  # the board edition does carry them


def test_partner_edition_suppresses_small_segments_and_marks_them(voice_db):
    """Eight customers: below the default threshold of 10, every figure resting on them is suppressed."""
    snap = collect(voice_db, "2024-03", edition="partner")
    pdf = render(snap)
    all_text = text(pdf)
    assert snap.figures["active_customers"].suppressed and snap.figures["active_customers"].value is None
    assert "suppressed" in all_text and "fewer than 10 customers" in all_text
    revenue = kpis.evaluate(voice_db, "revenue", "2024-03")
    assert fmt.value(revenue, Unit.CURRENCY, "EUR", compact=True) not in all_text
    assert fmt.value(revenue, Unit.CURRENCY, "EUR") not in all_text
    board = collect(voice_db, "2024-03")
    assert board.figures["active_customers"].value == kpis.evaluate(voice_db, "active_customers", "2024-03")


def test_partner_channels_below_the_threshold_are_suppressed(partner_setup, db):
    counts, threshold, snap, pdf = partner_setup
    all_text = text(pdf)
    small = [c for c, n in counts.items() if n < threshold]
    large = [c for c, n in counts.items() if n >= threshold]
    assert small and large
    rows = snap.channels.set_index("channel")
    for channel in small:
        assert rows.at[channel, "suppressed"]
        cac = kpis.evaluate(db, "cac", PERIOD, filters={"acquisition_channel": channel})
        assert fmt.value(cac, Unit.CURRENCY, "EUR") not in all_text, channel
        assert re.search(rf"{channel} < {threshold} ", all_text), channel
    for channel in large:
        cac = kpis.evaluate(db, "cac", PERIOD, filters={"acquisition_channel": channel})
        assert f"{channel} {counts[channel]:,}" in all_text and fmt.value(cac, Unit.CURRENCY, "EUR") in all_text
    assert f"groups of fewer than {threshold} customers are suppressed" in all_text


# --- the numbers -------------------------------------------------------------------------------------------------

def test_numbers_equal_kpis_evaluate_for_the_same_view(db):
    """Every KPI of the equity-vs-volume table, now and a year earlier, and the summary tiles (compact), read
    exactly what kpis.evaluate gives for the same period and segment, formatted as the dashboard does."""
    filters = {"acquisition_channel": "search"}
    pdf = build_report(db, PERIOD, compare="year_ago", filters=filters)
    all_text = text(pdf)
    currency = db.metadata["currency"]
    checked = 0
    for key in EQUITY + VOLUME:
        unit = kpis.REGISTRY[key].unit
        for period in (PERIOD, "2025-Q3"):
            if period != PERIOD and key in REFERENCE_SKIP:
                continue  # figures the report leaves out for the comparison period (none at present)
            value = kpis.evaluate(db, key, period, filters=filters)
            if value is None:
                continue
            assert fmt.value(value, unit, currency) in all_text, (key, period, value)
            checked += 1
    for key in ("active_customers", "revenue", "gross_margin", "customer_equity", "retention_rate", "nps"):
        value = kpis.evaluate(db, key, PERIOD, filters=filters)
        assert fmt.value(value, kpis.REGISTRY[key].unit, currency, compact=True) in all_text, key
    assert checked >= 30


def test_a_wrong_number_would_be_caught(db, board):
    """The check above can fail: the board report (all customers) does not show the search channel's revenue."""
    revenue = kpis.evaluate(db, "revenue", PERIOD, filters={"acquisition_channel": "search"})
    assert fmt.value(revenue, Unit.CURRENCY, "EUR") not in text(board)


# --- arguments ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"period": "2024-Q5"}, "unknown period"),
    ({"period": "1999-Q1"}, "no data for 1999-Q1"),
    ({"period": PERIOD, "edition": "press"}, "unknown edition"),
    ({"period": PERIOD, "compare": "last"}, "unknown comparison"),
    ({"period": PERIOD, "filters": {"colour": "red"}}, "unknown filter 'colour'"),
    ({"period": PERIOD, "filters": {"region": "Mars"}}, "unknown value 'Mars'"),
    ({"period": PERIOD, "min_segment": 0}, "min_segment"),
])
def test_bad_arguments_are_refused_with_the_reason(db, kwargs, message):
    with pytest.raises(ReportError, match=message):
        build_report(db, **kwargs)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_cli_writes_the_report(demo_path, tmp_path):
    out = tmp_path / "partner.pdf"
    done = cli("report", "--db", str(demo_path), "--period", PERIOD, "--compare", "year_ago", "--edition", "partner",
               "--filter", "acquisition_channel=search", "--filter", "region=FR", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"written to {out}" in done.stdout
    texts = pages(out.read_bytes())
    assert "PARTNER EDITION" in texts[0]
    assert all("Segment: Acquisition channel: search; Region: FR" in page for page in texts)


@pytest.mark.parametrize("args, message", [
    (["--period", "2024-Q5"], "unknown period '2024-Q5'"),
    (["--period", "1999-Q1"], "no data for 1999-Q1"),
    (["--period", PERIOD, "--filter", "colour=red"], "unknown filter 'colour'"),
    (["--period", PERIOD, "--filter", "region"], "use NAME=VALUE"),
    (["--period", PERIOD, "--edition", "press"], "invalid choice: 'press'"),
    (["--period", PERIOD, "--compare", "last"], "invalid choice: 'last'"),
    (["--period", PERIOD, "--min-segment", "0"], "--min-segment must be at least 1"),
])
def test_cli_bad_arguments_exit_2_with_the_reason(demo_path, tmp_path, args, message):
    out = tmp_path / "r.pdf"
    done = cli("report", "--db", str(demo_path), *args, "--out", str(out))
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not out.exists()


def test_cli_refuses_an_unwritable_output_before_working(demo_path, tmp_path):
    for out, message in ((tmp_path / "missing" / "r.pdf", "no such folder"), (tmp_path, "it is a folder")):
        done = cli("report", "--db", str(demo_path), "--period", PERIOD, "--out", str(out))
        assert done.returncode == 2 and f"cannot write the report to {out}: {message}" in done.stderr, done.stderr


def test_cli_on_a_missing_database(tmp_path):
    done = cli("report", "--db", str(tmp_path / "none.duckdb"), "--period", PERIOD, "--out", str(tmp_path / "r.pdf"))
    assert done.returncode == 2 and "python cli.py demo" in done.stderr


def test_dashboard_builds_the_pdf_only_when_asked(tmp_path, monkeypatch):
    """The empty chair page offers the PDF behind a button; once built for the view, a download button."""
    from streamlit.testing.v1 import AppTest

    from tests import kpi_fixture

    monkeypatch.setenv("EMPTYCHAIR_DB", str(kpi_fixture.build_database(tmp_path)))
    at = AppTest.from_file(str(ROOT / "dashboard" / "navigation.py"), default_timeout=120).run()
    at.switch_page("../pages/empty_chair.py").run()
    assert not at.exception
    assert not at.get("download_button")  # nothing built yet
    at.button(key="report:prepare").click().run()
    assert not at.exception and not at.error
    labels = [d.proto.label for d in at.get("download_button")]
    assert labels == ["Download the board PDF"]
