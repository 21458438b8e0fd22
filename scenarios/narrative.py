"""The narrative: short sentences built from computed numbers, each pointing at its cell."""

from __future__ import annotations

import math
from typing import Any

from scenarios.base import Claim


def pct(value: Any, digits: int = 1, *, signed: bool = True) -> str:
    """``0.1234 -> "+12.3%"``; ``None``/NaN -> ``"n/a"``."""
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    sign = "+" if signed else ""
    return f"{float(value) * 100:{sign}.{digits}f}%"


def num(value: Any, digits: int = 1) -> str:
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    return f"{float(value):.{digits}f}"


class Narrative:
    """Collects claims in order; ``row`` is the symbol (or row key), ``field`` the column."""

    def __init__(self) -> None:
        self.claims: list[Claim] = []

    def say(self, text: str, *, row: str | None = None, field: str | None = None) -> None:
        self.claims.append(Claim(text=text, row=row, field=field))

    def about(self, row: dict[str, Any], field: str, text: str, key: str = "symbol") -> None:
        """A claim about ``row[field]`` of a table row."""
        self.say(text, row=str(row[key]), field=field)

    def summary(self, limit: int = 2) -> str:
        return " ".join(claim.text for claim in self.claims[:limit])
