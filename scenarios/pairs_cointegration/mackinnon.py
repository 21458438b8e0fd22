"""MacKinnon's Engle-Granger p-values and finite-sample critical values (two variables,
constant in the cointegrating regression), from the published response surfaces.

* p-value: MacKinnon (1994), "Approximate asymptotic distribution functions for unit-root and
  cointegration tests", JBES 12(2), table for N = 2, constant: ``p = Phi(sum_k g_k t^k)`` with
  the small-t coefficients below ``TAU_STAR`` and the large-t ones above it, clipped to 0
  below ``TAU_MIN`` and 1 above ``TAU_MAX``. This is the p-value statsmodels' ``coint`` reports.
* critical values: MacKinnon (2010), "Critical values for cointegration tests", Queen's
  Economics WP 1227, N = 2, constant: ``c(T) = b_inf + b_1 / T + b_2 / T^2`` at the test's
  sample size (statsmodels' ``mackinnoncrit(N=2, regression="c", nobs=...)``).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

TAU_MAX: Final = 0.92
TAU_MIN: Final = -18.86
TAU_STAR: Final = -2.62
#: coefficients of t^0, t^1, t^2 (t <= TAU_STAR)
SMALL_P: Final = (2.92, 1.5012, 0.039796)
#: coefficients of t^0 .. t^3 (t > TAU_STAR); the paper prints them x1, x10, x10, x100
LARGE_P: Final = (2.1945, 0.64695, -0.29198, -0.042377)
#: level -> (b_inf, b_1, b_2) of MacKinnon (2010)
CRITICAL: Final = {
    "1%": (-3.89644, -10.9519, -33.527),
    "5%": (-3.33613, -6.1101, -6.823),
    "10%": (-3.04445, -4.2412, -2.72),
}


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    erfc = np.vectorize(math.erfc, otypes=[float])
    return 0.5 * erfc(-x / math.sqrt(2.0))  # type: ignore[no-any-return]


def p_values(stat: np.ndarray) -> np.ndarray:
    """MacKinnon (1994) p-value of each Engle-Granger ADF statistic (NaN stays NaN)."""
    t = np.asarray(stat, dtype=float)
    small = np.polynomial.polynomial.polyval(t, SMALL_P)
    large = np.polynomial.polynomial.polyval(t, LARGE_P)
    with np.errstate(invalid="ignore"):
        p = _normal_cdf(np.where(t <= TAU_STAR, small, large))
        p = np.where(t > TAU_MAX, 1.0, np.where(t < TAU_MIN, 0.0, p))
    return np.where(np.isnan(t), np.nan, p)


def critical_values(nobs: int) -> dict[str, float]:
    """Finite-sample 1%/5%/10% critical values for a test on ``nobs`` observations."""
    return {level: b0 + b1 / nobs + b2 / nobs**2 for level, (b0, b1, b2) in CRITICAL.items()}


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values: ``q_(i) = min_{j >= i} m p_(j) / j``, capped at 1.

    ``m`` counts the finite p-values (every pair tested); NaN stays NaN.
    """
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = len(finite)
    if not m:
        return q
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return q
