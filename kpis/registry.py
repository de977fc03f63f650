"""The KPI declaration: one record per indicator, read by pages, glossary, PDF and tests alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Unit(StrEnum):
    COUNT = "count"
    CURRENCY = "currency"
    PERCENT = "percent"  # values are fractions: 0.42 reads 42 %
    RATIO = "ratio"
    SCORE = "score"
    MONTHS = "months"


class Group(StrEnum):
    EQUITY = "Customer equity"
    VOLUME = "Volume and cost"
    VOICE = "Voice of the customer"


@dataclass(frozen=True)
class Measure:
    """An aggregate over one source relation of the scope ("orders", "acquired", "spend", "feedback")."""

    source: str
    expr: Callable  # (filtered ibis table) -> ibis scalar


@dataclass(frozen=True)
class Query:
    """A scalar computed by its own query; returns None where the KPI is undefined for the scope."""

    expr: Callable  # (Scope) -> one-row ibis table with a `value` column, or None


@dataclass(frozen=True)
class Computed:
    """A value computed in Python (from fitted models); returns None where undefined."""

    fn: Callable  # (Database, Scope) -> float | None


@dataclass(frozen=True)
class Ratio:
    numerator: str
    denominator: str


@dataclass(frozen=True)
class Derived:
    inputs: tuple[str, ...]
    fn: Callable[..., float]


@dataclass(frozen=True)
class KPI:
    key: str
    label: str
    definition: str  # plain language, for the glossary and the PDF appendix
    formula: str  # how it is computed, in words and symbols
    unit: Unit
    higher_is_better: bool
    group: Group
    compute: Measure | Query | Ratio | Derived | Computed
    short: str = ""  # a shorter label for small tiles ("NPS", "CAC")

    @property
    def short_label(self) -> str:
        return self.short or self.label

    @property
    def inputs(self) -> tuple[str, ...]:
        if isinstance(self.compute, Ratio):
            return (self.compute.numerator, self.compute.denominator)
        if isinstance(self.compute, Derived):
            return self.compute.inputs
        return ()


def build_registry(kpis: list[KPI]) -> dict[str, KPI]:
    """Index the declarations by key, refusing duplicates and dangling inputs."""
    registry: dict[str, KPI] = {}
    labels: set[str] = set()
    for kpi in kpis:
        if kpi.key in registry:
            raise ValueError(f"KPI key declared twice: {kpi.key}")
        if kpi.label in labels:
            raise ValueError(f"KPI label declared twice: {kpi.label}")
        if not (kpi.definition.strip() and kpi.formula.strip() and kpi.label.strip()):
            raise ValueError(f"KPI {kpi.key} needs a label, a definition and a formula")
        registry[kpi.key] = kpi
        labels.add(kpi.label)
    for kpi in registry.values():
        missing = [k for k in kpi.inputs if k not in registry]
        if missing:
            raise ValueError(f"KPI {kpi.key} is computed from undeclared KPI(s): {', '.join(missing)}")
    return registry
