"""KPI tiles: label, value, delta coloured by the KPI's direction, definition on hover — all from the registry."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from i18n import _
from i18n.formats import percent
from kpis import REGISTRY
from kpis import format as fmt
from kpis.registry import Unit
from kpis.targets import STATUS_COLOURS, status, status_label
from ui.decisions import view_goal
from ui.state import View


def kpi_help(key: str) -> str:
    kpi = REGISTRY[key]
    text = (_("{definition}\n\n*How: {formula}.* Higher is better.") if kpi.higher_is_better
            else _("{definition}\n\n*How: {formula}.* Lower is better."))
    return text.format(definition=kpi.definition, formula=kpi.formula)


def tile(where, key: str, table: pd.DataFrame, view: View, currency: str, spark: list | None = None,
         note: str | None = None) -> None:
    """One st.metric for a KPI from a kpis.compare table, with its target's status as a badge when it has one."""
    kpi = REGISTRY[key]
    value, change = table.loc[key, "value"], table.loc[key, f"delta_{view.compare}"]
    value, change = (None if pd.isna(v) else v for v in (value, change))
    interval, noise = _uncertainty(table, key, view, currency)
    label, against = kpi.short_label, None
    goal = view_goal(view, key)
    if goal is not None:
        state = status(kpi, value, goal.target, goal.tolerance)
        # The badge first: a narrow tile cuts its label's end, never the status.
        badge = (f":{STATUS_COLOURS[state]}-badge[{status_label(state)}]" if state
                 else ":gray-badge[{target}]".format(target=_("target")))
        label = f"{badge} {label}"
        against = _("target {value}").format(value=fmt.value(goal.target, kpi.unit, currency, compact=True))
    where.metric(
        label,
        fmt.value(value, kpi.unit, currency, compact=True),
        delta=fmt.delta(change, kpi.unit, currency),
        delta_color="off" if noise else "normal" if kpi.higher_is_better else "inverse",
        delta_description=(" · ".join(t for t in (against, note, interval) if t)
                           or _("vs {reference}").format(reference=view.reference.label)),
        help=kpi_help(key),
        chart_data=[v for v in spark if v is not None] or None if spark else None,
        border=True,
    )


def _uncertainty(table: pd.DataFrame, key: str, view: View, currency: str) -> tuple[str | None, bool]:
    """A model-based KPI's 90 % interval as text, and whether its change is within the models' uncertainty (its
    change interval covers 0: the delta is then greyed) — from a kpis.compare(..., intervals=True) table."""
    if "low" not in table or table.loc[key, "low"] is None or pd.isna(table.loc[key, "low"]):
        return None, False
    unit = REGISTRY[key].unit
    low, high = (fmt.compact_money(table.loc[key, c], currency, 2) if unit is Unit.CURRENCY
                 else fmt.value(table.loc[key, c], unit, currency) for c in ("low", "high"))
    change = table.loc[key, f"change_low_{view.compare}"], table.loc[key, f"change_high_{view.compare}"]
    within = change[0] is not None and not pd.isna(change[0]) and change[0] <= 0 <= change[1]
    text = (_("{level}: {low} – {high} · within uncertainty") if within else _("{level}: {low} – {high}"))
    return text.format(level=percent(0.9, 0), low=low, high=high), within


PER_ROW = 3  # at 1,400 px a tile then has room for its label, value, delta and caption, none cut off


def tile_row(keys: list[str], table: pd.DataFrame, view: View, currency: str, trend: pd.DataFrame | None = None,
             notes: dict | None = None, per_row: int = PER_ROW) -> None:
    """Tiles in rows of `per_row`, with sparklines from a kpis.trend table when given."""
    for start in range(0, len(keys), per_row):
        row = keys[start:start + per_row]
        for where, key in zip(st.columns(per_row), row, strict=False):
            spark = list(trend[key]) if trend is not None and key in trend else None
            tile(where, key, table, view, currency, spark, (notes or {}).get(key))
