"""The SSE wire format (docs/contract.md, "Stream"): ``retry:`` first, then per event ``id:``
(the run's or the inbox's sequence number), ``event:`` and one ``data:`` line of JSON;
heartbeats are comments."""

from __future__ import annotations

import json

from runstream.tail import Event

HEARTBEAT = ": heartbeat\n\n"


def retry(ms: int) -> str:
    return f"retry: {ms}\n\n"


def event(item: Event) -> str:
    data = json.dumps(item.data(), separators=(",", ":"))
    return f"id: {item.seq}\nevent: {item.event}\ndata: {data}\n\n"
