"""Customers scored where they live: the predictive CLV of a batch of customers from the fitted parameters alone.

The engine streams its customers' rows (INPUTS) as Arrow record batches — DuckDB in this process, Spark on its
executors (`mapInArrow`) — and `Scorer` maps each batch to the SCORES columns with nothing but the fitted parameters
(plain floats), so that no driver ever holds one row per customer. Per customer it is `customer_clv`'s arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

import ibis
import pandas as pd
import pyarrow as pa

from kpis.clv.bgnbd import BetaGeo
from kpis.clv.gammagamma import GammaGamma
from kpis.clv.value import customer_clv

INPUTS = {"customer_id": "string", "fit_group": "string", "frequency": "int64", "recency": "float64",
          "T": "float64", "monetary_value": "float64", "revenue_12m": "float64", "valuable": "boolean"}
SCORES = {"customer_id": "string", "fit_group": "string", "frequency": "int64", "recency": "float64",
          "T": "float64", "monetary_value": "float64", "expected_purchases_horizon": "float64",
          "expected_spend": "float64", "p_alive": "float64", "clv": "float64", "revenue_12m": "float64",
          "valuable": "boolean"}  # valuable: among the 30 % most valuable (VALUABLE_TIERS), as customers at risk count
VALUES = ("expected_purchases_horizon", "expected_spend", "p_alive", "clv")  # what scoring adds to the inputs
_SCHEMA = ibis.schema(SCORES).to_pyarrow()


@dataclass(frozen=True)
class Scorer:
    """Maps record batches of INPUTS columns to record batches of SCORES columns; picklable (Spark ships it)."""

    parameters: dict[str, tuple[dict[str, float], dict[str, float]]]  # fit group -> BG/NBD, Gamma-Gamma parameters
    margin_rate: float
    observation_end: date
    horizon_months: int
    annual_discount: float
    time_unit: str

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield self.score(batch)

    def score(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """One batch's scores, row for row."""
        frame = batch.to_pandas()
        values = pd.DataFrame(index=frame.index, columns=list(VALUES), dtype=float)
        for group, members in frame.groupby("fit_group", sort=False):
            bg, gg = self.parameters[group]
            clv = customer_clv(BetaGeo(bg), GammaGamma(gg), members, self.margin_rate, self.horizon_months,
                               self.annual_discount, self.time_unit, self.observation_end)
            values.loc[members.index] = clv[list(VALUES)]
        return pa.RecordBatch.from_pandas(frame.join(values)[list(SCORES)], schema=_SCHEMA, preserve_index=False)


def parameters_of(fits: dict[str, tuple[BetaGeo, GammaGamma]]) -> dict[str, tuple[dict[str, float], dict[str, float]]]:
    """The fits' parameters as plain floats, what a Scorer carries."""
    return {g: (dict(bg.params), dict(gg.params)) for g, (bg, gg) in fits.items()}
