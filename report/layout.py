"""The snapshot as an A4 document: fpdf2 lays out text, tiles and tables; the charts, rendered by vl-convert as
vector PDFs, are placed on the pages afterwards with pypdf (fpdf2 cannot read vl-convert's SVG, and a raster image
would blur when a partner zooms in or prints).

Every page carries the title, period and comparison, segment, the data's as-of date and source, the edition and
"page X / Y"; the appendix prints the KPI registry's own definitions.
"""

from __future__ import annotations

import io
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, TableCellFillMode, XPos, YPos
from fpdf.fonts import FontFace
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
)

from i18n import N_, _, carried, formats, language, ngettext
from kpis import REGISTRY, Group, Period, Unit
from kpis import format as fmt
from kpis.clv.model import HORIZON_MONTHS
from kpis.events import legend, on_days, on_periods
from kpis.labels import EFFORT_PEAK_MIN_ANSWERS, compared_with, score_group_heading, score_group_label
from kpis.targets import status_label
from kpis.valuation import assumption_label
from report import charts
from report.data import CHANNEL, EQUITY, HOLDOUT_WEEKS, VOLUME, Snapshot, edition_name
from report.fonts import FILES
from store import progress

FONT = "report"
TEXT, MUTED, NAVY = (33, 37, 41), (104, 112, 122), (22, 50, 92)
GOOD, BAD, NEUTRAL = (27, 122, 62), (192, 57, 43), (104, 112, 122)
LINE, FILL, HEAD = (214, 218, 224), (246, 247, 249), (232, 236, 242)
MM = 72 / 25.4  # points per millimetre
SUPPRESSED = N_("suppressed")  # what a suppressed figure reads (translated where shown)
# The registry's groups as headings (kpis.registry.Group's values are its keys; translated where shown).


@dataclass
class Cell:
    text: str
    align: str | None = None
    color: tuple | None = None
    bold: bool = False
    italic: bool = False
    fill: tuple | None = None
    colspan: int = 1


@dataclass
class Placed:
    """A chart (one-page PDF) to draw at (x, y) mm on a page, w × h mm."""

    page: int
    x: float
    y: float
    w: float
    h: float
    pdf: Future  # the chart's one-page PDF, being rendered


class Document(FPDF):
    def __init__(self, snap: Snapshot):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.snap = snap
        for style, path in FILES.items():
            self.add_font(FONT, style, str(path))
        self.set_margins(16, 12, 16)
        self.set_auto_page_break(True, margin=17)
        self.set_text_color(*TEXT)
        self.set_draw_color(*LINE)
        self.placed: list[Placed] = []
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="charts")
        self.set_title(_("Empty Chair — {edition}, {period}").format(edition=edition_name(snap.edition).lower(),
                                                                    period=snap.period.label))
        self.set_subject(_("{period} {compared}; segment: {segment}").format(
            period=snap.period.label, compared=compared_with(snap.compare, snap.reference.label),
            segment=snap.describe_filters()))
        self.set_author("Empty Chair")
        self.set_creator("Empty Chair report (fpdf2, vl-convert, pypdf)")
        self.set_lang(language())

    # --- every page ----------------------------------------------------------------------------------------------
    @property
    def width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def header(self):
        s = self.snap
        self.set_y(9)
        self.set_font(FONT, "B", 11)
        self.set_text_color(*NAVY)
        self.cell(0, 5.5, "Empty Chair", new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.set_x(self.l_margin + self.get_string_width("Empty Chair") + 1.5)
        self.set_font(FONT, "", 11)
        self.cell(0, 5.5, "· " + _("customer snapshot"), new_x=XPos.LMARGIN, new_y=YPos.TOP)
        tag = edition_name(s.edition).upper()
        self.set_font(FONT, "B", 7)
        w = self.get_string_width(tag) + 5
        self.set_fill_color(*(NAVY if s.edition == "board" else GOOD))
        self.set_text_color(255, 255, 255)
        self.set_xy(self.w - self.r_margin - w, 9.5)
        self.cell(w, 4.5, tag, align="C", fill=True)
        self.set_xy(self.l_margin, 15)
        self.set_text_color(*TEXT)
        self.set_font(FONT, "B", 9)
        parts = [s.period.label, compared_with(s.compare, s.reference.label)]
        if s.period.end > s.data_end + timedelta(days=1):
            parts.append(_("period in progress: data to {date}").format(date=formats.date(s.data_end)))
        self.cell(0, 4.5, " · ".join(parts), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*MUTED)
        source = (_("Source: {source}, built {date}").format(source=s.source, date=formats.date(s.built_at))
                  if s.built_at else _("Source: {source}").format(source=s.source))
        self.multi_cell(0, 3.6, " · ".join([_("Segment: {segment}").format(segment=s.describe_filters()),
                                            _("Data as of {date} (last order)").format(date=formats.date(s.data_end)),
                                            source, _("Times in {zone}").format(zone=s.timezone),
                                            _("Amounts in {currency}").format(currency=s.currency)]),
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*LINE)
        self.line(self.l_margin, self.get_y() + 1.2, self.w - self.r_margin, self.get_y() + 1.2)
        self.set_text_color(*TEXT)
        self.set_y(self.get_y() + 4.5)

    def footer(self):
        s = self.snap
        self.set_y(-12)
        self.set_draw_color(*LINE)
        self.line(self.l_margin, self.get_y() - 1, self.w - self.r_margin, self.get_y() - 1)
        self.set_font(FONT, "", 7)
        self.set_text_color(*MUTED)
        note = (_("Board edition · confidential, for the board of directors") if s.edition == "board" else
                ngettext("Partner edition · aggregates only; groups of fewer than {n} customer are suppressed",
                         "Partner edition · aggregates only; groups of fewer than {n} customers are suppressed",
                         s.min_segment).format(n=formats.number(s.min_segment)))
        self.cell(self.width - 25, 4, fit(self, note, self.width - 25))
        self.cell(25, 4, _("Page {page} / {pages}").format(page=self.page_no(), pages=self.str_alias_nb_pages),
                  align="R")

    # --- building blocks -----------------------------------------------------------------------------------------
    def section(self, title: str, lead: str) -> None:
        self.add_page()
        self.set_font(FONT, "B", 15)
        self.set_text_color(*NAVY)
        self.cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.paragraph(lead, size=8.5, color=MUTED, after=2.5)

    def subheading(self, text: str, room: float = 30) -> None:
        if self.get_y() + room > self.page_break_trigger:
            self.add_page()
        self.ln(1.5)
        self.set_font(FONT, "B", 10.5)
        self.set_text_color(*NAVY)
        self.cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*TEXT)

    def paragraph(self, text: str, size: float = 9, style: str = "", color=TEXT, after: float = 1.5,
                  height: float | None = None) -> None:
        self.set_font(FONT, style, size)
        self.set_text_color(*color)
        self.multi_cell(0, height or size * 0.47, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*TEXT)
        self.ln(after)

    def lead_paragraph(self, lead: str, text: str, size: float = 9.5) -> None:
        """A paragraph opening with a few bold words."""
        self.set_text_color(*TEXT)
        self.set_font(FONT, "B", size)
        self.write(size * 0.5, lead + " ")
        self.set_font(FONT, "", size)
        self.write(size * 0.5, text)
        self.ln(size * 0.5 + 2.2)

    def bullet(self, text: str, size: float = 9.5) -> None:
        """A paragraph with a hanging bullet."""
        self.set_font(FONT, "", size)
        self.set_text_color(*NAVY)
        self.cell(4, size * 0.5, "•")
        self.set_text_color(*TEXT)
        self.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.2)

    def caption(self, text: str) -> None:
        self.paragraph(text, size=7.5, color=MUTED, after=2)

    def chart(self, chart, width: float, height: float, centre: bool = True) -> None:
        """Reserve width × height mm (on a new page if needed) for a chart rendered to a vector PDF."""
        if chart is None:
            return
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()
        # vl-convert works outside the GIL: the charts render while fpdf2 lays out the following pages.
        pdf = self.pool.submit(carried(charts.render, chart, width * MM, height * MM))  # in the run's language
        x = self.l_margin + ((self.width - width) / 2 if centre else 0)
        self.placed.append(Placed(self.page, x, self.get_y(), width, height, pdf))
        self.set_y(self.get_y() + height + 2)

    def tiles(self, keys: list[str], per_row: int, notes: dict[str, str] | None = None) -> None:
        gap = 3.5
        w = (self.width - gap * (per_row - 1)) / per_row
        for start in range(0, len(keys), per_row):
            row = keys[start:start + per_row]
            h = 26 if any((notes or {}).get(k) for k in row) else 22.5
            if self.get_y() + h > self.page_break_trigger:
                self.add_page()
            y = self.get_y()
            for i, key in enumerate(row):
                self._tile(key, self.l_margin + i * (w + gap), y, w, h, (notes or {}).get(key))
            self.set_y(y + h + gap)

    def _tile(self, key: str, x: float, y: float, w: float, h: float, note: str | None) -> None:
        s, kpi = self.snap, REGISTRY[key]
        figure = s.figures[key]
        self.set_fill_color(*FILL)
        self.set_draw_color(*LINE)
        self.rect(x, y, w, h, style="DF", round_corners=True, corner_radius=1.5)
        inner = w - 5
        self.set_xy(x + 2.5, y + 2)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(inner, 3.5, fit(self, kpi.short_label, inner))
        self.set_xy(x + 2.5, y + 6)
        if figure.suppressed:
            self.set_font(FONT, "I", 10)
            self.cell(inner, 7, fit(self, _(SUPPRESSED), inner))
            self.set_xy(x + 2.5, y + 13.5)
            self.set_font(FONT, "", 7)
            self.cell(inner, 3.5, fit(self, fewer_than(s, answers=(REGISTRY[key].base or "").endswith("_answers")),
                                      inner))
            return
        self.set_font(FONT, "B", 15)
        self.set_text_color(*TEXT)
        self.cell(inner, 7, fit(self, value_text(s, key, compact=True), inner))
        self.set_xy(x + 2.5, y + 13.5)
        delta = delta_text(s, key)
        self.set_font(FONT, "B" if delta else "", 7.5)
        self.set_text_color(*tone(s, key))
        self.cell(inner, 3.5, fit(self, delta or _("no comparison"), inner))
        self.set_xy(x + 2.5, y + 17.3)
        self.set_font(FONT, "", 7)
        self.set_text_color(*MUTED)
        ref = (_(SUPPRESSED) if figure.reference_suppressed
               else fmt.value(figure.reference, kpi.unit, s.currency, compact=True))
        self.cell(inner, 3.3, fit(self, _("{period}: {value}").format(period=s.reference.label, value=ref), inner))
        if note:
            self.set_xy(x + 2.5, y + 21)
            self.cell(inner, 3.3, fit(self, note, inner))
        self.set_text_color(*TEXT)

    def table(self, headings: list[str], rows: list[list], widths: list[float], aligns: list[str],
              size: float = 7.5, zebra: bool = True) -> None:
        """A table that breaks across pages, repeating its headings; cells are str or Cell."""
        self.set_font(FONT, "", size)
        self.set_draw_color(*LINE)
        self.set_text_color(*TEXT)
        if self.get_y() + 18 > self.page_break_trigger:
            self.add_page()
        heading = FontFace(emphasis="BOLD", fill_color=HEAD, color=NAVY, size_pt=size)
        with super().table(col_widths=widths, width=sum(widths), align="LEFT", text_align=aligns,
                           line_height=size * 0.52, padding=(1.0, 1.4), headings_style=heading,
                           borders_layout=TableBordersLayout.HORIZONTAL_LINES,
                           cell_fill_mode=TableCellFillMode.ROWS if zebra else TableCellFillMode.NONE,
                           cell_fill_color=FILL, repeat_headings=1) as table:
            head = table.row()
            for text in headings:
                head.cell(text)
            for row in rows:
                out = table.row()
                for i, cell in enumerate(row):
                    cell = cell if isinstance(cell, Cell) else Cell("" if cell is None else str(cell))
                    style = None
                    if cell.color or cell.bold or cell.italic or cell.fill:
                        emphasis = "I" if cell.italic else "B" if cell.bold else ""  # no bold oblique face shipped
                        style = FontFace(emphasis=emphasis or None, color=cell.color, fill_color=cell.fill)
                    out.cell(cell.text, align=cell.align or aligns[i], style=style, colspan=cell.colspan)
        self.ln(2)

    def finish(self) -> bytes:
        """The document with its charts drawn in, as PDF bytes.

        Each chart page becomes a form XObject (its content and resources as vl-convert wrote them, fonts
        embedded) drawn by a three-operator content stream appended to the page: nothing is re-parsed, so
        placing a chart costs milliseconds (pypdf's merge_transformed_page parses both pages' content).
        """
        body = bytes(self.output())
        self.pool.shutdown(wait=True)
        if not self.placed:
            return body
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(body)))
        height = self.h * MM
        for number, chart in enumerate(self.placed):
            drawing = PdfReader(io.BytesIO(chart.pdf.result())).pages[0]
            box = drawing.mediabox
            form = DecodedStreamObject()
            form.set_data(drawing.get_contents().get_data())
            form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                         NameObject("/BBox"): ArrayObject(FloatObject(v) for v in (box.left, box.bottom, box.right,
                                                                                    box.top)),
                         NameObject("/Resources"): drawing["/Resources"]})
            if "/Group" in drawing:
                form[NameObject("/Group")] = drawing["/Group"]
            name = NameObject(f"/EmptyChairChart{number}")
            page = writer.pages[chart.page - 1]
            resources = page["/Resources"].get_object()
            if "/XObject" not in resources:
                resources[NameObject("/XObject")] = DictionaryObject()
            resources["/XObject"].get_object()[name] = writer._add_object(form.flate_encode().clone(writer))
            scale = min(chart.w * MM / float(box.width), chart.h * MM / float(box.height))
            x = chart.x * MM - float(box.left) * scale
            y = height - (chart.y + chart.h) * MM - float(box.bottom) * scale
            draw = DecodedStreamObject()
            draw.set_data(f"q {scale:.5f} 0 0 {scale:.5f} {x:.3f} {y:.3f} cm {name} Do Q".encode())
            contents = page["/Contents"]
            existing = contents.get_object()
            parts = ArrayObject(existing) if isinstance(existing, ArrayObject) else ArrayObject(
                [contents if isinstance(contents, IndirectObject) else writer._add_object(existing)])
            parts.append(writer._add_object(draw))
            page[NameObject("/Contents")] = parts
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()


# --- text of numbers ---------------------------------------------------------------------------------------------

def fit(doc: FPDF, text: str, width: float) -> str:
    """The text, shortened with an ellipsis if it would overflow `width` mm in the current font."""
    if doc.get_string_width(text) <= width:
        return text
    while text and doc.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def value_text(s: Snapshot, key: str, compact: bool = False) -> str:
    figure = s.figures[key]
    if figure.suppressed:
        return _(SUPPRESSED)
    return fmt.value(figure.value, REGISTRY[key].unit, s.currency, compact=compact)


def _minus(text: str) -> str:
    return text.replace("-", "−", 1) if text.startswith("-") else text


def _relative(change: float) -> str:
    """"+4.1 %" / "−4,1 %": a relative change, with a true minus sign."""
    return _minus(formats.percent(change, 1, sign=True))


def _signed(change) -> str:
    """" (+4.1 %)" for a relative change; nothing when unknown."""
    return "" if change is None else f" ({_relative(change)})"


def delta_text(s: Snapshot, key: str, arrow: bool = True) -> str | None:
    """The change as the dashboard writes it (ui.format.delta), with the relative change for amounts and counts."""
    figure, unit = s.figures[key], REGISTRY[key].unit
    if figure.delta is None:
        return None
    text = _minus(fmt.delta(figure.delta, unit, s.currency))
    if not any(c in "123456789" for c in text):  # rounds to nothing: no sign, no arrow, no colour
        return text.lstrip("+−-")
    if unit in (Unit.CURRENCY, Unit.COUNT) and figure.relative is not None:
        text += _signed(figure.relative)
    if not arrow:
        return text
    return ("▲ " if figure.delta > 0 else "▼ " if figure.delta < 0 else "= ") + text


def tone(s: Snapshot, key: str) -> tuple:
    """Green when the KPI moved the way that is good for it (a fall in churn or CAC is good), red otherwise."""
    delta, text = s.figures[key].delta, delta_text(s, key, arrow=False)
    if not delta or not any(c in "123456789" for c in text):
        return NEUTRAL
    return GOOD if (delta > 0) == REGISTRY[key].higher_is_better else BAD


def money(s: Snapshot, value, digits: int = 0) -> str:
    return "—" if value is None or pd.isna(value) else fmt.money(float(value), s.currency, digits)


def percent(value, digits: int = 1) -> str:
    return "—" if value is None or pd.isna(value) else formats.percent(float(value), digits)


def count(value) -> str:
    return "—" if value is None or pd.isna(value) else formats.number(float(value))


def decimal(value, digits: int = 2) -> str:
    return "—" if value is None or pd.isna(value) else formats.number(float(value), digits)


def kpi_cell(s: Snapshot, key: str, value) -> str:
    """A table cell for one KPI value (NaN and None read as undefined)."""
    if value is not None and pd.isna(value):
        value = None
    return fmt.value(value, REGISTRY[key].unit, s.currency)


def muted(text: str | None = None) -> Cell:
    """A muted cell: "suppressed" unless told otherwise."""
    return Cell(_(SUPPRESSED) if text is None else text, color=MUTED, italic=True)


def fewer_than(s: Snapshot, answers: bool = False) -> str:
    """"fewer than 10 customers" (or survey answers): why a figure is suppressed."""
    n = s.min_segment
    if answers:
        return ngettext("fewer than {n} answer", "fewer than {n} answers", n).format(n=formats.number(n))
    return ngettext("fewer than {n} customer", "fewer than {n} customers", n).format(n=formats.number(n))


def too_few(s: Snapshot) -> Cell:
    return muted(f"< {s.min_segment}")


# --- the sections ------------------------------------------------------------------------------------------------

def margin_note(margin: float, n, digits: int = 0) -> str:
    """"± 4 pts · 1,234 answers": a survey score's margin of error and how many answered."""
    return ngettext("± {margin} pts · {n} answer", "± {margin} pts · {n} answers", int(n)).format(
        margin=formats.number(margin, digits), n=formats.number(n))


def summary(doc: Document) -> None:
    s = doc.snap
    doc.section(_("The empty chair"),
                _("The customer's seat at the table: a few large, honest numbers for {period} — how many customers "
                  "we serve and keep, what they are worth, and what they say — beside volume and cost.").format(
                    period=s.period.label))
    if s.headline and not s.partner:  # the empty chair speaks: what moved, why, and whether it is beyond noise
        for sentence in s.headline:
            doc.bullet(sentence)
        doc.ln(1)
    else:
        for lead, text in letter(s):
            doc.lead_paragraph(lead, text)
    nps = s.nps or {}
    notes = {"nps": (margin_note(nps["margin"], nps["answers"]) if nps.get("value") is not None
                     else _("no answers in the period"))}
    doc.subheading(_("The customer"))
    doc.tiles(["active_customers", "new_customers", "retention_rate", "repeat_purchase_rate", "nps", "cac"], 3,
              notes)
    doc.subheading(_("Volume and cost"))
    doc.tiles(["revenue", "gross_margin", "orders", "marketing_spend"], 4)
    doc.subheading(_("What the customer base is worth"))
    doc.tiles(["customer_equity", "predictive_clv", "clv_cac", "customers_at_risk"], 4)
    if s.value_basis:
        doc.caption(_("Customer value is {basis}.").format(basis=s.value_basis))
    doc.caption(_("Each tile compares {period} with {reference} ({comparison}). Green and red follow each KPI's "
                  "direction: a fall in churn or in acquisition cost is good. Definitions in the appendix.").format(
                    period=s.period.label, reference=s.reference.label, comparison=s.comparison))
    scorecard(doc)


def events_under(doc: Document, marks: pd.DataFrame) -> None:
    """The events a chart draws, listed under it by their numbers."""
    if marks is not None and not marks.empty:
        doc.caption(_("Events: {events}").format(events=" · ".join(legend(marks))))


STATUS_TONES = {"on track": GOOD, "at risk": (196, 110, 0), "off track": BAD}
# kpis.targets' statuses are keys (the Scorecard's colours read them): their words, translated where shown.


def scorecard(doc: Document) -> None:
    """The view's KPIs that have a target: actual, target, gap and status (a partner reads the public ones)."""
    s = doc.snap
    if s.scorecard is None or s.scorecard.empty:
        return
    doc.subheading(_("Against target"), room=20 + 6 * len(s.scorecard))
    rows = []
    for r in s.scorecard.to_dict("records"):
        kpi = REGISTRY[r["kpi"]]
        actual = muted() if r["suppressed"] else kpi_cell(s, r["kpi"], r["actual"])
        gap = "" if r["suppressed"] or r["gap"] is None else _minus(fmt.delta(r["gap"], kpi.unit, s.currency) or "")
        state = "" if r["suppressed"] else r["status"]
        word = "" if r["suppressed"] else status_label(state) if state else _("not measurable")
        rows.append([Cell(kpi.label), actual, kpi_cell(s, r["kpi"], r["target"]), gap,
                     Cell(word, bold=True, color=STATUS_TONES.get(state, MUTED)), r["source"]])
    doc.table([_("KPI"), s.period.label, _("Target"), _("Gap"), _("Status"), _("Target of")], rows,
              [46, 26, 26, 26, 22, 32], ["L", "R", "R", "R", "L", "L"])
    doc.caption(_("On track: at least as good as the target in the KPI's direction; at risk: short of it by no more "
                  "than its tolerance (5 % of the target unless stated); off track: further. A period without a "
                  "target of its own takes its quarter's or year's (amounts and counts in proportion to its "
                  "length).")
                + (" " + _("Only the targets the company made public are shown.") if s.partner else ""))


def _phrase(s: Snapshot, key: str, compact: bool = True) -> str:
    figure = s.figures[key]
    if figure.suppressed:
        return "[" + _("suppressed: {why}").format(why=fewer_than(s)) + "]"
    return fmt.value(figure.value, REGISTRY[key].unit, s.currency, compact=compact)


def _change_text(s: Snapshot, key: str) -> str | None:
    """The change on the comparison period (relative for amounts and counts), or None."""
    text = delta_text(s, key, arrow=False)
    if text is None:
        return None
    if REGISTRY[key].unit in (Unit.CURRENCY, Unit.COUNT) and s.figures[key].relative is not None:
        text = _relative(s.figures[key].relative)
    return text


def _change(s: Snapshot, key: str) -> str:
    """" (+4.1 % on Q2 2026)", to follow a value; nothing when there is no comparison."""
    text = _change_text(s, key)
    if text is None:
        return ""
    return " " + _("({change} on {period})").format(change=text, period=s.reference.label)


def letter(s: Snapshot) -> list[tuple[str, str]]:
    """The long-term customer story in four short paragraphs (Bezos' 1997 letter: growth and retention of the
    customer base, revenue growth, brand strength), every number taken from the snapshot's figures."""
    f = s.figures
    out = []
    if f["active_customers"].value is not None or f["active_customers"].suppressed:
        text = _("{active} customers bought in {period}{change}, {new} of them for the first time.").format(
            active=_phrase(s, "active_customers"), period=s.period.label, change=_change(s, "active_customers"),
            new=_phrase(s, "new_customers"))
        if f["retention_rate"].value is not None or f["retention_rate"].suppressed:
            text += " " + _("{retention} of the buyers of {previous} bought again{change}, and {repeat} of the "
                            "period's buyers have now ordered more than once.").format(
                retention=_phrase(s, "retention_rate"), previous=s.period.previous().label,
                change=_change(s, "retention_rate"), repeat=_phrase(s, "repeat_purchase_rate"))
        out.append((_("The customer base."), text))
    else:
        out.append((_("The customer base."),
                    _("No customer of this segment bought in {period}.").format(period=s.period.label)))
    if f["revenue"].value is not None or f["revenue"].suppressed:
        out.append((_("Revenue and margin."),
                    _("Revenue was {revenue}{change} from {orders} orders (average basket {basket}); gross margin "
                      "{margin}, {rate} of revenue.").format(
                        revenue=_phrase(s, "revenue"), change=_change(s, "revenue"), orders=_phrase(s, "orders"),
                        basket=_phrase(s, "average_order_value"), margin=_phrase(s, "gross_margin"),
                        rate=_phrase(s, "gross_margin_rate"))))
    if f["customer_equity"].value is not None or f["customer_equity"].suppressed:
        text = _("Customer equity — the margin today's customers are expected to bring over the next {months} "
                 "months, discounted — is {equity}{change}, {clv} per customer.").format(
            months=HORIZON_MONTHS, equity=_phrase(s, "customer_equity"), change=_change(s, "customer_equity"),
            clv=_phrase(s, "predictive_clv"))
        if f["clv_cac"].value is not None or f["clv_cac"].suppressed:
            text += " " + _("A customer acquired this period is expected to return {ratio} times its acquisition "
                            "cost of {cac} (CLV / CAC).").format(ratio=_phrase(s, "clv_cac"), cac=_phrase(s, "cac"))
        out.append((_("What the customer base is worth."), text))
    nps = s.nps or {}
    if nps.get("suppressed"):
        out.append((_("Brand strength."), "[" + ngettext("NPS suppressed: fewer than {n} answer.",
                                                        "NPS suppressed: fewer than {n} answers.",
                                                        s.min_segment).format(n=formats.number(s.min_segment)) + "]"))
    elif nps.get("value") is not None:
        change, margin = _change_text(s, "nps"), margin_note(nps["margin"], nps["answers"])
        text = (_("Net Promoter Score {nps} ({change}; {margin})").format(nps=_phrase(s, "nps"), change=change,
                                                                          margin=margin) if change
                else _("Net Promoter Score {nps} ({margin})").format(nps=_phrase(s, "nps"), margin=margin))
        if f["csat"].value is not None:
            text = _("{nps}; {csat} of answers satisfied (CSAT).").format(nps=text, csat=_phrase(s, "csat"))
        else:
            text += "."
        out.append((_("Brand strength."), text + (" " + peak_text(s.peak) if s.peak else "")))
    return out


def peak_text(peak: dict) -> str:
    """"Effort peaks at returns: mean effort 3.4 out of 5 (52 answers)." (kpis.effort_peak's finding)."""
    return ngettext("Effort peaks at {touchpoint}: mean effort {ces} out of 5 ({n} answer).",
                    "Effort peaks at {touchpoint}: mean effort {ces} out of 5 ({n} answers).",
                    int(peak["answers"])).format(touchpoint=peak["touchpoint"], ces=formats.number(peak["ces"], 1),
                                                 n=formats.number(peak["answers"]))


# Names of kpis.valuation's assumptions (its keys), as the PDF heads them; another key is shown as it is.


def valuation(doc: Document) -> None:
    s = doc.snap
    doc.section(_("What the customer base is worth"),
                _("Customer-based valuation (McCarthy & Fader): the margin today's customers are expected to bring, "
                  "plus the margin of the customers the company will acquire, net of what acquiring them costs."))
    v = s.valuation
    if v is None:
        doc.paragraph(_("No valuation for this view: {why}.").format(why=s.valuation_note))
        return
    parts = dict(period=s.period.label, existing=money(s, v.existing), future=money(s, v.future_value),
                 cost=money(s, v.future_acquisition_spend), total=money(s, v.total))
    text = (_("{total} (90 % interval {low} – {high}) at the end of {period}: existing customers {existing}, future "
              "customers' margin {future}, less the cost of acquiring them {cost}.").format(
                low=money(s, v.low), high=money(s, v.high), **parts) if v.low is not None
            else _("{total} at the end of {period}: existing customers {existing}, future customers' margin "
                   "{future}, less the cost of acquiring them {cost}.").format(**parts))
    doc.lead_paragraph(_("Customer-based value."), text)
    if v.assumptions.get("not included"):
        doc.paragraph(_("What this is not: {what}.").format(what=v.assumptions["not included"]), size=8.5,
                      color=MUTED)
    symbol = fmt.SYMBOLS.get(s.currency, s.currency)
    doc.chart(charts.valuation_waterfall(v.parts, symbol), 150, 58)
    doc.chart(charts.tornado(v.sensitivities, symbol), 150, 46)
    rows = []
    for c in v.channels.to_dict("records"):
        if c.get("suppressed"):
            rows.append([c["channel"], too_few(s), muted(), muted()])
            continue
        rows.append([c["channel"], count(c["new_customers_12m"]), money(s, c["cac"], 2),
                     money(s, c["break_even_cac"], 2)])
    doc.subheading(_("Acquisition channels: cost and break-even cost of a new customer"), room=40)
    doc.table([_("Channel"), _("New customers (12 months)"), _("CAC"), _("Break-even CAC")], rows, [50, 44, 40, 44],
              ["L", "R", "R", "R"])
    doc.subheading(_("Assumptions"), room=40)
    for name, text in v.assumptions.items():
        title = assumption_label(name)
        doc.lead_paragraph(title + ".", text, size=8)


def what_changed(doc: Document) -> None:
    s = doc.snap
    doc.section(_("What changed"),
                _("Why the numbers moved from {reference} to {period}: each bridge's parts add up exactly to the "
                  "change (additive logarithmic-mean Divisia index, Ang 2005).").format(
                    reference=s.reference.label, period=s.period.label))
    if s.revenue_bridge is None:
        doc.paragraph(ngettext("The bridges are suppressed: fewer than {n} customer bought in {period}.",
                               "The bridges are suppressed: fewer than {n} customers bought in {period}.",
                               s.min_segment).format(n=formats.number(s.min_segment), period=s.period.label)
                      if s.partner else _("No bridge for this view."))
        return
    for sentence in s.headline if s.partner else []:
        doc.bullet(sentence)
    symbol = fmt.SYMBOLS.get(s.currency, s.currency)
    doc.subheading(_("Revenue: new customers, then returning customers' buyers × orders × basket"), room=80)
    doc.chart(charts.waterfall(s.revenue_bridge, s.reference.label, s.period.label, symbol), 170, 66)
    if s.equity_bridge is not None:
        doc.subheading(_("Customer equity: Markey's levers, and the models' refit apart"), room=80)
        doc.chart(charts.waterfall(s.equity_bridge, _("End of {period}").format(period=s.reference.label),
                                   _("End of {period}").format(period=s.period.label), symbol), 170, 70)
        eq = s.equity_bridge.attrs
        doc.caption(_("The customers already there brought {realised} of margin between the two dates, against "
                      "{expected} the earlier model expected. The model update is the refit of the models between "
                      "the two dates, valued on the same customers: not customer behaviour.").format(
                        realised=money(s, eq["realised"]), expected=money(s, eq["expected"])))
    if s.channel_contributions is not None:
        doc.subheading(_("Where revenue moved, by acquisition channel"), room=60)
        parts = s.channel_contributions
        doc.chart(charts.contribution_bars(parts, _("Contribution to the revenue change ({symbol})").format(
            symbol=symbol)), 150, 12 + 7 * len(parts))


def equity_vs_volume(doc: Document) -> None:
    s = doc.snap
    doc.section(_("Customer equity next to volume and cost"),
                _("Sales can grow while the customer base weakens. The customer KPIs (left) stand beside volume and "
                  "cost (right), so that nobody mistakes a volume win for a customer win."))
    rows = []
    for i in range(max(len(EQUITY), len(VOLUME))):
        row = []
        for keys in (EQUITY, VOLUME):
            if i < len(keys):
                row += _kpi_row(s, keys[i])
            else:
                row += [""] * 4
        rows.append(row)
    ref = s.reference.label
    doc.table([_(Group.EQUITY.value), s.period.label, ref, _("Change"), _(Group.VOLUME.value), s.period.label,
               ref, _("Change")], rows, [36, 19, 18, 16, 28, 21, 21, 19], ["L", "R", "R", "R"] * 2, size=7.2)
    doc.caption(_("Change: percentage points for rates, relative change for amounts and counts; green when the KPI "
                  "moved the way that is good for it. A dash: not defined for this period or segment (a cohort too "
                  "young, spend unknown outside acquisition channels)."))
    if s.trend is not None and len(s.trend.index) >= 2:
        labels = {p: _short_label(p) for p in s.trend["period"]}
        doc.subheading(_("Over time, on one scale"), room=95)
        marks = on_periods(s.events, list(s.trend["period"]), s.filters)
        doc.chart(charts.indexed_trend(s.trend, list(s.trend.columns[1:]), labels, marks), doc.width, 82)
        events_under(doc, marks)
        doc.caption(_("Each line starts at 100 at its first period: 120 means 20 % above where it started. Solid "
                      "lines are the customer, dashed lines volume and cost — when the dashed lines climb and the "
                      "solid ones do not, sales grew without better customers."))


def _short_label(period: str) -> str:
    return Period.parse(period).label


def _kpi_row(s: Snapshot, key: str) -> list:
    kpi, figure = REGISTRY[key], s.figures[key]
    label = Cell(kpi.label)
    if figure.suppressed:
        return [label, muted(), muted() if figure.reference_suppressed else kpi_cell(s, key, figure.reference), ""]
    ref = muted() if figure.reference_suppressed else kpi_cell(s, key, figure.reference)
    change = delta_text(s, key, arrow=False)
    if change and REGISTRY[key].unit in (Unit.CURRENCY, Unit.COUNT) and figure.relative is not None:
        change = _relative(figure.relative)  # a relative change reads across amounts and counts
    return [label, Cell(kpi_cell(s, key, figure.value), bold=True), ref,
            Cell(change or "—", color=tone(s, key) if change else MUTED)]


def cohorts(doc: Document) -> None:
    s = doc.snap
    doc.section(_("Cohorts: do new customers stay?"),
                _("Each row is the customers acquired in one month; each column, the share of them who bought n "
                  "months later. Read down a column to see whether newer cohorts stay better than older ones. Ages "
                  "are shown up to the end of {period}.").format(period=s.period.label))
    cells = s.cohorts
    if cells is None or cells.empty:
        doc.paragraph(_("No customer of this segment was acquired in the months shown."))
        return
    names = sorted(cells["cohort"].unique())
    recent = cells[cells["cohort"].isin(names[-12:]) & (cells["age"] <= 12)]
    rows = len(names[-12:])
    doc.chart(charts.cohort_heatmap(recent), doc.width, min(18 + 5.2 * rows, 85))
    doc.caption(_("Share of each cohort active in each month after acquisition (month 0, the acquisition month, is "
                  "100 % and left out). Darker is better.")
                + (" " + _("Suppressed cohorts (see the table) are left out.") if s.partner else ""))
    ages = [1, 2, 3, 6, 12]
    table = []
    by = cells.set_index(["cohort", "age"])
    for cohort in reversed(names):
        first = by.loc[cohort].iloc[0]
        if first["suppressed"]:
            table.append([cohort, too_few(s)] + [muted()] * len(ages))
            continue
        row = [cohort, count(first["customers"])]
        for age in ages:
            row.append(percent(by.at[(cohort, age), "rate"]) if (cohort, age) in by.index else "")
        table.append(row)
    doc.subheading(_("Cohort retention, month by month"), room=40)
    doc.table([_("Acquired"), _("Customers")] + [_("Month {n}").format(n=a) for a in ages], table,
              [28, 26] + [24.8] * 5, ["L", "R"] + ["R"] * 5)
    note = _("Blank: the cohort had not reached that age by the period's end.")
    if s.partner:
        note += " " + ngettext("Cohorts of fewer than {n} customer are suppressed.",
                               "Cohorts of fewer than {n} customers are suppressed.",
                               s.min_segment).format(n=formats.number(s.min_segment))
    doc.caption(note)


def concentration(doc: Document) -> None:
    s = doc.snap
    doc.section(_("Value concentration"),
                _("Customers are not alike: a few bring most of the value. The curve ranks the period's buyers by "
                  "revenue, most valuable first; the table cuts them into ten equal groups."))
    doc.tiles(["top_customer_share", "predictive_clv", "customers_at_risk", "value_at_risk"], 4)
    if s.curve is not None:
        doc.chart(charts.lorenz(s.curve, s.figures["top_customer_share"].value, 0.15), 120, 72)
    elif s.partner:
        doc.caption(ngettext("The concentration curve is suppressed: too few buyers for every point to stand for "
                             "{n} customer or more.",
                             "The concentration curve is suppressed: too few buyers for every point to stand for "
                             "{n} customers or more.", s.min_segment).format(n=formats.number(s.min_segment)))
    deciles = s.deciles
    if deciles is None or deciles.empty:
        doc.paragraph(_("No buyer in {period}.").format(period=s.period.label))
        return
    rows = []
    for r in deciles.to_dict("records"):
        name = _("Decile {n}").format(n=r["decile"])
        if r.get("suppressed"):
            rows.append([name, too_few(s)] + [muted()] * 4)
            continue
        rows.append([_("Decile {n} (top 10 %)").format(n=r["decile"]) if r["decile"] == 1 else name,
                     count(r["customers"]), money(s, r["revenue"]), money(s, r["revenue_per_customer"], 2),
                     percent(r["revenue_share"]), percent(r["cumulative_revenue_share"])])
    doc.subheading(_("Buyers in ten equal groups by revenue"), room=45)
    doc.table([_("Group"), _("Buyers"), _("Revenue"), _("Revenue per buyer"), _("Share of revenue"),
               _("Cumulative share")], rows, [34, 24, 34, 30, 28, 28], ["L", "R", "R", "R", "R", "R"])


def acquisition(doc: Document) -> None:
    s = doc.snap
    doc.section(_("Acquisition economics"),
                _("What a new customer costs, and what they bring back: realized margin so far plus the predicted "
                  "margin of the next {months} months, against the acquisition cost.").format(months=HORIZON_MONTHS))
    doc.tiles(["new_customers", "cac", "new_customer_value", "clv_cac"], 4)
    frame = s.channels
    rows = []
    for r in frame.to_dict("records"):
        if r["suppressed"]:
            rows.append([r["channel"], too_few(s), kpi_cell(s, "marketing_spend", r["marketing_spend"])]
                        + [muted()] * 3)
            continue
        rows.append([r["channel"]] + [kpi_cell(s, k, r[k]) for k in CHANNEL])
    total = [Cell(_("All channels") if "acquisition_channel" not in s.filters else _("Selected channels"), bold=True)]
    for key in CHANNEL:
        figure = s.figures.get(key)
        total.append(Cell(_(SUPPRESSED) if figure.suppressed else kpi_cell(s, key, figure.value), bold=True,
                          italic=figure.suppressed))
    rows.append(total)
    heads = [_("Channel")] + [REGISTRY[k].short_label for k in CHANNEL]
    doc.subheading(_("By acquisition channel, {period}").format(period=s.period.label), room=40)
    doc.table(heads, rows, [34, 30, 32, 26, 32, 24], ["L"] + ["R"] * 5)
    spend_known = set(s.filters) <= {"acquisition_channel"}
    notes = []
    if not spend_known:
        notes.append(_("Acquisition spend is recorded per channel only: CAC, CLV / CAC and payback cannot be shown "
                       "for this segment."))
    if s.partner:
        notes.append(ngettext("Channels that acquired fewer than {n} customer are suppressed.",
                              "Channels that acquired fewer than {n} customers are suppressed.",
                              s.min_segment).format(n=formats.number(s.min_segment)))
    payback = s.figures["cac_payback_months"]
    if payback.value is not None:
        notes.append(_("Together, the period's new customers pay back their acquisition cost in {payback} (CAC "
                       "payback).").format(payback=value_text(s, "cac_payback_months")))
    doc.caption(" ".join(notes))
    ratio = charts.channel_ratio(frame)
    if ratio is not None:
        doc.subheading(_("Margin returned per unit of acquisition cost (CLV / CAC)"), room=70)
        doc.chart(ratio, 130, 58)
        doc.caption(_("Below the dashed 1× line, acquiring a customer through that channel costs more than the "
                      "customer brings back; 3× or more is usually considered healthy."))


# kpis.value_by_nps_group's groups and the comments' (keys): as the PDF names them, translated where shown.


def voice(doc: Document) -> None:
    s = doc.snap
    doc.section(_("Voice of the customer"),
                _("Whether customers would recommend us (NPS), were satisfied (CSAT) and how much effort we asked of "
                  "them (CES) — read with the margin of error and the number of answers."))
    notes = {}
    for key, result in (("nps", s.nps), ("csat", s.csat)):
        if result and result.get("value") is not None:
            notes[key] = margin_note(result["margin"] * (1 if key == "nps" else 100), result["answers"], 1)
    f = s.figures
    if f["ces"].value is not None and not f["ces"].suppressed:
        notes["ces"] = ngettext("1 = low effort, 5 = high · {n} answer", "1 = low effort, 5 = high · {n} answers",
                                int(f["ces_answers"].value)).format(n=formats.number(f["ces_answers"].value))
    doc.tiles(["nps", "csat", "ces"], 3, notes)
    if s.effort is not None and not s.effort.dropna(subset=["ces"]).empty:
        doc.subheading(_("Effort along the customer journey"), room=60)
        if s.peak:
            doc.paragraph(peak_text(s.peak), size=9, style="B")
        rows = s.effort.dropna(subset=["ces"])
        doc.chart(charts.effort(s.effort, (s.peak or {}).get("touchpoint")), 130, 12 + 7 * len(rows.index))
        doc.caption(_("Mean effort per step of the journey (CES answers in brackets); in red, the step where effort "
                      "peaks among those with at least {n} answers.").format(n=EFFORT_PEAK_MIN_ANSWERS))
    groups = (s.nps_groups or {}).get("table")
    if groups is not None and groups["customers"].notna().any() or s.partner and groups is not None:
        g = s.nps_groups
        doc.subheading(_("What promoters, passives and detractors are worth"), room=40)
        rows = []
        for r in groups.to_dict("records"):
            name = score_group_heading(r["group"])
            if s.partner and r.get("suppressed"):
                rows.append([name, too_few(s)] + [muted()] * 4)
                continue
            rows.append([name, count(r["customers"]), percent(r["retention"]), decimal(r["purchase_frequency"]),
                         money(s, r["average_order_value"], 2), money(s, r["revenue_per_customer"], 2)])
        doc.table([_("NPS group"), _("Customers"), _("Still buying"), _("Orders per customer"), _("Average order"),
                   _("Revenue per customer")], rows, [32, 24, 28, 32, 30, 32], ["L", "R", "R", "R", "R", "R"])
        window = _("{first} – {last}").format(first=formats.month(g["window_start"]),
                                              last=formats.month(g["window_end"] - pd.Timedelta(days=1)))
        note = _("Customers who answered the NPS survey in the 12 months {window}, in the group of their latest "
                 "answer; still buying: ordered after answering.").format(window=window)
        if g.get("revenue_at_risk") is not None:
            note += " " + _("Revenue of detractors over the window: {amount} ({share} of the respondents' "
                            "revenue).").format(amount=money(s, g["revenue_at_risk"]),
                                                share=percent(g["revenue_at_risk_share"]))
        doc.caption(note)
    if s.partner:
        doc.caption(_("Comments are not part of the partner edition: it carries aggregates only."))
        return
    doc.subheading(_("In their own words"), room=35)
    if not s.verbatims:
        doc.paragraph(_("No NPS comment in {period}.").format(period=s.period.label), size=8.5, color=MUTED)
    for v in s.verbatims:
        colour = BAD if v["group"] == "detractor" else GOOD
        doc.set_font(FONT, "B", 7.5)
        doc.set_text_color(*colour)
        group = score_group_label(v["group"])
        meta = " · ".join([group, f"{v['survey'].upper()} {v['score']}", str(v["touchpoint"]),
                           formats.date(v["answered_at"])])
        doc.cell(0, 4, meta, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.paragraph(_("“{comment}”").format(comment=v["comment"]), size=8.5, style="I", after=1.8)
    doc.caption(_("The latest comments of detractors and promoters, with e-mail addresses, phone, card and account "
                  "numbers masked before export."))


def model_check(doc: Document) -> None:
    s = doc.snap
    check = s.check
    doc.section(_("Model check: can the value figures be trusted?"),
                _("Customer equity, predicted value and CLV / CAC come from BG/NBD and Gamma-Gamma models. Here they "
                  "are refitted without the last {weeks} weeks of data and asked to forecast them. The check always "
                  "ends with the data, whatever the period of this report.").format(weeks=HOLDOUT_WEEKS))
    if check is None or check.get("message"):
        doc.paragraph(_("The models cannot be checked on this data: {why}.").format(
            why=(check or {}).get("message") or _("no check")))
        return
    hold, spend = check["holdout"], check["spend"]
    error = hold["relative_error"]
    said = dict(start=formats.date(check["calibration_start"]), end=formats.date(check["calibration_end"]),
                predicted=formats.number(hold["predicted"]), weeks=HOLDOUT_WEEKS,
                holdout_end=formats.date(check["holdout_end"]), actual=formats.number(hold["actual"]))
    if error is None:
        text = _("Fitted on {start} – {end}, the models predicted {predicted} repeat purchases in the {weeks} weeks "
                 "to {holdout_end}; {actual} happened.").format(**said)
    elif abs(error) <= 0.10:
        text = _("Fitted on {start} – {end}, the models predicted {predicted} repeat purchases in the {weeks} weeks "
                 "to {holdout_end}; {actual} happened ({error}), within ±10 %, a good fit for a customer "
                 "base.").format(error=_relative(error), **said)
    else:
        text = _("Fitted on {start} – {end}, the models predicted {predicted} repeat purchases in the {weeks} weeks "
                 "to {holdout_end}; {actual} happened ({error}), more than 10 % off: read the predicted values with "
                 "care.").format(error=_relative(error), **said)
    if hold.get("low") is not None:
        bounds = dict(low=formats.number(hold["low"]), high=formats.number(hold["high"]))
        text += " " + (_("The forecast's 90 % interval from the parameters' uncertainty is {low} – {high}: the actual "
                         "purchases fall inside it.") if hold["inside"] else
                       _("The forecast's 90 % interval from the parameters' uncertainty is {low} – {high}: the actual "
                         "purchases fall outside it.")).format(**bounds)
        text += " " + _("Parameter uncertainty is not model error.")
    doc.lead_paragraph(_("Repeat purchases."), text)
    if spend and spend.get("predicted_mean") is not None:
        doc.lead_paragraph(_("Spend per purchase."),
                           ngettext("Expected {expected}, observed {observed}{change} over {n} repeat buyer who "
                                    "bought in the holdout.",
                                    "Expected {expected}, observed {observed}{change} over {n} repeat buyers who "
                                    "bought in the holdout.", int(spend["customers"])).format(
                               expected=money(s, spend["predicted_mean"], 2),
                               observed=money(s, spend["actual_mean"], 2), change=_signed(spend["relative_error"]),
                               n=formats.number(spend["customers"])))
    dates = pd.to_datetime(check["curve"]["date"])
    marks = on_days(s.events, dates.min().date(), (dates.max() + timedelta(days=1)).date(), s.filters)
    doc.chart(charts.tracking(check["curve"], check["calibration_end"], marks), doc.width, 62)
    events_under(doc, marks)
    doc.caption(_("Cumulative repeat purchases of the {n} customers known at the split: before it the fit, after it "
                  "the forecast.").format(n=formats.number(check["customers"])))
    rows = [[b["frequency"], count(b["customers"]), decimal(b["predicted_mean"]), decimal(b["actual_mean"])]
            for b in check["buckets"].to_dict("records")]
    doc.subheading(_("By number of repeat purchases before the split"), room=40)
    doc.table([_("Repeat purchases before"), _("Customers"), _("Predicted per customer"), _("Actual per customer")],
              rows, [45, 35, 45, 45], ["L", "R", "R", "R"])
    params = check["parameters"]
    if params is not None and not params.empty:
        doc.subheading(_("Fitted parameters"), room=40)
        rows = []
        for (group, model), part in params.groupby(["group", "model"], sort=False):
            values = ", ".join(_("{parameter} = {value} (± {error})").format(
                parameter=r["parameter"], value=formats.significant(r["value"], 3),
                error=formats.significant(r["standard_error"], 2))
                for r in part.to_dict("records"))
            rows.append([group, model, values, count(part["customers"].iloc[0])])
        doc.table([_("Fit"), _("Model"), _("Parameters (standard error)"), _("Customers")], rows, [28, 24, 100, 26],
                  ["L", "L", "L", "R"], size=7)


def definitions(doc: Document) -> None:
    s = doc.snap
    doc.section(_("Appendix: definitions"),
                _("Every KPI in this document, as the KPI registry declares it — the same text as the dashboard's "
                  "glossary: one definition for every team."))
    keys = s.kpis()
    rows = []
    for group in Group:
        members = [k for k in keys if REGISTRY[k].group is group]
        if not members:
            continue
        rows.append([Cell(_(group.value), bold=True, color=NAVY, fill=HEAD, colspan=4)])
        for key in members:
            kpi = REGISTRY[key]
            rows.append([Cell(kpi.label, bold=True), kpi.definition, kpi.formula,
                         _("higher") if kpi.higher_is_better else _("lower")])
    doc.table([_("KPI"), _("Definition"), _("How it is computed"), _("Better")], rows, [32, 73, 57.5, 15.5],
              ["L", "L", "L", "L"], size=7, zebra=False)
    if s.value_basis:
        doc.caption(_("In this data the model-based values are {basis}.").format(basis=s.value_basis))
    if s.partner:
        doc.caption(ngettext("Suppression: a figure, row or chart point computed over fewer than {n} customer (or "
                             "survey answer) is not shown and reads “suppressed” or “< {n}”.",
                             "Suppression: a figure, row or chart point computed over fewer than {n} customers (or "
                             "survey answers) is not shown and reads “suppressed” or “< {n}”.",
                             s.min_segment).format(n=formats.number(s.min_segment)))


BOARD = [summary, what_changed, valuation, equity_vs_volume, cohorts, concentration, acquisition, voice, model_check,
         definitions]
PARTNER = [valuation, summary, what_changed, equity_vs_volume, cohorts, concentration, acquisition, voice, definitions]


def render(snap: Snapshot) -> bytes:
    """The snapshot's PDF, in two progress steps (report.RENDER_STEPS): the pages, then the charts drawn onto them
    (rendered while the pages were laid out, waited for here)."""
    with progress.step(_("laying out the PDF")):
        doc = Document(snap)
        for section in BOARD if snap.edition == "board" else PARTNER:
            section(doc)
    with progress.step(_("drawing the charts into the PDF")):
        return doc.finish()
