"""Result tables: deterministic, JSON-safe rows built from aligned per-asset arrays."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scenarios.base import Column, DataQuality, ScenarioResult, Series
from scenarios.crosssection import rank_order, ranks
from scenarios.narrative import Narrative

#: significant digits kept in results, so tiny float noise cannot change the bytes
SIGNIFICANT_DIGITS = 6


def round_float(value: float) -> float | None:
    """6 significant digits; NaN/inf -> None; -0.0 -> 0.0."""
    if not math.isfinite(value):
        return None
    rounded = float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    return 0.0 if rounded == 0 else rounded


def clean(value: Any) -> Any:
    """A JSON-safe scalar: floats rounded to 6 significant digits, NaN/inf -> None."""
    if isinstance(value, (float, np.floating)):
        return round_float(float(value))
    if value is None or isinstance(value, str):
        return None if value is None else str(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (pd.Timestamp, dt.date, np.datetime64)):
        return pd.Timestamp(value).date().isoformat()
    return value


def build_rows(
    columns: Sequence[Column],
    data: Mapping[str, Sequence[Any] | np.ndarray],
    order: Sequence[int] | np.ndarray,
    *,
    integers: Sequence[str] = ("rank",),
) -> list[dict[str, Any]]:
    """One dict per asset in ``order``, keys in ``columns`` order, values :func:`clean`-ed."""
    positions = [int(p) for p in order]
    cleaned: list[list[Any]] = []
    for column in columns:
        raw = data[column.name]
        values = raw.tolist() if isinstance(raw, np.ndarray) else list(raw)
        picked = [clean(values[p]) for p in positions]
        if column.name in integers or column.kind == "integer":
            picked = [None if v is None else int(v) for v in picked]
        cleaned.append(picked)
    names = [c.name for c in columns]
    return [dict(zip(names, cells, strict=True)) for cells in zip(*cleaned, strict=True)]


def line_series(
    name: str, dates: pd.DatetimeIndex, lines: Mapping[str, np.ndarray], *, kind: str = "line"
) -> Series:
    """A chart-ready series: ISO dates on x, each line cleaned."""
    return Series(
        name=name,
        kind="bar" if kind == "bar" else "line",
        x=[d.date().isoformat() for d in dates],
        y={label: [clean(v) for v in values] for label, values in lines.items()},
    )


def bar_series(name: str, labels: Sequence[str], values: Mapping[str, Sequence[float]]) -> Series:
    return Series(
        name=name,
        kind="bar",
        x=list(labels),
        y={label: [clean(v) for v in vals] for label, vals in values.items()},
    )


def ranked_rows(
    columns: Sequence[Column],
    metrics: dict[str, Any],
    *,
    score: str = "score",
    descending: bool = True,
) -> list[dict[str, Any]]:
    """Rank assets on ``metrics[score]`` (1 = best, ties by symbol) and build the table rows.

    Adds ``metrics["rank"]``; rows come out in rank order, unscored assets last.
    """
    symbols = np.asarray(metrics["symbol"], dtype=object).astype(str)
    order = rank_order(metrics[score], symbols, descending=descending)
    metrics["rank"] = ranks(metrics[score], symbols, descending=descending)
    return build_rows(columns, metrics, order)


def assemble(
    scenario_id: str,
    as_of: pd.Timestamp,
    columns: Sequence[Column],
    rows: list[dict[str, Any]],
    *,
    series: Sequence[Series],
    story: Narrative,
    quality: DataQuality,
) -> ScenarioResult:
    return ScenarioResult(
        scenario_id=scenario_id,
        as_of=as_of.date(),
        summary=story.summary(),
        columns=list(columns),
        rows=rows,
        series=list(series),
        narrative=story.claims,
        data_quality=quality,
    )


def column_values(rows: Sequence[Mapping[str, Any]], field: str) -> list[float]:
    """The non-null numbers of one column, in row order."""
    return [float(r[field]) for r in rows if isinstance(r.get(field), (int, float))]


def extreme(rows: Sequence[Mapping[str, Any]], field: str, *, largest: bool = True) -> Any:
    """The row with the largest (or smallest) ``field``, ties to the first symbol; None if none."""
    candidates = [r for r in rows if isinstance(r.get(field), (int, float))]
    if not candidates:
        return None
    sign = -1.0 if largest else 1.0
    return min(candidates, key=lambda r: (sign * float(r[field]), str(r["symbol"])))
