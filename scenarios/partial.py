"""What one shard of a scenario run hands to the reduce: frames and JSON counters, as bytes.

A :class:`ShardPartial` travels through object storage between the shard and the reduce, so
it round-trips exactly: numeric, boolean and datetime columns as raw ``.npy`` arrays (float64
bits unchanged), text columns as JSON. The layout of :meth:`ShardPartial.to_bytes`::

    MAGIC | header length (8 bytes, little endian) | header (JSON) | array blobs

The header holds ``meta`` and, per frame, its index and columns (name, kind, and the blob's
offset and length, or the JSON values of a text column).
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MAGIC = b"QDSHARD1"
#: the main frame's name inside the bytes
MAIN = "frame"


@dataclass
class ShardPartial:
    """A shard's result: its main ``frame`` (one row per asset, pair, ...), named extra
    ``frames`` (e.g. a ``date x symbol`` chart window) and JSON-able ``meta`` (data-quality
    scans, counters)."""

    frame: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        blobs: list[bytes] = []
        offset = 0

        def column(values: pd.Index | pd.Series) -> dict[str, Any]:
            nonlocal offset
            array = values.to_numpy()
            dtype = str(array.dtype)
            if array.dtype.kind in "biuf":
                kind = "array"
            elif array.dtype.kind == "M":
                kind, array = "datetime", array.view(np.int64)
            else:
                return {"kind": "text", "values": [None if pd.isna(v) else str(v) for v in array]}
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
            blob = buffer.getvalue()
            blobs.append(blob)
            spec = {"kind": kind, "dtype": dtype, "offset": offset, "length": len(blob)}
            offset += len(blob)
            return spec

        frames = {}
        for name, frame in {MAIN: self.frame, **self.frames}.items():
            frames[name] = {
                "index": column(frame.index),
                "index_name": frame.index.name,
                "columns_name": frame.columns.name,
                "columns": [[str(c), column(frame[c])] for c in frame.columns],
            }
        header = json.dumps({"meta": self.meta, "frames": frames}).encode()
        return MAGIC + struct.pack("<Q", len(header)) + header + b"".join(blobs)

    @classmethod
    def from_bytes(cls, raw: bytes) -> ShardPartial:
        if raw[: len(MAGIC)] != MAGIC:
            raise ValueError("not a shard partial (bad magic bytes)")
        start = len(MAGIC) + 8
        (size,) = struct.unpack("<Q", raw[len(MAGIC) : start])
        header = json.loads(raw[start : start + size])
        base = start + size

        def column(spec: dict[str, Any]) -> Any:
            if spec["kind"] == "text":
                return np.array(spec["values"], dtype=object)
            lo = base + spec["offset"]
            array = np.load(io.BytesIO(raw[lo : lo + spec["length"]]), allow_pickle=False)
            return array.view(spec["dtype"]) if spec["kind"] == "datetime" else array

        frames = {}
        for name, spec in header["frames"].items():
            index = pd.Index(column(spec["index"]), name=spec["index_name"])
            data = {c: column(s) for c, s in spec["columns"]}
            columns = pd.Index([c for c, _ in spec["columns"]], name=spec["columns_name"])
            frames[name] = pd.DataFrame(data, index=index, columns=columns)
        main = frames.pop(MAIN)
        return cls(frame=main, meta=header["meta"], frames=frames)
