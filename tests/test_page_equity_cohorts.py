"""The "Customer equity vs volume" and "Cohorts & retention" pages over the hand-built fixture (tests/kpi_fixture.py).

Data ends 2024-12-20, so the default view is November 2024 and December 2024 is the month in progress.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit import dataframe_util
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from tests.test_app import app, fixture_db  # noqa: F401  (fixture_db is a pytest fixture)

pytestmark = pytest.mark.usefixtures("fixture_db")  # every test runs the app over the fixture database

EQUITY, COHORTS = "../pages/equity_vs_volume.py", "../pages/cohorts.py"


def open_page(page: str, **params) -> AppTest:
    at = app(**params)
    return at.switch_page(page).run()


def charts(at: AppTest) -> list:
    return list(at.get("vega_lite_chart"))


def spec(chart) -> dict:
    return json.loads(chart.proto.spec)


def chart_data(chart) -> pd.DataFrame:
    """Every row the chart was sent (all its named datasets together)."""
    return pd.concat([dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data) for d in chart.proto.datasets],
                     ignore_index=True)


def table(at: AppTest, first_column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if d.value.columns[0] == first_column)


def click(at: AppTest, chart, selection: dict) -> AppTest:
    """What the browser sends when a chart mark is clicked: the chart's selection state, as a string widget value."""
    states = WidgetStates()
    states.CopyFrom(at._tree.get_widget_states())
    state = states.widgets.add()
    state.id, state.string_value = chart.proto.id, json.dumps({"selection": selection})
    return at._run(states)


def show_cohorts(at: AppTest, choice: str) -> AppTest:
    at.segmented_control(key="cohorts:range").set_value(choice)
    return at.run()


# --- Customer equity vs volume -----------------------------------------------------------------------------


def test_equity_tiles_put_both_families_side_by_side():
    at = open_page(EQUITY)
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert len(shown) == 19  # 12 customer-equity KPIs, 7 volume and cost KPIs
    # November 2024: one order, o37 (c19, revenue 60, cost 35).
    assert shown["Active customers"] == "1" and shown["Revenue"] == "60 €" and shown["Cost per order"] == "35 €"
    # Nobody bought in October 2024, so November's retention is undefined: a dash, never 0 %.
    assert shown["Retention rate"] == "—" and shown["Churn rate"] == "—"
    # The 2024-11 cohort is empty and too young: no 12-month value.
    assert shown["12-month value"] == "—"


def test_equity_trend_is_indexed_with_gaps_for_undefined_values():
    at = open_page(EQUITY)
    values = table(at, "Period").set_index("Period")
    # 12 months, Dec 2023 .. Nov 2024, newest first.
    assert list(values.index)[:2] == ["Nov 2024", "Oct 2024"] and len(values) == 12
    # Feb 2024 buyers: c13 c10 c11 c04 c15; of January's buyers (c12 c13 c01 c14) only c13 came back: 1/4.
    assert values.loc["Feb 2024", "Active customers"] == "5" and values.loc["Feb 2024", "Retention rate"] == "25.0 %"
    assert values.loc["Nov 2024", "Retention rate"] == "—"
    lines = chart_data(charts(at)[0]).dropna(subset=["index"])
    active = lines[lines["kpi"] == "Active customers"].set_index("period")["index"]
    # Active customers: 1 in Dec 2023 (c12), 5 in Feb 2024 → index 500.
    assert active["2023-12"] == pytest.approx(100) and active["2024-02"] == pytest.approx(500)
    retention = lines[lines["kpi"] == "Retention rate"].set_index("period")["index"]
    # Retention is 0 % in Dec 2023 (c11, November's only buyer, did not return), so the base is Jan 2024 (100 %:
    # c12 came back); Feb 2024 is 25 % of it. November 2024 is undefined: no point at all (a gap, not a zero).
    assert retention["2024-01"] == pytest.approx(100) and retention["2024-02"] == pytest.approx(25)
    assert "2024-11" not in retention.index
    assert spec(charts(at)[0])["params"][0]["name"] == "pick"


def test_equity_kpi_pickers_change_the_lines():
    at = open_page(EQUITY)
    at.multiselect(key="equity:pick:VOLUME").set_value(["Gross margin"])
    at.multiselect(key="equity:pick:EQUITY").set_value([])
    at.run()
    assert set(chart_data(charts(at)[0]).dropna(subset=["index"])["kpi"]) == {"Gross margin"}
    assert list(table(at, "Period").columns) == ["Period", "Gross margin"]
    at.multiselect(key="equity:pick:VOLUME").set_value([])
    at.run()
    assert not charts(at) and "Pick at least one KPI" in at.info[0].value


def test_clicking_a_period_on_the_trend_shows_that_period():
    at = open_page(EQUITY)
    at = click(at, charts(at)[0], {"pick": [{"period": "2024-03"}]})
    assert not at.exception
    assert at.query_params["period"] == "2024-03"
    # March 2024: o30 (c06, 300) and o31 (c16, 65) → 365 €.
    assert {m.label: m.value for m in at.metric}["Revenue"] == "365 €"


def test_equity_follows_the_segment_in_the_link():
    at = open_page(EQUITY, period="2024-02", region="BE")
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    # Feb 2024 in Belgium: o27 (c11, 40) only; marketing spend is known per channel, not per region.
    assert shown["Revenue"] == "40 €" and shown["Active customers"] == "1" and shown["Marketing spend"] == "—"


# --- Cohorts & retention -----------------------------------------------------------------------------------


def test_cohort_heat_map_and_tables():
    at = open_page(COHORTS)
    assert not at.exception
    heat = charts(at)[0]
    layers = spec(heat)["layer"]
    assert layers[0]["mark"]["type"] == "rect"
    assert layers[0]["encoding"]["color"]["scale"]["domain"] == [0, 1]  # 0–100 %, whatever the data
    assert layers[1]["mark"]["type"] == "text"  # 7 cohorts × ≤ 11 months: labels are readable
    cells = chart_data(heat).set_index(["cohort", "age"])
    # Last 12 cohorts up to Nov 2024: 2023-12 .. 2024-11; those with customers: 12, 01, 02, 03, 05, 06, 09.
    assert sorted(cells.index.get_level_values("cohort").unique()) == [
        "2023-12", "2024-01", "2024-02", "2024-03", "2024-05", "2024-06", "2024-09"]
    # 2024-01 (c13, c14): c13 back in Feb (o25) → age 1 = 1/2.
    assert cells.loc[("2024-01", 1), "rate"] == pytest.approx(0.5)
    # December 2024 is in progress: no cell in it (2023-12 stops at age 11, 2024-09 at age 2).
    assert cells.loc["2023-12"].index.max() == 11 and cells.loc["2024-09"].index.max() == 2
    per = table(at, "Acquisition month").set_index("Acquisition month")
    # 2024-01: c13 ordered again 31 days after the first order (o22 → o25), c14 never: 1/2 within 90 days.
    assert per.loc["2024-01", "Customers"] == 2 and per.loc["2024-01", "Repeat within 90 days"] == "50.0 %"
    # 2024-09 (c19, 2024-09-01): 90 days after September's end is past the data's end → not known yet, not 0.
    assert per.loc["2024-09", "Repeat within 90 days"] == "not yet"
    assert per.loc["2024-01", "12-month customer value"] == "not yet"
    # The average path: at age 1, Σ active ÷ Σ customers over the 7 cohorts = (1+1+0+1+0+1+0) / (1+2+1+1+1+1+1).
    curve = chart_data(charts(at)[1]).set_index("age")
    assert curve.loc[1, "rate"] == pytest.approx(4 / 8) and set(curve["who"]) == {"All customers"}
    # At age 2 only c19 (2024-09, back in November) is active: 1 / 8 customers weighted by size (1/7 unweighted).
    assert curve.loc[2, "rate"] == pytest.approx(1 / 8)
    assert at.get("download_button")


def test_older_cohorts_with_a_wider_range():
    at = show_cohorts(open_page(COHORTS), "Last 24")
    assert not at.exception
    cells = chart_data(charts(at)[0]).set_index(["cohort", "age"])
    # 2023-01 (c01 c02 c03): c01 alone in Feb 2023 → 1/3; again in Jan 2024 (o23) → age 12 = 1/3.
    assert cells.loc[("2023-01", 0), "customers"] == 3
    assert cells.loc[("2023-01", 1), "rate"] == pytest.approx(1 / 3)
    assert cells.loc[("2023-01", 12), "rate"] == pytest.approx(1 / 3)
    per = table(at, "Acquisition month").set_index("Acquisition month")
    assert per.loc["2023-01", "Active after 1 month"] == "33.3 %"
    assert per.loc["2023-01", "Active after 3 months"] == "0.0 %"  # nobody in April 2023
    # Within 90 days: c01 (Jan 5 → Feb 10) and c02 (Jan 10 → Jan 25), not c03: 2/3.
    assert per.loc["2023-01", "Repeat within 90 days"] == "66.7 %"
    # 12-month margin before each first anniversary: c01 40+20+40, c02 15+25, c03 50 → 190 / 3 customers.
    assert per.loc["2023-01", "12-month customer value"] == "63.33 €"
    # Months with customers from 2022-12 to 2024-11: 2023-01 02 03 06 07 09 11 12, 2024-01 02 03 05 06 09.
    assert len(per) == 14


def test_filters_in_the_link_change_the_cohorts():
    at = open_page(COHORTS, region="FR")
    assert not at.exception
    per = table(at, "Acquisition month").set_index("Acquisition month")
    # In France the 2024-01 cohort is c13 alone (c14 is Belgian), and c13 came back in February.
    assert per.loc["2024-01", "Customers"] == 1 and per.loc["2024-01", "Active after 1 month"] == "100.0 %"
    assert "2024-06" not in per.index  # c18 is Belgian
    # The average path is compared with all customers.
    assert set(chart_data(charts(at)[1])["who"]) == {"Region: FR", "All customers"}


def test_clicking_a_cohort_row_narrows_the_segment_to_it():
    at = open_page(COHORTS)
    at = click(at, charts(at)[0], {"pick": [{"cohort": "2024-01"}]})
    assert not at.exception
    assert at.query_params["cohort"] == "2024-01"
    assert list(table(at, "Acquisition month")["Acquisition month"]) == ["2024-01"]


def test_a_segment_without_cohorts_in_range_says_so():
    # Cohort 2023-01 is outside the last 12 cohorts (2023-12 .. 2024-11).
    at = open_page(COHORTS, cohort="2023-01")
    assert not at.exception
    assert "No customers of this segment" in at.info[0].value
    assert not charts(at) and not at.dataframe
    # Widening the range brings it back.
    at = show_cohorts(at, "Last 24")
    assert list(table(at, "Acquisition month")["Acquisition month"]) == ["2023-01"]
