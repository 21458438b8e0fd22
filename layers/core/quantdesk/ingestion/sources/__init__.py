"""Data sources: each adapter turns a vendor's data into the frames of :mod:`scenarios.frames`.

``get_source(name)`` returns the adapter; adding a vendor is a new module plus one line in
``SOURCES``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

from quantdesk.ingestion.errors import UnknownSourceError

if TYPE_CHECKING:
    from quantdesk.ingestion.sources.base import Source

SOURCES: Final = {
    "sample": "quantdesk.ingestion.sources.sample:SampleSource",
    "files": "quantdesk.ingestion.sources.files:FilesSource",
    "fred": "quantdesk.ingestion.sources.fred:FredSource",
    "alfred": "quantdesk.ingestion.sources.alfred:AlfredSource",
    "gdelt": "quantdesk.ingestion.sources.gdelt:GdeltSource",
    "stooq": "quantdesk.ingestion.sources.stooq:StooqSource",
    "tiingo": "quantdesk.ingestion.sources.tiingo:TiingoSource",
    "edgar": "quantdesk.ingestion.sources.edgar:EdgarSource",
    "membership": "quantdesk.ingestion.sources.membership:MembershipSource",
}


def get_source(name: str) -> Source:
    try:
        target = SOURCES[name]
    except KeyError:
        known = ", ".join(SOURCES)
        raise UnknownSourceError(f"unknown source {name!r}; known: {known}") from None
    module, _, attr = target.partition(":")
    source: Source = getattr(importlib.import_module(module), attr)()
    return source
