"""How sure: the models' parameter-uncertainty intervals on model-based KPIs (kpis.intervals), on demo bases."""

from __future__ import annotations

import math

import numpy as np
import pytest

import kpis
from kpis.database import scope
from kpis.intervals import INTERVAL_KPIS, kpi_draws


@pytest.fixture(scope="module")
def small(demo_base):
    return kpis.connect(demo_base(2_000, 7))


@pytest.fixture(scope="module")
def large(demo_base):
    return kpis.connect(demo_base(20_000, 7))


@pytest.mark.parametrize("filters", [None, {"region": ["FR"]}, {"acquisition_channel": ["search"]}])
@pytest.mark.parametrize("key", INTERVAL_KPIS)
def test_intervals_contain_the_value(large, key, filters):
    value = kpis.evaluate(large, key, "2026-10", filters=filters)
    if value is None:  # CLV / CAC for a region: spend is known per channel only
        assert key == "clv_cac" and kpis.interval(large, key, "2026-10", filters=filters) is None
        return
    low, high = kpis.interval(large, key, "2026-10", filters=filters)
    assert low <= value <= high and low < high


def test_a_stored_date_pays_nothing_at_view_time(large, monkeypatch):
    """The dashboard's dates carry their draws in the build: asking for an interval fits and draws nothing."""
    from kpis.clv import model

    fresh = kpis.connect(large.name)
    monkeypatch.setattr(model, "group_draws", lambda *a, **k: pytest.fail("drew at view time"))
    monkeypatch.setattr(model, "fit_value_models", lambda *a, **k: pytest.fail("fitted at view time"))
    assert kpis.interval(fresh, "customer_equity", "2026-10") is not None
    assert kpis.change_interval(fresh, "customer_equity", "2026-10", "year_ago") is not None


def test_whole_channels_add_up_draw_by_draw(large):
    """A segment's draws scale its part of each fit group; the channels are the fit groups, so their draws sum to
    all customers' draw for draw."""
    everyone = kpi_draws(large, "customer_equity", scope(large, "2026-10"))
    parts = [kpi_draws(large, "customer_equity", scope(large, "2026-10", {"acquisition_channel": [c]}))
             for c in large.filter_values("acquisition_channel")]
    assert np.allclose(sum(parts), everyone, rtol=1e-9)


def test_width_shrinks_as_one_over_root_n(small, large):
    """The same generator making 10× more customers: the relative width of the mean CLV's interval shrinks about
    √10 times (measured: 12.3 % → 4.2 % for seed 5, ratio × √10 = 1.08; the helper's 20 seeds on simulated bases:
    1.01 ± 0.12). Bounds [0.6, 1.6] leave room for the channels pooled in the small base."""
    widths = []
    for db in (small, large):
        value = kpis.evaluate(db, "predictive_clv", "2026-10")
        low, high = kpis.interval(db, "predictive_clv", "2026-10")
        widths.append((high - low) / value)
    assert 0.6 <= widths[1] / widths[0] * math.sqrt(10) <= 1.6


def test_compare_adds_intervals_only_to_model_based_kpis(large):
    table = kpis.compare(large, ["revenue", "customer_equity", "clv_cac"], "2026-10", intervals=True)
    assert table.loc["revenue", "low"] is None and table.loc["revenue", "change_low_previous"] is None
    assert table.loc["customer_equity", "low"] <= table.loc["customer_equity", "value"] <= table.loc[
        "customer_equity", "high"]
    change = (table.loc["customer_equity", "change_low_year_ago"], table.loc["customer_equity", "change_high_year_ago"])
    assert change == kpis.change_interval(large, "customer_equity", "2026-10", "year_ago")


@pytest.mark.parametrize("base", ["small", "large"])
def test_every_stored_score_is_a_number(base, request):
    """No NaN CLV (a fit running towards a, b → ∞ once made hyp2f1 overflow and silently dropped those customers from
    customer equity's sum): every stored date of the build values every customer."""
    db = request.getfixturevalue(base)
    stored = db.cursor().execute("SELECT count(*), count(clv), count(*) FILTER (WHERE isnan(clv)) "
                                 "FROM clv_scores").fetchone()
    assert stored[0] > 0 and stored[0] == stored[1] and stored[2] == 0


def test_the_builds_group_sums_are_the_scores_sums(large):
    """All customers' per-group sums stored with the build equal those the engine computes from the scores."""
    from kpis.clv import model
    from kpis.clv.declarations import score_sums
    from kpis.database import scope

    fresh = kpis.connect(large.name)
    end = model.observation_end_of(fresh, scope(fresh, "2026-10").period)
    stored = model.stored_group_sums(fresh, end).set_index("fit_group")
    other = kpis.connect(large.name)
    assert not other.__dict__.get("_score_sums")
    computed = score_sums(other, scope(other, "2026-10", {"acquisition_channel": list(other.filter_values(
        "acquisition_channel"))}), model.value_model(other, end))  # every channel listed: a segment, so the engine
    # computes it
    for column in ("customers", "equity", "at_risk", "at_risk_revenue"):
        for group, value in computed[column].items():
            assert stored.loc[group, column] == pytest.approx(value, rel=1e-9), (column, group)
