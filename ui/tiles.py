"""KPI tiles: label, value, delta coloured by the KPI's direction, definition on hover — all from the registry."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpis import REGISTRY
from kpis import format as fmt
from ui.state import View


def kpi_help(key: str) -> str:
    kpi = REGISTRY[key]
    direction = "Higher is better." if kpi.higher_is_better else "Lower is better."
    return f"{kpi.definition}\n\n*How: {kpi.formula}.* {direction}"


def tile(where, key: str, table: pd.DataFrame, view: View, currency: str, spark: list | None = None,
         note: str | None = None) -> None:
    """One st.metric for a KPI from a kpis.compare table."""
    kpi = REGISTRY[key]
    value, change = table.loc[key, "value"], table.loc[key, f"delta_{view.compare}"]
    change = None if pd.isna(change) else change
    where.metric(
        kpi.short_label,
        fmt.value(None if pd.isna(value) else value, kpi.unit, currency, compact=True),
        delta=fmt.delta(change, kpi.unit, currency),
        delta_color="normal" if kpi.higher_is_better else "inverse",
        delta_description=note or f"vs {view.reference.label}",
        help=kpi_help(key),
        chart_data=[v for v in spark if v is not None] or None if spark else None,
        border=True,
    )


PER_ROW = 3  # at 1,400 px a tile then has room for its label, value, delta and caption, none cut off


def tile_row(keys: list[str], table: pd.DataFrame, view: View, currency: str, trend: pd.DataFrame | None = None,
             notes: dict | None = None, per_row: int = PER_ROW) -> None:
    """Tiles in rows of `per_row`, with sparklines from a kpis.trend table when given."""
    for start in range(0, len(keys), per_row):
        row = keys[start:start + per_row]
        for where, key in zip(st.columns(per_row), row, strict=False):
            spark = list(trend[key]) if trend is not None and key in trend else None
            tile(where, key, table, view, currency, spark, (notes or {}).get(key))
