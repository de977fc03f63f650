"""Model check: the holdout test of BG/NBD + Gamma-Gamma against CDNOW's published figures, totals that agree with
each other and with the raw file, fits as the dashboard's, messages instead of exceptions, and the page."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import kpis
from kpis.build import import_files
from kpis.clv import BetaGeo
from kpis.clv.model import POOLED, value_model

ROOT = Path(__file__).resolve().parent.parent
CDNOW = Path(__file__).parent / "data" / "cdnow_sample.csv"
HOLDOUT = 39  # the data end 1998-06-30; 39 weeks (273 days) earlier is 1997-09-30, the paper's calibration end
SPLIT, END = pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30")


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.duckdb"
    import_files(path, orders=CDNOW, now=datetime(2000, 1, 1))
    return kpis.connect(path)


@pytest.fixture(scope="module")
def check(cdnow):
    return kpis.holdout_check(cdnow, HOLDOUT)


@pytest.fixture(scope="module")
def raw():
    """CDNOW per customer and purchase day straight from the CSV (pandas): an independent route to the figures."""
    orders = pd.read_csv(CDNOW, dtype={"customer_id": str}, parse_dates=["ordered_at"])
    days = orders.groupby(["customer_id", "ordered_at"], as_index=False)["revenue"].sum()
    days["first"] = days.groupby("customer_id")["ordered_at"].transform("min")
    days["calibration"] = days["ordered_at"] <= SPLIT
    return days


def per_customer(raw):
    """x (calibration repeat days), m̄ (their mean value), holdout days and holdout revenue per customer."""
    cal, hold = raw[raw["calibration"]], raw[~raw["calibration"]]
    repeat = cal[cal["ordered_at"] > cal["first"]]
    out = pd.DataFrame({"x": cal.groupby("customer_id").size() - 1})
    out["m"] = repeat.groupby("customer_id")["revenue"].mean().reindex(out.index, fill_value=0.0)
    out["holdout"] = hold.groupby("customer_id").size().reindex(out.index, fill_value=0)
    out["holdout_value"] = hold.groupby("customer_id")["revenue"].sum().reindex(out.index, fill_value=0.0)
    return out


# --- CDNOW: the published figures --------------------------------------------------------------------------------


def test_split_is_the_papers(check):
    assert check["message"] is None
    assert (check["calibration_start"], check["calibration_end"], check["holdout_end"]) == (
        date(1997, 1, 1), date(1997, 9, 30), date(1998, 6, 30))
    # 2,357 first-quarter customers, 946 of them with a repeat purchase in the calibration period (the paper).
    assert (check["customers"], check["repeat_buyers"]) == (2357, 946)


def test_one_time_buyers_match_the_paper(check):
    # README: customers without a repeat purchase in calibration averaged 0.24 holdout purchases; BG/NBD predicts
    # 0.23 (measured here: 0.2367 and 0.2251 over 1,411 customers). A holdout counted by order rather than by day,
    # or the wrong calibration end (T off by weeks), moves one of them out of ±0.01.
    zero = check["buckets"].set_index("frequency").loc["0"]
    assert zero["customers"] == 1411
    assert zero["actual_mean"] == pytest.approx(0.24, abs=0.01)
    assert zero["predicted_mean"] == pytest.approx(0.23, abs=0.01)


def test_cumulative_forecast_falls_about_4_percent_short(check):
    # README: over the 78 weeks the cumulative repeat-purchase forecast (Σ E[X(age)]) falls about 4% short of
    # the actual total (measured: 4,161 vs 4,339, 4.1%). Counting orders instead of purchase days (actual +10%) or
    # fits on the wrong span leave 3–5%; ages off by a week move it by only ~0.8 points (the model adds ~36
    # purchases a week by then), which the next test catches.
    curve = check["curve"]
    last = curve.iloc[-1]
    assert last["date"] == date(1998, 6, 30) and last["week"] == HOLDOUT
    assert curve.loc[curve["week"] == 0, "date"].item() == date(1997, 9, 30)
    assert 0.03 < 1 - last["model"] / last["actual"] < 0.05


def test_parameters_are_the_published_fits(check):
    # Every CDNOW customer comes without a customers file, so in the one acquisition channel 'unknown' (2,357 ≥
    # 200 customers: its own fit, equal to the pooled one). Published: r 0.243, α 4.414, a 0.793, b 2.426;
    # p 6.25, q 3.74, γ 15.44 (rounded: rel 1–2%).
    params = check["parameters"]
    assert set(params["group"]) == {"unknown"} and set(params["channels"]) == {"unknown"}
    assert set(params["customers"]) == {2357} and set(params["repeat_buyers"]) == {946}
    values = params.set_index("parameter")["value"]
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "gamma": 15.44}
    for name, value in published.items():
        assert values[name] == pytest.approx(value, rel=0.02), name
    errors = params.set_index("parameter")["standard_error"]
    assert ((errors > 0) & (errors < values)).all()  # CDNOW determines every parameter (SE 5–30% of the value)


# --- consistency, and the raw file -------------------------------------------------------------------------------


def test_buckets_sum_to_the_totals(check, raw):
    buckets, holdout = check["buckets"], check["holdout"]
    assert list(buckets["frequency"]) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert buckets["customers"].sum() == check["customers"]
    assert buckets["actual"].sum() == holdout["actual"]
    assert buckets["predicted"].sum() == pytest.approx(holdout["predicted"], rel=1e-12)
    np.testing.assert_allclose(buckets["predicted_mean"] * buckets["customers"], buckets["predicted"], rtol=1e-12)
    # The holdout's repeat purchases from the CSV: (customer, day) pairs after 1997-09-30 (all 2,357 customers
    # bought first in 1997-Q1, so each one is a repeat purchase): 1,882.
    assert holdout["actual"] == (~raw["calibration"]).sum() == 1882
    assert holdout["relative_error"] == pytest.approx(holdout["predicted"] / 1882 - 1)
    # the 7+ bucket from the CSV: customers with at least 8 calibration purchase days
    x = per_customer(raw)
    heavy = x[x["x"] >= 7]
    assert buckets.iloc[-1][["customers", "actual"]].tolist() == [len(heavy), heavy["holdout"].sum()]


def test_model_curve_is_the_sum_of_each_customers_expectation(check, raw):
    # Eq. 9 per customer at their age on the week's end, from the CSV's first purchase days, with the check's own
    # fitted parameters: the check's lookup by birth day and age in days must give the same sums.
    values = check["parameters"].set_index("parameter")["value"]
    bg = BetaGeo({k: values[k] for k in ("r", "alpha", "a", "b")})
    firsts = raw.groupby("customer_id")["first"].min()
    curve = check["curve"].set_index("date")
    for day in (date(1997, 3, 11), date(1997, 9, 30), date(1998, 6, 30)):
        ages = ((pd.Timestamp(day) - firsts).dt.days / 7).clip(lower=0)
        assert curve.loc[day, "model"] == pytest.approx(bg.expected_purchases_new(ages).sum(), rel=1e-9), day


def test_curve_is_non_decreasing_and_counts_repeat_purchases(check, raw):
    curve = check["curve"]
    assert (np.diff(curve["actual"]) >= 0).all() and (np.diff(curve["model"]) >= 0).all()
    assert curve.iloc[0][["actual", "model"]].tolist() == [0, 0]  # a week end before the first purchase
    assert np.all(np.diff(pd.to_datetime(curve["date"])) == np.timedelta64(7, "D"))
    repeat = raw[raw["ordered_at"] > raw["first"]]
    # at the split: every calibration repeat purchase day (Σ x over the customers)
    at_split = curve.loc[curve["week"] == 0, "actual"].item()
    assert at_split == (repeat["ordered_at"] <= SPLIT).sum()
    assert curve.iloc[-1]["actual"] == len(repeat)
    assert curve.iloc[-1]["actual"] - at_split == check["holdout"]["actual"]
    # a week in the middle: repeat days in (1997-03-04, 1997-03-11]
    week = curve.set_index("date")
    assert week.loc[date(1997, 3, 11), "actual"] - week.loc[date(1997, 3, 4), "actual"] == (
        (repeat["ordered_at"] > "1997-03-04") & (repeat["ordered_at"] <= "1997-03-11")).sum()


def test_spend_compares_expected_and_actual_value_per_holdout_purchase(check, raw):
    x = per_customer(raw)
    who = x[(x["x"] > 0) & (x["holdout"] > 0)]
    spend = check["spend"]
    assert spend["customers"] == len(who) == 491
    # actual: each customer's holdout revenue ÷ holdout purchase days, averaged over customers
    assert spend["actual_mean"] == pytest.approx((who["holdout_value"] / who["holdout"]).mean(), rel=1e-9)
    # predicted: Gamma-Gamma E[M | x, m̄] = p(γ + x·m̄)/(p·x + q − 1) with the published p, q, γ (rounded: 2%)
    p, q, gamma = 6.25, 3.74, 15.44
    expected = (p * (gamma + who["x"] * who["m"]) / (p * who["x"] + q - 1)).mean()
    assert spend["predicted_mean"] == pytest.approx(expected, rel=0.02)
    assert spend["relative_error"] == pytest.approx(spend["predicted_mean"] / spend["actual_mean"] - 1)


def test_a_segment_chooses_the_customers_not_the_fit(cdnow, check, raw):
    january = kpis.holdout_check(cdnow, HOLDOUT, filters={"cohort": ["1997-01"]})
    firsts = raw.groupby("customer_id")["first"].min()
    assert january["customers"] == (firsts < "1997-02-01").sum()  # 781 of the 2,357
    assert january["customers"] < check["customers"]
    pd.testing.assert_frame_equal(january["parameters"], check["parameters"])  # the same all-customer fit
    x = per_customer(raw).loc[firsts[firsts < "1997-02-01"].index]
    assert january["holdout"]["actual"] == x["holdout"].sum()
    assert january["buckets"]["customers"].sum() == january["customers"]


def test_fits_are_the_dashboards(tmp_path):
    # Two channels: 2,200 'web' customers (their own fit) and 157 'tv' (< 200: the pooled fit on all 2,357), and
    # costs so that the dashboard's value_model can be built: its fits as of the split must be the check's.
    orders = pd.read_csv(CDNOW, dtype={"customer_id": str})
    orders = orders.assign(cost=(orders["revenue"] * 0.6).round(2))
    ids = sorted(orders["customer_id"].unique())
    customers = pd.DataFrame({"customer_id": ids, "acquisition_channel": ["web"] * 2200 + ["tv"] * (len(ids) - 2200)})
    orders.to_csv(tmp_path / "orders.csv", index=False)
    customers.to_csv(tmp_path / "customers.csv", index=False)
    import_files(tmp_path / "db.duckdb", orders=tmp_path / "orders.csv", customers=tmp_path / "customers.csv",
                 now=datetime(2000, 1, 1))
    db = kpis.connect(tmp_path / "db.duckdb")
    params = kpis.holdout_check(db, HOLDOUT)["parameters"]
    assert set(params["group"]) == {"web", POOLED}
    pooled = params[params["group"] == POOLED]
    assert set(pooled["channels"]) == {"tv"} and set(pooled["customers"]) == {2357}
    fits = value_model(db, date(1997, 9, 30)).fits
    assert set(fits) == {"web", POOLED}
    for row in params.itertuples():
        fit = fits[row.group][0 if row.model == "BG/NBD" else 1]
        assert row.value == fit.params[row.parameter] and row.standard_error == fit.standard_errors[row.parameter]


# --- messages, not exceptions -------------------------------------------------------------------------------------


def test_unfittable_data_give_a_message(tmp_path):
    # Four customers, two of them repeat buyers: Gamma-Gamma needs at least 10 repeat buyers, and BG/NBD cannot
    # pin down four parameters from four customers either.
    (tmp_path / "orders.csv").write_text(
        "customer_id,ordered_at,revenue\n"
        "a,2024-01-03,20\na,2024-02-10,25\na,2024-06-01,30\nb,2024-01-15,40\nb,2024-03-01,35\n"
        "c,2024-02-01,15\nd,2024-03-20,50\nd,2024-06-20,10\n")
    import_files(tmp_path / "tiny.duckdb", orders=tmp_path / "orders.csv", now=datetime(2025, 1, 1))
    db = kpis.connect(tmp_path / "tiny.duckdb")
    result = kpis.holdout_check(db, 4)
    assert isinstance(result["message"], str) and result["message"]
    assert result["calibration_end"] == date(2024, 5, 23)  # 2024-06-20 − 28 days
    assert all(result[k] is None for k in ("holdout", "buckets", "curve", "spend", "parameters"))
    too_long = kpis.holdout_check(db, 52)  # the data cover 24 weeks
    assert "no calibration period" in too_long["message"]
    with pytest.raises(ValueError, match="whole number of weeks"):
        kpis.holdout_check(db, 0)


def test_an_empty_segment_gives_a_message(cdnow):
    # Cohort 1998-01: nobody's first purchase (all 1997-Q1), so nobody is checked.
    result = kpis.holdout_check(cdnow, HOLDOUT, filters={"cohort": ["1998-01"]})
    assert "no customer of this segment" in result["message"]


# --- the page ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_base):
    path = demo_base(3_000, 7)  # shared with tests/test_readme.py (tests/conftest.py)
    return path


def percent(change: float) -> str:
    return f"{100 * change:+.1f}%".replace("-", "−")


def shown_numbers(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_page_shows(at: AppTest, expected: dict, weeks: int) -> None:
    hold = expected["holdout"]
    predicted, actual, error = f"{hold['predicted']:,.0f}", f"{hold['actual']:,}", percent(hold["relative_error"])
    shown = shown_numbers(at)
    assert shown["Predicted repeat purchases"] == predicted
    assert shown["Actual repeat purchases"] == actual
    assert shown["Forecast error"] == error
    headline = next(m.value for m in at.markdown if m.value.startswith("## The model predicted"))
    assert headline == (f"## The model predicted {predicted} repeat purchases in the last {weeks} weeks; "
                        f"{actual} happened ({error})")


def test_page_shows_the_checks_numbers(demo, monkeypatch):
    monkeypatch.setenv("EMPTYCHAIR_DB", str(demo))
    db = kpis.connect(demo)
    at = AppTest.from_file(str(ROOT / "dashboard" / "navigation.py"), default_timeout=120).run()
    at.switch_page("../pages/model_check.py").run()
    assert not at.exception
    assert_page_shows(at, kpis.holdout_check(db, 26), 26)  # the default holdout
    # Another holdout length: the numbers follow (they differ: 13 weeks hold about half the purchases of 26).
    at.button_group(key="check:holdout").set_value(13).run()
    assert not at.exception
    assert_page_shows(at, kpis.holdout_check(db, 13), 13)
    assert at.get("download_button")  # the parameters' CSV


def test_page_applies_the_sidebar_segment(demo, monkeypatch):
    monkeypatch.setenv("EMPTYCHAIR_DB", str(demo))
    at = AppTest.from_file(str(ROOT / "dashboard" / "navigation.py"), default_timeout=120)
    at.query_params["acquisition_channel"] = "search"
    at.run()
    at.switch_page("../pages/model_check.py").run()
    assert not at.exception
    db = kpis.connect(demo)
    segment = kpis.holdout_check(db, 26, filters={"acquisition_channel": ["search"]})
    assert segment["customers"] < kpis.holdout_check(db, 26)["customers"]  # the filter really narrows
    assert_page_shows(at, segment, 26)


def test_the_build_stores_the_default_check_and_it_equals_a_fresh_one(demo, monkeypatch):
    stored = kpis.holdout_check(kpis.connect(demo), 26)  # read from the build (clv_checks)
    monkeypatch.setattr("kpis.clv.check._stored_check", lambda *args: None)
    fresh = kpis.holdout_check(kpis.connect(demo), 26)
    assert stored.keys() == fresh.keys()
    for key, value in fresh.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(stored[key], value)  # values and column types
        else:
            assert stored[key] == value, key
    assert kpis.holdout_check(kpis.connect(demo), 13)["holdout_weeks"] == 13  # other holdouts are computed
