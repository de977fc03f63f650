"""Customer-based value where people read it: the dashboard page and the PDF section (partner and board editions)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

import kpis
from report import build_report
from tests.test_app import app

PERIOD = "2026-10"


@pytest.fixture(scope="module")
def demo(demo_base):
    return kpis.connect(demo_base(20_000, 7))


def text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_partner_edition_leads_with_the_valuation_and_its_assumptions(demo):
    pdf = text(build_report(demo, PERIOD, edition="partner"))
    value = kpis.valuation(demo, PERIOD)
    assert pdf.index("What the customer base is worth") < pdf.index("The empty chair")  # the front of the edition
    assert "not a share price" in pdf and "Assumptions" in pdf and "McCarthy & Fader" in pdf
    assert f"{value.total:,.0f}" in pdf  # the total, as kpis.valuation computes it


def test_the_valuation_respects_small_group_suppression(demo):
    pdf = text(build_report(demo, PERIOD, edition="partner", min_segment=10**9))
    assert "No valuation for this view: suppressed" in pdf
    assert f"{kpis.valuation(demo, PERIOD).total:,.0f}" not in pdf


def test_a_segment_without_cac_says_why(demo):
    pdf = text(build_report(demo, PERIOD, edition="board", filters={"region": ["FR"]}))
    assert "No valuation for this view: no valuation for a segment filtered on region" in pdf


def test_the_page_recomputes_with_the_assumptions(demo, monkeypatch):
    monkeypatch.setenv("EMPTYCHAIR_DB", demo.name)
    at = app(period=PERIOD)
    at.switch_page("../pages/valuation.py").run()
    assert not at.exception
    headline = next(m.value for m in at.markdown if m.value.startswith("## The customer base is worth"))
    at.slider(key="value:horizon").set_value(5).run()
    assert not at.exception
    shorter = next(m.value for m in at.markdown if m.value.startswith("## The customer base is worth"))
    assert shorter != headline  # five years are worth less than ten
    assert kpis.valuation(demo, PERIOD, horizon_years=5).total < kpis.valuation(demo, PERIOD).total
    assert any("not a share price" in m.value for m in at.markdown)


def test_the_build_stores_the_default_valuation(demo):
    """Every build values all customers at the end of the last complete month (10 years, 10 %): a fresh process
    reads it, and it is the valuation a fresh computation gives."""
    from kpis.database import scope
    from kpis.valuation import _valuation

    fresh = kpis.connect(demo.name)
    stored = kpis.valuation(fresh, PERIOD)
    computed = _valuation(fresh, scope(fresh, PERIOD), 120, 0.10, {})
    for name in ("existing", "future_value", "future_acquisition_spend", "total", "low", "high"):
        assert getattr(stored, name) == pytest.approx(getattr(computed, name), rel=1e-9), name
    assert stored.assumptions == computed.assumptions
    assert stored.sensitivities["label"].tolist() == computed.sensitivities["label"].tolist()
    assert stored.acquisition["forecast"].to_numpy() == pytest.approx(computed.acquisition["forecast"].to_numpy())
    assert stored.acquisition_holdout.attrs["within"] == computed.acquisition_holdout.attrs["within"]
    assert fresh.cursor().execute("SELECT count(*) FROM clv_valuations").fetchone()[0] == 1
