"""The local cloud's files on disk: a write-ahead log in numbered segments and checksummed
snapshots, in one folder. Nothing here knows about moto; ``persistence`` decides what goes in.

Layout of the folder::

    wal-000003.log        records appended since snapshot 3 (one segment per start/snapshot)
    snapshot-000003.bin   the whole state after every segment numbered below 3

A record is ``MAGIC | length | crc32 | payload`` where the payload is a JSON header and a binary
body; a snapshot is ``MAGIC | length | crc32 | payload``. Reading stops at the first record whose
frame or checksum does not hold (a write cut short by a kill) and says where: everything before
it is intact, because records are only acknowledged after they are on disk (:meth:`Journal.sync`).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

RECORD_MAGIC = b"QDW1"
SNAPSHOT_MAGIC = b"QDS1"
_FRAME = struct.Struct(">4sQI")  # magic, payload length, crc32 of the payload
_HEADER_LENGTH = struct.Struct(">I")
_NAME = re.compile(r"(wal|snapshot)-(\d{6})\.(log|bin)")


class Unreadable(Exception):
    """A snapshot whose frame, checksum or content does not hold."""


class InUse(Exception):
    """Another running local cloud holds the folder."""


@dataclass(frozen=True)
class Record:
    header: dict[str, Any]
    body: bytes


@dataclass(frozen=True)
class Segment:
    """What could be read from one log segment; ``problem`` says why reading stopped early."""

    number: int
    records: list[Record]
    problem: str | None = None


def encode_record(header: dict[str, Any], body: bytes = b"") -> bytes:
    meta = json.dumps(header, separators=(",", ":")).encode()
    payload = _HEADER_LENGTH.pack(len(meta)) + meta + body
    return _FRAME.pack(RECORD_MAGIC, len(payload), zlib.crc32(payload)) + payload


def _frame_at(data: bytes, offset: int, magic: bytes) -> tuple[bytes | None, str | None]:
    """The payload framed at ``offset``, or why it is not readable there."""
    if len(data) - offset < _FRAME.size:
        return None, f"{len(data) - offset} bytes of a cut-off record at byte {offset}"
    found, length, crc = _FRAME.unpack_from(data, offset)
    start = offset + _FRAME.size
    if found != magic:
        return None, f"no record marker at byte {offset}"
    if len(data) - start < length:
        return None, f"a record cut off at byte {offset} ({len(data) - start} of {length} bytes)"
    payload = data[start : start + length]
    if zlib.crc32(payload) != crc:
        return None, f"a record with a wrong checksum at byte {offset}"
    return payload, None


def decode_records(data: bytes) -> tuple[list[Record], str | None]:
    records: list[Record] = []
    offset = 0
    while offset < len(data):
        payload, problem = _frame_at(data, offset, RECORD_MAGIC)
        if payload is None:
            return records, problem
        (meta_length,) = _HEADER_LENGTH.unpack_from(payload)
        try:
            header = json.loads(payload[4 : 4 + meta_length])
        except ValueError:
            return records, f"a record with an unreadable header at byte {offset}"
        records.append(Record(header, payload[4 + meta_length :]))
        offset += _FRAME.size + len(payload)
    return records, None


def encode_snapshot(payload: bytes) -> bytes:
    return _FRAME.pack(SNAPSHOT_MAGIC, len(payload), zlib.crc32(payload)) + payload


def decode_snapshot(data: bytes) -> bytes:
    payload, problem = _frame_at(data, 0, SNAPSHOT_MAGIC)
    if payload is None:
        raise Unreadable(problem)
    if len(data) != _FRAME.size + len(payload):
        raise Unreadable("trailing bytes after the snapshot")
    return payload


class Journal:
    """One state folder: the current log segment (append + group-committed fsync), snapshots,
    and the clean-up of what a newer snapshot has made unnecessary."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        # one writer per folder; the kernel drops the lock when the process dies, however
        self._lock = (directory / "LOCK").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock.close()
            raise InUse(f"{directory} is in use by another running local cloud") from exc
        self._file: BinaryIO | None = None
        self.segment = -1
        self._written = 0  # bytes appended in this process, across segments
        self._synced = 0
        self._sync_lock = threading.Lock()

    # -- reading ------------------------------------------------------------------------------

    def _numbers(self, kind: str) -> list[int]:
        found = []
        for path in self.directory.iterdir():
            match = _NAME.fullmatch(path.name)
            if match and match.group(1) == kind:
                found.append(int(match.group(2)))
        return sorted(found)

    def wal_path(self, number: int) -> Path:
        return self.directory / f"wal-{number:06d}.log"

    def snapshot_path(self, number: int) -> Path:
        return self.directory / f"snapshot-{number:06d}.bin"

    def snapshots(self) -> list[int]:
        """Snapshot numbers, newest first."""
        return self._numbers("snapshot")[::-1]

    def segments(self, start: int = 0) -> list[int]:
        return [n for n in self._numbers("wal") if n >= start]

    def read_segment(self, number: int) -> Segment:
        records, problem = decode_records(self.wal_path(number).read_bytes())
        return Segment(number, records, problem)

    def read_snapshot(self, number: int) -> bytes:
        try:
            return decode_snapshot(self.snapshot_path(number).read_bytes())
        except OSError as exc:
            raise Unreadable(str(exc)) from exc

    # -- writing ------------------------------------------------------------------------------

    def open_segment(self) -> int:
        """Start a fresh segment after every existing file (a torn tail is never appended to);
        the caller holds off appends while this runs."""
        existing = self._numbers("wal") + self._numbers("snapshot")
        number = max(existing, default=-1) + 1
        previous = self._file
        self._file = self.wal_path(number).open("ab", buffering=0)
        _sync_directory(self.directory)
        self.segment = number
        if previous is not None:
            os.fsync(previous.fileno())
            previous.close()
            with self._sync_lock:
                self._synced = self._written
        return number

    def append(self, header: dict[str, Any], body: bytes = b"") -> int:
        """Write a record (not yet durable: call :meth:`sync` with the returned position before
        acknowledging it). Callers serialise appends."""
        if self._file is None:
            raise RuntimeError("no open segment")
        data = encode_record(header, body)
        self._file.write(data)
        self._written += len(data)
        return self._written

    def sync(self, position: int) -> None:
        """Make everything up to ``position`` durable; one fsync covers every record appended
        before it, so concurrent writers share it (group commit)."""
        with self._sync_lock:
            if self._synced >= position or self._file is None:
                return
            target = self._written
            os.fsync(self._file.fileno())
            self._synced = target

    def write_snapshot(self, number: int, payload: bytes) -> None:
        """Store a snapshot atomically (temporary file, fsync, rename)."""
        path = self.snapshot_path(number)
        temporary = path.with_suffix(".tmp")
        with temporary.open("wb") as out:
            out.write(encode_snapshot(payload))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        _sync_directory(self.directory)

    def prune(self) -> None:
        """Keep the two newest snapshots and the segments the older of them needs, so a
        damaged newest snapshot still leaves a complete way back."""
        for stray in self.directory.glob("snapshot-*.tmp"):
            stray.unlink(missing_ok=True)
        kept = self.snapshots()[:2]
        if len(kept) < 2:
            return
        oldest = kept[-1]
        for number in self._numbers("snapshot"):
            if number < oldest:
                self.snapshot_path(number).unlink(missing_ok=True)
        for number in self._numbers("wal"):
            if number < oldest:
                self.wal_path(number).unlink(missing_ok=True)

    def close(self) -> None:
        if self._file is not None:
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
        self._lock.close()


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
