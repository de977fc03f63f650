"""Customer-based corporate valuation: what the customers are worth — the existing base, plus the customers still to be
acquired net of what acquiring them costs — over a stated horizon, with its uncertainty and sensitivities.

References: D. M. McCarthy, P. S. Fader, "Customer-based corporate valuation for publicly traded non-contractual
firms", Journal of Marketing Research 55(5), 2018, 617–635 (the approach for firms like this one); D. M. McCarthy, P. S.
Fader, B. G. S. Hardie, "Valuing subscription-based businesses using publicly disclosed customer data", Journal of
Marketing 81(1), 2017, 17–35 (subscriptions). Operating value = the current customers' discounted margin + the future
customers' discounted margin − the discounted cost of acquiring them; the share price would then need cash, debt,
fixed costs and taxes, none of which is here.

Everything is discounted to the observation end (the period's last day with data) at the yearly rate d — month m at
δ^m = (1 + d)^(−m/12) — over the horizon's M = 12·H months; nothing after the horizon counts (no terminal value).

existing          Σ over the segment's customers of their predicted margin over the M months (customer_clv's formula
                  with the valuation's horizon and rate, kpis.clv.horizon) — not the customer equity KPI, whose
                  horizon is the product's 36 months
future_value      Σ_c Σ_j N_cj·v_cj·δ^j: N_cj the customers channel c acquires in future month j (kpis.acquisition,
                  fitted on that channel's own history), v_cj what one is worth at acquisition: the expected margin of
                  a brand-new customer of the channel's fit group from its fits — first purchase, then the repeat
                  purchases of the M − j months left (kpis.clv.horizon.new_customer_margins)
future spend      Σ_c Σ_j N_cj·CAC_c·δ^j, CAC_c the channel's spend ÷ new customers over the last 12 months, kept
                  (no inflation, no saturation); a cohort is acquired, and paid for, at the end of its month; spend
                  on channels that acquired nobody in those months goes on at its monthly mean (Σ_j mean·δ^j)
total             existing + future_value − future spend

Why the fits' value of a brand-new customer rather than the `new_customer_value` KPI: that KPI adds the realised
margin of one period's cohort to its 36-month prediction, so it mixes a cohort's own luck with another horizon; a
future customer is best described by the population it will come from — its channel's fit — over exactly the months
the valuation counts, and that value has parameter draws like the existing base's. The first purchase is valued at
the fit's mean spend (Gamma-Gamma; assumed like any other purchase).

Months: the acquisition history is the complete months from the first to the observation end (the last
acquisition.MAX_MONTHS of them fitted), and future month j the j-th after the last (a month in progress at the
observation end is forecast whole). Only the channels acquiring in the last 12 months are forecast (the others have no
recent CAC either).

A future customer is valued by its channel, so segments must be channels: spend is recorded per acquisition channel,
and a segment cut across channels (a region, a cohort, a value tier) has no CAC. Such segments are refused with a
KPIError rather than valued without what their customers cost (which would overstate them). A channel the
acquisition model cannot fit alone (a month without a new customer) is forecast together with the others of its
kind ("other channels", their summed history).

Interval (LEVEL = 90 %): draw k of the fits' parameters (K = 200 per fit group, kpis.clv.uncertainty's seeds) gives
existing_k = Σ_g existing_g × ratio_gk — the group's draw-to-point ratio over the horizon, estimated on a random
sample of at most SAMPLE of its customers (draw_values on them: the ratio varies little from customer to customer;
kpis.intervals scales groups alike) — and the new customers' values from the same parameter sets; PATHS acquisition
paths per channel (its forecast's predictive distribution) are paired with draw s mod K, the two independent (they
come from different data). The interval is the 5 % and 95 % quantiles of the paired totals. It leaves out model error
(the model check and the acquisition holdout tell it), the damping's uncertainty and CAC's future variation.

Sensitivities: one setting at a time, the total recomputed. Retention: BG/NBD's dropout probability after a purchase
p ~ Beta(a, b), mean a/(a + b), scaled by 1 ∓ 10 % through b (b' = (a + b)/f − a gives mean f·a/(a + b), a kept), in
every fit group: existing customers' P(alive) and purchases and the new customers' alike. Spend per purchase: every
expected spend × (1 ± 10 %) — what refitting Gamma-Gamma on values 10 % higher gives (its scale γ and the observed
mean values scale together). CAC and acquisition volume × (1 ± 10 %). Discount rate ± 2 points (not below 0).
Break-even CAC of a channel: a brand-new customer's expected discounted margin over the whole horizon (v at j = 0):
at that CAC its acquisition adds nothing.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from ibis import _ as deferred

from i18n import N_, _, carried, formats, language, ngettext
from kpis import acquisition
from kpis.clv.bgnbd import NAMES as BG_NAMES
from kpis.clv.bgnbd import BetaGeo
from kpis.clv.common import ModelError
from kpis.clv.gammagamma import NAMES as GG_NAMES
from kpis.clv.horizon import Base, new_customer_margins
from kpis.clv.model import POOLED, TIME_UNIT, build_has, observation_end_of, value_model
from kpis.clv.uncertainty import draw_values
from kpis.database import Database, KPIError, scope
from kpis.periods import Period, add_months, last_complete
from kpis.scope import Scope
from kpis.stored import dumps, loads
from kpis.unit_economics import cohort_economics

LEVEL = 0.9
MAX_HORIZON_YEARS = 30
SAMPLE = 1_000  # customers per fit group on which the parameter draws' ratios are estimated
SAMPLE_SEED = 2018
RECENT_MONTHS = 12  # CAC and unit economics: the last 12 months
CHANGE, RATE_CHANGE = 0.10, 0.02  # sensitivities: ± 10 %, ± 2 points of discount rate
OTHER = "other channels"  # the forecast unit of the channels fitted together (a key of the channels table)
PARTS = {"existing": N_("Existing customers"), "future_value": N_("Future customers' margin"),
         "future_acquisition_spend": N_("Cost of acquiring them"), "total": N_("Customer-based value")}
# The assumptions' keys (Valuation.assumptions, in display order) and their names for people (assumption_label).
ASSUMPTIONS = {"what": N_("What it is"), "not included": N_("Not included"), "horizon": N_("Horizon"),
               "discount rate": N_("Discount rate"), "existing customers": N_("Existing customers"),
               "future customers": N_("Future customers"), "acquisition model": N_("Acquisition model"),
               "acquisition cost": N_("Acquisition cost"), "interval": N_("Interval"),
               "holdout check": N_("Holdout check")}
_lock = threading.Lock()
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="valuation")  # draws and cohorts beside the rest


@dataclass(frozen=True)
class Valuation:
    """A valuation's parts (currency, discounted to `observation_end`), interval and the tables behind it.

    parts: part, label, value, low, high (the three parts then total; spend is a positive cost, subtracted)
    acquisition: month, forecast, low, high (new customers per future month)
    acquisition_history: month, actual, fitted · acquisition_holdout: month, actual, forecast, low, high, within
    (attrs: the held-out year's total, its interval and within), None without 24 + 12 months of history
    channels: channel, fit_group, new_customers_12m, spend_12m, cac, forecast_unit, months_fitted, yearly_growth (the
    history's trend, before damping), break_even_cac
    cohorts: cohort, new_customers, cac, value, value_cac, payback_months, irr (kpis.unit_economics)
    sensitivities: factor, label, low_change, high_change (the total's change with the factor lower / higher),
    largest range first.
    notes: what the assumptions are written from (channels fitted, months, margin rate, the holdout's figures…);
    `assumptions` writes them in the current language, as the parts' and sensitivities' labels are (kpis.valuation
    gives each language its own copy).
    """

    period: str
    observation_end: date
    horizon_years: float
    discount_rate: float
    filters: dict
    existing: float
    future_value: float
    future_acquisition_spend: float
    total: float
    low: float | None
    high: float | None
    parts: pd.DataFrame
    acquisition: pd.DataFrame
    acquisition_history: pd.DataFrame
    acquisition_holdout: pd.DataFrame | None
    channels: pd.DataFrame
    cohorts: pd.DataFrame
    sensitivities: pd.DataFrame
    notes: dict

    @property
    def assumptions(self) -> dict[str, str]:
        """What the valuation assumes, in words in the current language: {key: text}, keys (ASSUMPTIONS) in English
        and in display order ("what", "not included", "horizon", …); assumption_label(key) names them."""
        return _assumptions(self)


def assumption_label(key: str) -> str:
    """An assumption's name in the current language ("Not included" / "Non inclus")."""
    return _(ASSUMPTIONS[key]) if key in ASSUMPTIONS else key.capitalize()


# --- the arithmetic ----------------------------------------------------------------------------------------------

def discount_factors(months: int, annual_discount: float) -> np.ndarray:
    """δ^j = (1 + d)^(−j/12) for j = 1 … months."""
    return (1 + annual_discount) ** (-np.arange(1, months + 1) / 12)


def cohort_values(first, monthly, annual_discount: float) -> np.ndarray:
    """v_j for acquisition months j = 1 … M (M = monthly's last axis): first + Σ_{m=1}^{M−j} δ^m·monthly_m, a
    customer's margin at acquisition plus its discounted margins over the months left; broadcasts over leading axes."""
    monthly = np.asarray(monthly, dtype=float)
    months = monthly.shape[-1]
    running = np.cumsum(monthly * discount_factors(months, annual_discount), axis=-1)
    left = np.concatenate([np.zeros(monthly.shape[:-1] + (1,)), running], axis=-1)[..., :months][..., ::-1]
    return np.asarray(first, dtype=float)[..., None] + left


def future_parts(sizes, values, cac, annual_discount: float) -> tuple[np.ndarray, np.ndarray]:
    """(future value, future acquisition spend) at the observation end of cohorts of sizes N_j acquired at the end of
    months j = 1 … M, each customer worth values_j and costing cac: Σ N_j·v_j·δ^j and Σ N_j·cac·δ^j (last axis)."""
    sizes = np.asarray(sizes, dtype=float)
    discounted = sizes * discount_factors(sizes.shape[-1], annual_discount)
    return np.sum(discounted * values, axis=-1), np.sum(discounted, axis=-1) * np.asarray(cac, dtype=float)


def valuation_total(existing, future_value, future_spend):
    """existing + future value − future acquisition spend."""
    return existing + future_value - future_spend


# --- the valuation -----------------------------------------------------------------------------------------------

def valuation(db: Database, period, horizon_years: float = 10, discount_rate: float = 0.10,
              filters: dict | None = None) -> Valuation:
    """The customer-based value of the segment at the end of `period` over `horizon_years` at `discount_rate` a year
    (module docstring), its labels and assumptions in the current language; cached per database, period, segment and
    assumptions (and language: the numbers are computed once). KPIError for what it cannot value."""
    months = _horizon_months(horizon_years)
    rate = _discount_rate(discount_rate)
    where = scope(db, period, filters)
    key = (where.period, repr(where.segment), months, rate)
    cache = db.__dict__.setdefault("_valuation", {})
    with _lock:
        if key not in cache:
            stored = _stored(db, key) if where.segment.is_everyone else None
            cache[key] = stored or _valuation(db, where, months, rate, dict(filters or {}))
        if (key, language()) not in cache:
            cache[key, language()] = _labelled(cache[key])
    return cache[key, language()]


def _labelled(value: Valuation) -> Valuation:
    """The valuation with its parts' and sensitivities' labels in the current language."""
    return dataclasses.replace(
        value, parts=value.parts.assign(label=[_(PARTS[p]) for p in value.parts["part"]]),
        sensitivities=value.sensitivities.assign(label=[_(_SENSITIVITY_LABELS[f])
                                                        for f in value.sensitivities["factor"]]))


STORED_VALUATIONS = "clv_valuations"  # the default view's valuation, stored with the build (store_default_valuation)


def store_default_valuation(db, con) -> None:
    """Value all customers at the end of the last complete month with the default assumptions, and write it into the
    build being made (`con`, read-write): the page and the PDFs of the default view then read it. A base that cannot
    be valued (too little history, no spend) stores nothing: asking says why."""
    con.execute(f"CREATE OR REPLACE TABLE {STORED_VALUATIONS} (period VARCHAR, segment VARCHAR, horizon_months "
                "INTEGER, discount_rate DOUBLE, result VARCHAR)")
    if db.data_end is None:
        return
    try:
        value = valuation(db, last_complete(db.data_end, "month"))
    except KPIError:
        return
    key = (Period.parse(value.period), repr(scope(db, value.period).segment), round(12 * value.horizon_years),
           value.discount_rate)
    fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    con.execute(f"INSERT INTO {STORED_VALUATIONS} VALUES (?, ?, ?, ?, ?)",
                [str(key[0]), key[1], key[2], key[3], dumps(fields)])


def _stored(db, key) -> Valuation | None:
    if not build_has(db, STORED_VALUATIONS):
        return None
    period, segment, months, rate = key
    row = db.cursor().execute(f"SELECT result FROM {STORED_VALUATIONS} WHERE period = ? AND segment = ? AND "
                              "horizon_months = ? AND discount_rate = ?",
                              [str(period), segment, months, rate]).fetchone()
    if row is None:
        return None
    fields = loads(row[0])
    if set(fields) != {f.name for f in dataclasses.fields(Valuation)}:
        return None  # a build made before the valuation's fields changed: computed again
    return Valuation(**fields)


def _horizon_months(horizon_years) -> int:
    if not _number(horizon_years):
        raise KPIError("horizon_years must be a number of years, e.g. 10")
    if not 0 < horizon_years <= MAX_HORIZON_YEARS:
        raise KPIError(f"horizon_years must be above 0 and at most {MAX_HORIZON_YEARS} years, not {horizon_years:g}")
    months = round(12 * horizon_years)
    if abs(months - 12 * horizon_years) > 1e-9:
        raise KPIError(f"horizon_years must be a whole number of months ({horizon_years:g} years is not)")
    return months


def _number(value) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool) \
        and math.isfinite(value)


def _discount_rate(rate) -> float:
    if not _number(rate) or not 0 <= rate <= 1:
        raise KPIError(f"discount_rate must be a yearly rate from 0 to 1 (0.10 for 10 %), not {rate!r}")
    return float(rate)


def _valuation(db: Database, where: Scope, months: int, rate: float, filters: dict) -> Valuation:
    segment = where.segment
    if not segment.only_channels:
        cut = sorted({*segment.columns} - {"acquisition_channel"})
        cut += ["cohort"] * bool(segment.cohorts) + ["value_tier"] * bool(segment.tiers)
        raise KPIError(_("no valuation for a segment filtered on {names}: future customers are valued net of their "
                         "CAC, and marketing spend is recorded per acquisition channel only — value all customers or "
                         "acquisition channels").format(names=", ".join(cut)))
    end = observation_end_of(db, where.period)
    if end is None:
        raise KPIError(_("no data by the end of {period}: nothing to value").format(period=where.period.label))
    history = _history_months(db, end)
    try:
        model = value_model(db, end)
    except ModelError as error:
        raise KPIError(_("the value models cannot be fitted as of {date}: {error}").format(date=end,
                                                                                          error=error)) from None
    counts = _acquisitions(db, where, history)
    recent = history[-RECENT_MONTHS:]
    spend = _spend(db, segment.columns.get("acquisition_channel"), recent[0], add_months(recent[-1], 1))
    channels = _channels(model, counts, spend, recent, end)
    units = _units(history, counts, channels)
    unattributed = float(spend.loc[~spend["channel"].isin(channels["channel"]), "spend"].sum()) / RECENT_MONTHS
    context = _Context(model, _base_frame(db, where, model, end), end, units, channels, months, unattributed)

    new_by_month, monthly_spend = counts.sum(axis=1), spend.groupby("month")["spend"].sum()
    cohorts = _POOL.submit(carried(cohort_economics, db, where, model, recent,
                                   {m: float(new_by_month[m]) for m in recent},
                                   {m: float(monthly_spend[m]) for m in recent if m in monthly_spend.index}, months,
                                   rate))
    point = context.existing(rate)
    existing, values = float(sum(point.values())), context.new_values(rate)
    sizes = {u: m.forecast(months)["forecast"].to_numpy() for u, m in units.items()}
    future_value, future_spend = context.future(sizes, values, rate)
    total = valuation_total(existing, future_value, future_spend)
    forecast, paths = acquisition.combined(units, months, LEVEL)
    draws = _POOL.submit(carried(context.draws, rate, point, paths))
    sensitivities = _sensitivities(context, sizes, rate, total)
    holdout, holdout_note = _holdout(units)
    channels["break_even_cac"] = [float(values[g][0]) for g in channels["fit_group"]]
    no_interval = None
    try:
        drawn = draws.result()
    except ModelError as error:  # fits without a covariance (given, not fitted) have no draws
        drawn, no_interval = None, str(error)
    parts = _parts({"existing": existing, "future_value": future_value, "future_acquisition_spend": future_spend,
                    "total": total}, drawn)
    drawn_total = parts.loc[parts["part"] == "total", ["low", "high"]].iloc[0].tolist()
    return Valuation(
        period=str(where.period), observation_end=end, horizon_years=months / 12, discount_rate=rate, filters=filters,
        existing=existing, future_value=future_value, future_acquisition_spend=future_spend, total=total,
        low=None if drawn is None else float(drawn_total[0]), high=None if drawn is None else float(drawn_total[1]),
        parts=parts, acquisition=forecast,
        acquisition_history=_fitted(units), acquisition_holdout=holdout, channels=channels, cohorts=cohorts.result(),
        sensitivities=sensitivities,
        notes={"channels": list(units), "months_fitted": len(next(iter(units.values())).months),
               "margin_rate": float(model.margin_rate), "unattributed": unattributed, "holdout": holdout_note,
               "no_interval": no_interval},
    )


def _history_months(db: Database, end: date) -> list[date]:
    """First days of the complete months from the first with acquisitions to the last ending by `end` (a first
    month whose first acquisition is after its 1st is partial: left out)."""
    c = db.tables["customers"]
    start = db.row(c.aggregate(first=c.acquired_at.min()))["first"]
    first = date(start.year, start.month, 1) if start.day == 1 else add_months(date(start.year, start.month, 1), 1)
    last = Period.containing(end, "month")
    if last.end > end + timedelta(days=1):
        last = last.previous()
    months, month = [], first
    while month <= last.start:
        months.append(month)
        month = add_months(month, 1)
    if len(months) < acquisition.MIN_MONTHS:
        raise KPIError(acquisition.too_little_history(len(months)))
    return months


def _acquisitions(db: Database, where: Scope, months: list[date]) -> pd.DataFrame:
    """New customers of the segment per month (rows, first days) and acquisition channel (columns)."""
    c = where.customers
    c = c.filter((c.acquired_at >= months[0]) & (c.acquired_at < add_months(months[-1], 1)))
    frame = db.frame(c.group_by(channel=c.acquisition_channel.fill_null(POOLED),
                                month=c.acquired_at.truncate("M")).aggregate(n=deferred.count()))
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    table = frame.pivot_table(index="month", columns="channel", values="n", aggfunc="sum", fill_value=0)
    return table.reindex(months, fill_value=0).astype(float)


def _spend(db: Database, channels, first: date, stop: date) -> pd.DataFrame:
    """Acquisition spend per channel and month in [first, stop): channel, month, spend."""
    s = db.tables["marketing_spend"]
    s = s.filter((s.month >= first) & (s.month < stop))
    if channels:
        s = s.filter(s.channel.isin(channels))
    frame = db.frame(s.group_by("channel", "month").aggregate(spend=deferred.spend.sum().cast("float64")))
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    return frame


def _channels(model, counts: pd.DataFrame, spend: pd.DataFrame, recent: list[date], end: date) -> pd.DataFrame:
    """One row per channel acquiring in the recent months: its fit group, new customers and CAC over them."""
    new = counts.loc[recent].sum()
    new = new[new > 0]
    if new.empty:
        raise KPIError(_("no new customer in the {months} months to {date}: nothing to forecast acquisition "
                         "from").format(months=RECENT_MONTHS, date=end))
    paid = spend.groupby("channel")["spend"].sum()
    missing = [c for c in new.index if c not in paid.index]
    if missing:
        what = _("no channel recorded") if missing == [POOLED] else ", ".join(missing)
        raise KPIError(_("no marketing spend recorded for {channels} in the {months} months to {date}: CAC is "
                         "unknown, so future customers cannot be valued net of what they cost").format(
            channels=what, months=RECENT_MONTHS, date=end))
    return pd.DataFrame({"channel": new.index, "fit_group": [c if c in model.fits else POOLED for c in new.index],
                         "new_customers_12m": new.to_numpy(), "spend_12m": [paid[c] for c in new.index],
                         "cac": [paid[c] / new[c] for c in new.index]})


def _units(history: list[date], counts: pd.DataFrame, channels: pd.DataFrame) -> dict:
    """The acquisition model per channel; channels it cannot fit alone forecast together as OTHER."""
    units, others = {}, []
    for channel in channels["channel"]:
        try:
            units[channel] = acquisition.fit(history, counts[channel].to_numpy())
        except KPIError:
            others.append(channel)
    if others:
        try:
            units[OTHER] = acquisition.fit(history, counts[others].sum(axis=1).to_numpy())
        except KPIError as error:
            raise KPIError(_("acquisition of {channels}, even together: {error}").format(channels=", ".join(others),
                                                                                         error=error)) from None
    channels["forecast_unit"] = [c if c in units else OTHER for c in channels["channel"]]
    channels["months_fitted"] = [len(units[u].months) for u in channels["forecast_unit"]]
    channels["yearly_growth"] = [math.expm1(12 * units[u].monthly_growth) for u in channels["forecast_unit"]]
    return units


def _base_frame(db: Database, where: Scope, model, end: date) -> pd.DataFrame:
    """The segment's customers as the value model scored them: fit_group, frequency, recency, T, monetary_value."""
    scores = model.scores
    if not where.segment.is_everyone:
        scores = scores.semi_join(where.customers, "customer_id")
    frame = db.frame(scores.select("fit_group", "frequency", "recency", "T", "monetary_value"))
    if frame.empty:
        raise KPIError(_("no customer of the segment has an order by {date}: nothing to value").format(date=end))
    return frame


class _Context:
    """What the parts are computed from, and the parts under changed settings (sensitivities) or drawn parameters."""

    def __init__(self, model, frame: pd.DataFrame, end: date, units: dict, channels: pd.DataFrame, months: int,
                 unattributed: float):
        self.model, self.frame, self.units, self.months = model, frame, units, months
        self.unattributed = unattributed  # a month's spend on channels without recent new customers: it goes on
        self.base = Base(frame, end, TIME_UNIT)
        recent = channels.groupby(["forecast_unit", "fit_group"])["new_customers_12m"].sum()
        self.mix = {u: (recent[u] / recent[u].sum()).to_dict() for u in units}  # unit -> fit group -> share
        by_unit = channels.groupby("forecast_unit")[["spend_12m", "new_customers_12m"]].sum()
        self.cac = {u: float(by_unit.loc[u, "spend_12m"] / by_unit.loc[u, "new_customers_12m"]) for u in units}
        self.groups = sorted({g for shares in self.mix.values() for g in shares})

    def fits(self, dropout: float = 1.0) -> dict:
        """The fits with every group's mean dropout probability scaled by `dropout` (through b)."""
        if dropout == 1:
            return self.model.fits
        out = {}
        for group, (bg, gg) in self.model.fits.items():
            params = dict(bg.params)
            params["b"] = (params["a"] + params["b"]) / dropout - params["a"]
            out[group] = (BetaGeo(params), gg)
        return out

    def existing(self, rate: float, dropout: float = 1.0) -> dict[str, float]:
        """The existing customers' value per fit group."""
        return self.base.values(self.fits(dropout), self.model.margin_rate, self.months, rate)

    def new_values(self, rate: float, dropout: float = 1.0, parameters: dict | None = None) -> dict[str, np.ndarray]:
        """Per fit group of new customers: [v_0, v_1 … v_M], v_0 a customer acquired now (the whole horizon ahead);
        rows per parameter draw when `parameters` (group -> (BG/NBD, Gamma-Gamma) draws) are given."""
        out = {}
        for group in self.groups:
            if parameters is None:
                bg, gg = self.fits(dropout)[group]
                bg_params, gg_params = [bg.params[k] for k in BG_NAMES], [gg.params[k] for k in GG_NAMES]
            else:
                bg_params, gg_params = parameters[group]
            first, monthly = new_customer_margins(np.asarray(bg_params), np.asarray(gg_params),
                                                  self.model.margin_rate, self.months, TIME_UNIT)
            now = first + monthly @ discount_factors(self.months, rate)
            out[group] = np.concatenate([now[:, None], cohort_values(first, monthly, rate)], axis=1)
        return out if parameters is not None else {g: v[0] for g, v in out.items()}

    def future(self, sizes: dict, values: dict, rate: float, cac: float = 1.0) -> tuple[float, float]:
        """(future value, future acquisition spend) of forecast sizes per unit, valued at `values` (new_values)."""
        parts = [future_parts(sizes[u], self._unit_values(values, u), self.cac[u] * cac, rate) for u in self.units]
        return float(sum(v for v, _s in parts)), float(sum(s for _v, s in parts)) + cac * self._unattributed(rate)

    def _unattributed(self, rate: float) -> float:
        return self.unattributed * float(discount_factors(self.months, rate).sum())

    def _unit_values(self, values: dict, unit: str) -> np.ndarray:
        """v_j (j = 1 … M) of a unit's new customers: its recent mix of fit groups."""
        return sum(share * values[g][..., 1:] for g, share in self.mix[unit].items())

    def draws(self, rate: float, point: dict[str, float], paths: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Paired draws of the parts and total (module docstring): PATHS rows, parameter draw s mod K in row s."""
        rng = np.random.default_rng(SAMPLE_SEED)
        existing, parameters = 0.0, {}
        for group, rows in sorted(self.frame.groupby("fit_group").indices.items()):
            sample = self.frame.iloc[np.sort(rng.choice(rows, min(rows.size, SAMPLE), replace=False))]
            drawn = draw_values({group: self.model.fits[group]}, sample.reset_index(drop=True),
                                self.model.margin_rate, self.model.observation_end, self.months, rate)
            existing = existing + point[group] * drawn.draws["equity"] / drawn.point["equity"]
            parameters[group] = drawn.parameters[group]
        values = self.new_values(rate, parameters=parameters)
        size = next(iter(paths.values())).shape[0]
        index = np.arange(size) % len(existing)
        future_value = sum(future_parts(paths[u], self._unit_values(values, u)[index], 0.0, rate)[0]
                           for u in self.units)
        future_spend = sum(future_parts(paths[u], 0.0, self.cac[u], rate)[1] for u in self.units)
        future_spend = future_spend + self._unattributed(rate)
        return {"existing": existing[index], "future_value": future_value, "future_acquisition_spend": future_spend,
                "total": existing[index] + future_value - future_spend}

    def total(self, sizes: dict, rate: float, dropout: float = 1.0, spend: float = 1.0, cac: float = 1.0,
              volume: float = 1.0) -> float:
        """The total with one or more settings changed (sensitivities)."""
        existing = sum(self.existing(rate, dropout).values())
        value, cost = self.future({u: s * volume for u, s in sizes.items()}, self.new_values(rate, dropout), rate, cac)
        return spend * (existing + value) - cost


SENSITIVITIES = (  # factor, label (translated where shown), settings lower, settings higher
    ("retention", N_("Retention (dropout probability +10 % / −10 %)"), {"dropout": 1 + CHANGE},
     {"dropout": 1 - CHANGE}),
    ("spend", N_("Spend per purchase ±10 %"), {"spend": 1 - CHANGE}, {"spend": 1 + CHANGE}),
    ("cac", N_("Acquisition cost (CAC) ±10 %"), {"cac": 1 - CHANGE}, {"cac": 1 + CHANGE}),
    ("volume", N_("Acquisition volume ±10 %"), {"volume": 1 - CHANGE}, {"volume": 1 + CHANGE}),
    ("discount_rate", N_("Discount rate ±2 points"), {"rate": -RATE_CHANGE}, {"rate": RATE_CHANGE}),
)
_SENSITIVITY_LABELS = {factor: label for factor, label, _lower, _higher in SENSITIVITIES}


def _sensitivities(context: _Context, sizes: dict, rate: float, total: float) -> pd.DataFrame:
    rows = []
    for factor, label, lower, higher in SENSITIVITIES:
        changes = []
        for settings in (lower, higher):
            settings = dict(settings)
            at = max(rate + settings.pop("rate", 0.0), 0.0)
            changes.append(context.total(sizes, at, **settings) - total)
        rows.append({"factor": factor, "label": _(label), "low_change": changes[0], "high_change": changes[1]})
    frame = pd.DataFrame(rows)
    frame = frame.iloc[np.argsort(-(frame["high_change"] - frame["low_change"]).abs().to_numpy(), kind="stable")]
    frame = frame.reset_index(drop=True)
    frame.attrs["total"] = total
    return frame


def _parts(values: dict[str, float], draws: dict[str, np.ndarray] | None) -> pd.DataFrame:
    rows = []
    for part, label in PARTS.items():
        low, high = (None, None) if draws is None else np.quantile(draws[part], [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        rows.append({"part": part, "label": _(label), "value": values[part], "low": low, "high": high})
    return pd.DataFrame(rows)


def _fitted(units: dict) -> pd.DataFrame:
    frames = [m.fitted().set_index("month") for m in units.values()]
    return sum(frames[1:], frames[0]).reset_index()


def _holdout(units: dict) -> tuple[pd.DataFrame | None, dict]:
    """The acquisition holdout (None when it cannot be run) and what its note is written from."""
    first = next(iter(units.values()))
    try:
        frame = acquisition.holdout(first.months, {u: m.counts for u, m in units.items()})
    except KPIError as error:
        return None, {"months": len(first.months), "refused": str(error)}
    a = frame.attrs
    return frame, {"held": acquisition.HOLDOUT_MONTHS, "calibration_months": int(a["calibration_months"]),
                   **{k: float(a[k]) for k in ("actual", "forecast", "low", "high")}, "within": bool(a["within"])}


def _g(value: float) -> str:
    """A number as few digits as it needs (10, 12.5 / 12,5), in the current language."""
    value = round(float(value), 2)
    if value.is_integer():
        return formats.number(value)
    return formats.number(value, 1 if round(value, 1) == value else 2)


def _holdout_note(note: dict) -> str:
    if "refused" in note:  # the usual refusal in the current language, another as it was said
        short = note["months"] - acquisition.HOLDOUT_MONTHS < acquisition.MIN_MONTHS
        return acquisition.too_little_for_holdout(note["months"]) if short else note["refused"]
    message = (_("the last {held} months' new customers forecast from the {months} months before: {actual} actual, "
                 "{forecast} forecast, 90 % interval {low}–{high} (within)") if note["within"] else
               _("the last {held} months' new customers forecast from the {months} months before: {actual} actual, "
                 "{forecast} forecast, 90 % interval {low}–{high} (outside)"))
    return message.format(held=note["held"], months=note["calibration_months"], actual=formats.number(note["actual"]),
                          forecast=formats.number(note["forecast"]), low=formats.number(note["low"]),
                          high=formats.number(note["high"]))


def _assumptions(value: Valuation) -> dict[str, str]:
    """The valuation's assumptions in words, in the current language (Valuation.assumptions)."""
    notes, months = value.notes, round(12 * value.horizon_years)
    years = months / 12
    count = int(years) if years.is_integer() else 2  # French: 1 an, 2 ans, 1,5 an
    cost = _("CAC per channel: marketing spend ÷ new customers over the last {months} months, kept constant")
    if notes["unattributed"]:
        cost = _("CAC per channel: marketing spend ÷ new customers over the last {months} months, kept constant; "
                 "spend on channels without new customers in them ({amount} a month) goes on")
    return {
        "what": _("customer-based operating value (McCarthy & Fader): today's customers' future margin, plus future "
                  "customers' margin, minus what acquiring them costs"),
        "not included": _("not a share price: no debt, cash, fixed costs or taxes; nothing after the horizon (no "
                          "terminal value)"),
        "horizon": ngettext("{years} year ({months} months) from {date}; every amount discounted to that day",
                            "{years} years ({months} months) from {date}; every amount discounted to that day",
                            count).format(years=_g(years), months=months, date=formats.date(value.observation_end)),
        "discount rate": _("{rate} % a year, applied month by month").format(rate=_g(100 * value.discount_rate)),
        "existing customers": ngettext(
            "each customer's predicted margin over the {years} year (BG/NBD purchases × Gamma-Gamma spend × margin "
            "rate {margin}, fitted per acquisition channel), not the dashboard's 36-month customer equity",
            "each customer's predicted margin over the {years} years (BG/NBD purchases × Gamma-Gamma spend × margin "
            "rate {margin}, fitted per acquisition channel), not the dashboard's 36-month customer equity",
            count).format(years=_g(years), margin=formats.percent(notes["margin_rate"])),
        "future customers": _("each valued at a brand-new customer's expected margin from its channel's fits over the "
                              "months left in the horizon, acquired at the end of its month"),
        "acquisition model": _("{model}, fitted per acquisition channel ({channels}) on {months} months; prediction "
                               "intervals from the residual variance (independent, constant-variance errors on the log "
                               "scale)").format(model=acquisition.description(), channels=", ".join(notes["channels"]),
                                                months=notes["months_fitted"]),
        "acquisition cost": cost.format(months=RECENT_MONTHS, amount=formats.number(notes["unattributed"])),
        "interval": (_("90 %: the value models' parameter uncertainty and the acquisition forecast's, simulated "
                       "together (not model error)") if notes["no_interval"] is None
                     else _("none: {reason}").format(reason=notes["no_interval"])),
        "holdout check": _holdout_note(notes["holdout"]),
    }
