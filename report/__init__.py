"""PDF snapshots of the dashboard for the board, shareholders and partners (issue 7; DOMAIN.md ideas 4 and 9).

    build_report(db, "2024-Q3", compare="previous", edition="board", filters={"region": "FR"}) -> PDF bytes

Editions: "board" (the empty chair, customer equity next to volume and cost, cohorts, value concentration,
acquisition economics, voice of the customer with a few scrubbed comments, the model check) and "partner"
(aggregates only: no comments, no model internals, and every figure, row or chart point that rests on fewer than
`min_segment` customers suppressed and marked so). Modules: data (the numbers, and suppression), charts (Altair
→ vl-convert vector PDF), layout (fpdf2 pages; charts merged with pypdf), fonts (DejaVu Sans Condensed).
"""

from __future__ import annotations

from i18n import _
from report.data import COMPARISONS, EDITIONS, ReportError, Snapshot, collect
from store import progress

__all__ = ["COMPARISONS", "EDITIONS", "ReportError", "Snapshot", "build_report", "collect", "render"]


RENDER_STEPS = 2  # the progress steps of `render`: laying out the pages, drawing the charts in


def render(snap: Snapshot) -> bytes:
    """Lay out a gathered snapshot as PDF bytes."""
    from report.layout import render as _render  # fpdf2, pypdf and vl-convert load only when a PDF is drawn

    return _render(snap)


def build_report(db, period, compare: str = "previous", edition: str = "board", filters: dict | None = None,
                 min_segment: int = 10, targets=None, events=None) -> bytes:
    """The PDF snapshot of one view: `db` a kpis.Database, `period` "2024-Q3" / "2024-09" / "2024", `compare`
    "previous" or "year", `edition` "board" or "partner", `filters` {name: value or values} as for every KPI,
    `min_segment` the fewest customers a partner-edition figure may rest on; `targets` and `events` the settings
    store's tables (store.settings): a status column, and events on the time charts. ReportError for a bad
    argument."""
    progress.expect(RENDER_STEPS + 1)
    with progress.step(_("computing the snapshot")):
        snap = collect(db, period, compare=compare, edition=edition, filters=filters, min_segment=min_segment,
                       targets=targets, events=events)
    return render(snap)
