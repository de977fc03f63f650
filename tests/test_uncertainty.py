"""The fits' parameter uncertainty: the covariance of their log-parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpis.clv import BetaGeo, GammaGamma
from kpis.clv.bgnbd import NAMES as BG_NAMES
from kpis.clv.gammagamma import NAMES as GG_NAMES
from tests.test_clv import simulate_bgnbd, simulate_spend

# CDNOW-like (weeks) and a churnier, busier group
TRUTH = {"loyal": ((0.25, 4.0, 0.8, 2.5), (6.0, 4.0, 15.0)), "churny": ((0.6, 5.0, 1.6, 3.0), (5.0, 3.0, 20.0))}


def simulated(n: int, seed: int, groups=("loyal",)) -> pd.DataFrame:
    """Scores-like frame of n customers split over `groups`, first purchases on a day grid over 78 weeks."""
    rng = np.random.default_rng(seed)
    group = np.array(groups)[rng.integers(0, len(groups), n)]
    frame = []
    for g in groups:
        k = int(np.sum(group == g))
        (r, alpha, a, b), spend = TRUTH[g]
        T = rng.integers(1, 78 * 7, k) / 7
        x, tx = simulate_bgnbd(rng, k, r, alpha, a, b, T)
        tx = np.where(x > 0, np.minimum(np.ceil(tx * 7) / 7, T), 0.0)  # whole days, as rfm_summary counts them
        m = simulate_spend(rng, x, *spend)
        frame.append(pd.DataFrame({"fit_group": g, "frequency": x, "recency": tx, "T": T, "monetary_value": m,
                                   "revenue_12m": m * np.minimum(x, 3)}))
    return pd.concat(frame, ignore_index=True)


def fitted(scores: pd.DataFrame) -> dict:
    return {g: (BetaGeo().fit(c["frequency"], c["recency"], c["T"]), GammaGamma().fit(c["frequency"],
                                                                                   c["monetary_value"]))
            for g, c in scores.groupby("fit_group")}


@pytest.fixture(scope="module")
def base():
    scores = simulated(5000, 1, ("loyal", "churny"))
    return scores, fitted(scores)


# --- the fits' covariance -------------------------------------------------------------------------------------


def test_fits_keep_the_covariance_of_their_log_parameters(base):
    _, fits = base
    for model, names in ((fits["loyal"][0], BG_NAMES), (fits["loyal"][1], GG_NAMES)):
        cov = model.log_covariance
        assert cov.shape == (len(names), len(names)) and np.allclose(cov, cov.T) and np.all(np.linalg.eigvalsh(cov) > 0)
        for i, name in enumerate(names):  # the standard errors are the delta method's on the same matrix
            assert model.standard_errors[name] == pytest.approx(model.params[name] * np.sqrt(cov[i, i]), rel=1e-12)
    # in NAMES order: ln r and ln α move together (a higher shape with a higher scale keeps the mean rate r/α);
    # over 20 simulated bases their correlation was 0.755–0.759
    cov = fits["loyal"][0].log_covariance
    assert cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]) > 0.5
    assert BetaGeo({"r": 1, "alpha": 1, "a": 1, "b": 1}).log_covariance is None
    assert GammaGamma({"p": 1, "q": 2, "gamma": 1}).log_covariance is None
