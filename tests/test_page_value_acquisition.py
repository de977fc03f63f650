"""The Customer value and Acquisition pages over the hand-built fixture (tests/kpi_fixture.py): numbers by hand."""

from __future__ import annotations

import json
import math

import pytest

import kpis
from tests.test_app import app, fixture_db  # noqa: F401  (fixture_db is a pytest fixture)

pytestmark = pytest.mark.usefixtures("fixture_db")  # the fixture database, served through $EMPTYCHAIR_DB
CUSTOMER_VALUE, ACQUISITION = "../pages/customer_value.py", "../pages/acquisition.py"


def page(path: str, **params):
    at = app(**params)
    at.switch_page(path).run()
    assert not at.exception
    return at


def table(at, column: str):
    """The page's dataframe that has this column."""
    frames = [f.value for f in at.dataframe if column in f.value.columns]
    assert len(frames) == 1, [list(f.value.columns) for f in at.dataframe]
    return frames[0]


def by(frame, column: str) -> dict:
    return {row[column]: row for row in frame.to_dict("records")}


def chart_titles(at) -> list[str]:
    """The titles of the page's Altair charts, read from their Vega-Lite specs."""
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    titles = [spec.get("title") for spec in specs]
    return [t.get("text") if isinstance(t, dict) else t for t in titles if t]


def undefined(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# --- Customer value --------------------------------------------------------------------------------


def test_lifetime_deciles_and_concentration():
    at = page(CUSTOMER_VALUE)
    at.toggle(key="value:lifetime").set_value(True).run()
    assert not at.exception
    deciles = table(at, "Decile")
    # Lifetime revenue of the 20 buyers (fixture docstring) totals
    # 900+350+300+260+200+165+150+130+120+120+105+100+90+80+75+70+70+50+30+20 = 3385 €.
    assert deciles["Revenue"].sum() == pytest.approx(3385)
    top = deciles.iloc[0]
    # Decile 1 = the 2 biggest spenders, c06 900 + c01 350 = 1250 € of 3385 → 36.9 %.
    assert (top["Decile"], top["Customers"], top["Revenue"]) == (1, 2, pytest.approx(1250))
    assert top["Share of revenue"] == pytest.approx(1250 / 3385)
    # Their margin: c06 o08 100 + o11 40 + o30 60 = 200, c01 o01 40 + o06 20 + o09 40 + o23 50 = 150 → 350 €.
    assert top["Margin"] == pytest.approx(350) and top["Revenue per customer"] == pytest.approx(625)
    assert deciles.iloc[-1]["Revenue"] == pytest.approx(50)  # decile 10: c20 30 + c14 20
    # Top 15% of 20 buyers = 3: c06 900 + c01 350 + c10 300 = 1550 / 3385 = 45.8 %.
    assert "The top 15% of customers bring 46% of revenue" in [m.value.strip("# ") for m in at.markdown]
    at.slider(key="value:top").set_value(10).run()
    assert "The top 10% of customers bring 37% of revenue" in [m.value.strip("# ") for m in at.markdown]


def test_period_deciles_tiers_and_levers():
    at = page(CUSTOMER_VALUE, period="2024-02")
    deciles = table(at, "Decile")
    # Feb 2024 buyers: c10 100, c15 75, c13 55, c04 45, c11 40 = 315 € → five deciles of one buyer each.
    assert list(deciles["Revenue"]) == [100, 75, 55, 45, 40]
    assert deciles.iloc[0]["Share of revenue"] == pytest.approx(100 / 315)

    tiers = by(table(at, "Value tier"), "Value tier")
    assert list(tiers) == ["top 10%", "next 20%", "middle 30%", "bottom 40%"]  # "no orders" is never active
    active, revenue = kpis.REGISTRY["active_customers"].short_label, kpis.REGISTRY["revenue"].short_label
    per, kept = kpis.REGISTRY["revenue_per_customer"].short_label, kpis.REGISTRY["retention_rate"].short_label
    # next 20% (c10, c19, c03, c13): c10 o26 100 + c13 o25 55 = 155 € from 2 customers → 77.50 € each;
    # of them only c13 bought in Jan 2024 (o22), and again in Feb → retention 1/1.
    assert (tiers["next 20%"][active], tiers["next 20%"][revenue]) == (2, pytest.approx(155))
    assert tiers["next 20%"][per] == pytest.approx(77.5) and tiers["next 20%"][kept] == pytest.approx(1.0)
    assert tiers["next 20%"]["Share of revenue"] == pytest.approx(155 / 315)
    # top 10% (c06, c01): nobody in Feb, c01 bought in Jan (o23) → 0 active, 0 €, retention 0/1.
    assert (tiers["top 10%"][active], tiers["top 10%"][revenue], tiers["top 10%"][kept]) == (0, 0, 0)
    # middle 30%: c11 o27 40 + c04 o28 45 = 85 €; none of them bought in Jan → retention undefined.
    assert tiers["middle 30%"][revenue] == pytest.approx(85) and undefined(tiers["middle 30%"][kept])
    # bottom 40%: c15 o29 75 €; Jan buyers c12 (o21) and c14 (o24) did not come back → 0/2.
    assert tiers["bottom 40%"][revenue] == pytest.approx(75) and tiers["bottom 40%"][kept] == 0

    shown = {m.label: m.value for m in at.metric}
    # The four levers for Feb 2024: 1 new customer (c15); each buyer bought one category; of Jan's 4 buyers
    # (c12, c13, c01, c14) only c13 came back → 25 %; cost 30+60+20+15+40 = 165 € over 5 orders → 33 €.
    assert shown == {"New customers": "1", "Categories/customer": "1.00", "Retention rate": "25.0 %",
                     "Cost per order": "33 €"}


def test_selecting_a_tier_drills_to_it():
    at = page(CUSTOMER_VALUE, period="2024-02")
    tiers = next(f for f in at.dataframe if "Value tier" in f.value.columns)
    at.session_state[tiers.key] = {"selection": {"rows": [1], "columns": []}}  # the "next 20%" row
    at.run()
    assert not at.exception
    assert at.query_params["value_tier"] == "next 20%"
    # Every figure now reads that tier: Feb 2024 deciles hold c10 100 and c13 55 only.
    assert list(table(at, "Decile")["Revenue"]) == [100, 55]


def test_a_period_without_orders_says_so():
    at = page(CUSTOMER_VALUE, period="2023-05")  # no order in May 2023
    assert any("No orders in May 2023" in i.value for i in at.info)
    assert not [f for f in at.dataframe if "Decile" in f.value.columns]


# --- Acquisition -----------------------------------------------------------------------------------


def test_cac_value_and_ratio_by_channel():
    at = page(ACQUISITION, period="2023-01")
    channels = by(table(at, "Channel"), "Channel")
    new, spend, cac = (kpis.REGISTRY[k].short_label for k in ("new_customers", "marketing_spend", "cac"))
    value = kpis.REGISTRY["historical_clv_12m"].short_label
    ratio = f"{value} ÷ CAC"
    # Jan 2023: search spent 300 for c01 + c02 → 150 €; social 150 for c03 → 150 €; referral 50 for nobody.
    assert (channels["search"][new], channels["search"][spend], channels["search"][cac]) == (2, 300, 150)
    assert (channels["social"][new], channels["social"][cac]) == (1, 150)
    assert channels["referral"][spend] == 50 and undefined(channels["referral"][cac])
    # Margin within 12 months: c01 o01 40 + o06 20 + o09 40 = 100 (o23 2024-01-20 is too late),
    # c02 o02 15 + o04 25 = 40 → search (100 + 40) / 2 = 70 €; c03 o03 50 → social 50 €.
    assert (channels["search"][value], channels["social"][value]) == (70, 50)
    assert channels["search"][ratio] == pytest.approx(70 / 150)
    assert channels["social"][ratio] == pytest.approx(50 / 150) and undefined(channels["referral"][ratio])
    assert "CAC of that cohort" not in channels["search"]  # the cohort is the view's period: same CAC
    readings = " ".join(m.value for m in at.markdown)
    assert "on **search** came back **0.47×** in margin within a year — not yet paid back" in readings


def test_an_empty_or_young_cohort_steps_back_to_one_with_a_full_year():
    at = page(ACQUISITION, period="2023-04")  # nobody acquired in Apr 2023: the latest cohort is Mar 2023
    channels = by(table(at, "Channel"), "Channel")
    value = kpis.REGISTRY["historical_clv_12m"].short_label
    assert {row["Cohort"] for row in channels.values()} == {"2023-03"}
    assert any("Apr 2023 cohort is empty" in c.value and "**Mar 2023**" in c.value for c in at.caption)
    # Mar 2023: search 250 € for c06, referral 45 € for c07, social 0 € for nobody.
    assert channels["search"]["CAC of that cohort"] == 250 and channels["referral"]["CAC of that cohort"] == 45
    # c06 o08 100 + o11 40 = 140 (o30 falls exactly 12 months later, excluded); c07 o10 15 + o14 15 = 30.
    assert (channels["search"][value], channels["referral"][value]) == (140, 30)
    assert channels["referral"][f"{value} ÷ CAC"] == pytest.approx(30 / 45)

    at = page(ACQUISITION)  # Nov 2024 is too young: Dec 2023 needs data to 2024-12-31, so Nov 2023 (c11)
    channels = by(table(at, "Channel"), "Channel")
    assert any("Nov 2024 cohort has not had twelve months yet" in c.value and "**Nov 2023**" in c.value
               for c in at.caption)
    # c11 (search): o19 80−45 = 35 + o27 40−20 = 20 → 55 €; no spend recorded for Nov 2023 → no CAC, no ratio.
    assert channels["search"][value] == 55 and undefined(channels["search"]["CAC of that cohort"])


def test_cac_is_not_shown_for_a_region():
    at = page(ACQUISITION, period="2024-02", region="FR")
    assert any(kpis.REGISTRY["cac"].definition in i.value for i in at.info)
    frame = table(at, "Channel")
    assert kpis.REGISTRY["cac"].short_label not in frame.columns
    assert kpis.REGISTRY["marketing_spend"].short_label not in frame.columns
    assert not [t for t in chart_titles(at) if "CAC" in t]  # no empty CAC charts
    assert [t for t in chart_titles(page(ACQUISITION, period="2024-02")) if "CAC" in t]  # all customers: shown


def test_predictive_value_only_when_the_clv_module_declares_it():
    at = page(ACQUISITION, period="2023-01")
    frame = table(at, "Channel")
    note = any("Predictive CLV ÷ CAC will appear here" in i.value for i in at.info)
    if "clv_cac" in kpis.REGISTRY:
        assert kpis.REGISTRY["clv_cac"].short_label in frame.columns and not note
    else:
        assert note and not any("CLV" in c for c in frame.columns)
