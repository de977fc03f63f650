"""The empty chair speaks: a few plain sentences on what moved, why, and whether it is more than noise.

Written from the revenue and equity bridges (kpis.bridges), the segment contributions (kpis.contributions), the
NPS change with its adjusted-Wald noise (kpis.voice.noise) and, for model-based numbers, the models' parameter
uncertainty (kpis.intervals). Only a change beyond its noise is told as a change; one inside it is said to be
within the noise. The dashboard's empty chair page and the board PDF's first page print the same sentences.
"""

from __future__ import annotations

import json

from kpis import format as fmt
from kpis.bridges import equity_bridge, revenue_bridge
from kpis.clv.common import ModelError
from kpis.clv.model import build_has
from kpis.contributions import contributions
from kpis.database import Database, KPIError, period_of
from kpis.decompose import describe_movers
from kpis.intervals import change_interval
from kpis.periods import COMPARES, last_complete
from kpis.voice.noise import change_with_margin

NOTABLE = 0.10  # a part worth naming carries at least this share of the change

_RETURNING = {"returning_buyers": ("were more numerous", "were fewer"),
              "orders_per_buyer": ("ordered more often", "ordered less often"),
              "revenue_per_order": ("spent more per order", "spent less per order")}
_LEVERS = {"acquired": ("the customers acquired", "the customers acquired"),
           "retention": ("more existing customers still active", "fewer existing customers still active"),
           "activity": ("more frequent expected purchases", "less frequent expected purchases"),
           "spend": ("a higher expected spend per purchase", "a lower expected spend per purchase"),
           "margin": ("a better margin rate", "a lower margin rate")}


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _moved(value: float, reference: float) -> str:
    """'rose 9.1 %' / 'fell 3.0 %' / 'did not change'."""
    if value == reference:
        return "did not change"
    verb = "rose" if value > reference else "fell"
    return f"{verb} {100 * abs(value - reference) / abs(reference):.1f} %" if reference else f"{verb} from nothing"


def _money(value: float, currency: str) -> str:
    return ("+" if value >= 0 else "−") + fmt.money(abs(value), currency)


def _notable(frame, total: float, skip: tuple[str, ...] = ()) -> list[tuple[str, float]]:
    parts = [(p, v) for p, v in zip(frame["part"], frame["value"], strict=True) if p not in skip]
    return sorted([(p, v) for p, v in parts if total and abs(v) >= NOTABLE * abs(total)], key=lambda pv: -abs(pv[1]))


def revenue_sentence(db: Database, period, compare: str, filters: dict | None, currency: str) -> str | None:
    bridge = revenue_bridge(db, period, compare, filters)
    value, reference = bridge.attrs["value"], bridge.attrs["reference"]
    if not reference and not value:
        return None
    change = value - reference
    text = f"Revenue {_moved(value, reference)} ({_money(change, currency)})"
    new = float(bridge.loc[bridge["part"] == "new_customers", "value"].iloc[0])
    if change > 0 and new > 0:
        text += f", {100 * min(new / change, 1):.0f} % of it from new customers"
    returning = [f"{_RETURNING[p][v < 0]} ({_money(v, currency)})"
                 for p, v in _notable(bridge, change, skip=("new_customers",))]
    if returning:
        text += "; returning customers " + _listed(returning)
    return text + "."


def equity_sentence(db: Database, period, compare: str, filters: dict | None, currency: str) -> str | None:
    try:
        bridge = equity_bridge(db, period, compare, filters)
    except (KPIError, ModelError):
        return None
    value, reference = bridge.attrs["value"], bridge.attrs["reference"]
    change = value - reference
    text = f"Customer equity {_moved(value, reference)} ({_money(change, currency)})"
    low_high = change_interval(db, "customer_equity", period, compare, filters)
    if low_high is not None:
        low, high = low_high
        text += (", within the models' uncertainty" if low <= 0 <= high
                 else ", beyond the models' uncertainty")
    levers = _notable(bridge, change, skip=("model_update",))[:4]
    drivers = [f"{_LEVERS[p][v < 0]} ({_money(v, currency)})" for p, v in levers if (v > 0) == (change > 0)]
    brakes = [f"{_LEVERS[p][v < 0]} ({_money(v, currency)})" for p, v in levers if (v > 0) != (change > 0)]
    if drivers:
        text += f", driven by {_listed(drivers)}"
    if brakes:
        text += f"; held back by {_listed(brakes)}" if change > 0 else f"; softened by {_listed(brakes)}"
    update = float(bridge.loc[bridge["part"] == "model_update", "value"].iloc[0])
    if change and abs(update) >= NOTABLE * abs(change):
        text += f". The models' refit accounts for {_money(update, currency)} of it, which is not customer behaviour"
    return text + "."


def nps_sentence(db: Database, period, compare: str, filters: dict | None) -> str | None:
    change = change_with_margin(db, "nps", period, compare, filters)
    if change["within_noise"] is None:
        return None
    delta = change["delta"]
    points = f"{abs(delta):.0f} point{'s' * (round(abs(delta)) != 1)}"
    if change["within_noise"]:
        return (f"NPS moved {points} ({change['answers']:,} answers), within the margin of error: "
                "not a real change.")
    return f"NPS {'rose' if delta > 0 else 'fell'} {points} to {change['value']:+.0f}, beyond the margin of error."


def where_sentence(db: Database, period, compare: str, filters: dict | None, currency: str,
                   by: str = "acquisition_channel") -> str | None:
    if (filters or {}).get(by) and len((filters or {})[by]) == 1:
        return None  # one channel: nothing to compare
    frame = contributions(db, "revenue", period, by, compare, filters)
    if not frame.attrs["total"]:
        return None
    said = frame.assign(segment=frame["segment"].astype(str).str.capitalize())
    return "By acquisition channel: " + describe_movers(said, fmt=lambda v: _money(v, currency))


STORED_HEADLINES = "story_headlines"  # the default view's sentences, written with the build (store_default_headlines)


def headline(db: Database, period, compare: str = "previous", filters: dict | None = None) -> list[str]:
    """Three to five sentences for the top of the empty chair and the board PDF (module docstring); the default
    view's are read from the build."""
    chosen = period_of(period)
    if not any(v not in (None, [], ()) for v in (filters or {}).values()):
        stored = _stored(db, chosen, compare)
        if stored is not None:
            return stored
    return _sentences(db, period, compare, filters)


def _sentences(db: Database, period, compare: str, filters: dict | None) -> list[str]:
    currency = db.metadata.get("currency", "EUR")
    sentences = [revenue_sentence(db, period, compare, filters, currency),
                 equity_sentence(db, period, compare, filters, currency),
                 nps_sentence(db, period, compare, filters),
                 where_sentence(db, period, compare, filters, currency)]
    return [s for s in sentences if s]


def store_default_headlines(db, con) -> None:
    """Write the default view's sentences (all customers, the last complete month against the month before and
    against a year earlier) into the build being made (`con`, read-write)."""
    con.execute(f"CREATE OR REPLACE TABLE {STORED_HEADLINES} (period VARCHAR, compare VARCHAR, sentences VARCHAR)")
    if db.data_end is None:
        return
    month = last_complete(db.data_end, "month")
    for compare in COMPARES:
        con.execute(f"INSERT INTO {STORED_HEADLINES} VALUES (?, ?, ?)",
                    [str(month), compare, json.dumps(_sentences(db, month, compare, None))])


def _stored(db, period, compare: str) -> list[str] | None:
    if not build_has(db, STORED_HEADLINES):
        return None
    row = db.cursor().execute(f"SELECT sentences FROM {STORED_HEADLINES} WHERE period = ? AND compare = ?",
                              [str(period), compare]).fetchone()
    return None if row is None else json.loads(row[0])
