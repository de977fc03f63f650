"""Orders-only data still fills the chair: CDNOW's customer, date and amount (no cost), imported as a company would.

Without costs the value KPIs are computed on revenue (margin rate 1) and say so; with a margin rate stated at import
they are computed on it. CLV is linear in the margin rate (customer_clv: P(alive) × activity × spend × g), so the
stated-rate build's values are exactly that rate times the revenue-based ones.
"""

from __future__ import annotations

from datetime import datetime

import pytest

import kpis
from kpis.build import import_files
from kpis.clv.model import value_basis
from store.importer import ImportRejected
from tests.test_clv import CDNOW

VALUE = ["customer_equity", "predictive_clv", "customers_at_risk", "value_at_risk"]
PERIOD = "1998-06"


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("orders_only")
    import_files(folder / "revenue.duckdb", orders=CDNOW, now=datetime(2000, 1, 1))
    import_files(folder / "stated.duckdb", orders=CDNOW, now=datetime(2000, 1, 1), margin_rate=0.35)
    return kpis.connect(folder / "revenue.duckdb"), kpis.connect(folder / "stated.duckdb")


def test_value_kpis_are_shown_without_costs(bases):
    revenue, _ = bases
    values = kpis.evaluate_many(revenue, VALUE, PERIOD)
    assert all(values[k] is not None for k in VALUE), values
    assert values["customers_at_risk"] > 0 and values["customer_equity"] > 0
    assert value_basis(revenue) == "revenue-based: the data has no costs"


def test_a_stated_margin_rate_scales_every_value(bases):
    revenue, stated = bases
    on_revenue, on_stated = (kpis.evaluate_many(db, VALUE, PERIOD) for db in bases)
    for key in ("customer_equity", "predictive_clv"):
        assert on_stated[key] == pytest.approx(0.35 * on_revenue[key], rel=1e-9), key
    # P(alive) and revenue do not depend on the margin: the same customers at risk and the same revenue
    assert on_stated["customers_at_risk"] == on_revenue["customers_at_risk"]
    assert on_stated["value_at_risk"] == pytest.approx(on_revenue["value_at_risk"])
    assert value_basis(stated).startswith("margin rate 35 % as stated at import")
    assert stated.metadata["margin_rate"] == 0.35


@pytest.mark.parametrize("rate", [0, 1.5, -0.2])
def test_an_impossible_margin_rate_is_refused(tmp_path, rate):
    with pytest.raises(ImportRejected, match="not a rate in"):
        import_files(tmp_path / "db.duckdb", orders=CDNOW, margin_rate=rate)
    assert not (tmp_path / "db.duckdb").exists()


def test_the_acquisition_table_never_prints_none(bases, monkeypatch):
    from tests.test_app import app

    monkeypatch.setenv("EMPTYCHAIR_DB", bases[0].name)
    at = app(period=PERIOD)
    at.switch_page("../pages/acquisition.py").run()
    assert not at.exception
    for frame in at.dataframe:
        assert not (frame.value.astype(str) == "None").any().any()
