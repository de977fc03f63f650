"""Where a KPI moved: each segment's part of the change between a period and its comparison.

For an additive KPI (revenue, orders, customers, equity…) a segment's contribution is its own change, and the
contributions sum to the total change. For a rate that is a weighted mean of its segments (retention over the
previous period's buyers, NPS over answers, average order value over orders…: `kpis.registry.split_of`), each
segment's contribution is split into its rate effect and its mix effect (kpis.decompose.rate_mix), which again
sum to the total change. Customers whose `by` value is unknown form an "(other)" row, so that the parts always
add up to the KPI's own change.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from i18n import _
from kpis.catalog import REGISTRY
from kpis.database import FIXED_FILTERS, Database, KPIError, plain, scope
from kpis.decompose import describe_movers, rate_mix, signed
from kpis.evaluate import evaluate_scope, needed
from kpis.periods import COMPARES
from kpis.registry import PREVIOUS_BUYERS, Derived, Measure, Ratio, split_of

OTHER = "(other)"  # a segment value (the frames' key); segment_label(OTHER) is its name for people
COLUMNS = ["segment", "value", "reference", "contribution"]
RATE_COLUMNS = [*COLUMNS, "weight", "reference_weight", "rate_effect", "mix_effect"]


def segment_label(value) -> str:
    """A segment value as people read it: the data's own value, "(other)" / "(autres)" for the customers with none."""
    return _("(other)") if value == OTHER else str(value)


def dimensions(db: Database) -> tuple[str, ...]:
    """The customer columns a change can be split by (every filter but the acquisition cohort)."""
    return tuple(f for f in FIXED_FILTERS if f != "cohort") + db.attributes


def _leaves(keys) -> list[str] | None:
    """The KPIs `keys` are computed from, if every one of them is a Measure (one grouped query per source)."""
    chain = needed(keys)
    return chain if all(isinstance(REGISTRY[k].compute, Measure | Ratio | Derived) for k in chain) else None


GROUP = "_contribution_group"  # no customer attribute is named so


def _with_group(where, relation, source: str, by: str):
    """The source's rows with the customer column `by` as GROUP: their own copy of it in a fact table
    (kpis.sources.facts), else looked up (the acquired customers; an attribute named like an order column)."""
    if where.carries(source, by):
        known = relation.filter(relation.customer_id.notnull())  # as the lookup's join: anonymous answers are nobody's
        return known.mutate(**{GROUP: known[by].cast("string")})
    lookup = where.tables["customer_value"] if by == "value_tier" else where.tables["customers"]
    return relation.join(lookup.select("customer_id", **{GROUP: lookup[by].cast("string")}), "customer_id")


def _grouped(db: Database, keys: list[str], where, by: str) -> dict[str, dict[str, float | None]] | None:
    """Each value of `by`'s KPIs for one scope, every source in one grouped query — what a loop over the segments
    computes one scope at a time (and so the same numbers); None when a KPI is not built from measures alone."""
    chain = _leaves(keys)
    if chain is None:
        return None
    relations = {"orders": lambda: where.orders, "acquired": lambda: where.acquired, "feedback": lambda: where.feedback,
                 "activity": lambda: where.activity}
    per: dict[str, dict] = defaultdict(dict)
    for source in dict.fromkeys(REGISTRY[k].compute.source for k in chain if isinstance(REGISTRY[k].compute,
                                                                                         Measure)):
        if source not in relations:
            return None
        members = [k for k in chain
                   if isinstance(REGISTRY[k].compute, Measure) and REGISTRY[k].compute.source == source]
        relation = _with_group(where, relations[source](), source, by)
        frame = db.frame(relation.group_by(GROUP).aggregate(
            **{k: REGISTRY[k].compute.expr(relation) for k in members}))
        for row in frame.to_dict("records"):
            per[str(row.pop(GROUP))].update({k: plain(v) for k, v in row.items()})
    for values in per.values():
        for key in chain:
            compute = REGISTRY[key].compute
            if isinstance(compute, Ratio):
                num, den = values.get(compute.numerator), values.get(compute.denominator)
                values[key] = None if num is None or not den else num / den
            elif isinstance(compute, Derived):
                args = [values.get(k) for k in compute.inputs]
                values[key] = None if any(a is None for a in args) else compute.fn(*args)
    return per


def _weight(db: Database, weight: str, where) -> float | None:
    if weight == PREVIOUS_BUYERS:
        return evaluate_scope(db, ["active_customers"], where.at(where.period.previous()))["active_customers"]
    return evaluate_scope(db, [weight], where)[weight]


def contributions(db: Database, key: str, period, by: str, compare: str = "previous", filters: dict | None = None,
                  params: dict | None = None) -> pd.DataFrame:
    """Each value of `by`'s part of the KPI's change from the comparison period to `period`.

    One row per segment (the values of `by` within `filters`, then "(other)" when some customers have none), with
    columns segment, value, reference, contribution; for rates also weight, reference_weight (the count the rate
    is a mean over), rate_effect and mix_effect (contribution = rate_effect + mix_effect). The contributions sum
    to the KPI's value minus its comparison value (attrs: total, value, reference, period, reference_period, kind).
    """
    if compare not in COMPARES:
        raise KPIError(f"unknown comparison '{compare}': use {' or '.join(COMPARES)}")
    if key not in REGISTRY:
        raise KPIError(f"unknown KPI '{key}': see kpis.REGISTRY")
    if by not in dimensions(db):
        raise KPIError(_("cannot split by '{name}': use one of {names}").format(name=by,
                                                                                 names=", ".join(dimensions(db))))
    split = split_of(REGISTRY, key)
    if split is None:
        raise KPIError(_("{kpi} does not split over customer segments (it is not a sum, nor a weighted mean of its "
                         "segments)").format(kpi=REGISTRY[key].label))
    whole = scope(db, period, filters, params)
    before = whole.at(whole.period.reference(compare))
    values = tuple((filters or {}).get(by) or db.filter_values(by))
    if isinstance(values, str):
        values = (values,)
    kind, weight = split
    rows = _fused_rows(db, key, weight if kind == "rate" else None, whole, before, by, values)
    if rows is None:  # a KPI with its own query (retention, payback…): one scope per segment
        rows = []
        for value in values:
            now = scope(db, whole.period, dict(filters or {}) | {by: [value]}, params)
            then = now.at(before.period)
            row = {"segment": value, "value": evaluate_scope(db, [key], now)[key],
                   "reference": evaluate_scope(db, [key], then)[key]}
            if kind == "rate":
                row |= {"weight": _weight(db, weight, now), "reference_weight": _weight(db, weight, then)}
            rows.append(row)
    total = {"value": evaluate_scope(db, [key], whole)[key], "reference": evaluate_scope(db, [key], before)[key]}
    if kind == "sum":
        frame = _sums(rows, total)
    else:
        total |= {"weight": _weight(db, weight, whole), "reference_weight": _weight(db, weight, before)}
        frame = _rates(rows, total)
    change = None if total["value"] is None or total["reference"] is None else total["value"] - total["reference"]
    frame.attrs.update(total=change, value=total["value"], reference=total["reference"], kind=kind,
                       period=str(whole.period), reference_period=str(before.period), key=key, by=by)
    return frame


def _fused_rows(db: Database, key: str, weight: str | None, whole, before, by: str, values) -> list[dict] | None:
    """The segments' values and weights in one grouped query per period and source (None: not possible)."""
    keys = [key] if weight is None or weight == PREVIOUS_BUYERS else [key, weight]
    now, then = _grouped(db, keys, whole, by), _grouped(db, keys, before, by)
    if now is None or then is None:
        return None
    if weight == PREVIOUS_BUYERS:  # the previous period's buyers of each segment, one more grouped query each
        prior = [_grouped(db, ["active_customers"], w.at(w.period.previous()), by) for w in (whole, before)]
        for grouped, buyers in zip((now, then), prior, strict=True):
            for segment in set(grouped) | set(buyers):
                grouped.setdefault(segment, {})[weight] = buyers.get(segment, {}).get("active_customers")
    rows = []
    for value in values:
        row = {"segment": value, "value": now.get(value, {}).get(key), "reference": then.get(value, {}).get(key)}
        if weight is not None:
            row |= {"weight": now.get(value, {}).get(weight), "reference_weight": then.get(value, {}).get(weight)}
        rows.append(row)
    return rows


def _sums(rows: list[dict], total: dict) -> pd.DataFrame:
    """Additive KPIs: each segment's change, undefined values read as 0 (no customers there), and an "(other)" row
    for what the segments leave out."""
    frame = pd.DataFrame(rows, columns=["segment", "value", "reference"]).astype({"value": float, "reference": float})
    frame[["value", "reference"]] = frame[["value", "reference"]].fillna(0.0)
    rest = {"segment": OTHER, "value": (total["value"] or 0.0) - frame["value"].sum(),
            "reference": (total["reference"] or 0.0) - frame["reference"].sum()}
    if abs(rest["value"]) + abs(rest["reference"]) > 1e-9 * max(1.0, abs(total["value"] or 0.0)):
        frame = pd.concat([frame, pd.DataFrame([rest])], ignore_index=True)
    frame["contribution"] = frame["value"] - frame["reference"]
    return frame[COLUMNS]


def _rates(rows: list[dict], total: dict) -> pd.DataFrame:
    """Rates: rate and mix effects per segment (kpis.decompose.rate_mix), with an "(other)" segment carrying the
    weight (and the weighted rate) the listed segments leave out, so that Σ weight × rate is the whole's."""
    if total["value"] is None or total["reference"] is None:
        raise KPIError(_("the KPI is undefined in one of the two periods: there is no change to split"))
    frame = pd.DataFrame(rows, columns=["segment", "value", "reference", "weight", "reference_weight"])
    frame[["weight", "reference_weight"]] = frame[["weight", "reference_weight"]].astype(float).fillna(0.0)
    frame[["value", "reference"]] = frame[["value", "reference"]].astype(float)
    rest = {"segment": OTHER}
    for rate, weight in (("value", "weight"), ("reference", "reference_weight")):
        known = frame[weight] > 0
        left = float(total[weight] or 0.0) - frame.loc[known, weight].sum()
        mass = float(total[rate]) * float(total[weight] or 0.0) - (frame.loc[known, rate]
                                                                     * frame.loc[known, weight]).sum()
        rest[weight] = left if left > 1e-9 * max(1.0, float(total[weight] or 0.0)) else 0.0
        rest[rate] = mass / rest[weight] if rest[weight] else None
    if rest["weight"] or rest["reference_weight"]:
        frame = pd.concat([frame, pd.DataFrame([rest])], ignore_index=True)
    split = rate_mix(pd.DataFrame({"segment": frame["segment"], "weight_before": frame["reference_weight"],
                                   "rate_before": frame["reference"], "weight_after": frame["weight"],
                                   "rate_after": frame["value"]}))
    frame["rate_effect"], frame["mix_effect"] = split["rate_effect"].to_numpy(), split["mix_effect"].to_numpy()
    frame["contribution"] = frame["rate_effect"] + frame["mix_effect"]
    return frame[RATE_COLUMNS]


def movers_sentence(frame: pd.DataFrame, fmt=signed, n: int = 3) -> str:
    """The top contributors and detractors of a contributions table, in one sentence in the current language (the
    "(other)" segment named in it)."""
    named = frame.assign(segment=[segment_label(s) if s == OTHER else s for s in frame["segment"]])
    return describe_movers(named, "contribution", n=n, label="segment", fmt=fmt)
