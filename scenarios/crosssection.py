"""Cross-sectional statistics on one value per asset: winsorised z-scores, ranks, buckets.

All functions take 1-D float arrays aligned with a symbol array; NaN means "no value" and stays
NaN (never ranked, never averaged in).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: symbols aligned with a value array
Symbols = Sequence[str] | np.ndarray

#: default winsorisation: clip at the 1st and 99th percentiles before standardising
WINSOR_LIMIT = 0.01


def winsorize(values: np.ndarray, limit: float = WINSOR_LIMIT) -> np.ndarray:
    """Clip finite values to their ``[limit, 1 - limit]`` quantiles (NaN kept)."""
    x = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(x)
    if finite.sum() < 2 or limit <= 0:
        return x.copy()
    low, high = np.quantile(x[finite], [limit, 1.0 - limit])
    out = x.copy()
    out[finite] = np.clip(x[finite], low, high)
    return out


def zscore(values: np.ndarray, limit: float = WINSOR_LIMIT) -> np.ndarray:
    """Winsorised z-score: ``(w - mean(w)) / std(w)`` with ``w`` = :func:`winsorize` (ddof 0).

    Invariant to positive affine rescaling of the input; all zeros when the values do not vary
    or fewer than two are finite.
    """
    w = winsorize(values, limit)
    finite = np.isfinite(w)
    out = np.full_like(w, np.nan)
    if finite.sum() == 0:
        return out
    centred = w[finite] - w[finite].mean()
    scale = np.sqrt(np.mean(centred**2))
    spread = np.abs(w[finite]).max()
    # a spread below float noise is "no variation", not a signal to amplify
    if finite.sum() < 2 or scale <= 1e-12 * max(spread, 1e-300):
        out[finite] = 0.0
    else:
        out[finite] = centred / scale
    return out


def zscore_rows(values: np.ndarray, limit: float = WINSOR_LIMIT) -> np.ndarray:
    """:func:`zscore` applied to every row of a ``(T, N)`` array at once (dates x assets).

    Row ``t`` equals ``zscore(values[t], limit)`` up to float rounding; non-finite entries are
    "no value" and stay NaN.
    """
    x = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(x)
    x = np.where(finite, x, np.nan)
    count = finite.sum(axis=1)
    out = np.full_like(x, np.nan)
    rows = count > 0
    if not rows.any():
        return out
    w = x[rows]
    clip = count[rows] >= 2
    if limit > 0 and clip.any():
        low, high = np.nanquantile(w[clip], [limit, 1.0 - limit], axis=1)
        w[clip] = np.clip(w[clip], low[:, None], high[:, None])
    centred = w - np.nanmean(w, axis=1, keepdims=True)
    scale = np.sqrt(np.nanmean(centred**2, axis=1))
    spread = np.nanmax(np.abs(w), axis=1)
    flat = (count[rows] < 2) | (scale <= 1e-12 * np.maximum(spread, 1e-300))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(flat[:, None], 0.0, centred / scale[:, None])
    out[rows] = np.where(np.isfinite(w), z, np.nan)
    return out


def neutralize(
    values: np.ndarray, groups: Sequence[str] | np.ndarray, limit: float = WINSOR_LIMIT
) -> np.ndarray:
    """Z-score within each group (e.g. sector neutrality); singleton groups get 0."""
    x = np.asarray(values, dtype=np.float64)
    labels = np.asarray(groups, dtype=object)
    out = np.full_like(x, np.nan)
    for label in sorted(set(labels.tolist()), key=str):
        members = labels == label
        out[members] = zscore(x[members], limit)
    return out


def equal_weight(returns: np.ndarray) -> np.ndarray:
    """Equal-weight return of each row over the assets that have one (listed that day).

    A not-yet-listed or delisted asset (NaN) is left out, not counted as a 0 return; 0 for a
    row where no asset has a return.
    """
    finite = np.isfinite(returns)
    count = finite.sum(axis=1)
    total = np.where(finite, returns, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)  # type: ignore[no-any-return]


def mean_available(columns: Sequence[np.ndarray]) -> np.ndarray:
    """Row-wise mean over the finite entries of several aligned arrays (NaN if none)."""
    stacked = np.vstack([np.asarray(c, dtype=np.float64) for c in columns])
    finite = np.isfinite(stacked)
    count = finite.sum(axis=0)
    total = np.where(finite, stacked, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def rank_order(scores: np.ndarray, symbols: Symbols, *, descending: bool = True) -> np.ndarray:
    """Positions sorting assets by score (best first), ties broken by symbol, NaN last."""
    x = np.asarray(scores, dtype=np.float64)
    keys = -x if descending else x
    keys = np.where(np.isfinite(keys), keys, np.inf)
    names = np.asarray(symbols, dtype=object).astype(str)
    return np.lexsort((names, keys))


def ranks(scores: np.ndarray, symbols: Symbols, *, descending: bool = True) -> np.ndarray:
    """1-based rank per asset (1 = best); NaN scores get no rank (NaN)."""
    order = rank_order(scores, symbols, descending=descending)
    out = np.empty(len(order), dtype=np.float64)
    out[order] = np.arange(1, len(order) + 1)
    out[~np.isfinite(np.asarray(scores, dtype=np.float64))] = np.nan
    return out


def buckets(scores: np.ndarray, symbols: Symbols, n_buckets: int) -> np.ndarray:
    """Equal-count buckets 1..n (1 = highest score) from the deterministic rank; NaN unranked."""
    rank = ranks(scores, symbols)
    count = int(np.isfinite(rank).sum())
    out = np.full(len(rank), np.nan)
    if count:
        finite = np.isfinite(rank)
        out[finite] = np.floor((rank[finite] - 1) * n_buckets / count) + 1
    return out
