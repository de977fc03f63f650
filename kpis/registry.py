"""The KPI declaration: one record per indicator, read by pages, glossary, PDF and tests alike.

Each declaration carries its words in every language of the interface (`Text`: label, definition, formula, short
label): `kpi.label`, `kpi.definition`… read them in the current language (i18n.language()), so that the dashboard,
the glossary and the PDF show one definition per KPI in English and in French alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from i18n import LANGUAGES, N_, language


class Unit(StrEnum):
    COUNT = "count"
    CURRENCY = "currency"
    PERCENT = "percent"  # values are fractions: 0.42 reads 42 %
    RATIO = "ratio"
    SCORE = "score"
    MONTHS = "months"


class Group(StrEnum):
    """The KPI families; a value is shown translated, `_(group.value)`."""

    EQUITY = N_("Customer equity")
    VOLUME = N_("Volume and cost")
    VOICE = N_("Voice of the customer")


@dataclass(frozen=True)
class Measure:
    """An aggregate over one source relation of the scope ("activity", "orders", "acquired", "spend", "feedback")."""

    source: str
    expr: Callable  # (filtered ibis table) -> ibis scalar


@dataclass(frozen=True)
class Query:
    """A scalar computed by its own query; returns None where the KPI is undefined for the scope.

    `over_periods`, when given, computes it for consecutive periods of one grain (a trend's, a comparison's) in one
    pass: (scopes in time order) -> a table of `_scope` (index in that list) and `value`, a row per scope that has
    one; it must give what `expr` gives scope by scope (tests/test_segments.py checks it does)."""

    expr: Callable  # (Scope) -> one-row ibis table with a `value` column, or None
    over_periods: Callable | None = None


@dataclass(frozen=True)
class Computed:
    """A value computed in Python (from fitted models); returns None where undefined.

    `inputs` are KPIs of the same scope it needs (payback needs CAC): the evaluator computes them first and
    passes their values after the scope."""

    fn: Callable  # (Database, Scope, *input values) -> float | None
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ratio:
    numerator: str
    denominator: str


@dataclass(frozen=True)
class Derived:
    inputs: tuple[str, ...]
    fn: Callable[..., float]


@dataclass(frozen=True)
class Text:
    """A KPI's words in one language."""

    label: str
    definition: str  # plain language, for the glossary and the PDF appendix
    formula: str  # how it is computed, in words and symbols
    short: str = ""  # a shorter label for small tiles ("NPS", "CAC"); declared in every language or in none


@dataclass(frozen=True)
class KPI:
    key: str
    en: Text
    fr: Text
    unit: Unit
    higher_is_better: bool
    group: Group
    compute: Measure | Query | Ratio | Derived | Computed
    # The count the figure rests on, for small-group suppression (partner edition): a COUNT KPI of the same scope,
    # PREVIOUS_BUYERS (the previous period's buyers: retention is a share of them), or None (not about customers).
    base: str | None = "active_customers"
    model_based: bool = False  # computed from the fitted CLV models (BG/NBD + Gamma-Gamma), or from such a KPI
    additive: bool = False  # the sum of its values over disjoint customer segments is its value for them all
    # For a rate that is a weighted mean over segments (NPS over answers, retention over the previous period's
    # buyers): the count it is weighted by. A Ratio of additive KPIs is weighted by its denominator without it.
    weight: str | None = None
    scale: tuple[float, float] | None = None  # a SCORE's possible values (NPS −100 to 100); other units have theirs
    # A flow over time (revenue, orders, new customers): a quarter's value is the sum of its months' values, so a
    # yearly target phases into its months by their share of its length. Not a stock (customers active, equity).
    sums_over_time: bool = False

    @property
    def possible(self) -> tuple[float | None, float | None]:
        """The values the KPI can take (None: unbounded), for validating targets: 0–1 for a rate."""
        if self.unit is Unit.SCORE:
            return self.scale
        if self.unit is Unit.PERCENT:
            return 0.0, 1.0
        return (None, None) if self.unit is Unit.CURRENCY else (0.0, None)

    @property
    def texts(self) -> dict[str, Text]:
        """The KPI's words by language code (i18n.LANGUAGES)."""
        return {"en": self.en, "fr": self.fr}

    @property
    def text(self) -> Text:
        """The KPI's words in the current language."""
        return self.texts[language()]

    @property
    def label(self) -> str:
        return self.text.label

    @property
    def definition(self) -> str:
        return self.text.definition

    @property
    def formula(self) -> str:
        return self.text.formula

    @property
    def short(self) -> str:
        return self.text.short

    @property
    def short_label(self) -> str:
        """The label for small tiles: the short one, else the label."""
        return self.short or self.label

    @property
    def inputs(self) -> tuple[str, ...]:
        if isinstance(self.compute, Ratio):
            return (self.compute.numerator, self.compute.denominator)
        if isinstance(self.compute, Derived | Computed):
            return self.compute.inputs
        return ()


PREVIOUS_BUYERS = "active_customers@previous"  # a KPI's base: the buyers of the period before


def split_of(registry: dict[str, KPI], key: str) -> tuple[str, str | None] | None:
    """How a KPI's change splits over customer segments: ("sum", None) for additive KPIs, ("rate", weight) for a
    weighted mean of its segments' values, None when it does not split (a top-15% share, a payback month)."""
    kpi = registry[key]
    if kpi.additive:
        return "sum", None
    if kpi.weight is not None:
        return "rate", kpi.weight
    compute = kpi.compute
    if isinstance(compute, Ratio) and registry[compute.numerator].additive and registry[compute.denominator].additive:
        return "rate", compute.denominator
    return None


LANGUAGE_NAMES = {"en": "English", "fr": "French"}  # for the registry's own (developer-facing) messages


def _check_texts(kpi: KPI, labels: dict[str, dict[str, str]]) -> None:
    """Every language's words present and whole, each label unique in its language, a short label in all or none."""
    texts = kpi.texts
    for code in LANGUAGES:
        name, text = LANGUAGE_NAMES[code], texts.get(code)
        if not isinstance(text, Text):
            raise ValueError(f"KPI {kpi.key} has no {name} words: declare its Text(label, definition, formula) "
                             f"in {name}")
        blank = [field for field in ("label", "definition", "formula")
                 if not (isinstance(getattr(text, field), str) and getattr(text, field).strip())]
        if blank:
            raise ValueError(f"KPI {kpi.key} needs a label, a definition and a formula in {name}: "
                             f"its {' and '.join(blank)} {'is' if len(blank) == 1 else 'are'} blank")
        if text.label in labels[code]:
            raise ValueError(f"KPI label declared twice: {text.label} ({name}), for {labels[code][text.label]} "
                             f"and {kpi.key}")
    shorts = {code: bool(isinstance(texts[code].short, str) and texts[code].short.strip()) for code in LANGUAGES}
    if len(set(shorts.values())) > 1:
        has = ", ".join(LANGUAGE_NAMES[c] for c, s in shorts.items() if s)
        lacks = ", ".join(LANGUAGE_NAMES[c] for c, s in shorts.items() if not s)
        raise ValueError(f"KPI {kpi.key} has a short label in {has} but not in {lacks}: declare it in every "
                         "language or in none")
    for code in LANGUAGES:
        labels[code][texts[code].label] = kpi.key


def build_registry(kpis: list[KPI]) -> dict[str, KPI]:
    """Index the declarations by key, refusing duplicates, missing words in a language and dangling inputs."""
    registry: dict[str, KPI] = {}
    labels: dict[str, dict[str, str]] = {code: {} for code in LANGUAGES}  # language -> label -> key
    for kpi in kpis:
        if kpi.key in registry:
            raise ValueError(f"KPI key declared twice: {kpi.key}")
        _check_texts(kpi, labels)
        registry[kpi.key] = kpi
    for kpi in registry.values():
        missing = [k for k in kpi.inputs if k not in registry]
        if missing:
            raise ValueError(f"KPI {kpi.key} is computed from undeclared KPI(s): {', '.join(missing)}")
        for role, count in (("rests on", kpi.base), ("is weighted by", kpi.weight)):
            if count not in (None, PREVIOUS_BUYERS) and (count not in registry
                                                         or registry[count].unit is not Unit.COUNT):
                raise ValueError(f"KPI {kpi.key} {role} {count!r}, which is not a declared count")
        if kpi.additive and kpi.weight is not None:
            raise ValueError(f"KPI {kpi.key}: an additive KPI has no weight")
        if (kpi.unit is Unit.SCORE) != (kpi.scale is not None):
            raise ValueError(f"KPI {kpi.key}: a score declares its scale (the values it can take), other units not")
        if kpi.sums_over_time and not (kpi.additive and kpi.unit in (Unit.COUNT, Unit.CURRENCY)):
            raise ValueError(f"KPI {kpi.key}: only an additive count or amount can sum over time")
        model_inputs = [k for k in dict.fromkeys(kpi.inputs) if registry[k].model_based]
        if model_inputs and not kpi.model_based:
            raise ValueError(f"KPI {kpi.key} is computed from model-based {', '.join(model_inputs)}: "
                             "declare it model_based")
        if isinstance(kpi.compute, Computed) != kpi.model_based and not model_inputs:
            raise ValueError(f"KPI {kpi.key}: model_based is for KPIs computed from the fitted models")
    return registry
