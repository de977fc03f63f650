"""The fitted value model of a database as of one date, cached, and the per-customer scores KPIs read.

One BG/NBD + Gamma-Gamma fit per acquisition channel (channels differ in customer quality, and a brand-new
customer is only known by the population it comes from), with a pooled fit for channels too small to fit,
per observation end (the last day of the data, or of an earlier period for comparisons). Segments are sums
over their customers, not separate fits.

Every build stores the models of the dashboard's default view (the last complete month, the month before and
the same month a year earlier: `store_default_models`, tables clv_fits and clv_scores), so that a fresh process
reads them instead of refitting; other dates are fitted on first use. Either way the KPIs query the scores in the
engine, as a table.

Customers stay in the engine: the fits read aggregates (`fit_value_models`: each fit group's distinct (x, t_x, T)
patterns with their counts, and its repeat buyers' distinct (x, m̄) values — all of them, or a stated hash sample on
a large group), and the engine scores every customer with the fitted parameters (`kpis.clv.score.Scorer` over its
Arrow record batches: `Database.score_batches`, on Spark a `mapInArrow` job), keeping the scores as a table.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from ibis import _ as deferred

from i18n import N_, _, carried, formats
from kpis.clv.bgnbd import NAMES as BG_NAMES
from kpis.clv.bgnbd import BetaGeo
from kpis.clv.common import ModelError, unique_rows
from kpis.clv.gammagamma import NAMES as GG_NAMES
from kpis.clv.gammagamma import GammaGamma
from kpis.clv.rfm import rfm_table, time_unit_days
from kpis.clv.score import INPUTS, SCORES, Scorer, parameters_of
from kpis.clv.uncertainty import draw_values
from kpis.clv.value import month_ends
from kpis.periods import last_complete

HORIZON_MONTHS = 36
ANNUAL_DISCOUNT = 0.10
TIME_UNIT = "W"
AT_RISK_P_ALIVE = 0.5  # a valuable customer is "at risk" once P(alive) falls below this
VALUABLE_TIERS = ("top 10%", "next 20%")
MIN_CUSTOMERS_PER_FIT = 200  # smaller channels use the pooled fit (unidentifiable ones too)
POOLED = "all customers"  # the fit group of the channels fitted together (a key; fit_group_label: in words)
SPEND_SAMPLE = 100_000  # Gamma-Gamma reads at most this many repeat buyers per fit group (fit_value_models)
CHECK_HOLDOUT_WEEKS = 26  # the model check's default holdout: its calibration-end fit is stored with the build
STORED_FITS, STORED_SCORES, STORED_DRAWS = "clv_fits", "clv_scores", "clv_draws"  # a build's (store_default_models)
STORED_SUMS = "clv_group_sums"  # all customers' group_sums for the dashboard's dates
DRAW_TOTALS = ("equity", "at_risk", "at_risk_revenue")  # per fit group and parameter draw (group_draws)
_lock = threading.Lock()


@dataclass
class ValueModel:
    """BG/NBD + Gamma-Gamma fits on every customer's history up to `observation_end`, per fit group."""

    observation_end: date
    fits: dict[str, tuple[BetaGeo, GammaGamma]]  # fit group (acquisition channel, or POOLED) -> models
    margin_rate: float
    scores: ibis.Table  # one row per customer with an order by then: SCORES columns
    db: object = field(repr=False)
    _customers: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def customers(self) -> pd.DataFrame:
        """The scores as a frame indexed by customer_id (for analysis and tests; KPIs query `scores`)."""
        if self._customers is None:
            self._customers = self.db.frame(self.scores.order_by("customer_id")).set_index("customer_id")
        return self._customers

    def monthly_expected_margin(self, customers: pd.DataFrame, months: int = HORIZON_MONTHS) -> np.ndarray:
        """Expected (undiscounted) margin of these customers (rows of `scores`) in each of the next `months`
        calendar months."""
        cells = []
        for group, members in customers.groupby("fit_group"):
            x, tx, t = (members[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
            weight = self.fits[group][0].p_alive(x, tx, t) * members["expected_spend"].to_numpy(dtype=float)
            cells.append(pd.DataFrame({"fit_group": group, "frequency": x, "T": t, "weight": weight}))
        return self.monthly_margin_of(pd.concat(cells) if cells else pd.DataFrame(columns=list(CELLS)), months)

    def monthly_margin_of(self, cells: pd.DataFrame, months: int = HORIZON_MONTHS) -> np.ndarray:
        """monthly_expected_margin from per-(fit group, x, T) sums: `cells` has CELLS columns, weight = Σ P(alive) ×
        expected spend of the customers there (grouped in the engine: `cells_of`), rows need not be distinct."""
        bounds = np.concatenate([[0.0], month_ends(self.observation_end, months, TIME_UNIT)])
        total = np.zeros(months)
        for group, members in cells.groupby("fit_group"):
            bg = self.fits[group][0]
            x, t = (members[c].to_numpy(dtype=float) for c in ("frequency", "T"))
            # E[Y(t)] = P(alive) × E[Y(t) | alive]; the second factor depends on (x, T) only, shared by many
            (ux, ut), inverse = unique_rows(x, t)[:2]
            per_month = np.diff(bg.expected_purchases_if_alive(bounds[None, :], ux[:, None], ut[:, None]), axis=1)
            weight = members["weight"].to_numpy(dtype=float)
            total += np.bincount(inverse, weights=weight, minlength=ux.size) @ per_month
        return total * self.margin_rate


CELLS = ("fit_group", "frequency", "T", "weight")


def cells_of(scores: ibis.Table) -> ibis.Table:
    """Scores summed per (fit group, x, T): weight = Σ P(alive) × expected spend (ValueModel.monthly_margin_of)."""
    return scores.group_by(["fit_group", "frequency", "T"]).aggregate(
        weight=(scores.p_alive * scores.expected_spend).sum())


def observation_end_of(db, period) -> date | None:
    """The last day a period's figures may see: its last day, or the data's last day if earlier."""
    end = min(period.end - timedelta(days=1), db.data_end)
    return end if end >= db.data_start else None


def value_model(db, observation_end: date) -> ValueModel:
    """The model as of `observation_end`: stored in the build, else fitted once per database and date."""
    cache = db.__dict__.setdefault("_value_models", {})
    with _lock:  # one fit at a time: concurrent fits of the same date would double the work
        if observation_end not in cache:
            stored = _stored(db, observation_end)
            cache[observation_end] = stored if stored is not None else _fit(db, observation_end)
    model = cache[observation_end]
    if isinstance(model, ModelError):
        raise model
    return model


def fitted_scores(db, observation_end: date, fits: dict | None = None) -> tuple[dict, float, pd.DataFrame]:
    """Fit the models as of `observation_end` (or take the `fits` given): (fits per group, margin rate, scores frame
    with SCORES columns, in customer order). One row per customer in Python: for a build (store_default_models) and
    tests."""
    name = f"clv_fitted_{observation_end:%Y%m%d}"
    fits, margin_rate, scores = _scored(db, observation_end, name, fits)
    frame = db.arrow(scores.order_by("customer_id")).to_pandas()
    db.forget(name)
    return fits, margin_rate, frame


def score_inputs(db, observation_end: date, time_unit: str = TIME_UNIT) -> ibis.Table:
    """Per customer who bought by `observation_end`: the RFM summary's columns (rfm_table), the acquisition channel
    (POOLED when unknown), the revenue of the 365 days to the observation end (that day included) and whether the
    customer is among the 30 % most valuable (lifetime revenue: customer_value's VALUABLE_TIERS)."""
    rfm = rfm_table(db.tables, observation_end, time_unit_days(time_unit))
    c = db.tables["customers"]
    channels = c.select(id=c.customer_id, channel=c.acquisition_channel)
    rfm = rfm.left_join(channels, rfm.customer_id == channels.id)
    end = observation_end + timedelta(days=1)
    o = db.tables["orders"]
    o = o.filter((o.ordered_at >= ibis.timestamp(end - timedelta(days=365))) & (o.ordered_at < ibis.timestamp(end)))
    revenue = o.group_by(id="customer_id").aggregate(revenue=o.revenue.cast("float64").sum())
    v = db.tables["customer_value"]
    valuable = v.filter(v.value_tier.isin(VALUABLE_TIERS)).select(valuable_id=v.customer_id)
    j = rfm.left_join(revenue, rfm.customer_id == revenue.id)
    j = j.left_join(valuable, j.customer_id == valuable.valuable_id)
    return j.select("customer_id", channel=j.channel.fill_null(POOLED), frequency=j.frequency,
                    recency_days=j.recency_days, age_days=j.age_days, recency=j.recency, T=j["T"],
                    monetary_value=j.monetary_value, revenue_12m=j.revenue.fill_null(0.0),
                    valuable=j.valuable_id.notnull())


def _scored(db, observation_end: date, name: str, fits: dict | None = None) -> tuple[dict, float, ibis.Table]:
    """Fit as of `observation_end` (unless the `fits` are given) and score every customer in the engine, as table
    `name`: (fits, margin rate, the scores table). The customers' inputs are kept by the engine while the fits read
    them and it scores them."""
    kept = f"clv_inputs_{observation_end:%Y%m%d}"
    inputs = db.keep(kept, score_inputs(db, observation_end))
    try:
        fits = fits or fit_value_models(db, observation_end, base=inputs)
        margin_rate = _margin_rate(db, observation_end)
        fitted = sorted(set(fits) - {POOLED})
        group = ibis.ifelse(inputs.channel.isin(fitted), inputs.channel, POOLED) if fitted else ibis.literal(POOLED)
        scorer = Scorer(parameters_of(fits), margin_rate, observation_end, HORIZON_MONTHS, ANNUAL_DISCOUNT, TIME_UNIT)
        scores = db.score_batches(name, inputs.mutate(fit_group=group).select(*INPUTS), scorer, SCORES)
        db.row(scores.aggregate(n=deferred.count()))  # scored now, while the inputs are kept
    finally:
        db.forget(kept)
    return fits, margin_rate, scores


def _fit(db, observation_end: date) -> ValueModel | ModelError:
    name = f"clv_scores_{observation_end:%Y%m%d}"
    try:
        fits, margin_rate, scores = _scored(db, observation_end, name)
    except ModelError as error:  # remembered, so an unfittable date is not refitted on every call
        return error
    return ValueModel(observation_end, fits, margin_rate, scores, db)


# --- models stored in the build ----------------------------------------------------------------------------------

FIT_COLUMNS = (*BG_NAMES, *GG_NAMES)
_SE_COLUMNS = tuple(f"se_{c}" for c in FIT_COLUMNS)


def dashboard_observation_ends(db) -> list[date]:
    """Observation ends of the dashboard's default view: the last complete month, the one before, a year ago."""
    if db.data_end is None:
        return []
    month = last_complete(db.data_end, "month")
    ends = [observation_end_of(db, p) for p in (month, month.previous(), month.year_ago())]
    return sorted({e for e in ends if e is not None and e >= db.data_start})


def default_observation_ends(db) -> list[date]:
    """The dashboard's observation ends and the default model check's calibration end (CHECK_HOLDOUT_WEEKS before
    the data's end)."""
    if db.data_end is None:
        return []
    ends = dashboard_observation_ends(db)
    ends.append(db.data_end - timedelta(weeks=CHECK_HOLDOUT_WEEKS))
    return sorted({e for e in ends if e is not None and e >= db.data_start})


def group_draws(observation_end: date, fits: dict, margin_rate: float, scores: pd.DataFrame) -> pd.DataFrame:
    """Each fit group's totals — equity, valuable customers at risk, their 12-month revenue — with the fitted
    parameters (draw −1) and with each parameter draw 0 … K−1 (kpis.clv.uncertainty.draw_values: a parametric
    bootstrap of the fits' parameter uncertainty). A segment's draws scale its part of each group (kpis.intervals)."""
    rows = []
    for group, members in scores.groupby("fit_group"):
        drawn = draw_values({group: fits[group]}, members.reset_index(drop=True), margin_rate, observation_end,
                            HORIZON_MONTHS, ANNUAL_DISCOUNT, at_risk=members["valuable"].to_numpy(dtype=bool),
                            revenue="revenue_12m", at_risk_below=AT_RISK_P_ALIVE)
        rows.append(pd.DataFrame({"fit_group": group, "draw": -1, **{t: [drawn.point[t]] for t in DRAW_TOTALS}}))
        rows.append(pd.DataFrame({"fit_group": group, "draw": np.arange(len(drawn.draws["equity"])),
                                  **{t: drawn.draws[t] for t in DRAW_TOTALS}}))
    return pd.concat(rows, ignore_index=True)


def group_sums(scores: pd.DataFrame) -> pd.DataFrame:
    """Per fit group: customers, their CLV, and the valuable ones at risk (count, 12-month revenue) — what a segment's
    interval scales (kpis.intervals), here for all customers."""
    risk = (scores["p_alive"] < AT_RISK_P_ALIVE) & scores["valuable"]
    frame = scores.assign(at_risk=risk.astype(float), at_risk_revenue=scores["revenue_12m"].where(risk, 0.0))
    return frame.groupby("fit_group").agg(customers=("customer_id", "size"), equity=("clv", "sum"),
                                          at_risk=("at_risk", "sum"),
                                          at_risk_revenue=("at_risk_revenue", "sum")).reset_index()


def stored_group_sums(db, observation_end: date) -> pd.DataFrame | None:
    """group_sums of that date as the build stored them, if it did."""
    return _stored_rows(db, STORED_SUMS, "fit_group, customers, equity, at_risk, at_risk_revenue", observation_end)


def _stored_rows(db, table: str, columns: str, observation_end: date, order: str = "") -> pd.DataFrame | None:
    """A build table's rows of one observation end (None when the build has no such table or rows)."""
    if not build_has(db, table):
        return None
    frame = db.cursor().execute(f"SELECT {columns} FROM {table} WHERE observation_end = ? {order}",
                                [observation_end]).df()
    return None if frame.empty else frame


def model_draws(db, observation_end: date) -> pd.DataFrame | None:
    """group_draws of that date: stored in the build, else computed once from the fitted model (None when the date
    cannot be modelled, or its fits carry no covariance)."""
    cache = db.__dict__.setdefault("_model_draws", {})
    with _lock:
        if observation_end not in cache:
            cache[observation_end] = _stored_draws(db, observation_end)
    if cache[observation_end] is None:
        try:
            model = value_model(db, observation_end)
        except ModelError:
            return None
        if any(bg.log_covariance is None or gg.log_covariance is None for bg, gg in model.fits.values()):
            return None
        scores = model.customers.reset_index()
        cache[observation_end] = group_draws(observation_end, model.fits, model.margin_rate, scores)
    return cache[observation_end]


def _has_columns(db, table: str, columns) -> bool:
    found = {r[0] for r in db.cursor().execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}
    return set(columns) <= found


def _stored_draws(db, observation_end: date) -> pd.DataFrame | None:
    return _stored_rows(db, STORED_DRAWS, f"fit_group, draw, {', '.join(DRAW_TOTALS)}", observation_end,
                        "ORDER BY fit_group, draw")


def store_default_models(db, con, previous_fits: str | None = None) -> dict[date, bool]:
    """Fit the default view's models and write them into the build being made (`con`, read-write), with their
    parameter draws for the dashboard's own dates (group_draws); the dates stored. A date the models cannot fit is
    left out (it fails the same way, with its reason, when asked).

    `previous_fits` names a table of STORED_FITS' shape in `con` holding the previous build's fits of the dates whose
    inputs — orders and customers up to that day — are the same in this build (an append of later data): such a
    date's fitted parameters are taken, not fitted again. Its customers are scored and drawn anew all the same: a
    score reads lifetime value tiers, which later orders move. The dates stored, each with whether its fits were
    taken."""
    con.execute(f"CREATE OR REPLACE TABLE {STORED_FITS} (observation_end DATE, fit_group VARCHAR, "
                + ", ".join(f"{c} DOUBLE" for c in (*FIT_COLUMNS, *_SE_COLUMNS, "margin_rate"))
                + ", log_covariance VARCHAR)")  # JSON {"bg": 4×4, "gg": 3×3}: what intervals draw from
    columns = ", ".join(f'"{c}" {_SQL_TYPES[t]}' for c, t in SCORES.items())
    con.execute(f"CREATE OR REPLACE TABLE {STORED_SCORES} (observation_end DATE, {columns})")
    con.execute(f"CREATE OR REPLACE TABLE {STORED_DRAWS} (observation_end DATE, fit_group VARCHAR, draw INTEGER, "
                + ", ".join(f"{t} DOUBLE" for t in DRAW_TOTALS) + ")")
    con.execute(f"CREATE OR REPLACE TABLE {STORED_SUMS} (observation_end DATE, fit_group VARCHAR, customers DOUBLE, "
                "equity DOUBLE, at_risk DOUBLE, at_risk_revenue DOUBLE)")
    stored, drawing = {}, []
    viewed = set(dashboard_observation_ends(db))
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="draws")  # draws (numpy, scipy) beside the next fit
    for end in default_observation_ends(db):
        reused = _fits_read(con, previous_fits, end) if previous_fits else None
        try:
            fits, margin_rate, scores = fitted_scores(db, end, reused and reused[0])
        except ModelError:
            continue
        rows = [(end, g, *(bg.params[k] for k in BG_NAMES), *(gg.params[k] for k in GG_NAMES),
                 *(bg.standard_errors[k] for k in BG_NAMES), *(gg.standard_errors[k] for k in GG_NAMES), margin_rate,
                 json.dumps({"bg": bg.log_covariance.tolist(), "gg": gg.log_covariance.tolist()}))
                for g, (bg, gg) in fits.items()]
        con.executemany(f"INSERT INTO {STORED_FITS} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        con.register("new_scores", pa.Table.from_pandas(scores, preserve_index=False))
        con.execute(f"INSERT INTO {STORED_SCORES} SELECT ?, * FROM new_scores ORDER BY customer_id", [end])
        con.unregister("new_scores")
        if end in viewed:  # the model check's calibration end needs no interval
            drawing.append((end, pool.submit(carried(group_draws, end, fits, margin_rate, scores))))
            con.register("new_sums", group_sums(scores))
            con.execute(f"INSERT INTO {STORED_SUMS} SELECT ?, * FROM new_sums", [end])
            con.unregister("new_sums")
        stored[end] = reused is not None
    for end, draws in drawing:
        con.register("new_draws", draws.result())
        con.execute(f"INSERT INTO {STORED_DRAWS} SELECT ?, * FROM new_draws", [end])
        con.unregister("new_draws")
    pool.shutdown()
    return stored


_SQL_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "float64": "DOUBLE", "boolean": "BOOLEAN"}


def stored_model(db, observation_end: date) -> ValueModel | None:
    """The model of that date stored in the build, if any (nothing is fitted)."""
    cache = db.__dict__.setdefault("_value_models", {})
    model = cache.get(observation_end)
    if isinstance(model, ValueModel):
        return model
    model = _stored(db, observation_end)
    if model is not None:  # kept, as value_model keeps it: its customers frame is then read once
        with _lock:
            model = cache.setdefault(observation_end, model)
    return model


def build_has(db, table: str) -> bool:
    """Whether the database is a DuckDB build carrying this derived table (older builds and Spark do not)."""
    return getattr(db, "dialect", None) == "duckdb" and db.has_table(table)


def _stored(db, observation_end: date) -> ValueModel | None:
    """The model of that date stored in the build, if any (a build made before its scores carried every SCORES
    column, or its fits their covariance, is refitted instead)."""
    if not build_has(db, STORED_FITS) or not _has_columns(db, STORED_SCORES, SCORES) or not _has_columns(
            db, STORED_FITS, {"log_covariance": None}):
        return None
    read = _fits_read(db.cursor(), STORED_FITS, observation_end)
    if read is None:
        return None
    fits, margin_rate = read
    t = ibis.table({"observation_end": "date", **SCORES}, name=STORED_SCORES)
    scores = t.filter(t.observation_end == ibis.literal(observation_end)).select(*SCORES)
    return ValueModel(observation_end, fits, margin_rate, scores, db)


def _fits_read(con, table: str, observation_end: date) -> tuple[dict, float] | None:
    """The fits of a date as a table of STORED_FITS' shape holds them, with their margin rate; None without."""
    rows = con.execute(f"SELECT fit_group, {', '.join(FIT_COLUMNS + _SE_COLUMNS)}, margin_rate, log_covariance "
                       f"FROM {table} WHERE observation_end = ?", [observation_end]).fetchall()
    if not rows:
        return None
    fits = {}
    for g, *v, covariance in rows:
        bg, gg = BetaGeo(dict(zip(BG_NAMES, v[:4], strict=True))), GammaGamma(dict(zip(GG_NAMES, v[4:7], strict=True)))
        bg.standard_errors, gg.standard_errors = dict(zip(BG_NAMES, v[7:11], strict=True)), dict(zip(GG_NAMES, v[11:14],
                                                                                                    strict=True))
        covariance = json.loads(covariance)
        bg.log_covariance, gg.log_covariance = np.array(covariance["bg"]), np.array(covariance["gg"])
        fits[g] = (bg, gg)
    return fits, rows[0][-2]


_PATTERN = ("frequency", "recency_days", "age_days")


def fit_value_models(db, observation_end: date, time_unit: str = TIME_UNIT,
                     base: ibis.Table | None = None) -> dict[str, tuple[BetaGeo, GammaGamma]]:
    """BG/NBD + Gamma-Gamma per fit group as of `observation_end`, from aggregates of the engine.

    A fit group is an acquisition channel with at least MIN_CUSTOMERS_PER_FIT customers whose models the data
    identify; the other customers (smaller channels, unidentifiable ones, an unknown channel) share the POOLED fit,
    which reads every customer. BG/NBD reads the group's distinct (x, t_x, T) patterns with their numbers of
    customers — the likelihood of the compressed rows is the customers' one — and Gamma-Gamma its repeat buyers'
    distinct (x, m̄) values with their counts: every repeat buyer of a group of at most SPEND_SAMPLE (100,000) of
    them, else the SPEND_SAMPLE whose MD5(customer_id) is smallest, a sample the same on every engine and run.
    Rows come in the order of their first customer (smallest customer_id), the order a summary sorted by customer
    gives them: so the fits are bit for bit those of the customer-by-customer rows, on every engine (the optimiser's
    path depends on the order of its sums). `base`: score_inputs (or any table with its customer_id, channel and
    RFM columns) to read, kept by the engine; ModelError when the pooled fit fails.
    """
    if base is None:
        kept = f"clv_fit_inputs_{observation_end:%Y%m%d}_{time_unit}"
        base = db.keep(kept, score_inputs(db, observation_end, time_unit))
        try:
            return fit_value_models(db, observation_end, time_unit, base)
        finally:
            db.forget(kept)
    patterns = _patterns(db, base, ["channel"])
    if patterns.empty:
        raise ModelError(N_("no customer bought on or before {date}: nothing to fit"), date=observation_end)
    sizes = patterns.groupby("channel")["weight"].sum()
    repeat = patterns[patterns["frequency"] > 0].groupby("channel")["weight"].sum()
    fits = {}
    for channel, size in sizes.items():
        if channel == POOLED or size < MIN_CUSTOMERS_PER_FIT:
            continue
        try:
            fits[channel] = _fit_group(patterns[patterns["channel"] == channel],
                                       _spend_values(db, base.filter(base.channel == channel), repeat.get(channel, 0)))
        except ModelError:  # a channel the models cannot identify falls back to the pooled fit
            pass
    if set(sizes.index) - set(fits):
        fits[POOLED] = _fit_group(_patterns(db, base, []), _spend_values(db, base, repeat.sum()))
    return fits


def _patterns(db, customers: ibis.Table, by: list[str]) -> pd.DataFrame:
    """Distinct (frequency, recency, T) per value of the `by` columns, with `weight` = customers, in the order of
    their first customer (fit_value_models); the ids stay in the engine."""
    return db.arrow(customers.group_by([*by, *_PATTERN]).aggregate(
        first=deferred.customer_id.min(), weight=deferred.count(), recency=deferred.recency.max(),
        T=deferred["T"].max())
        .order_by([*by, "first"]).drop("first")).to_pandas()


def _spend_values(db, customers: ibis.Table, repeat_buyers: int) -> pd.DataFrame:
    """Distinct (frequency, monetary_value) of the repeat buyers with a positive value, with `weight` = customers:
    all of them, or the SPEND_SAMPLE of smallest MD5(customer_id) when more may have one (fit_value_models)."""
    r = customers.filter((customers.frequency > 0) & (customers.monetary_value > 0))
    if repeat_buyers > SPEND_SAMPLE:
        r = r.order_by([r.customer_id.hexdigest("md5"), r.customer_id]).limit(SPEND_SAMPLE)
    per_pattern = r.group_by(["frequency", "monetary_value"]).aggregate(first=deferred.customer_id.min(),
                                                                        weight=deferred.count())
    return db.arrow(per_pattern.order_by("first").drop("first")).to_pandas()


def channel_of(db, ids: pd.Index) -> pd.Series:
    """Each customer's acquisition channel (POOLED when unknown)."""
    c = db.tables["customers"]
    channels = db.arrow(c.select("customer_id", "acquisition_channel")).to_pandas()
    return channels.set_index("customer_id")["acquisition_channel"].reindex(ids).fillna(POOLED)


def _fit_group(patterns: pd.DataFrame, values: pd.DataFrame) -> tuple[BetaGeo, GammaGamma]:
    bg = BetaGeo().fit(patterns["frequency"], patterns["recency"], patterns["T"], weights=patterns["weight"])
    gg = GammaGamma().fit(values["frequency"], values["monetary_value"], weights=values["weight"])
    return bg, gg


def fit_group_label(group: str) -> str:
    """A fit group in words, in the current language: its acquisition channel, or "all customers" for the pooled
    fit."""
    return _("all customers") if group == POOLED else str(group)


def value_basis(db) -> str | None:
    """What the value KPIs are computed on, in words in the current language, when it is not the orders' own costs: a
    margin rate the company stated at import (`--margin-rate`), or revenue itself when the data has no costs. None for
    orders with costs. English reads after "Customer value is"; French is a noun phrase that reads after « repose
    sur » (« La valeur client repose sur un taux de marge de 35 % déclaré à l'import… »)."""
    stated = db.metadata.get("margin_rate")
    if stated is not None:
        return _("margin rate {rate} as stated at import (the orders carry no usable cost)").format(
            rate=formats.percent(float(stated), 0))
    if not _has_costs(db):
        return _("revenue-based: the data has no costs")
    return None


def order_margin(db, o: ibis.Table) -> ibis.Expr:
    """Each order's margin as the value KPIs count it: revenue − cost, or revenue × the stated or revenue-based rate
    when the orders carry no cost (value_basis)."""
    stated = db.metadata.get("margin_rate")
    if stated is None and _has_costs(db):
        return (o.revenue - o.cost).cast("float64")
    return o.revenue.cast("float64") * (1.0 if stated is None else float(stated))


def _has_costs(db) -> bool:
    cache = db.__dict__.setdefault("_has_costs", [])
    if not cache:
        o = db.tables["orders"]
        cache.append(bool(db.row(o.aggregate(n=o.cost.count()))["n"]))
    return cache[0]


def _margin_rate(db, observation_end: date) -> float:
    """Gross margin ÷ revenue of every order of known cost up to the observation end; a rate the company stated at
    import instead, when it did; 1 (value on revenue) when the orders carry no cost at all (value_basis says so)."""
    stated = db.metadata.get("margin_rate")
    if stated is not None:
        return float(stated)
    if not _has_costs(db):
        return 1.0
    o = db.tables["orders"]
    o = o.filter(o.cost.notnull() & (o.ordered_at < ibis.timestamp(observation_end + timedelta(days=1))))
    row = db.row(o.aggregate(margin=(o.revenue - o.cost).sum().cast("float64"),
                             revenue=o.revenue.sum().cast("float64")))
    return 1.0 if not row["revenue"] else min(max(row["margin"] / row["revenue"], 0.0), 1.0)
