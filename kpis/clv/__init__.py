"""Predictive customer lifetime value: RFM summaries from the database, BG/NBD, Gamma-Gamma and discounted CLV."""

from kpis.clv.bgnbd import BetaGeo
from kpis.clv.common import ModelError
from kpis.clv.gammagamma import GammaGamma
from kpis.clv.rfm import TIME_UNITS, rfm_compressed, rfm_summary
from kpis.clv.value import customer_clv, month_ends

__all__ = ["TIME_UNITS", "BetaGeo", "GammaGamma", "ModelError", "customer_clv", "month_ends", "rfm_compressed",
           "rfm_summary"]
