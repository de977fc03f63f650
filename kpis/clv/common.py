"""What the CLV models share: their error, input checks, compression to unique rows, the optimiser."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from i18n import N_, _

LOG_BOUND = 20.0  # fitted log-parameters must stay inside ±LOG_BOUND (e^20 ≈ 5e8): beyond, not identified
MAX_LOG_SE = 5.0  # a standard error of ln θ above 5 (θ known within a factor e^5 ≈ 150) means θ is not identified


class ModelError(ValueError):
    """The data cannot be fitted by (or do not suit) a CLV model.

    Its text is a message in English (marked N_ where people read it) and the fields it is formatted with, said in
    the language current when it is read (`str`): an error remembered for a date (kpis.clv.model.value_model) speaks
    the language of each reader, not of the first."""

    def __init__(self, message: str, **fields):
        super().__init__(message)
        self.message, self.fields = message, fields

    def __str__(self) -> str:
        text = _(self.message)
        return text.format(**self.fields) if self.fields else text

    def __reduce__(self):
        return _model_error, (type(self), self.message, self.fields)


def _model_error(kind: type, message: str, fields: dict) -> ModelError:
    return kind(message, **fields)


def as_array(name: str, values, size: int | None = None) -> np.ndarray:
    """A finite, non-negative float vector (scalars broadcast to `size`)."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0 and size is not None:
        arr = np.full(size, float(arr))
    arr = arr.ravel()
    if size is not None and arr.size != size:
        raise ModelError(f"{name} has {arr.size} values, expected {size}")
    if not np.all(np.isfinite(arr)):
        raise ModelError(f"{name} has missing or infinite values")
    if np.any(arr < 0):
        raise ModelError(f"{name} has negative values")
    return arr


def check_rfm(frequency, recency, T, weights=None) -> tuple[np.ndarray, ...]:
    """Validated (x, t_x, T, weights) vectors following lifetimes' conventions."""
    x = as_array("frequency", frequency)
    if x.size == 0:
        raise ModelError("no customers to fit")
    tx, t = as_array("recency", recency, x.size), as_array("T", T, x.size)
    w = np.ones(x.size) if weights is None else as_array("weights", weights, x.size)
    if np.any(x != np.round(x)):
        raise ModelError("frequency must count whole repeat purchases")
    if np.any(tx > t):
        raise ModelError(f"recency > T for {int(np.sum(tx > t))} customers: the last purchase is after the end")
    if np.any((x == 0) & (tx != 0)):
        raise ModelError("customers with frequency 0 must have recency 0 (age at their only purchase day)")
    if np.any((x > 0) & (tx == 0)):
        raise ModelError("customers with repeat purchases must have recency > 0 (repeat purchase days come after the "
                         "first purchase day: merge same-day orders)")
    if not w.sum() > 0:
        raise ModelError("weights sum to zero")
    return x, tx, t, w


def distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values) with values == distinct[codes]; hash-based, in order of first appearance."""
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), np.asarray(uniques)


def unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Unique rows of equal-length columns: (unique columns, inverse index, counts), in order of first appearance.

    Hash-based, no sort: the columns' bits are mixed into one 64-bit key per row and the keys factorised; every
    row is then checked against its group's first row, and should two different rows ever share a key, the
    columns are factorised one by one instead (exact, slower).
    """
    n = columns[0].size
    key = np.zeros(n, dtype=np.uint64)
    for c in columns:
        key = _mix(key ^ _mix(np.ascontiguousarray(c, dtype=np.float64).view(np.uint64)))
    inverse, first, count = _groups(key)
    if all(np.array_equal(c[first][inverse], c) for c in columns):
        return [c[first] for c in columns], inverse, count
    key, span = np.zeros(n, dtype=np.int64), 1
    for c in columns:
        codes, values = distinct(c)
        if span * max(values.size, 1) >= 2**62:  # fold the key so far into 0 … distinct−1 before it overflows
            key, keys = distinct(key)
            span = keys.size
        key, span = key * values.size + codes, span * values.size
    inverse, first, count = _groups(key)
    return [c[first] for c in columns], inverse, count


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every input bit affects every output bit (float bit patterns are far from random)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _groups(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group of each row, first row of each group, rows per group) of equal keys, groups in order of appearance."""
    inverse, keys = distinct(key)
    first = np.empty(keys.size, dtype=np.int64)
    first[inverse[::-1]] = np.arange(key.size - 1, -1, -1)  # the last write for each group is its first row
    return inverse, first, np.bincount(inverse, minlength=keys.size)


def compress(*columns: np.ndarray, weights: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of the columns with summed weights (rows of zero weight dropped)."""
    keep = weights > 0
    unique, inverse = unique_rows(*(c[keep] for c in columns))[:2]
    return unique, np.bincount(inverse, weights=weights[keep], minlength=unique[0].size)


WARM_START_ROWS = 50_000  # above this many (compressed) rows, start the fit from a fit on a sample of them


def warm_start(fitting_data, columns: tuple[np.ndarray, ...], start: np.ndarray) -> np.ndarray:
    """A starting point for a large fit: a loose L-BFGS-B fit on WARM_START_ROWS rows drawn without replacement
    (seeded: the same data give the same start). The full fit then needs a few iterations instead of dozens;
    its result does not depend on the start (maximise polishes it to the maximum with Newton steps).
    `fitting_data(*sample_columns)` is the model's fitting data (see objective); the last column is the weights."""
    n = columns[0].size
    if n <= WARM_START_ROWS:
        return start
    pick = np.sort(np.random.default_rng(20051).choice(n, WARM_START_ROWS, replace=False))
    result = minimize(objective(fitting_data(*(c[pick] for c in columns))), start, jac=True, method="L-BFGS-B",
                      bounds=[(-LOG_BOUND, LOG_BOUND)] * len(start), options={"maxiter": 500, "ftol": 1e-10})
    return result.x if np.all(np.isfinite(result.x)) and np.all(np.abs(result.x) < LOG_BOUND - 1) else start


def objective(data):
    """What maximise minimises: −log-likelihood per customer and its gradient, in log-parameters, for a model's
    fitting data (anything with `total` weight and `loglik(params, gradient=True)`)."""

    def neg_loglik(theta):
        ll, grad = data.loglik(np.exp(theta), gradient=True)
        return -ll / data.total, -grad / data.total

    return neg_loglik


def maximise(neg_loglik, start: np.ndarray, names: tuple[str, ...], model: str, total: float):
    """Maximise a log-likelihood over log-parameters; return them and their covariance (inverse information).

    `neg_loglik(theta)` returns (−log-likelihood / total, its gradient in theta). L-BFGS-B with the analytic
    gradient, then Newton steps on a finite-difference Hessian until the log-likelihood is within 1e-6 of its
    maximum. ModelError when a parameter runs off (the data do not identify it: |ln θ| near LOG_BOUND, the
    information matrix not positive definite, or a standard error of ln θ above MAX_LOG_SE) or no convergence.
    """
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    result = minimize(neg_loglik, start, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9})
    theta = result.x

    def unidentified(which) -> ModelError:
        values = ", ".join(f"{n}={np.exp(v):.3g}" for n, v in zip(names, theta, strict=True))
        return ModelError(N_("{model}: the data do not identify {parameters} (the fit runs off to {values}); more "
                             "customers, more repeat buyers or a longer history are needed"),
                          model=model, parameters=", ".join(which), values=values)

    for _step in range(6):
        stuck = [n for n, v in zip(names, theta, strict=True) if abs(v) > LOG_BOUND - 1]
        if stuck:
            raise unidentified(stuck)
        value, grad = neg_loglik(theta)
        info = _hessian(neg_loglik, theta, grad) * total
        grad = grad * total
        try:
            chol = np.linalg.cholesky(info)
        except np.linalg.LinAlgError:  # flat or curved-down direction: name the parameters moving along it
            vectors = np.linalg.eigh(info)[1]
            raise unidentified([n for n, c in zip(names, vectors[:, 0], strict=True) if abs(c) > 0.3]) from None
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
        if not np.isfinite(value) or not np.all(np.isfinite(step)):
            break
        if grad @ step < 2e-6:  # Newton decrement: twice the log-likelihood still to gain
            cov = np.linalg.inv(info)
            loose = [n for n, v in zip(names, np.diag(cov), strict=True) if not v < MAX_LOG_SE**2]
            if loose:
                raise unidentified(loose)
            return theta, cov
        theta = theta - step
    raise ModelError(N_("{model}: the fit did not converge ({reason})"), model=model, reason=result.message)


def _hessian(fun, theta: np.ndarray, grad: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Symmetrised forward-difference Hessian from the analytic gradient (`grad`, the gradient at theta): one
    gradient per parameter; its relative error, of the order of h, is far below the standard errors' own."""
    rows = [(fun(theta + h * e)[1] - grad) / h for e in np.eye(theta.size)]
    hess = np.array(rows)
    return (hess + hess.T) / 2
