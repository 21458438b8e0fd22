"""Data-quality bookkeeping shared by every scenario: nothing is dropped silently."""

from __future__ import annotations

from dataclasses import dataclass, field

from scenarios.base import DataQuality

#: how many symbols a note lists before summarising the rest as "+k more"
NOTE_SYMBOLS = 5


@dataclass
class QualityLog:
    """Mutable record of what a scenario skipped, frozen into :class:`DataQuality` at the end."""

    assets_requested: int = 0
    rows_in: int = 0
    rows_dropped: int = 0
    dropped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def drop(self, symbol: str, reason: str) -> None:
        """Exclude ``symbol`` from the result; the first reason given is kept."""
        self.dropped.setdefault(symbol, reason)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def freeze(self, assets_used: int) -> DataQuality:
        return DataQuality(
            assets_requested=self.assets_requested,
            assets_used=assets_used,
            rows_in=self.rows_in,
            rows_dropped=self.rows_dropped,
            dropped=dict(sorted(self.dropped.items())),
            notes=list(self.notes),
        )


def symbol_list(counts: dict[str, int]) -> str:
    """``"AAA: 3, BBB: 1 (+2 more)"``: a short, deterministic listing for notes."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"{symbol}: {count}" for symbol, count in ordered[:NOTE_SYMBOLS])
    extra = len(ordered) - NOTE_SYMBOLS
    return f"{shown} (+{extra} more)" if extra > 0 else shown
