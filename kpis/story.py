"""The empty chair speaks: a few plain sentences on what moved, why, and whether it is more than noise.

Written from the revenue and equity bridges (kpis.bridges), the segment contributions (kpis.contributions), the
NPS change with its adjusted-Wald noise (kpis.voice.noise) and, for model-based numbers, the models' parameter
uncertainty (kpis.intervals). Only a change beyond its noise is told as a change; one inside it is said to be
within the noise. The dashboard's empty chair page and the board PDF's first page print the same sentences.
"""

from __future__ import annotations

import json

from i18n import LANGUAGES, N_, _, language, ngettext, use
from i18n.formats import number, percent
from kpis import format as fmt
from kpis.bridges import equity_bridge, revenue_bridge
from kpis.clv.common import ModelError
from kpis.clv.model import build_has
from kpis.contributions import OTHER, contributions, segment_label
from kpis.database import Database, KPIError, period_of
from kpis.decompose import listed, movers
from kpis.intervals import change_interval
from kpis.periods import COMPARES, last_complete
from kpis.voice.noise import change_with_margin

NOTABLE = 0.10  # a part worth naming carries at least this share of the change

# What returning customers did, per revenue bridge part: (when it added revenue, when it took some away).
_RETURNING = {"returning_buyers": (N_("were more numerous"), N_("were fewer")),
              "orders_per_buyer": (N_("ordered more often"), N_("ordered less often")),
              "revenue_per_order": (N_("spent more per order"), N_("spent less per order"))}
_LEVERS = {"acquired": (N_("the customers acquired"), N_("the customers acquired")),
           "retention": (N_("more existing customers still active"), N_("fewer existing customers still active")),
           "activity": (N_("more frequent expected purchases"), N_("less frequent expected purchases")),
           "spend": (N_("a higher expected spend per purchase"), N_("a lower expected spend per purchase")),
           "margin": (N_("a better margin rate"), N_("a lower margin rate"))}
# How revenue and customer equity moved (_moved): one sentence opening per KPI and direction.
_MOVED = {
    ("revenue", "rose"): N_("Revenue rose {change} ({amount})"),
    ("revenue", "fell"): N_("Revenue fell {change} ({amount})"),
    ("revenue", "same"): N_("Revenue did not change ({amount})"),
    ("revenue", "rose_from_nothing"): N_("Revenue rose from nothing ({amount})"),
    ("revenue", "fell_from_nothing"): N_("Revenue fell from nothing ({amount})"),
    ("equity", "rose"): N_("Customer equity rose {change} ({amount})"),
    ("equity", "fell"): N_("Customer equity fell {change} ({amount})"),
    ("equity", "same"): N_("Customer equity did not change ({amount})"),
    ("equity", "rose_from_nothing"): N_("Customer equity rose from nothing ({amount})"),
    ("equity", "fell_from_nothing"): N_("Customer equity fell from nothing ({amount})"),
}
# The channels' part of the revenue change, one sentence per shape of kpis.decompose.movers.
_WHERE = {"rise": N_("By acquisition channel: {drivers} drove the rise."),
          "rise_held": N_("By acquisition channel: {drivers} drove the rise; {brakes} held it back."),
          "fall": N_("By acquisition channel: {drivers} drove the fall."),
          "fall_softened": N_("By acquisition channel: {drivers} drove the fall; {brakes} softened it."),
          "cancel": N_("By acquisition channel: {drivers} and {brakes} cancelled out."),
          "nothing": N_("By acquisition channel: Nothing moved.")}


def _moved(kpi: str, value: float, reference: float, amount: str) -> str:
    """"Revenue rose 9.1 % (+12,000 €)" / "fell 3.0 %" / "did not change": the opening of a sentence."""
    if value == reference:
        shape = "same"
    else:
        shape = "rose" if value > reference else "fell"
        if not reference:
            shape += "_from_nothing"
    change = percent(abs(value - reference) / abs(reference)) if reference else ""
    return _(_MOVED[kpi, shape]).format(change=change, amount=amount)


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
    text = _moved("revenue", value, reference, _money(change, currency))
    new = float(bridge.loc[bridge["part"] == "new_customers", "value"].iloc[0])
    if change > 0 and new > 0:
        text = _("{sentence}, {share} of it from new customers").format(sentence=text,
                                                                       share=percent(min(new / change, 1), 0))
    returning = [f"{_(_RETURNING[p][v < 0])} ({_money(v, currency)})"
                 for p, v in _notable(bridge, change, skip=("new_customers",))]
    if returning:
        text = _("{sentence}; returning customers {changes}").format(sentence=text, changes=listed(returning))
    return text + "."


def equity_sentence(db: Database, period, compare: str, filters: dict | None, currency: str) -> str | None:
    try:
        bridge = equity_bridge(db, period, compare, filters)
    except (KPIError, ModelError):
        return None
    value, reference = bridge.attrs["value"], bridge.attrs["reference"]
    change = value - reference
    text = _moved("equity", value, reference, _money(change, currency))
    low_high = change_interval(db, "customer_equity", period, compare, filters)
    if low_high is not None:
        low, high = low_high
        text = (_("{sentence}, within the models' uncertainty") if low <= 0 <= high
                else _("{sentence}, beyond the models' uncertainty")).format(sentence=text)
    levers = _notable(bridge, change, skip=("model_update",))[:4]
    drivers = [f"{_(_LEVERS[p][v < 0])} ({_money(v, currency)})" for p, v in levers if (v > 0) == (change > 0)]
    brakes = [f"{_(_LEVERS[p][v < 0])} ({_money(v, currency)})" for p, v in levers if (v > 0) != (change > 0)]
    if drivers:
        text = _("{sentence}, driven by {drivers}").format(sentence=text, drivers=listed(drivers))
    if brakes:
        text = (_("{sentence}; held back by {brakes}") if change > 0
                else _("{sentence}; softened by {brakes}")).format(sentence=text, brakes=listed(brakes))
    update = float(bridge.loc[bridge["part"] == "model_update", "value"].iloc[0])
    if change and abs(update) >= NOTABLE * abs(change):
        text = _("{sentence}. The models' refit accounts for {amount} of it, which is not customer "
                 "behaviour").format(sentence=text, amount=_money(update, currency))
    return text + "."


def nps_sentence(db: Database, period, compare: str, filters: dict | None) -> str | None:
    change = change_with_margin(db, "nps", period, compare, filters)
    if change["within_noise"] is None:
        return None
    delta = change["delta"]
    n = round(abs(delta))
    points = ngettext("{n} point", "{n} points", n).format(n=number(abs(delta)))
    if change["within_noise"]:
        answers = ngettext("{n} answer", "{n} answers", change["answers"]).format(n=number(change["answers"]))
        return _("NPS moved {points} ({answers}), within the margin of error: not a real change.").format(
            points=points, answers=answers)
    return (_("NPS rose {points} to {value}, beyond the margin of error.") if delta > 0
            else _("NPS fell {points} to {value}, beyond the margin of error.")).format(
        points=points, value=number(change["value"], sign=True))


def where_sentence(db: Database, period, compare: str, filters: dict | None, currency: str,
                   by: str = "acquisition_channel") -> str | None:
    if (filters or {}).get(by) and len((filters or {})[by]) == 1:
        return None  # one channel: nothing to compare
    frame = contributions(db, "revenue", period, by, compare, filters)
    if not frame.attrs["total"]:
        return None
    said = frame.assign(segment=[segment_label(s) if s == OTHER else str(s).capitalize() for s in frame["segment"]])
    shape, parts = movers(said, fmt=lambda v: _money(v, currency))
    return _(_WHERE[shape]).format(**parts)


STORED_HEADLINES = "story_headlines"  # the default view's sentences, written with the build (store_default_headlines)


def headline(db: Database, period, compare: str = "previous", filters: dict | None = None) -> list[str]:
    """Three to five sentences for the top of the empty chair and the board PDF (module docstring), in the current
    language; the default view's are read from the build."""
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
    against a year earlier) into the build being made (`con`, read-write), in every language: a row's sentences
    are {language: [sentence, …]}."""
    con.execute(f"CREATE OR REPLACE TABLE {STORED_HEADLINES} (period VARCHAR, compare VARCHAR, sentences VARCHAR)")
    if db.data_end is None:
        return
    month = last_complete(db.data_end, "month")
    for compare in COMPARES:
        said = {}
        for code in LANGUAGES:
            with use(code):
                said[code] = _sentences(db, month, compare, None)
        con.execute(f"INSERT INTO {STORED_HEADLINES} VALUES (?, ?, ?)", [str(month), compare, json.dumps(said)])


def _stored(db, period, compare: str) -> list[str] | None:
    if not build_has(db, STORED_HEADLINES):
        return None
    row = db.cursor().execute(f"SELECT sentences FROM {STORED_HEADLINES} WHERE period = ? AND compare = ?",
                              [str(period), compare]).fetchone()
    if row is None:
        return None
    said = json.loads(row[0])
    if isinstance(said, list):  # a build made before the sentences were stored per language: English only
        return said if language() == "en" else None
    return said.get(language())
