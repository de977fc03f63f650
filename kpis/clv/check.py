"""Model check: would the CLV models have foreseen what customers did in the last weeks of data?

The classic holdout test of BG/NBD and Gamma-Gamma (Fader, Hardie & Lee 2005, "Counting your customers the easy
way": cumulative tracking and conditional expectations over a holdout; "RFM and CLV" for spend). The data are split at
calibration_end = data_end − `holdout_weeks` weeks: the models are fitted on the calibration period only, as the
dashboard fits them (`kpis.clv.model`: one BG/NBD + Gamma-Gamma fit per acquisition channel, channels too small or
unidentifiable pooled), and their forecasts for the holdout weeks are set against what happened.

Who is checked: the customers whose first purchase is on or before calibration_end (the base the models know)
and, when segment filters are given, only those of the segment. The fits use every customer, whatever the
filters, because the dashboard's KPIs read a segment as a sum over its customers of the all-customer fits. A
customer first seen during the holdout is not in the check. Purchases are counted on distinct days, as in
`rfm_summary`; a repeat purchase is any purchase day after the customer's first.

What `holdout_check` returns (a dict of small tables; `message` is None when the check ran):

- `holdout` — repeat purchases in the holdout: `predicted` = Σ E[X(T, T+h) | x, t_x, T] over the checked customers
  (eq. 10 of the paper, h = the holdout length: the conditional forecast each customer's history implies),
  `actual` = purchase days in the holdout, `relative_error` = predicted / actual − 1 (−0.04: the model expected
  4% fewer purchases than happened). As a rule of thumb, within ±10% over a quarter or more is a good fit for a
  customer base; the sign says whether CLV (built on the same forecast) errs high or low.
- `buckets` — the conditional-expectation check: customers grouped by their calibration frequency x (0, 1, …,
  6, "7+"), with their number and mean predicted vs mean actual holdout purchases. A good model tracks the actual
  means across buckets. The x = 0 bucket is where BG/NBD's "nobody leaves before a first repeat purchase" shows:
  one-time buyers returning less than predicted means many of them had in fact left. A steady gap across all
  buckets points to a purchase rate that changed between calibration and holdout (seasons, a campaign, growth),
  which the model does not know. Buckets sum to the totals of `holdout`.
- `curve` — weekly cumulative repeat purchases from the first customer's birth to data_end (the paper's tracking
  plot):
  `actual` counts repeat purchase days up to each week end; `model` is Σ over customers of E[X(age)] (eq. 9, the
  unconditional expectation for a customer of that age in their fit group), summed by birth day. Week ends fall
  on calibration_end + 7k days, so the split is a point (`week` = 0; negative weeks are calibration) and the last
  point is data_end. Over the calibration weeks the gap shows the fit; after the split, the forecast. It differs
  from `holdout` in being unconditional (it ignores each customer's history), so the two need not agree.
- `spend` — for customers with repeat purchases in the calibration period and at least one in the holdout: mean
  Gamma-Gamma expected spend per purchase E[M | x, m̄] vs mean actual value per holdout purchase day (each
  customer's holdout revenue ÷ their holdout purchase days; a customer mean, not weighted by purchases). The
  model predicts a long-run mean, so only a sizeable gap (say over 10%) is telling; a gap shows spend shifting
  over time or spend tied to frequency, which Gamma-Gamma assumes away.
- `parameters` — one row per fit group × model × parameter: value, asymptotic standard error (from the
  observed information), the group's customers and repeat buyers (fitted on), and `channels`, the acquisition
  channels the group covers. Only groups with checked customers are listed. A standard error above a third of
  its parameter means the group tells little about it.
- `calibration_start`, `calibration_end`, `holdout_end` (dates), `holdout_weeks`, `time_unit`, `customers` and
  `repeat_buyers` (checked customers, and those with x > 0).

When the models cannot be fitted on the calibration period (too few customers or repeat buyers, a holdout
longer than the data, an empty segment), `message` says why (the `ModelError` text) and the tables are None.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import ibis
import numpy as np
import pandas as pd

from i18n import DEFAULT, N_, _, language, use
from kpis.clv.bgnbd import NAMES as BG_NAMES
from kpis.clv.bgnbd import BetaGeo
from kpis.clv.common import ModelError, unique_rows
from kpis.clv.gammagamma import NAMES as GG_NAMES
from kpis.clv.model import (
    CHECK_HOLDOUT_WEEKS,
    POOLED,
    TIME_UNIT,
    build_has,
    channel_of,
    fit_value_models,
    stored_model,
)
from kpis.clv.rfm import rfm_summary, time_unit_days
from kpis.clv.uncertainty import bgnbd_draws
from kpis.database import segment
from kpis.scope import Scope
from kpis.stored import dumps, loads

TOP_BUCKET = 7  # calibration frequencies of 7 or more share the last bucket, "7+"
CURVE_PERIODS = {"calibration": N_("calibration period"), "holdout": N_("holdout period")}  # the curve's `period`


def curve_period_label(period: str) -> str:
    """The tracking curve's `period` value ("calibration", "holdout") in words, in the current language."""
    return _(CURVE_PERIODS[period]) if period in CURVE_PERIODS else period


def _days(db, holdout_end: date, customers: ibis.Table | None) -> ibis.Table:
    """Purchase days (same-day orders merged, values summed) of the segment's customers up to the holdout's end."""
    o = db.tables["orders"]
    o = o.filter(o.ordered_at < ibis.timestamp(datetime.combine(holdout_end + timedelta(days=1), time())))
    if customers is not None:
        o = o.semi_join(customers, "customer_id")
    return o.group_by(["customer_id", o.ordered_at.date().name("day")]).aggregate(value=o.revenue.sum())


def _holdout(days: ibis.Table, calibration_end: date) -> ibis.Table:
    """Every checked customer (first purchase on or before the calibration end): holdout purchase days, revenue."""
    later = days.day > ibis.literal(calibration_end)
    per = days.group_by("customer_id").aggregate(
        purchases=days.count(where=later), value=days.value.sum(where=later).cast("float64").fill_null(0.0),
        first=days.day.min())
    return per.filter(per["first"] <= ibis.literal(calibration_end)).select("customer_id", "purchases", "value")


def _weekly(days: ibis.Table, calibration_end: date) -> ibis.Table:
    """Repeat purchase days of checked customers per week k, the week ending on calibration_end + 7k days."""
    first = days.group_by("customer_id").aggregate(first_day=days.day.min())
    j = days.join(first, "customer_id")
    j = j.filter((j.day > j.first_day) & (j.first_day <= ibis.literal(calibration_end)))
    week = (j.day.delta(ibis.literal(calibration_end), unit="day").cast("float64") / 7).ceil().cast("int64")
    return j.group_by(week=week).aggregate(purchases=j.count()).order_by("week")


def holdout_check(db, holdout_weeks: int = CHECK_HOLDOUT_WEEKS, time_unit: str = "W",
                  filters: dict | None = None) -> dict:
    """Fit BG/NBD + Gamma-Gamma up to data_end − holdout_weeks and compare their forecasts with the holdout.

    See the module docstring for what each table shows and how to read it. `filters` are the KPI catalog's
    customer filters (they select the customers checked, not the fit). Data problems give a dict whose
    `message` says why; only bad arguments (holdout_weeks < 1, an unknown time unit or filter) raise.
    """
    if isinstance(holdout_weeks, bool) or int(holdout_weeks) != holdout_weeks or holdout_weeks < 1:
        raise ValueError(f"holdout_weeks must be a whole number of weeks ≥ 1, not {holdout_weeks!r}")
    holdout_weeks = int(holdout_weeks)
    unit = time_unit_days(time_unit)
    chosen = segment(db, filters)  # validates the filters (KPIError) before any fitting
    if time_unit == TIME_UNIT and chosen.is_everyone:
        stored = _stored_check(db, holdout_weeks)
        if stored is not None:
            return stored
    start, end = db.data_start, db.data_end
    calibration_end = None if end is None else end - timedelta(weeks=holdout_weeks)
    result = {"message": None, "calibration_start": start, "calibration_end": calibration_end, "holdout_end": end,
              "holdout_weeks": holdout_weeks, "time_unit": time_unit, "customers": 0, "repeat_buyers": 0,
              "holdout": None, "buckets": None, "curve": None, "spend": None,
              "parameters": None}
    customers = None if chosen.is_everyone else Scope(db.tables, None, chosen, end).customers.select("customer_id")
    try:
        if end is None:
            raise ModelError(N_("no orders: nothing to check"))
        if calibration_end < start:
            raise ModelError(N_("the data cover {weeks} weeks: a {holdout}-week holdout leaves no calibration "
                                "period; choose a shorter holdout"), weeks=(end - start).days // 7,
                             holdout=holdout_weeks)
        summary, fits, sizes = _fit(db, calibration_end, time_unit)
        days = _days(db, end, customers)
        holdout = db.arrow(_holdout(days, calibration_end).order_by("customer_id")).to_pandas()
        holdout = holdout.set_index("customer_id")
        if holdout.empty:
            raise ModelError(N_("no customer of this segment bought on or before {date}: nothing to check"),
                             date=calibration_end)
    except ModelError as error:
        result["message"] = str(error)
        return result

    summary = summary.loc[holdout.index]  # the checked customers: the segment's, known at the split
    weekly = db.frame(_weekly(days, calibration_end))
    x, tx, t, m = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value"))
    group = summary["group"].to_numpy()
    actual = holdout["purchases"].to_numpy(dtype=float)
    value = holdout["value"].to_numpy(dtype=float)
    horizon = holdout_weeks * 7 / unit
    predicted, spend = np.zeros(len(summary)), np.zeros(len(summary))
    for g in pd.unique(group):
        rows = group == g
        bg, gg = fits[g]
        # E[X | x, t_x, T] = P(alive) × E[X | x, T, alive]; the second factor is shared by equal (x, T) rows.
        (ux, ut), inverse = unique_rows(x[rows], t[rows])[:2]
        if_alive = bg.expected_purchases_if_alive(horizon, ux, ut)[inverse]
        predicted[rows] = bg.p_alive(x[rows], tx[rows], t[rows]) * if_alive
        spend[rows] = gg.expected_spend(x[rows], m[rows])

    total_predicted, total_actual = float(predicted.sum()), float(actual.sum())
    low, high = _forecast_interval(fits, group, x, tx, t, predicted, horizon)
    result.update(
        customers=len(summary),
        repeat_buyers=int((x > 0).sum()),
        holdout={"predicted": total_predicted, "actual": int(total_actual),
                 "relative_error": total_predicted / total_actual - 1 if total_actual else None,
                 "low": low, "high": high, "inside": None if low is None else bool(low <= total_actual <= high)},
        buckets=_buckets(x, predicted, actual),
        curve=_curve(summary, fits, weekly, calibration_end, holdout_weeks, unit),
        spend=_spend(x, actual, value, spend),
        parameters=_parameters(fits, sizes, summary),
    )
    return result


# --- the default check, stored with the build ------------------------------------------------------------------

STORED_CHECKS = "clv_checks"


def store_default_check(db, con) -> None:
    """Run the default model check (CHECK_HOLDOUT_WEEKS, every customer) and store it in the build being made
    (`con`, read-write), so that the model check page and the board report read it instead of recomputing it. Its
    `message` (why the check could not run, if it could not) is stored in English; another language computes it."""
    with use(DEFAULT):
        result = holdout_check(db, CHECK_HOLDOUT_WEEKS)
    con.execute(f"CREATE OR REPLACE TABLE {STORED_CHECKS} (holdout_weeks INTEGER, time_unit VARCHAR, result VARCHAR)")
    con.execute(f"INSERT INTO {STORED_CHECKS} VALUES (?, ?, ?)", [CHECK_HOLDOUT_WEEKS, TIME_UNIT, dumps(result)])


def _stored_check(db, holdout_weeks: int) -> dict | None:
    """The check stored in the build for this holdout (every customer), if any."""
    if not build_has(db, STORED_CHECKS):
        return None
    row = db.cursor().execute(f"SELECT result FROM {STORED_CHECKS} WHERE holdout_weeks = ? AND time_unit = ?",
                         [holdout_weeks, TIME_UNIT]).fetchone()
    if row is None:
        return None
    stored = loads(row[0])
    return None if stored["message"] and language() != DEFAULT else stored


def _fit(db, calibration_end: date, time_unit: str) -> tuple[pd.DataFrame, dict, dict]:
    """Every customer's calibration summary with its fit group, the fits, and (customers, repeat buyers) per fit.

    The same fits and grouping as the dashboard's value model (model.fit_value_models). ModelError when the pooled
    fit fails.
    """
    stored = stored_model(db, calibration_end) if time_unit == TIME_UNIT else None
    if stored is not None:  # the build's fit as of that date (the default holdout's is stored): the same fit
        summary = stored.customers.rename(columns={"fit_group": "group"})
        summary = summary[["frequency", "recency", "T", "monetary_value", "group"]].assign(
            channel=channel_of(db, summary.index))
        fits = stored.fits
    else:
        fits = fit_value_models(db, calibration_end, time_unit)  # ModelError when nobody bought by then
        summary = rfm_summary(db, calibration_end, time_unit)
        channel = channel_of(db, summary.index)
        summary = summary.assign(channel=channel, group=channel.where(channel.isin(set(fits) - {POOLED}), POOLED))
    repeat = summary["frequency"] > 0
    sizes = {g: (len(summary), int(repeat.sum())) if g == POOLED
             else (int((summary["group"] == g).sum()), int((repeat & (summary["group"] == g)).sum())) for g in fits}
    return summary, fits, sizes


SAMPLE = 5_000  # checked customers per fit group whose forecast is redrawn (a ratio estimate: _forecast_interval)


def _forecast_interval(fits, group, x, tx, t, predicted, horizon: float, level: float = 0.9):
    """(low, high): the holdout forecast's interval from the fits' parameter uncertainty (None without covariance).

    Each group's forecast under BG/NBD parameter draw k (the draws customer equity's interval uses:
    kpis.clv.uncertainty.bgnbd_draws) is its forecast with the fitted parameters times the draw's ratio on a fixed
    random sample of up to SAMPLE of its customers (the same sample for every draw); the groups' draws are summed
    and their quantiles taken. Parameter uncertainty only: whether the actual purchases fall inside says whether the
    miss is within what the parameters' uncertainty allows, not that the model is right."""
    total = None
    for g in pd.unique(group):
        bg = fits[g][0]
        if bg.log_covariance is None:
            return None, None
        rows = np.flatnonzero(group == g)
        rng = np.random.default_rng(0)
        sample = rows if rows.size <= SAMPLE else rng.choice(rows, SAMPLE, replace=False)
        point = predicted[sample].sum()
        draws = bgnbd_draws(bg, g)
        forecast = np.array([_forecast(p, x[sample], tx[sample], t[sample], horizon) for p in draws])
        group_draws = predicted[rows].sum() * (forecast / point if point else np.ones(len(draws)))
        total = group_draws if total is None else total + group_draws
    low, high = np.quantile(total, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def _forecast(params, x, tx, t, horizon: float) -> float:
    """Σ E[X(T, T + horizon) | x, t_x, T] under one parameter set."""
    bg = BetaGeo(dict(zip(BG_NAMES, params, strict=True)))
    return float((bg.p_alive(x, tx, t) * bg.expected_purchases_if_alive(horizon, x, t)).sum())


def _buckets(x, predicted, actual) -> pd.DataFrame:
    """Customers and mean predicted vs actual holdout purchases per calibration frequency 0 … 6, 7+."""
    bucket = np.minimum(x, TOP_BUCKET).astype(np.int64)
    size = TOP_BUCKET + 1
    customers = np.bincount(bucket, minlength=size)
    pred = np.bincount(bucket, weights=predicted, minlength=size)
    act = np.bincount(bucket, weights=actual, minlength=size)
    keep = customers > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame({
            "frequency": [str(k) if k < TOP_BUCKET else f"{TOP_BUCKET}+" for k in range(size)],
            "customers": customers,
            "predicted_mean": pred / customers,
            "actual_mean": act / customers,
            "predicted": pred,
            "actual": act.astype(np.int64),
        })
    return frame[keep].reset_index(drop=True)


def _curve(summary, fits, weekly, calibration_end: date, holdout_weeks: int, unit: float) -> pd.DataFrame:
    """Weekly cumulative repeat purchases, actual and Σ E[X(age)] over customers, for weeks kmin … holdout_weeks.

    Birth = first purchase day = calibration_end − T days. Ages at week ends are whole days, so E[X] is computed
    once per day of age (0 … oldest) per fit group and looked up, not once per customer and week.
    """
    birth = np.rint(summary["T"].to_numpy(dtype=float) * unit).astype(np.int64)  # days before calibration_end
    first_week = -int(np.ceil(birth.max() / 7))  # its week end is on or before the first birth: both curves at 0
    weeks = np.arange(first_week, holdout_weeks + 1)
    model = np.zeros(weeks.size)
    for g, members in summary.groupby("group"):
        b = birth[summary.index.get_indexer(members.index)]
        days, counts = np.unique(b, return_counts=True)
        oldest = days.max() + 7 * holdout_weeks
        by_age = fits[g][0].expected_purchases_new(np.arange(oldest + 1) / unit)  # E[X] at 0, 1, … days of age
        ages = np.clip(7 * weeks[None, :] + days[:, None], 0, None)  # not yet born: age 0, E[X(0)] = 0
        model += counts @ by_age[ages]
    purchases = pd.Series(weekly["purchases"].to_numpy(), index=weekly["week"].to_numpy())
    actual = np.cumsum(purchases.reindex(weeks, fill_value=0).to_numpy())
    return pd.DataFrame({
        "week": weeks,
        "date": [calibration_end + timedelta(weeks=int(k)) for k in weeks],
        "period": np.where(weeks <= 0, "calibration", "holdout"),
        "actual": actual.astype(np.int64),
        "model": model,
    })


def _spend(x, actual, value, expected) -> dict:
    """Mean expected spend per purchase vs mean actual value per holdout purchase, over repeat buyers who bought."""
    who = (x > 0) & (actual > 0)
    n = int(who.sum())
    if n == 0:
        return {"customers": 0, "predicted_mean": None, "actual_mean": None, "relative_error": None}
    predicted, observed = float(expected[who].mean()), float((value[who] / actual[who]).mean())
    return {"customers": n, "predicted_mean": predicted, "actual_mean": observed,
            "relative_error": predicted / observed - 1 if observed else None}


def _parameters(fits: dict, sizes: dict, summary: pd.DataFrame) -> pd.DataFrame:
    """Fitted parameters and standard errors per fit group with checked customers (fit sizes, channels)."""
    rows = []
    used = set(summary["group"])
    pairs = summary[["group", "channel"]].drop_duplicates()
    channels = pairs.groupby("group")["channel"].unique()
    for g, (bg, gg) in fits.items():
        if g not in used:
            continue
        covered = ", ".join(sorted(map(str, channels[g])))
        customers, repeat = sizes[g]
        for model, fit, names in (("BG/NBD", bg, BG_NAMES), ("Gamma-Gamma", gg, GG_NAMES)):
            for name in names:
                rows.append({"group": g, "channels": covered, "model": model, "parameter": name,
                             "value": fit.params[name], "standard_error": fit.standard_errors[name],
                             "customers": customers, "repeat_buyers": repeat})
    return pd.DataFrame(rows)
