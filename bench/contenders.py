"""The contenders, built inside their worker process (bench/workers.py): each factory does the untimed setup
and returns the callable that is timed."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date


def _quiet_streamlit() -> None:
    """No "No runtime found" warnings: st.cache_data works outside `streamlit run`, in memory, as intended here."""
    import streamlit.logger

    streamlit.logger.set_log_level("error")


# --- RFM summary ------------------------------------------------------------------------------------------------


def rfm_ours(path: str, end: date, time_unit: str):
    import kpis
    from kpis.clv import rfm_summary

    db = kpis.connect(path)
    return lambda: rfm_summary(db, end, time_unit)


def rfm_peer(path: str, end: date, time_unit: str, how: str):
    import duckdb

    from bench import peers
    from kpis.clv.rfm import TIME_UNITS

    con = duckdb.connect(path, read_only=True)
    summary = {"pandas": peers.rfm_pandas, "lifetimes": peers.rfm_lifetimes}[how]
    if how == "lifetimes":
        import warnings

        warnings.filterwarnings("ignore", module="lifetimes")
        import lifetimes  # noqa: F401  (imported in the setup, as the product's modules are)
    return lambda: summary(peers.read_orders(con, end), end, TIME_UNITS[time_unit])


def read_orders_only(path: str, end: date):
    """Only the read of the orders into pandas, which both peers do first."""
    import duckdb

    from bench import peers

    con = duckdb.connect(path, read_only=True)
    return lambda: len(peers.read_orders(con, end))


# --- BG/NBD + Gamma-Gamma fits ----------------------------------------------------------------------------------


def fit_ours(summary_path: str):
    import pandas as pd

    from kpis.clv import BetaGeo, GammaGamma

    s = pd.read_parquet(summary_path)

    def fit():
        bg = BetaGeo().fit(s["frequency"], s["recency"], s["T"])
        gg = GammaGamma().fit(s["frequency"], s["monetary_value"])
        return bg.params | gg.params

    return fit


def fit_lifetimes(summary_path: str, compressed: bool):
    import warnings

    import pandas as pd

    from bench import peers

    warnings.filterwarnings("ignore", module="lifetimes")
    import lifetimes  # noqa: F401

    s = pd.read_parquet(summary_path)
    return lambda: peers.fit_lifetimes(s, compressed=compressed)


# --- the empty chair's numbers ------------------------------------------------------------------------------------

CUSTOMER = ["active_customers", "new_customers", "retention_rate", "customer_equity", "clv_cac", "nps"]
VOLUME = ["revenue", "gross_margin", "orders", "marketing_spend", "cac"]
AT_RISK = ["customers_at_risk", "value_at_risk"]


def page_ours(path: str, period: str, whole_page: bool, warm_models: bool):
    """Through the dashboard's own cache (ui.data: st.cache_data over kpis, the database a cache_resource).

    The callable takes (filters, forget): `forget` clears the KPI result caches first (a view not seen yet).
    `whole_page`: every call pages/empty_chair.py makes, model-based KPIs included; else only the KPIs the
    pandas peer computes (compare and 12-month trend). `warm_models`: keep the dashboard's background load of
    the default view's CLV models on first connection (off when the page's KPIs need no model).
    """
    sys.argv = ["app.py", "--db", path]
    _quiet_streamlit()
    import ui.data as data
    import ui.db
    from bench.peers import PEER_KPIS

    if not warm_models:
        ui.db._warm_value_model = lambda db: None
    model_based = {k for k in CUSTOMER + VOLUME if data.kpis.REGISTRY[k].model_based}

    def numbers(filters: dict, forget: bool = False):
        if forget:  # neither the dashboard's cache nor the values kpis remembers for the database
            data._run.clear()
            ui.db._database(str(ui.db.current_file(ui.db.configured_path()))).__dict__.pop("_memo", None)
        if not whole_page:
            return {"compare": data.compare(PEER_KPIS, period, filters=filters),
                    "trend": data.trend(PEER_KPIS, period, 12, filters=filters)}
        out = {"compare": data.compare(CUSTOMER + VOLUME + AT_RISK, period, filters=filters, intervals=True),
               "trend": data.trend([k for k in CUSTOMER + VOLUME if k not in model_based], period, 12,
                                   filters=filters)}
        data.nps_with_margin(period, filters=filters)
        data.effort_by_touchpoint(period, filters=filters)
        data.effort_peak(period, filters=filters)
        data.latest_comments(period, 3, filters=filters)
        data.headline(period, "previous", filters=filters)
        return out

    return numbers


def what_changed_ours(path: str, period: str):
    """Every call pages/what_changed.py makes (sentences, both bridges, contributions by channel), through the
    dashboard's cache; the callable takes (filters, forget) as page_ours's."""
    sys.argv = ["app.py", "--db", path]
    _quiet_streamlit()
    import ui.data as data
    import ui.db

    def numbers(filters: dict, forget: bool = False):
        if forget:
            data._run.clear()
            ui.db._database(str(ui.db.current_file(ui.db.configured_path()))).__dict__.pop("_memo", None)
        data.headline(period, "previous", filters=filters)
        revenue = data.revenue_bridge(period, "previous", filters=filters)
        equity = data.equity_bridge(period, "previous", filters=filters)
        parts = data.contributions("revenue", period, "acquisition_channel", compare="previous", filters=filters)
        return {"revenue": float(revenue["value"].sum()), "equity": float(equity["value"].sum()),
                "parts": float(parts["contribution"].sum())}

    return numbers


def interval_draws(path: str):
    """What the intervals add to a build: the parameter draws of the dashboard's three dates (group_draws)."""
    import kpis
    from kpis.clv.model import dashboard_observation_ends, group_draws, value_model

    db = kpis.connect(path)
    models = [value_model(db, end) for end in dashboard_observation_ends(db)]  # stored: read, not fitted
    frames = [m.customers.reset_index() for m in models]

    def draw():  # two at a time, as store_default_models draws them beside its fits
        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = [pool.submit(group_draws, m.observation_end, m.fits, m.margin_rate, f)
                    for m, f in zip(models, frames, strict=True)]
            return sum(len(job.result()) for job in jobs)

    return draw


def page_peer(path: str, period: str):
    """The typical Streamlit app: the tables loaded whole into pandas with st.cache_data (each rerun gets a copy),
    the KPIs aggregated with pandas on every rerun."""
    _quiet_streamlit()
    import streamlit as st

    from bench import peers

    load = st.cache_data(show_spinner=False)(peers.load_tables)

    def numbers(filters: dict, forget: bool = False):
        return peers.page_numbers_pandas(load(path), period, filters)

    return numbers


# --- cohort matrix, board PDF --------------------------------------------------------------------------------------


def cohort_ours(path: str):
    import kpis

    db = kpis.connect(path)
    return lambda: kpis.cohort_retention(db)


def cohort_peer(path: str, data_end: date):
    import duckdb

    from bench import peers

    con = duckdb.connect(path, read_only=True)
    return lambda: peers.cohort_pandas(con, data_end)


def board_pdf(path: str, period: str):
    import kpis
    from report import build_report

    db = kpis.connect(path)
    return lambda: len(build_report(db, period, compare="previous", edition="board", filters={}))
