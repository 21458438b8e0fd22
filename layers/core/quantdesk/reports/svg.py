"""Charts as inline SVG: a result's series drawn without any script or external file."""

from __future__ import annotations

import math
from html import escape
from typing import Final

from scenarios.base import Series

WIDTH: Final = 720
HEIGHT: Final = 260
PAD: Final = 36
PALETTE: Final = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2")


def _finite(values: list[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def _scale(low: float, high: float, size: float, flip: bool) -> tuple[float, float]:
    """Slope and offset mapping [low, high] onto [PAD, size - PAD] (flipped for y)."""
    span = (high - low) or 1.0
    slope = (size - 2 * PAD) / span
    if flip:
        return -slope, size - PAD + low * slope
    return slope, PAD - low * slope


def chart(series: Series) -> str:
    """One ``<svg>`` element: a line per y name (or grouped bars), axes labelled by range."""
    values = [v for ys in series.y.values() for v in _finite(ys)]
    if not values or not series.x:
        return f"<p>{escape(series.name)}: no values to draw.</p>"
    low, high = min(0.0, *values), max(0.0, *values)
    ay, by = _scale(low, high, HEIGHT, flip=True)
    n = len(series.x)
    parts = [
        f"<h3>{escape(series.name)}</h3>",
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(series.name)}">',
        f"<title>{escape(series.name)}</title>",
        f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{by:.1f}" y2="{by:.1f}" class="axis"/>',
        f'<text x="4" y="{PAD}" class="tick">{high:.4g}</text>',
        f'<text x="4" y="{HEIGHT - PAD}" class="tick">{low:.4g}</text>',
        f'<text x="{PAD}" y="{HEIGHT - 8}" class="tick">{escape(str(series.x[0]))}</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" class="tick" text-anchor="end">'
        f"{escape(str(series.x[-1]))}</text>",
    ]
    names = list(series.y)
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        ys = series.y[name]
        if series.kind == "bar":
            slot = (WIDTH - 2 * PAD) / n
            width = slot / (len(names) + 1)
            for i, value in enumerate(ys):
                if value is None or not math.isfinite(float(value)):
                    continue
                x = PAD + i * slot + index * width
                top, bottom = sorted((ay * float(value) + by, by))
                parts.append(
                    f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" '
                    f'height="{bottom - top:.1f}" fill="{colour}"/>'
                )
        else:
            ax, bx = _scale(0, max(n - 1, 1), WIDTH, flip=False)
            points = " ".join(
                f"{ax * i + bx:.1f},{ay * float(v) + by:.1f}"
                for i, v in enumerate(ys)
                if v is not None and math.isfinite(float(v))
            )
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            )
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{PAD + 14 * index}" class="legend" '
            f'text-anchor="end" fill="{colour}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
