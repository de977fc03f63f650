"""Every number a snapshot shows, gathered once for a view, with the partner edition's suppression applied here —
before anything is laid out, so that a suppressed figure cannot leak into a table, a chart or a sentence.

Suppression (partner edition): a figure is computed over some customers (or survey answers); when there are fewer
than `min_segment` of them, the figure is replaced by None and flagged. The count each KPI rests on is declared
with it in the registry (`KPI.base`):
  active_customers   the period's buyers (volume KPIs, rates over buyers; predicted value and customer equity too,
                     a conservative stand-in for the customer base, which always holds the period's buyers)
  PREVIOUS_BUYERS    the buyers of the period before (retention and churn are shares of them)
  new_customers      the period's new customers (CAC, value of a new customer, CLV/CAC, payback…)
  nps/csat/ces_answers, customers_at_risk   what those KPIs count
Marketing spend (base None) is the company's own spend, not a group of customers: never suppressed. Table rows
(channels, cohorts, deciles, NPS groups, touchpoints) are suppressed on the customers (or answers) in the row;
charts are drawn from the suppressed tables.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

import kpis
from i18n import N_, _, carried, formats, ngettext
from kpis import REGISTRY, KPIError, Period, story
from kpis.clv.common import ModelError
from kpis.clv.model import value_basis
from kpis.database import segment
from kpis.events import Event, events_of
from kpis.labels import CHECK_HOLDOUT_WEEKS, COMPARISONS, describe_filters
from kpis.registry import PREVIOUS_BUYERS
from kpis.scrub import scrub
from kpis.targets import goals, judged
from store.files import describe_provenance, provenance

EDITIONS = {"board": N_("Board edition"), "partner": N_("Partner edition")}  # translated where shown: edition_name
# The comparison with its article, as the report's sentences read it ("… with Q2 2026 (the previous period)").
THE_COMPARISONS = {"previous": N_("the previous period"), "year_ago": N_("the same period last year")}


def edition_name(edition: str) -> str:
    """"Board edition" / "Édition direction", in the current language."""
    return _(EDITIONS[edition])

# --- what each section shows -------------------------------------------------------------------------------------
SUMMARY_CUSTOMER = ["active_customers", "new_customers", "retention_rate", "repeat_purchase_rate", "nps", "cac"]
SUMMARY_VOLUME = ["revenue", "gross_margin", "orders", "marketing_spend"]
SUMMARY_VALUE = ["customer_equity", "predictive_clv", "clv_cac", "customers_at_risk"]
EQUITY = ["active_customers", "new_customers", "retention_rate", "churn_rate", "repeat_purchase_rate",
          "purchase_frequency", "average_order_value", "revenue_per_customer", "categories_per_customer",
          "historical_clv_12m", "predictive_clv", "customer_equity", "new_customer_value", "cac", "clv_cac",
          "cac_payback_months"]
VOLUME = ["revenue", "orders", "gross_margin", "gross_margin_rate", "marketing_spend", "cost_per_order",
          "cost_of_sales"]
TREND = ["active_customers", "new_customers", "revenue_per_customer", "revenue", "orders", "gross_margin"]
CONCENTRATION = ["top_customer_share", "customers_at_risk", "value_at_risk", "predictive_clv"]
CHANNEL = ["new_customers", "marketing_spend", "cac", "new_customer_value", "clv_cac"]
VOICE = ["nps", "promoter_share", "detractor_share", "csat", "ces", "nps_answers", "csat_answers", "ces_answers"]
FIGURES = list(dict.fromkeys(SUMMARY_CUSTOMER + SUMMARY_VOLUME + SUMMARY_VALUE + EQUITY + VOLUME + CONCENTRATION
                             + VOICE))
# The figures in two groups evaluated side by side (DuckDB and numpy release the GIL): the KPIs computed in SQL
# alone, and those that read the fitted value models.
_MODEL = [k for k in FIGURES if REGISTRY[k].model_based]
FIGURE_JOBS = [[k for k in FIGURES if k not in _MODEL], _MODEL]
REFERENCE_SKIP: set[str] = set()  # figures not computed for the comparison period (none since payback is cheap)
TREND_PERIODS = {"month": 12, "quarter": 8, "year": 4}
HOLDOUT_WEEKS = CHECK_HOLDOUT_WEEKS
VERBATIMS = 3  # per group (detractors, promoters), board edition only
COHORT_ROWS = 15  # monthly cohorts in the cohort table (the heat map shows the last 12); each costs query time

class ReportError(ValueError):
    """A request the report cannot answer: unknown edition, comparison, period, filter or value."""


@dataclass
class Figure:
    """One KPI of the view: its value, the comparison period's, and whether either is suppressed."""

    key: str
    value: float | None
    reference: float | None
    suppressed: bool = False
    reference_suppressed: bool = False

    @property
    def delta(self) -> float | None:
        if self.value is None or self.reference is None:
            return None
        return self.value - self.reference

    @property
    def relative(self) -> float | None:
        return None if self.delta is None or not self.reference else self.delta / abs(self.reference)


@dataclass
class Snapshot:
    edition: str
    period: Period
    reference: Period
    compare: str
    filters: dict[str, tuple[str, ...]]
    min_segment: int
    currency: str
    source: str
    built_at: datetime | None
    data_start: date
    data_end: date
    timezone: str = "UTC"  # the zone the data's times and periods are in (the build's metadata; absent: UTC)
    figures: dict[str, Figure] = field(default_factory=dict)
    trend: pd.DataFrame | None = None
    cohorts: pd.DataFrame | None = None  # cohort, age, customers, active, rate, suppressed (long)
    deciles: pd.DataFrame | None = None
    curve: pd.DataFrame | None = None  # None when suppressed
    channels: pd.DataFrame | None = None
    nps: dict | None = None
    csat: dict | None = None
    effort: pd.DataFrame | None = None
    peak: dict | None = None
    nps_groups: dict | None = None
    verbatims: list[dict] = field(default_factory=list)
    check: dict | None = None
    value_basis: str | None = None  # kpis.clv.model.value_basis: revenue-based, or a stated margin rate
    headline: list[str] = field(default_factory=list)  # kpis.story: the first page's sentences
    revenue_bridge: pd.DataFrame | None = None  # None when suppressed (partner) or undefined
    equity_bridge: pd.DataFrame | None = None
    channel_contributions: pd.DataFrame | None = None  # revenue's change by acquisition channel (board)
    valuation: object | None = None  # kpis.valuation (10 years, 10 %), None when suppressed or not possible
    valuation_note: str | None = None  # why there is none
    # kpis.targets: a row per KPI with a target for the view (public ones only in the partner edition): kpi, actual,
    # target, gap, status, source, suppressed
    scorecard: pd.DataFrame | None = None
    events: list[Event] = field(default_factory=list)  # kpis.events: drawn on the time charts, listed under them
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def partner(self) -> bool:
        return self.edition == "partner"

    def hidden(self, count) -> bool:
        """Whether a group of `count` customers is too small to show (partner edition only)."""
        return self.partner and (count is None or count < self.min_segment)

    def describe_filters(self) -> str:
        """The segment in words, as the dashboard writes it."""
        return describe_filters(self.filters)

    @property
    def comparison(self) -> str:
        """"the previous period" / "la période précédente", in the current language."""
        return _(THE_COMPARISONS[self.compare])

    def kpis(self) -> list[str]:
        """Every KPI the edition shows, in registry order (what the definitions appendix lists)."""
        shown = set(FIGURES) | set(TREND) | set(CHANNEL)
        return [k for k in kpis.REGISTRY if k in shown]


# --- arguments ---------------------------------------------------------------------------------------------------

def normalise_filters(db, filters) -> dict[str, tuple[str, ...]]:
    """{name: value or values} → {name: (values…)}, validated by the KPI catalog (unknown names or values refused)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, value in (filters or {}).items():
        values = tuple(str(v) for v in (value if isinstance(value, list | tuple | set) else [value]))
        if values:
            out[name] = tuple(dict.fromkeys(values))
    try:
        segment(db, out)
    except KPIError as error:
        raise ReportError(str(error)) from None
    return out


def check_period(db, period) -> Period:
    try:
        p = Period.parse(period)
    except ValueError as error:
        raise ReportError(str(error)) from None
    if db.data_end is None:
        raise ReportError(_("the database has no orders"))
    if p.start > db.data_end or p.end <= db.data_start:
        raise ReportError(_("no data for {period}: the data cover {start} to {end}").format(
            period=p, start=formats.date(db.data_start), end=formats.date(db.data_end)))
    return p


def source_of(metadata: dict) -> str:
    """Where the build's data come from, in the current language: demo, import of orders.csv, …, or the files of its
    last append (store.files.provenance, as the dashboard's sidebar says it)."""
    return describe_provenance(*provenance(metadata))


def _built_at(metadata: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(str(metadata["built_at"]))
    except (KeyError, ValueError):
        return None


# --- gathering ---------------------------------------------------------------------------------------------------

_check_lock = threading.Lock()


def model_check(db, filters: dict) -> dict:
    """kpis.holdout_check for the segment, cached on the database like the fitted value models."""
    cache = db.__dict__.setdefault("_report_model_checks", {})
    key = (HOLDOUT_WEEKS, tuple(sorted(filters.items())))
    with _check_lock:
        if key not in cache:
            cache[key] = kpis.holdout_check(db, holdout_weeks=HOLDOUT_WEEKS, filters=filters)
    return cache[key]


def collect(db, period, compare: str = "previous", edition: str = "board", filters=None,
            min_segment: int = 10, targets=None, events=None) -> Snapshot:
    """Gather (and, for partners, suppress) every number of the report for one view."""
    if edition not in EDITIONS:
        raise ReportError(_("unknown edition {edition}: use {choices}").format(
            edition=repr(edition), choices=_(" or ").join(EDITIONS)))
    if compare not in COMPARISONS:
        raise ReportError(_("unknown comparison {compare}: use {choices}").format(
            compare=repr(compare), choices=_(" or ").join(COMPARISONS)))
    if isinstance(min_segment, bool) or not isinstance(min_segment, int) or min_segment < 1:
        raise ReportError(_("min_segment must be a whole number ≥ 1, not {value}").format(value=repr(min_segment)))
    p = check_period(db, period)
    filters = normalise_filters(db, filters)
    ref = p.reference(compare)
    meta = db.metadata
    snap = Snapshot(edition, p, ref, compare, filters, min_segment, meta.get("currency", "EUR"), source_of(meta),
                    _built_at(meta), db.data_start, db.data_end, str(meta.get("timezone") or "UTC"))
    board = edition == "board"
    snap.value_basis = value_basis(db)

    def timed(name, fn, *args, **kwargs):
        def run():
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                snap.timings[name] = time.perf_counter() - started
        return run

    jobs = {}
    compared = ref.end > db.data_start  # a comparison period before the first order has nothing to compare with
    for name, q in (("figures", p), ("reference", ref)):  # SQL and model-based KPIs run side by side
        for part, keys in enumerate(FIGURE_JOBS):
            if name == "reference" and (not compared or set(keys) <= REFERENCE_SKIP):
                jobs[f"{name} {part}"] = lambda keys=keys: dict.fromkeys(keys)
                continue
            jobs[f"{name} {part}"] = timed(f"{name} {part}", kpis.evaluate_many, db, keys, q, filters)
    jobs |= {
        "channels": timed("channels", _channels, db, p, filters),
        "trend": timed("trend", _trend, db, p, filters),
        "cohorts": timed("cohorts", _cohorts, db, p, filters),
        "concentration": timed("concentration", _concentration, db, p, filters, snap),
        "voice": timed("voice", _voice, db, p, filters, board),
        "why": timed("why", _why, db, p, compare, filters, board),
        "valuation": timed("valuation", _valuation, db, p, filters),
    }
    if snap.partner:  # retention is a share of the previous period's buyers
        for q in {p.previous(), ref.previous()}:
            jobs[f"buyers {q}"] = timed(f"buyers {q}", kpis.evaluate, db, "active_customers", q, filters)
    if board:
        jobs["model check"] = timed("model check", model_check, db, filters)
    # DuckDB releases the GIL while it works: independent sections overlap (each in the run's language: the
    # sentences, notes and labels the sections write are in it).
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="report") as pool:
        futures = {name: pool.submit(carried(job)) for name, job in jobs.items()}
        results = {name: future.result() for name, future in futures.items()}

    now = {k: v for part in range(len(FIGURE_JOBS)) for k, v in results[f"figures {part}"].items()}
    before = {k: v for part in range(len(FIGURE_JOBS)) for k, v in results[f"reference {part}"].items()}
    previous_buyers = {"now": results.get(f"buyers {p.previous()}"), "ref": results.get(f"buyers {ref.previous()}")}
    for key in FIGURES:
        figure = Figure(key, now[key], before[key])
        if snap.partner:  # an undefined figure has nothing to hide: it stays undefined ("—")
            figure.suppressed = now[key] is not None and snap.hidden(_base(key, now, previous_buyers["now"]))
            figure.reference_suppressed = before[key] is not None and snap.hidden(
                _base(key, before, previous_buyers["ref"]))
            if figure.suppressed:
                figure.value = None
            if figure.reference_suppressed:
                figure.reference = None
        snap.figures[key] = figure

    snap.channels = _suppress_rows(snap, results["channels"], "new_customers", CHANNEL)
    snap.trend = _suppress_trend(snap, results["trend"])
    snap.cohorts = _suppress_cohorts(snap, results["cohorts"])
    snap.deciles, snap.curve = results["concentration"]
    why = results["why"]
    hidden = snap.hidden(snap.figures["active_customers"].value) or snap.figures["active_customers"].suppressed
    if not hidden:  # the bridges rest on the period's buyers (and, for equity, the whole base: more of them)
        snap.revenue_bridge, snap.equity_bridge = why["revenue_bridge"], why["equity_bridge"]
        snap.headline = [s for name, s in why["sentences"].items()
                         if s and (board or name in ("revenue", "equity")
                                   or (name == "nps" and not snap.hidden((snap.nps or {}).get("answers"))))]
    snap.channel_contributions = why["channels"] if board else None
    snap.valuation, snap.valuation_note = results["valuation"]
    if snap.valuation is not None and hidden:
        snap.valuation, snap.valuation_note = None, ngettext(
            "suppressed: fewer than {n} customer bought", "suppressed: fewer than {n} customers bought",
            min_segment).format(n=formats.number(min_segment))
    if snap.valuation is not None and snap.partner:  # its tables: rows of too few new customers are hidden
        cohorts = snap.valuation.cohorts.copy()
        cohorts["suppressed"] = [snap.hidden(n) for n in cohorts["new_customers"]]
        channels = snap.valuation.channels.copy()
        channels["suppressed"] = [snap.hidden(n) for n in channels["new_customers_12m"]]
        snap.valuation = dataclasses.replace(snap.valuation, cohorts=cohorts, channels=channels)
    voice = results["voice"]
    snap.nps, snap.csat, snap.peak = voice["nps"], voice["csat"], voice["peak"]
    snap.effort = voice["effort"]
    snap.nps_groups = voice["nps_groups"]
    if snap.partner:
        snap.nps = _suppress_margin(snap, snap.nps)
        snap.csat = _suppress_margin(snap, snap.csat)
        effort = snap.effort.copy()
        effort["ces_suppressed"] = [snap.hidden(n) for n in effort["ces_answers"]]
        effort["csat_suppressed"] = [snap.hidden(n) for n in effort["csat_answers"]]
        effort[["ces_answers", "csat_answers"]] = effort[["ces_answers", "csat_answers"]].astype("float64")
        effort.loc[effort["ces_suppressed"], ["ces_answers", "ces", "high_effort_share"]] = float("nan")
        effort.loc[effort["csat_suppressed"], ["csat_answers", "csat"]] = float("nan")
        snap.effort = effort
        if snap.peak is not None and snap.hidden(snap.peak["answers"]):
            snap.peak = None
        groups = snap.nps_groups["table"].copy()
        groups["suppressed"] = [snap.hidden(n) for n in groups["customers"]]
        detractors_hidden = bool(groups.loc[groups["group"] == "detractor", "suppressed"].all())
        numbers = [c for c in groups.columns if c not in ("group", "suppressed")]
        groups[numbers] = groups[numbers].astype("float64")
        groups.loc[groups["suppressed"], numbers] = float("nan")
        snap.nps_groups = dict(snap.nps_groups, table=groups)
        if detractors_hidden:
            snap.nps_groups |= {"revenue_at_risk": None, "revenue_at_risk_share": None}
    else:
        snap.verbatims = voice["verbatims"]
        snap.check = results.get("model check")
    snap.scorecard = _scorecard(db, snap, targets)
    snap.events = events_of(events) if events is not None else []
    return snap


def _scorecard(db, snap: Snapshot, targets) -> pd.DataFrame | None:
    """The view's targets against the snapshot's own figures (the partner edition: public targets of the KPIs it
    shows, suppressed where their figure is); the board's targets of other KPIs are evaluated here."""
    found = goals(targets, snap.period, snap.filters, public_only=snap.partner) if targets is not None else {}
    found = {k: g for k, g in found.items() if k in snap.figures or not snap.partner}
    if not found:
        return None
    others = [k for k in found if k not in snap.figures]
    values = kpis.evaluate_many(db, others, snap.period, snap.filters) if others else {}
    rows = []
    for key, g in found.items():
        figure = snap.figures.get(key)
        suppressed = bool(figure is not None and figure.suppressed)
        row = judged(g, figure.value if figure is not None else values.get(key))
        rows.append(row | {"suppressed": suppressed} | ({"status": None} if suppressed else {}))
    return pd.DataFrame(rows)


def _base(key: str, values: dict, previous_buyers) -> float | None:
    base = REGISTRY[key].base
    if base is None:
        return float("inf")
    if base == PREVIOUS_BUYERS:
        return previous_buyers
    return values.get(base)


def _why(db, p: Period, compare: str, filters: dict, board: bool) -> dict:
    """The bridges, the headline sentences (kpis.story) and revenue's change by channel, for the view."""
    currency = db.metadata.get("currency", "EUR")
    out = {"revenue_bridge": kpis.revenue_bridge(db, p, compare, filters), "equity_bridge": None, "channels": None}
    try:
        out["equity_bridge"] = kpis.equity_bridge(db, p, compare, filters)
    except (KPIError, ModelError):
        pass
    out["sentences"] = {"revenue": story.revenue_sentence(db, p, compare, filters, currency),
                        "equity": story.equity_sentence(db, p, compare, filters, currency),
                        "nps": story.nps_sentence(db, p, compare, filters),
                        "channels": story.where_sentence(db, p, compare, filters, currency) if board else None}
    if board and len(filters.get("acquisition_channel", ())) != 1:
        out["channels"] = kpis.contributions(db, "revenue", p, "acquisition_channel", compare, filters)
    return out


def _valuation(db, p: Period, filters: dict):
    """kpis.valuation with its default assumptions (10 years, 10 %), or None and why."""
    try:
        return kpis.valuation(db, p, filters=filters), None
    except KPIError as error:
        return None, str(error)


def _channels(db, p: Period, filters: dict) -> pd.DataFrame:
    """CHANNEL KPIs per acquisition channel of the segment (every channel when none is chosen)."""
    names = filters.get("acquisition_channel") or db.filter_values("acquisition_channel")
    rows = []
    for name in names:
        values = kpis.evaluate_many(db, CHANNEL, p, filters | {"acquisition_channel": (name,)})
        rows.append({"channel": name, **values})
    return pd.DataFrame(rows, columns=["channel", *CHANNEL])


def _trend(db, p: Period, filters: dict) -> pd.DataFrame:
    n = TREND_PERIODS[p.grain]
    frame = kpis.trend(db, TREND, p, n, filters)
    first = db.data_start.replace(day=1)
    # Periods the data do not cover from their start (before the first order's month) would show as a collapse
    # or, indexed, as a leap: they are left out.
    keep = [Period.parse(x).start >= first for x in frame["period"]]
    return frame[keep].reset_index(drop=True)


def _cohorts(db, p: Period, filters: dict) -> pd.DataFrame:
    """Monthly cohorts acquired in the COHORT_ROWS months to the period's last month, ages seen by its end."""
    last = Period.containing(p.end, "month").previous()  # the period's last month
    first = last.shift(-(COHORT_ROWS - 1))
    if first.start < db.data_start.replace(day=1):
        first = Period.containing(db.data_start, "month")
    if first > last:
        return pd.DataFrame(columns=["cohort", "age", "customers", "active", "rate"])
    frame = kpis.cohort_retention(db, str(first), str(last), filters)
    last_index = last.start.year * 12 + last.start.month
    index = frame["cohort"].str[:4].astype(int) * 12 + frame["cohort"].str[5:7].astype(int)
    return frame[index + frame["age"] <= last_index].reset_index(drop=True)


def _concentration(db, p: Period, filters: dict, snap: Snapshot):
    deciles = kpis.value_deciles(db, p, filters)
    buyers = int(deciles["customers"].sum()) if not deciles.empty else 0
    # Partners: each point of the curve must stand for at least min_segment buyers.
    points = 50 if not snap.partner else min(50, buyers // snap.min_segment)
    curve = kpis.concentration_curve(db, p, points=points, filters=filters) if points >= 2 and buyers else None
    if snap.partner:
        deciles = deciles.copy()
        deciles["suppressed"] = [snap.hidden(n) for n in deciles["customers"]]
        numbers = [c for c in deciles.columns if c not in ("decile", "suppressed")]
        deciles.loc[deciles["suppressed"], numbers] = float("nan")
    return deciles, curve


def _voice(db, p: Period, filters: dict, board: bool) -> dict:
    out = {
        "nps": kpis.nps_with_margin(db, p, filters),
        "csat": kpis.csat_with_margin(db, p, filters),
        "effort": kpis.effort_by_touchpoint(db, p, filters),
        "peak": kpis.effort_peak(db, p, filters=filters),
        "nps_groups": kpis.value_by_nps_group(db, p, filters=filters),
        "verbatims": [],
    }
    if board:
        comments = kpis.latest_comments(db, p, VERBATIMS, filters)
        for group in ("detractor", "promoter"):
            for row in comments[group].to_dict("records"):
                # latest_comments scrubs already; scrubbing twice changes nothing and guards the export.
                out["verbatims"].append(row | {"comment": scrub(row["comment"])})
    return out


def _suppress_rows(snap: Snapshot, frame: pd.DataFrame, count: str, columns: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    frame["suppressed"] = [snap.hidden(n) for n in frame[count]] if snap.partner else False
    values = [c for c in columns if c in frame and REGISTRY[c].base is not None]  # the count itself too
    frame[values] = frame[values].astype("float64")
    frame.loc[frame["suppressed"], values] = float("nan")
    return frame


def _suppress_trend(snap: Snapshot, trend: pd.DataFrame) -> pd.DataFrame:
    if not snap.partner:
        return trend
    trend = trend.copy()
    for row in trend.index:
        for key in TREND:
            if snap.hidden(trend.at[row, REGISTRY[key].base]):
                trend.at[row, key] = None
    return trend


def _suppress_cohorts(snap: Snapshot, cohorts: pd.DataFrame) -> pd.DataFrame:
    cohorts = cohorts.copy()
    cohorts["suppressed"] = [snap.hidden(n) for n in cohorts["customers"]] if snap.partner else False
    cohorts["rate"] = cohorts["rate"].astype("float64")
    cohorts[["customers", "active"]] = cohorts[["customers", "active"]].astype("float64")
    cohorts.loc[cohorts["suppressed"], ["customers", "active", "rate"]] = float("nan")
    return cohorts


def _suppress_margin(snap: Snapshot, result: dict) -> dict:
    if snap.hidden(result.get("answers")):
        return {k: (None if k != "answers" else v) for k, v in result.items()} | {"suppressed": True}
    return result
