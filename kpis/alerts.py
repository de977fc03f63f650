"""Which KPIs moved beyond their noise: the models' parameter uncertainty for the model-based KPIs (kpis.intervals:
the 90 % interval of the change excludes 0), the survey's 95 % margin of error for NPS and CSAT (kpis.voice.noise).
Other KPIs have no noise measure and are never called a move here."""

from __future__ import annotations

from dataclasses import dataclass

from i18n import N_, _
from kpis import format as fmt
from kpis.catalog import REGISTRY
from kpis.database import Database, period_of
from kpis.evaluate import evaluate_many
from kpis.intervals import INTERVAL_KPIS, change_interval
from kpis.voice.noise import change_with_margin

MODELS_NOISE = N_("the models' uncertainty")  # a Move's noise (a key; noise_label: in the current language)
SURVEY_NOISE = N_("the margin of error")
# A move in one sentence, per direction and noise (described).
_DESCRIBED = {(True, MODELS_NOISE): N_("{kpi} rose from {reference} to {value} ({change}), beyond the models' "
                                       "uncertainty"),
              (False, MODELS_NOISE): N_("{kpi} fell from {reference} to {value} ({change}), beyond the models' "
                                        "uncertainty"),
              (True, SURVEY_NOISE): N_("{kpi} rose from {reference} to {value} ({change}), beyond the margin of error"),
              (False, SURVEY_NOISE): N_("{kpi} fell from {reference} to {value} ({change}), beyond the margin of "
                                        "error")}


def noise_label(noise: str) -> str:
    """MODELS_NOISE or SURVEY_NOISE in the current language."""
    return _(noise)


@dataclass(frozen=True)
class Move:
    """A KPI's change from the comparison period, whose interval [low, high] excludes 0."""

    kpi: str
    value: float
    reference: float
    low: float
    high: float
    noise: str  # MODELS_NOISE or SURVEY_NOISE

    @property
    def change(self) -> float:
        return self.value - self.reference


def described(move: Move, currency: str = "EUR") -> str:
    """The move in words, in the current language: "NPS rose from +10 to +30 (+20.0), beyond the margin of error"
    (the e-mail's line of changes beyond noise)."""
    kpi = REGISTRY[move.kpi]
    return _(_DESCRIBED[move.change > 0, move.noise]).format(
        kpi=kpi.label, reference=fmt.value(move.reference, kpi.unit, currency),
        value=fmt.value(move.value, kpi.unit, currency), change=fmt.delta(move.change, kpi.unit, currency))


def _model_moves(db: Database, period, compare: str, filters: dict | None) -> list[Move]:
    now = evaluate_many(db, INTERVAL_KPIS, period, filters)
    before = evaluate_many(db, INTERVAL_KPIS, period_of(period).reference(compare), filters)
    moves = []
    for key in INTERVAL_KPIS:
        bounds = None if now[key] is None or before[key] is None else change_interval(db, key, period, compare,
                                                                                       filters)
        if bounds is not None and not bounds[0] <= 0 <= bounds[1]:
            moves.append(Move(key, now[key], before[key], *bounds, MODELS_NOISE))
    return moves


def _survey_moves(db: Database, period, compare: str, filters: dict | None) -> list[Move]:
    changes = {key: change_with_margin(db, key, period, compare, filters) for key in ("nps", "csat")}
    return [Move(key, c["value"], c["reference_value"], c["delta_low"], c["delta_high"], SURVEY_NOISE)
            for key, c in changes.items() if c["within_noise"] is False]


def beyond_noise(db: Database, period, compare: str = "previous", filters: dict | None = None) -> list[Move]:
    """The KPIs whose change from the comparison period ("previous" or "year_ago") is beyond its noise, in registry
    order."""
    moves = {m.kpi: m for m in _model_moves(db, period, compare, filters) + _survey_moves(db, period, compare,
                                                                                          filters)}
    return [moves[key] for key in REGISTRY if key in moves]
