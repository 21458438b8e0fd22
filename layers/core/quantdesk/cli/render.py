"""Plain-text rendering of scenario results for the terminal (no colour, pipe-friendly)."""

from __future__ import annotations

from typing import Any

MAX_CELL = 28


def cell(value: Any, kind: str = "number") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if kind == "percent":
            return f"{value * 100:+.1f}%"
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    text = str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def render_table(columns: list[dict[str, Any]], rows: list[dict[str, Any]], limit: int = 20) -> str:
    """Columns are ``{"name", "label", "kind"}`` as in ScenarioResult; numbers right-aligned."""
    shown = rows[:limit]
    headers = [c.get("label") or c["name"] for c in columns]
    body = [[cell(row.get(c["name"]), c.get("kind", "number")) for c in columns] for row in shown]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    numeric = [c.get("kind", "number") in ("number", "percent", "integer") for c in columns]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])] + [line(r) for r in body]
    if len(rows) > limit:
        out.append(f"… {len(rows) - limit} more rows")
    return "\n".join(out)
