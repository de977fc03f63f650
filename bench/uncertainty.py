"""Time of the parametric bootstrap (kpis.clv.uncertainty.draw_values) on a simulated customer base.

    python bench/uncertainty.py [--customers N] [--draws K] [--exact]

N customers (default 1,000,000) in six fit groups with the demo's channel parameters (store/demo.py, per day),
simulated from the BG/NBD and Gamma-Gamma generative processes in whole days over three years and summarised in
weeks, as model.py does. The models are fitted per group (not timed), then draw_values is timed with the totals a
build would ask for: equity, the last month's new customers as a subset, and the at-risk count and revenue of the
30% highest-revenue customers. --exact also times the exact bootstrap (every cell and pattern) and prints how far
the sampled draws are from it, in sds of the exact draws (slow: minutes at 100,000 customers).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kpis.clv import BetaGeo, GammaGamma  # noqa: E402
from kpis.clv.uncertainty import draw_values  # noqa: E402
from store.demo import CHANNELS  # noqa: E402

GROUPS = {**{name: (c.share, (c.r, c.alpha, c.a, c.b, c.p, c.q, c.gamma)) for name, c in CHANNELS.items()},
          "all customers": (0.03, (1.0, 30.0, 1.5, 10.0, 5.0, 3.5, 30.0))}  # a small pooled group besides
END = "2026-10-31"


def simulate(n: int, seed: int = 0, days: int = 3 * 365) -> pd.DataFrame:
    """An RFM summary (weeks) of n customers acquired uniformly over `days` days before the end."""
    rng = np.random.default_rng(seed)
    names = list(GROUPS)
    share = np.array([GROUPS[g][0] for g in names])
    group = rng.choice(len(names), n, p=share / share.sum())
    r, alpha, a, b, p, q, gamma = np.array([GROUPS[g][1] for g in names])[group].T
    age = rng.integers(0, days, n).astype(float)  # whole days since the first purchase
    rate, dropout = rng.gamma(r, 1 / alpha), rng.beta(a, b)
    purchases = rng.poisson(rate * age)  # without dropout; the customer leaves after repeat purchase L ~ Geom(p)
    x = np.minimum(purchases, rng.geometric(dropout))
    last = age * rng.beta(np.maximum(x, 1), purchases - x + 1)  # the x-th of `purchases` uniform times
    last = np.where(x > 0, np.clip(np.ceil(last), 1, np.maximum(age, 1)), 0.0)  # a repeat day is ≥ day 1
    x = np.where(age > 0, x, 0)
    last = np.where(x > 0, last, 0.0)
    nu, xx = rng.gamma(q, 1 / gamma), np.maximum(x, 1)
    value = np.where(x > 0, rng.gamma(p * xx, 1 / (nu * xx)), 0.0)
    return pd.DataFrame({"fit_group": np.array(names)[group], "frequency": x, "recency": last / 7, "T": age / 7,
                         "monetary_value": value, "revenue_12m": value * np.minimum(x, 4)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--exact", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    scores = simulate(args.customers)
    fits = {g: (BetaGeo().fit(c["frequency"], c["recency"], c["T"]), GammaGamma().fit(c["frequency"],
                                                                                   c["monetary_value"]))
            for g, c in scores.groupby("fit_group")}
    print(f"simulated and fitted {args.customers:,} customers in {time.perf_counter() - start:.1f} s")
    options = dict(draws=args.draws, at_risk=(scores["revenue_12m"] >= scores["revenue_12m"].quantile(0.7)).to_numpy(),
                   revenue="revenue_12m", subsets={"new customers": (scores["T"] < 30 / 7).to_numpy()})
    start, cpu = time.perf_counter(), time.process_time()
    sampled = draw_values(fits, scores, 0.3, END, **options)
    print(f"draw_values, K = {args.draws}: {time.perf_counter() - start:.2f} s ({time.process_time() - cpu:.2f} s CPU)")
    print(sampled.frame().to_string(float_format=lambda v: f"{v:,.6g}"))
    if args.exact:
        start = time.perf_counter()
        exact = draw_values(fits, scores, 0.3, END, cells=None, patterns=None, **options)
        print(f"exact bootstrap: {time.perf_counter() - start:.2f} s")
        print(exact.frame().to_string(float_format=lambda v: f"{v:,.6g}"))
        for name, values in exact.draws.items():
            error = np.std(sampled.draws[name] - values) / np.std(values) if np.std(values) > 0 else 0.0
            print(f"{name}: sampled − exact draws, sd = {error:.2%} of the draws' sd")


if __name__ == "__main__":
    main()
