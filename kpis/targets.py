"""Targets: a KPI's goal for a period and a segment, and its status — on track, at risk or off track.

A target is set for a month, a quarter or a year, for all customers or one segment (region=FR). A period without
a target of its own takes the target of the quarter or year containing it, phased: a KPI that sums over time
(revenue, orders, new customers: `KPI.sums_over_time`) gets the longer period's target in proportion to its length
(a yearly revenue target of 12M is 1M a month, 3M a quarter); any other KPI (a rate, a score, a stock such as
customer equity) keeps the value (a 40 % retention target for the year is 40 % every month).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from i18n import N_, _, formats
from kpis.catalog import REGISTRY
from kpis.database import Database
from kpis.decisions import Refused, cell, check_rows, parse_segment, segment_of
from kpis.evaluate import evaluate_many
from kpis.labels import unit_label
from kpis.periods import Period
from kpis.registry import KPI, Unit

DEFAULT_TOLERANCE = 0.05
STATUSES = ("on track", "at risk", "off track")  # the values status() gives and rows carry (status_label: in words)
STATUS_COLOURS = {"on track": "green", "at risk": "orange", "off track": "red"}
STATUS_LABELS = {"on track": N_("on track"), "at risk": N_("at risk"), "off track": N_("off track")}
_EDGE = 1e-9  # a relative slack, so that an actual exactly at the tolerance's edge counts as at risk


@dataclass(frozen=True)
class Goal:
    """The target that applies to one KPI, period and segment: set for it, or phased from a longer period."""

    kpi: str
    period: Period
    segment: str
    target: float
    tolerance: float
    public: bool
    phased_from: Period | None = None

    @property
    def source(self) -> str:
        """Where the target comes from, in the current language: "set", or "phased from 2026" / "réparti depuis
        2026"."""
        if self.phased_from:
            return _("phased from {period}").format(period=self.phased_from.label)
        return _("set")


def status_label(state: str | None) -> str:
    """A status (STATUSES) in the current language ("on track" / "dans la cible"); "" for none."""
    return _(STATUS_LABELS[state]) if state in STATUS_LABELS else (state or "")


def status(kpi: KPI, actual: float | None, target: float, tolerance: float = DEFAULT_TOLERANCE) -> str | None:
    """On track when the actual is at least as good as the target in the KPI's direction; at risk when it falls
    short by at most `tolerance` × |target| (the edge included); off track beyond. None without an actual."""
    if actual is None or pd.isna(actual):
        return None
    short = (target - actual) if kpi.higher_is_better else (actual - target)
    if short <= 0:
        return "on track"
    return "at risk" if short <= (tolerance + _EDGE) * abs(target) else "off track"


def goal(targets: pd.DataFrame, key: str, period: Period, segment: str) -> Goal | None:
    """The target of a KPI for a period and segment: its own, else the quarter's or the year's, phased."""
    rows = targets[(targets["kpi"] == key) & (targets["segment"] == segment)] if len(targets) else targets
    set_for = {str(p): r for p, r in zip(rows.get("period", []), rows.to_dict("records"), strict=True)}
    containing = [period] + [Period.containing(period.start, g) for g in ("quarter", "year")
                             if Period.containing(period.start, g).months > period.months]
    for longer in containing:
        row = set_for.get(str(longer))
        if row is None:
            continue
        share = period.months / longer.months if REGISTRY[key].sums_over_time else 1.0
        return Goal(key, period, segment, float(row["target"]) * share, float(row["tolerance"]),
                    bool(row["public"]), None if longer == period else longer)
    return None


def goals(targets: pd.DataFrame, period, filters: dict | None = None, public_only: bool = False) -> dict[str, Goal]:
    """Every KPI's target for the view (period and segment), in registry order; none for a view of several values
    or names, which no single target is about."""
    segment, period = segment_of(filters), Period.parse(period)
    if segment is None or not len(targets):
        return {}
    named = set(targets["kpi"])
    found = {key: goal(targets, key, period, segment) for key in REGISTRY if key in named}
    return {k: g for k, g in found.items() if g is not None and (g.public or not public_only)}


def scorecard(db: Database, targets: pd.DataFrame, period, filters: dict | None = None,
              public_only: bool = False) -> pd.DataFrame:
    """Each KPI with a target for the view: actual, target, gap (actual − target), gap_share (gap ÷ |target|),
    status, tolerance, source ("set" or "phased from 2026"), public; registry order."""
    found = goals(targets, period, filters, public_only)
    columns = ["kpi", "label", "unit", "actual", "target", "gap", "gap_share", "status", "tolerance", "source",
               "public"]
    if not found:
        return pd.DataFrame(columns=columns)
    actuals = evaluate_many(db, list(found), str(Period.parse(period)), filters=filters)
    rows = [{"label": REGISTRY[key].label, "unit": REGISTRY[key].unit.value, **judged(g, actuals.get(key))}
            for key, g in found.items()]
    return pd.DataFrame(rows, columns=columns)


def judged(g: Goal, actual: float | None) -> dict:
    """A KPI's actual against its goal: kpi, actual, target, gap (actual − target), gap_share (gap ÷ |target|),
    status, tolerance, source, public — a scorecard's row (the dashboard's and the PDF's)."""
    actual = None if actual is None or pd.isna(actual) else float(actual)
    gap = None if actual is None else actual - g.target
    return {"kpi": g.kpi, "actual": actual, "target": g.target, "gap": gap,
            "gap_share": None if gap is None or not g.target else gap / abs(g.target),
            "status": status(REGISTRY[g.kpi], actual, g.target, g.tolerance), "tolerance": g.tolerance,
            "source": g.source, "public": g.public}


def target_line(targets: pd.DataFrame, key: str, periods: list, segment: str) -> list[float | None]:
    """The target of each period (None where there is none): the line a trend is read against."""
    found = [goal(targets, key, Period.parse(p), segment) for p in periods]
    return [None if g is None else g.target for g in found]


# --- reading targets from a file, a command or a form ------------------------------------------------------------

def parse_number(text, kpi: KPI) -> float:
    """A target as written: 1250000, 1,250,000, 42 % (a rate), 0.42 (a rate as a share), +35 (a score)."""
    raw = str(text).strip()
    written = raw.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace("_", "")
    percent = written.endswith("%")
    written = written.rstrip("%")
    if "," in written and all(len(g) == 3 for g in written.split(",")[1:]):
        written = written.replace(",", "")  # thousands separators
    written = _decimal_comma(written)
    try:
        number = float(written)
    except ValueError:
        raise ValueError(_("target {value} is not a number").format(value=repr(raw))) from None
    if percent and kpi.unit is not Unit.PERCENT:
        raise ValueError(_("target {value}: {kpi} is not a rate ({unit}): write it without %").format(
            value=repr(raw), kpi=kpi.label, unit=unit_label(kpi.unit)))
    if percent:
        number /= 100
    low, high = kpi.possible
    if (low is not None and number < low) or (high is not None and number > high):
        span = (_("0 % to 100 %") if kpi.unit is Unit.PERCENT
                else _("{low} to {high}").format(low=_plain(low), high=_plain(high)) if high is not None
                else _("at least {low}").format(low=_plain(low)))
        if kpi.unit is Unit.PERCENT and not percent and number <= 100:
            message = _("target {value} is impossible for {kpi}: it ranges {span} (a rate is written 42 % or 0.42)")
        else:
            message = _("target {value} is impossible for {kpi}: it ranges {span}")
        raise ValueError(message.format(value=raw, kpi=kpi.label, span=span))
    return number


def _decimal_comma(written: str) -> str:
    """0,42 as 0.42: one comma and no point is a decimal comma (1,200 is read as thousands before)."""
    return written.replace(",", ".") if written.count(",") == 1 and "." not in written else written


def _plain(value: float) -> str:
    """A bound as people write it in the current language: -100, 1, 0.5 / 0,5."""
    return formats.number(value) if float(value).is_integer() else formats.number(value, 2).rstrip("0")


def parse_tolerance(text) -> float:
    raw = cell(text)
    if not raw:
        return DEFAULT_TOLERANCE
    try:
        value = float(_decimal_comma(raw.rstrip("%").strip().replace(" ", ""))) / (100 if raw.endswith("%") else 1)
    except ValueError:
        raise ValueError(_("tolerance {value} is not a number (write 5 % or 0.05)").format(value=repr(raw))) from None
    if not 0 <= value < 1:
        raise ValueError(_("tolerance {value} must be from 0 % to under 100 %").format(value=repr(raw)))
    return value


def parse_flag(text) -> bool:
    raw = cell(text).lower()
    if raw in ("", "0", "false", "no", "n", "non", "faux"):
        return False
    if raw in ("1", "true", "yes", "y", "oui", "o", "vrai"):
        return True
    raise ValueError(_("public {value}: write yes or no").format(value=repr(raw)))


def parse_target(row: dict, db: Database) -> dict:
    """One target row (kpi, period, target; optional segment, tolerance, public) as the store keeps it."""
    key = cell(row.get("kpi"))
    if key not in REGISTRY:
        raise ValueError(_("unknown KPI {key}: `cli.py targets kpis` lists them").format(key=repr(key)) if key
                         else _("no kpi given"))
    text = cell(row.get("period"))
    if not text:
        raise ValueError(_("no period given: write 2026-03 (month), 2026-Q1 (quarter) or 2026 (year)"))
    period = Period.parse(text)
    if not cell(row.get("target")):
        raise ValueError(_("no target given"))
    return {"kpi": key, "period": str(period), "segment": parse_segment(row.get("segment"), db),
            "target": parse_number(row["target"], REGISTRY[key]), "tolerance": parse_tolerance(row.get("tolerance")),
            "public": parse_flag(row.get("public"))}


def parse_targets(rows: list[dict], db: Database, where: str = "") -> list[dict]:
    """Every row checked (Refused naming each bad row's line); a KPI, period and segment given twice is refused."""
    parsed = check_rows(rows, lambda row: parse_target(row, db), where)
    seen: dict[tuple, int] = {}
    for line, row in enumerate(parsed, start=2):
        key = (row["kpi"], row["period"], row["segment"])
        if key in seen:
            raise Refused([_("{where} line {line}: {kpi} {period} {segment} is already on line {first}").format(
                where=where, line=line, kpi=row["kpi"], period=row["period"],
                segment=row["segment"] or _("all customers"), first=seen[key])])
        seen[key] = line
    return parsed
