"""What users would otherwise write: the same figures in plain pandas, with lifetimes, "the typical Streamlit way".

Each peer reads its input from the same DuckDB file as the product does, and is checked against the product's
result in bench/run.py. Nothing here is product code: it is the baseline the product is measured against.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

# --- reading the orders ------------------------------------------------------------------------------------------


def read_orders(con: duckdb.DuckDBPyConnection, observation_end: date) -> pd.DataFrame:
    """customer_id, ordered_at, revenue (float) of every order up to the observation end (that day included)."""
    return con.execute(
        "SELECT customer_id, ordered_at, CAST(revenue AS DOUBLE) AS revenue FROM orders WHERE ordered_at < ?",
        [observation_end + timedelta(days=1)]).df()


# --- per-customer RFM summary ------------------------------------------------------------------------------------


def rfm_pandas(orders: pd.DataFrame, observation_end: date, unit_days: float) -> pd.DataFrame:
    """lifetimes' summary with a plain pandas groupby: same-day orders merged, first purchase day excluded from
    frequency and monetary value; recency and T in days ÷ unit_days."""
    o = orders.assign(day=orders["ordered_at"].dt.floor("D"))
    days = o.groupby(["customer_id", "day"], as_index=False, sort=True)["revenue"].sum()
    per = days.groupby("customer_id", sort=True).agg(
        n=("day", "size"), first=("day", "min"), last=("day", "max"), total=("revenue", "sum"),
        first_value=("revenue", "first"))  # rows are sorted by day within a customer: the first day's value
    frequency = per["n"] - 1
    end = pd.Timestamp(observation_end)
    return pd.DataFrame({
        "frequency": frequency,
        "recency": (per["last"] - per["first"]).dt.days / unit_days,
        "T": (end - per["first"]).dt.days / unit_days,
        "monetary_value": ((per["total"] - per["first_value"]) / frequency.where(frequency > 0)).fillna(0.0),
    })


def rfm_lifetimes(orders: pd.DataFrame, observation_end: date, unit_days: float) -> pd.DataFrame:
    """lifetimes.utils.summary_data_from_transaction_data, in days ÷ unit_days (exact times, as ours)."""
    from lifetimes.utils import summary_data_from_transaction_data

    return summary_data_from_transaction_data(
        orders, "customer_id", "ordered_at", monetary_value_col="revenue",
        observation_period_end=pd.Timestamp(observation_end), freq="D", freq_multiplier=unit_days)


# --- BG/NBD + Gamma-Gamma with lifetimes -------------------------------------------------------------------------


def fit_lifetimes(summary: pd.DataFrame, compressed: bool = False) -> dict[str, float]:
    """lifetimes' BetaGeoFitter and GammaGammaFitter (no penalty) on a summary; `compressed`: on its unique rows
    with `weights` (lifetimes supports it, few users do)."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    s = summary[["frequency", "recency", "T", "monetary_value"]]
    repeat = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
    if compressed:
        bg_rows = s.groupby(["frequency", "recency", "T"]).size().rename("weight").reset_index()
        gg_rows = repeat.groupby(["frequency", "monetary_value"]).size().rename("weight").reset_index()
        bg = BetaGeoFitter().fit(bg_rows["frequency"], bg_rows["recency"], bg_rows["T"], weights=bg_rows["weight"])
        gg = GammaGammaFitter().fit(gg_rows["frequency"], gg_rows["monetary_value"], weights=gg_rows["weight"])
    else:
        bg = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
        gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    out = {k: float(v) for k, v in bg.params_.items()}
    out.update(p=float(gg.params_["p"]), q=float(gg.params_["q"]), gamma=float(gg.params_["v"]))
    return out


# --- the empty chair's numbers, the typical Streamlit way ---------------------------------------------------------

PEER_KPIS = ["active_customers", "new_customers", "retention_rate", "nps", "revenue", "gross_margin", "orders",
             "marketing_spend", "cac"]


def load_tables(path: str) -> dict[str, pd.DataFrame]:
    """Every table the page reads, whole, into pandas (what the typical app caches with st.cache_data)."""
    con = duckdb.connect(path, read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t}").df() for t in ("orders", "customers", "marketing_spend",
                                                                       "feedback")}
    finally:
        con.close()


def _month(period: str) -> pd.Period:
    return pd.Period(period, freq="M")


def _sum(values: pd.Series) -> float | None:
    return None if values.count() == 0 else float(values.sum())


def segment_pandas(t: dict[str, pd.DataFrame], filters: dict) -> dict[str, pd.DataFrame]:
    """The loaded frames restricted to the segment's customers, once per rerun (anonymous answers drop out)."""
    if not filters:
        return t
    customers = t["customers"]
    for name, values in filters.items():
        customers = customers[customers[name].isin(list(values))]
    ids = customers["customer_id"]
    spend = t["marketing_spend"]
    if "acquisition_channel" in filters:
        spend = spend[spend["channel"].isin(list(filters["acquisition_channel"]))]
    return {"customers": customers, "orders": t["orders"][t["orders"]["customer_id"].isin(ids)],
            "feedback": t["feedback"][t["feedback"]["customer_id"].isin(ids)], "marketing_spend": spend}


def kpis_pandas(seg: dict[str, pd.DataFrame], month: pd.Period, filters: dict) -> dict:
    """PEER_KPIS for one month of a segment (segment_pandas): masks over the frames, as a Streamlit script does."""
    start, end = month.start_time, (month + 1).start_time
    prev_start = (month - 1).start_time
    o, customers = seg["orders"], seg["customers"]
    now = o[(o["ordered_at"] >= start) & (o["ordered_at"] < end)]
    before = o[(o["ordered_at"] >= prev_start) & (o["ordered_at"] < start)]
    acquired = customers[(customers["acquired_at"] >= start) & (customers["acquired_at"] < end)]
    buyers, previous_buyers = now["customer_id"].drop_duplicates(), before["customer_id"].drop_duplicates()
    out = {
        "active_customers": len(buyers),
        "new_customers": len(acquired),
        "retention_rate": float(previous_buyers.isin(buyers).mean()) if len(previous_buyers) else None,
        "revenue": _sum(now["revenue"]),
        "gross_margin": _sum(now["revenue"] - now["cost"]),
        "orders": len(now),
    }
    spend = None
    if set(filters) <= {"acquisition_channel"}:  # spend is known per channel only
        s = seg["marketing_spend"]
        spend = _sum(s[(s["month"] >= start) & (s["month"] < end)]["spend"])
    out["marketing_spend"] = spend
    out["cac"] = spend / out["new_customers"] if spend is not None and out["new_customers"] else None
    f = seg["feedback"]
    f = f[(f["answered_at"] >= start) & (f["answered_at"] < end) & (f["survey"] == "nps")]
    answers = len(f)
    out["nps"] = (100 * (f["score"].between(9, 10).sum() / answers - f["score"].between(0, 6).sum() / answers)
                  if answers else None)
    return {k: out[k] for k in PEER_KPIS}


def page_numbers_pandas(t: dict[str, pd.DataFrame], period: str, filters: dict, trend_periods: int = 12) -> dict:
    """The page's comparison (the month, the previous one, a year earlier) and its 12-month sparklines."""
    month = _month(period)
    wanted = {"value": month, "previous": month - 1, "year_ago": month - 12}
    trend = [month - i for i in reversed(range(trend_periods))]
    seg = segment_pandas(t, filters)
    values = {m: kpis_pandas(seg, m, filters) for m in dict.fromkeys([*wanted.values(), *trend])}
    return {"compare": {name: values[m] for name, m in wanted.items()},
            "trend": {str(m): values[m] for m in trend}}


# --- cohort retention matrix in pandas ----------------------------------------------------------------------------


def cohort_pandas(con: duckdb.DuckDBPyConnection, data_end: date) -> pd.DataFrame:
    """Share of each acquisition-month cohort active in each month since, zeros included (as kpis.cohort_retention)."""
    customers = con.execute("SELECT customer_id, acquired_at FROM customers").df()
    orders = con.execute("SELECT customer_id, ordered_at FROM orders").df()
    acquired = pd.to_datetime(customers["acquired_at"])
    cohort_month = acquired.dt.year * 12 + acquired.dt.month - 1
    cohorts = pd.DataFrame({"customer_id": customers["customer_id"], "cohort_month": cohort_month})
    o = orders.merge(cohorts, on="customer_id")
    o["age"] = o["ordered_at"].dt.year * 12 + o["ordered_at"].dt.month - 1 - o["cohort_month"]
    o = o[o["age"] >= 0]
    active = o.groupby(["cohort_month", "age"])["customer_id"].nunique().rename("active")
    sizes = cohorts.groupby("cohort_month").size()
    sizes = sizes[sizes.index.isin(o["cohort_month"].unique())]  # cohorts with an order, as the product's join
    last = data_end.year * 12 + data_end.month - 1
    grid = pd.MultiIndex.from_tuples([(c, a) for c in sizes.index for a in range(last - c + 1)],
                                     names=["cohort_month", "age"])
    full = active.reindex(grid, fill_value=0).reset_index()
    full["customers"] = full["cohort_month"].map(sizes)
    full["rate"] = full["active"] / full["customers"]
    full["cohort"] = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in full["cohort_month"]]
    return full[["cohort", "age", "customers", "active", "rate"]]
