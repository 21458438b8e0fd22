"""Helpers for scenarios computed as map (one slice of assets) + reduce (all slices).

A map step loads its slice with :func:`scenarios.panel.scan_panel` and returns a
:class:`~scenarios.partial.ShardPartial` made by :func:`partial`; the reduce settles the
slices' scans into one data-quality log (:func:`settle`) and stacks their per-asset frames in
symbol order (:func:`stack`, :func:`stack_wide`), which is the order one whole panel has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import ScenarioData, ScenarioParams
from scenarios.panel import Panel, PanelScan, scan_panel, settle_panels
from scenarios.partial import ShardPartial
from scenarios.quality import QualityLog


def partial(
    scan: PanelScan,
    frame: pd.DataFrame,
    frames: Mapping[str, pd.DataFrame] | None = None,
    **meta: Any,
) -> ShardPartial:
    """A slice's partial: its per-asset ``frame`` (index = symbol), wide ``frames`` and scan."""
    return ShardPartial(
        frame=frame, meta={"panel": scan.to_json(), **meta}, frames=dict(frames or {})
    )


def absorb(log: QualityLog, partials: Sequence[ShardPartial]) -> None:
    """Add the notes and drops the slices' map steps logged (after the panel's) to ``log``."""
    for piece in partials:
        if "log" in piece.meta:
            log.merge(QualityLog.from_json(piece.meta["log"]))


def settle(
    partials: Sequence[ShardPartial], params: ScenarioParams
) -> tuple[QualityLog, pd.Timestamp]:
    """The merged data-quality log of every slice and the run's as_of.

    Raises what loading all the assets at once would (see :func:`settle_panels`).
    """
    scans = [PanelScan.from_json(p.meta["panel"]) for p in partials]
    log = settle_panels(scans, params)
    as_of = next(s.as_of for s in scans if s.kept)
    return log, pd.Timestamp(as_of)


def gather(
    partials: Sequence[ShardPartial], params: ScenarioParams
) -> tuple[QualityLog, pd.Timestamp, pd.DataFrame]:
    """What every reduce starts from: the settled log (with the map steps' notes), the run's
    as_of and the stacked per-asset frame."""
    log, as_of = settle(partials, params)
    absorb(log, partials)
    return log, as_of, stack(partials)


def stack(partials: Sequence[ShardPartial]) -> pd.DataFrame:
    """The slices' per-asset frames as one, in symbol order (as on one whole panel)."""
    frames = [p.frame for p in partials if len(p.frame)]
    return pd.concat(frames).sort_index(kind="stable") if frames else partials[0].frame


def stack_wide(partials: Sequence[ShardPartial], name: str) -> pd.DataFrame:
    """The slices' ``date x symbol`` frames called ``name`` side by side, symbols in order."""
    frames = [p.frames[name] for p in partials if name in p.frames and p.frames[name].shape[1]]
    return pd.concat(frames, axis=1).sort_index(axis=1, kind="stable")


def map_assets(
    data: ScenarioData,
    params: ScenarioParams,
    compute: Callable[[Panel], tuple[pd.DataFrame, Mapping[str, pd.DataFrame]]],
    columns: Sequence[str],
    **load: Any,
) -> ShardPartial:
    """Load a slice's panel (``load`` as for :func:`scan_panel`) and ``compute`` its per-asset
    frame (index = symbol) and wide frames; an empty frame of ``columns`` when it keeps no
    asset. What ``compute`` logs in ``panel.log`` travels to the reduce (:func:`absorb`)."""
    panel, scan = scan_panel(data, params, **load)
    if panel is None:
        return partial(scan, pd.DataFrame(columns=list(columns), dtype=np.float64))
    frame, frames = compute(panel)
    return partial(scan, frame, frames, log=panel.log.to_json())


def metrics_of(frame: pd.DataFrame) -> dict[str, Any]:
    """The stacked per-asset frame as ``{"symbol": array, column: array, ...}``."""
    metrics: dict[str, Any] = {"symbol": frame.index.to_numpy().astype(object)}
    metrics.update({name: frame[name].to_numpy() for name in frame.columns})
    return metrics


def chart_window(panel: Panel, values: np.ndarray, sessions: int) -> pd.DataFrame:
    """The last ``sessions`` rows of a ``(T, N)`` array as a ``date x symbol`` frame."""
    window = slice(max(0, panel.n_dates - sessions), panel.n_dates)
    return pd.DataFrame(values[window], index=panel.dates[window], columns=panel.symbols)


def stack_array(
    partials: Sequence[ShardPartial], name: str
) -> tuple[pd.DatetimeIndex, pd.Index, np.ndarray]:
    """:func:`stack_wide` as ``(dates, symbols, C-contiguous (T, N) float64 array)``.

    C order matters: numpy sums a C-ordered array's columns row after row, as on one panel.
    """
    wide = stack_wide(partials, name)
    values = np.ascontiguousarray(wide.to_numpy(dtype=np.float64))
    return pd.DatetimeIndex(wide.index), wide.columns, values


def map_closes(
    data: ScenarioData, params: ScenarioParams, sessions: int, min_sessions: Mapping[str, int]
) -> ShardPartial:
    """A slice's closes over the last ``sessions`` sessions (frame ``"close"``), for a reduce
    that computes across every asset's returns at once (:func:`stack_array`)."""

    def compute(panel: Panel) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        window = chart_window(panel, panel["close"], sessions)
        return pd.DataFrame(index=panel.symbols), {"close": window}

    return map_assets(data, params, compute, (), fields=("close",), min_sessions=min_sessions)
