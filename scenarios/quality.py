"""Data-quality bookkeeping shared by every scenario: nothing is dropped silently."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scenarios.base import DataQuality

#: how many symbols a note lists before summarising the rest as "+k more"
NOTE_SYMBOLS = 5


@dataclass
class Tally:
    """A note counting something per symbol, rendered from its counts (so shards' tallies add).

    ``template`` may use ``{n}`` (the total), ``{listing}`` (``"AAA: 3, BBB: 1 (+2 more)"``),
    ``{names}`` (the first five symbols in order) and ``{first}`` (the same, with ``" ..."``
    after them if there are more).
    """

    template: str
    counts: dict[str, int] = field(default_factory=dict)
    #: said when nothing was counted ("no fundamentals reported"), not when something was
    when_none: bool = False

    def add(self, counts: Mapping[str, int]) -> None:
        for symbol, count in counts.items():
            self.counts[symbol] = self.counts.get(symbol, 0) + int(count)

    def render(self) -> str | None:
        total = sum(self.counts.values())
        if self.when_none:
            return None if total else self.template
        if not total:
            return None
        names = sorted(self.counts)
        shown = ", ".join(names[:NOTE_SYMBOLS])
        first = shown + (" ..." if len(names) > NOTE_SYMBOLS else "")
        return self.template.format(
            n=total, listing=symbol_list(self.counts), names=shown, first=first
        )


@dataclass
class QualityLog:
    """Mutable record of what a scenario skipped, frozen into :class:`DataQuality` at the end."""

    assets_requested: int = 0
    rows_in: int = 0
    rows_dropped: int = 0
    dropped: dict[str, str] = field(default_factory=dict)
    #: notes in order: plain text, or tallies rendered from their counts
    entries: list[str | Tally] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        rendered = (e if isinstance(e, str) else e.render() for e in self.entries)
        return [text for text in rendered if text]

    def drop(self, symbol: str, reason: str) -> None:
        """Exclude ``symbol`` from the result; the first reason given is kept."""
        self.dropped.setdefault(symbol, reason)

    def note(self, text: str) -> None:
        if text not in self.entries:
            self.entries.append(text)

    def tally(self, template: str, counts: Mapping[str, int], *, when_none: bool = False) -> None:
        """Add ``counts`` to the tally ``template`` (created, in order, on first use, even with
        no counts: shards of one run then list their tallies in the same order)."""
        for entry in self.entries:
            if isinstance(entry, Tally) and entry.template == template:
                entry.add(counts)
                return
        created = Tally(template, when_none=when_none)
        created.add(counts)
        self.entries.append(created)

    def merge(self, other: QualityLog) -> None:
        """Take over another slice's notes and drops (its rows counts are the caller's)."""
        for symbol, reason in other.dropped.items():
            self.drop(symbol, reason)
        for entry in other.entries:
            if isinstance(entry, str):
                self.note(entry)
            else:
                self.tally(entry.template, entry.counts, when_none=entry.when_none)

    def to_json(self) -> dict[str, Any]:
        return {
            "dropped": self.dropped,
            "entries": [
                e if isinstance(e, str) else [e.template, e.counts, e.when_none]
                for e in self.entries
            ],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> QualityLog:
        log = cls(dropped=dict(raw["dropped"]))
        for entry in raw["entries"]:
            if isinstance(entry, str):
                log.entries.append(entry)
            else:
                log.entries.append(Tally(entry[0], dict(entry[1]), when_none=bool(entry[2])))
        return log

    def freeze(self, assets_used: int) -> DataQuality:
        return DataQuality(
            assets_requested=self.assets_requested,
            assets_used=assets_used,
            rows_in=self.rows_in,
            rows_dropped=self.rows_dropped,
            dropped=dict(sorted(self.dropped.items())),
            notes=self.notes,
        )


def symbol_list(counts: Mapping[str, int]) -> str:
    """``"AAA: 3, BBB: 1 (+2 more)"``: a short, deterministic listing for notes."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"{symbol}: {count}" for symbol, count in ordered[:NOTE_SYMBOLS])
    extra = len(ordered) - NOTE_SYMBOLS
    return f"{shown} (+{extra} more)" if extra > 0 else shown
