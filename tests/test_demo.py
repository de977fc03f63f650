"""The demo customer base: deterministic, well-formed, and faithful to the models it claims to follow."""

from __future__ import annotations

import json
import re
from contextlib import closing
from datetime import date, timedelta

import numpy as np
import pytest
from scipy.special import hyp2f1

from store import demo
from store.demo import (  # the generator alone: these tests need no derived table of the KPI layer
    CHANNELS,
    COMMENTS,
    build_demo,
    operational_time,
    parameters,
)
from store.files import open_readonly
from store.schema import SURVEYS, TABLES, read_metadata

CUSTOMERS = 20_000
START, END = date(2023, 11, 1), date(2026, 10, 31)  # the default window: 2026-10-31 back 3 years + 1 day
HORIZON = (END - START).days + 1  # 1,096 days: the window ends at midnight after END


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    return path, build_demo(path, customers=CUSTOMERS)


@pytest.fixture(scope="module")
def con(built):
    with closing(open_readonly(built[0])) as connection:
        yield connection


def _rows(con, sql: str, *params) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def _contents(path) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with closing(open_readonly(path)) as con:
        return {
            name: con.execute(f"SELECT * FROM {name} ORDER BY {', '.join(t.primary_key)}").fetchall()
            for name, t in TABLES.items()
        }


def expected_repeats(t, r, alpha, a, b):
    """BG/NBD expected number of repeat purchases in (0, t] (Fader, Hardie & Lee 2005, eq. 9)."""
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


# --- determinism and schema ----------------------------------------------------------------------------


def test_same_arguments_give_the_same_tables_and_another_seed_does_not(tmp_path):
    first = build_demo(tmp_path / "a.duckdb", customers=2_000, seed=3)
    second = build_demo(tmp_path / "b.duckdb", customers=2_000, seed=3)
    other = build_demo(tmp_path / "c.duckdb", customers=2_000, seed=4)
    a, b, c = (_contents(tmp_path / f"{x}.duckdb") for x in "abc")
    assert all(a[name] for name in TABLES), "every table has rows"
    assert a == b
    assert first["demo"] == second["demo"]
    assert other["demo"]["seed"] == 4
    for name in ("customers", "orders", "feedback", "marketing_spend"):
        assert a[name] != c[name], name


def test_tables_have_the_declared_types_and_metadata_holds_the_parameters(con):
    for name, table in TABLES.items():
        types = dict(_rows(con, "SELECT column_name, data_type FROM information_schema.columns "
                                "WHERE table_name = ?", name))
        expected = {c.name: c.sql_type.replace(" ", "") for c in table.columns}
        if name == "customers":
            expected |= {"segment": "VARCHAR", "membership": "VARCHAR"}
        assert {k: v.replace(" ", "") for k, v in types.items()} == expected, name
    meta = read_metadata(con)
    assert meta["source"] == "demo" and meta["currency"] == "EUR"
    assert meta["period"] == {"start": START.isoformat(), "end": END.isoformat()}
    # JSON turns tuples into lists: compare with the same round trip.
    assert meta["demo"] == json.loads(json.dumps(parameters(CUSTOMERS, 7, END.isoformat(), 3)))
    assert meta["demo"]["time_unit"] == "day"
    assert meta["demo"]["channels"]["referral"]["b"] == CHANNELS["referral"].b


# --- the purchase process ------------------------------------------------------------------------------


def _per_customer(con) -> dict[str, np.ndarray]:
    rows = _rows(con, """
        SELECT c.acquisition_channel, c.acquired_at - DATE '2023-11-01', count(*) - 1, sum(o.revenue)::DOUBLE
        FROM customers c JOIN orders o USING (customer_id)
        GROUP BY c.customer_id, c.acquisition_channel, c.acquired_at""")
    channel, day, repeats, revenue = zip(*rows, strict=True)
    return {
        "channel": np.array(channel), "day": np.array(day, dtype=float), "repeats": np.array(repeats),
        "revenue": np.array(revenue), "orders": np.array(repeats) + 1,
    }


def test_repeat_purchases_follow_bgnbd_in_every_channel(con):
    # The first order is at acquisition; x = the other orders. The first order's simulated time within
    # its day is uniform, so taking mid-day for it is unbiased (and off by ≤ 0.5 day × ≤ 1/21 purchase
    # per day ≈ 0.02 purchases per customer). The process runs on operational time (mild seasonality),
    # so t is measured there. The rate cap (0.25/day) loses E[(λ − cap)+] ≤ 1.5e-5 purchases per day,
    # ≤ 0.02 over the window. Under the model the x − E[X(t)] are independent with mean 0, so their
    # mean is ≈ normal with standard error s/√n: 4 SE is a false alarm once in ~16,000 channels,
    # and SE is ≈ 1.5–2.5% of x̄ here, while a wrong process (dropout after the first order, a purchase
    # rate 15% too high...) moves x̄ by 5–30%. At 1M customers (SE ≈ 0.2%) every channel agrees within
    # 1 SE in operational time, while calendar time is off by up to −0.7% (1.3–3.9 SE).
    data = _per_customer(con)
    start_op = operational_time(data["day"] + 0.5, START)
    t = operational_time(float(HORIZON), START) - start_op
    for name, ch in CHANNELS.items():
        mine = data["channel"] == name
        diff = data["repeats"][mine] - expected_repeats(t[mine], ch.r, ch.alpha, ch.a, ch.b)
        se = diff.std(ddof=1) / np.sqrt(mine.sum())
        assert se < 0.04 * data["repeats"][mine].mean(), f"{name}: too few customers to tell"
        assert abs(diff.mean()) < 4 * se, f"{name}: observed − expected = {diff.mean():.3f}, SE {se:.3f}"


def test_about_ten_orders_per_customer(con):
    # 9.6 on average by the parameters (computed from E[X(t)] over the acquisition curve).
    (orders,) = _rows(con, "SELECT (SELECT count(*) FROM orders) / count(*) FROM customers")[0]
    assert 8.5 < orders < 11


def test_mean_order_value_follows_gamma_gamma_in_every_channel(con):
    # Gamma-Gamma: spend is independent of frequency, so the mean over all orders of a channel estimates
    # E[p/ν] = p·γ/(q − 1). Orders of one customer are correlated (same ν): the standard error is the
    # ratio estimator's, clustered by customer: √Σ(rev_i − R·n_i)² / Σn_i. 4 SE as above; rounding to
    # cents moves the mean by < 0.005 EUR.
    data = _per_customer(con)
    for name, ch in CHANNELS.items():
        mine = data["channel"] == name
        revenue, orders = data["revenue"][mine], data["orders"][mine]
        ratio = revenue.sum() / orders.sum()
        se = np.sqrt(np.sum((revenue - ratio * orders) ** 2)) / orders.sum()
        assert se < 0.04 * ch.mean_order_value, f"{name}: too few orders to tell"
        assert abs(ratio - ch.mean_order_value) < 4 * se, f"{name}: {ratio:.2f} vs {ch.mean_order_value:.2f}"
    (basket,) = _rows(con, "SELECT avg(revenue) FROM orders")[0]
    assert 50 < basket < 90


def test_channels_differ_in_value_and_cost(con):
    # Margin of each customer's first 365 days (customers acquired at least a year before the end), over
    # the realised CAC (spend / new customers). By the parameters: referral ≈ 19, search ≈ 3.5,
    # social ≈ 2.5 — paid social is the worst, organic (content budget only) the best.
    rows = _rows(con, """
        WITH value AS (
            SELECT c.acquisition_channel AS channel, count(DISTINCT c.customer_id) AS customers,
                   sum(o.revenue) / count(DISTINCT c.customer_id) AS revenue_per_customer,
                   sum(o.revenue - o.cost) FILTER (WHERE c.acquired_at <= DATE '2025-10-31'
                       AND o.ordered_at < c.acquired_at + INTERVAL 365 DAY)
                   / count(DISTINCT c.customer_id) FILTER (WHERE c.acquired_at <= DATE '2025-10-31')
                   AS margin12
            FROM customers c JOIN orders o USING (customer_id) GROUP BY 1),
        spend AS (SELECT channel, sum(spend) AS spend FROM marketing_spend GROUP BY 1)
        SELECT channel, revenue_per_customer::DOUBLE, margin12::DOUBLE, (spend / customers)::DOUBLE
        FROM value JOIN spend USING (channel)""")
    revenue = {r[0]: r[1] for r in rows}
    cac = {r[0]: r[3] for r in rows}
    ratio = {r[0]: r[2] / r[3] for r in rows}
    assert set(ratio) == set(CHANNELS)
    assert max(revenue.values()) >= 1.5 * min(revenue.values())
    assert max(ratio.values()) >= 1.5 * min(ratio.values())
    assert ratio["referral"] > 1.5 * ratio["social"]
    assert min(ratio, key=ratio.get) == "social"
    # Monthly spend = new customers × CAC × noise (mean 1, sd 15%, 36 months): the realised CAC is
    # within a few % of the declared one; 10% leaves room.
    for name, ch in CHANNELS.items():
        assert cac[name] == pytest.approx(ch.cac, rel=0.10), name


# --- orders and customers ------------------------------------------------------------------------------


def test_orders_are_consistent_with_customers(con):
    checks = {
        "revenue > 0": "SELECT count(*) FROM orders WHERE revenue <= 0",
        "0 ≤ cost ≤ revenue": "SELECT count(*) FROM orders WHERE cost IS NULL OR cost < 0 OR cost > revenue",
        "orphan orders": "SELECT count(*) FROM orders o ANTI JOIN customers c USING (customer_id)",
        "customers without orders": "SELECT count(*) FROM customers c ANTI JOIN orders o USING (customer_id)",
        "orders before acquisition": """SELECT count(*) FROM orders o JOIN customers c USING (customer_id)
                                        WHERE o.ordered_at::DATE < c.acquired_at""",
        "first order not on acquired_at": """SELECT count(*) FROM customers c JOIN (
                SELECT customer_id, min(ordered_at)::DATE AS first FROM orders GROUP BY 1) USING (customer_id)
            WHERE first <> c.acquired_at""",
        "orders outside the window": """SELECT count(*) FROM orders
            WHERE ordered_at < DATE '2023-11-01' OR ordered_at >= DATE '2026-11-01'""",
    }
    assert {k: _rows(con, sql)[0][0] for k, sql in checks.items()} == dict.fromkeys(checks, 0)


def test_categories_and_attributes_are_realistic(con):
    margins = dict(_rows(
        con, "SELECT category, (sum(revenue - cost) / sum(revenue))::DOUBLE FROM orders GROUP BY 1"
    ))
    # cost = revenue × (1 − margin + N(0, 5%)), clipped: the realised rate is the declared one ± ~1 pt.
    assert margins == pytest.approx({k: m for k, (_, m) in demo.CATEGORIES.items()}, abs=0.01)
    regions = dict(_rows(con, "SELECT region, count(*) FROM customers GROUP BY 1"))
    assert set(regions) == set(demo.REGIONS) and max(regions, key=regions.get) == "FR"
    # Business customers are drawn among big spenders, premium members among loyal ones.
    (business, premium, higher_spend, more_orders) = _rows(con, """
        WITH c AS (SELECT customer_id, segment, membership, avg(revenue) AS basket, count(*) AS orders
                   FROM customers JOIN orders USING (customer_id) GROUP BY ALL)
        SELECT avg((segment = 'business')::INT), avg((membership = 'premium')::INT),
               avg(basket) FILTER (WHERE segment = 'business')
                   > avg(basket) FILTER (WHERE segment = 'consumer'),
               avg(orders) FILTER (WHERE membership = 'premium')
                   > avg(orders) FILTER (WHERE membership = 'free')
        FROM c""")[0]
    assert 0.05 < business < 0.25 and 0.15 < premium < 0.35 and higher_spend and more_orders
    (cross_sell,) = _rows(con, """SELECT avg(n) FROM (SELECT count(DISTINCT category) AS n FROM orders
                                  GROUP BY customer_id HAVING count(*) >= 5)""")[0]
    assert 1.5 < cross_sell < 4, "customers mostly buy a favourite category, with some cross-sell"


def test_orders_peak_in_the_evening_and_in_december(con):
    hours = dict(_rows(con, "SELECT hour(ordered_at), count(*) FROM orders GROUP BY 1"))
    assert hours[20] > 5 * hours[3]
    # Repeat orders in December 2025 against the mean of the Junes on either side (which evens out the
    # growth of the base): intensity 1 + 0.2·cos gives (1 + 0.2)/(1 − 0.2) = 1.5 between peak and trough;
    # without seasonality the ratio is ~1.1 (measured: the base grows unevenly, new November customers
    # buy again in December). 1.3 separates the two.
    months = dict(_rows(con, """
        SELECT strftime(ordered_at, '%Y-%m'), count(*) FROM orders JOIN customers USING (customer_id)
        WHERE ordered_at::DATE > acquired_at GROUP BY 1"""))
    assert months["2025-12"] > 1.3 * (months["2025-06"] + months["2026-06"]) / 2


# --- feedback ------------------------------------------------------------------------------------------


def test_nps_is_in_the_intended_band(con):
    # Calibrated to ≈ +30 (49% promoters, 17% detractors); with ~2,400 answers its standard error is
    # √((P + D − NPS²)/n) ≈ √(0.57/2400) ≈ 1.5 points, so [20, 40] is ± 6 SE.
    (nps,) = _rows(con, """SELECT 100 * (avg((score >= 9)::INT) - avg((score <= 6)::INT))
                           FROM feedback WHERE survey = 'nps'""")[0]
    assert 20 <= nps <= 40
    (share,) = _rows(con, """SELECT count(DISTINCT customer_id) FILTER (WHERE survey = 'nps')
                             / (SELECT count(*) FROM customers) FROM feedback""")[0]
    assert 0.08 < share < 0.15


def test_promoters_are_worth_more_than_detractors(con):
    rows = _rows(con, """
        WITH c AS (SELECT customer_id, sum(revenue)::DOUBLE AS revenue,
                          max(ordered_at) >= DATE '2026-08-03' AS recent FROM orders GROUP BY 1)
        SELECT CASE WHEN score >= 9 THEN 'promoter' WHEN score >= 7 THEN 'passive' ELSE 'detractor' END,
               avg(revenue), avg(recent::INT), count(*)
        FROM feedback JOIN c USING (customer_id) WHERE survey = 'nps' GROUP BY 1""")
    revenue = {r[0]: r[1] for r in rows}
    active = {r[0]: r[2] for r in rows}
    assert revenue["promoter"] > revenue["passive"] > revenue["detractor"]
    assert active["promoter"] > active["detractor"] + 0.1, "promoters are still buying more often"


def test_returns_is_the_hardest_step(con):
    rows = _rows(con, """
        SELECT touchpoint, avg(score) FILTER (WHERE survey = 'ces'),
               avg((score >= 4)::INT) FILTER (WHERE survey = 'csat')
        FROM feedback WHERE survey IN ('csat', 'ces') GROUP BY 1""")
    effort = {r[0]: r[1] for r in rows}
    satisfied = {r[0]: r[2] for r in rows}
    assert set(effort) == {"website", "checkout", "delivery", "returns", "support"}
    assert max(effort, key=effort.get) == "returns"
    assert min(satisfied, key=satisfied.get) == "returns"


def test_scores_surveys_and_touchpoints_are_valid(con):
    for survey, low, high in _rows(con, "SELECT survey, min(score), max(score) FROM feedback GROUP BY 1"):
        assert SURVEYS[survey][0] <= low <= high <= SURVEYS[survey][1], survey
    touchpoints = dict(_rows(
        con, "SELECT survey, list(DISTINCT touchpoint ORDER BY touchpoint) FROM feedback GROUP BY 1"
    ))
    assert touchpoints == {
        "nps": ["relationship"],
        "csat": ["checkout", "delivery", "returns", "support", "website"],
        "ces": ["checkout", "delivery", "returns", "support", "website"],
    }
    (rows, ids) = _rows(con, "SELECT count(*), count(DISTINCT feedback_id) FROM feedback")[0]
    assert rows == ids


def test_some_answers_are_anonymous(con):
    (anonymous,) = _rows(con, "SELECT avg((customer_id IS NULL)::INT) FROM feedback")[0]
    assert 0.05 < anonymous < 0.15  # 5% of NPS, 10% of CSAT and CES answers
    (orphans,) = _rows(con, "SELECT count(*) FROM feedback f ANTI JOIN customers c USING (customer_id) "
                            "WHERE f.customer_id IS NOT NULL")[0]
    assert orphans == 0


def test_comments_are_varied_and_bilingual(con):
    comments = [c for (c,) in _rows(con, "SELECT comment FROM feedback")]
    written = [c for c in comments if c is not None]
    assert 0.30 <= len(written) / len(comments) <= 0.50
    assert len(set(written)) >= 60
    english = {c for (en, _) in COMMENTS.values() for c in en}
    french = {c for (_, fr) in COMMENTS.values() for c in fr}
    assert len(english) + len(french) >= 60
    # French for ~85% of FR/BE/CH answers, ~8% elsewhere: about half of the comments.
    share_french = sum(c in french for c in written) / len(written)
    assert 0.3 < share_french < 0.7 and any(c in english for c in written)


def test_comments_fit_their_score(con):
    unhappy = {c for (tp, g), langs in COMMENTS.items() if g == 0 for c in langs[0] + langs[1]}
    happy = {c for (tp, g), langs in COMMENTS.items() if g == 2 for c in langs[0] + langs[1]}
    rows = _rows(con, "SELECT survey, score, comment FROM feedback WHERE comment IS NOT NULL")
    for survey, score, comment in rows:
        good = score >= 9 if survey == "nps" else score >= 4 if survey == "csat" else score <= 2
        bad = score <= 6 if survey == "nps" else score <= 2 if survey == "csat" else score >= 4
        assert not (good and comment in unhappy) and not (bad and comment in happy), (survey, score, comment)


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"(\+\d{2}[\s.]?)?\(?\d{1,3}\)?([\s.-]?\d{2,4}){3,4}")


def test_a_few_comments_carry_personal_data(con):
    comments = [c for (c,) in _rows(con, "SELECT comment FROM feedback WHERE comment IS NOT NULL")]
    (answers,) = _rows(con, "SELECT count(*) FROM feedback")[0]
    emails = [c for c in comments if EMAIL.search(c)]
    phones = [c for c in comments if PHONE.search(c)]
    assert emails and phones
    assert len(emails) + len(phones) < 0.01 * answers, "well under 1% of the answers"


def test_answers_fall_inside_the_window_after_the_customer_arrived(con):
    (first, last) = _rows(con, "SELECT min(answered_at), max(answered_at) FROM feedback")[0]
    assert first.date() >= START and last.date() <= END
    (early,) = _rows(con, """SELECT count(*) FROM feedback JOIN customers USING (customer_id)
                             WHERE answered_at::DATE < acquired_at""")[0]
    assert early == 0


# --- marketing spend -----------------------------------------------------------------------------------


def test_marketing_spend_covers_every_channel_and_month(con):
    rows = _rows(con, "SELECT month, channel, spend::DOUBLE FROM marketing_spend")
    months = set()
    month = START
    while month <= END:
        months.add(month)
        month = (month + timedelta(days=32)).replace(day=1)
    assert len(months) == 36
    assert {(m, c) for m, c, _ in rows} == {(m, c) for m in months for c in CHANNELS}
    assert len(rows) == 36 * len(CHANNELS)
    assert all(s >= 0 for _, _, s in rows)
    organic = sum(s for _, c, s in rows if c == "organic")
    assert 0 < organic < 0.2 * sum(s for _, c, s in rows if c == "search"), "a small content/SEO budget"
