"""The state folder's files: records survive only whole, a cut-off or damaged tail is reported
where it starts, snapshots are checked, and pruning keeps a way back past a bad snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrastructure.local.journal import (
    Journal,
    Unreadable,
    decode_records,
    decode_snapshot,
    encode_record,
    encode_snapshot,
)


def test_records_round_trip_with_their_bodies() -> None:
    data = encode_record({"kind": "request", "n": 1}, b"\x00body") + encode_record({"n": 2})
    records, problem = decode_records(data)
    assert problem is None
    assert [(r.header, r.body) for r in records] == [
        ({"kind": "request", "n": 1}, b"\x00body"),
        ({"n": 2}, b""),
    ]


@pytest.mark.parametrize("cut", [1, 5, 17, 30])
def test_a_cut_off_last_record_leaves_the_earlier_ones(cut: int) -> None:
    first = encode_record({"n": 1}, b"a" * 10)
    data = first + encode_record({"n": 2}, b"b" * 10)
    records, problem = decode_records(data[:-cut])
    assert [r.header["n"] for r in records] == [1]
    assert problem is not None and f"at byte {len(first)}" in problem


def test_a_flipped_byte_stops_reading_at_its_record() -> None:
    first = encode_record({"n": 1}, b"a" * 10)
    data = bytearray(first + encode_record({"n": 2}, b"b" * 10) + encode_record({"n": 3}))
    data[len(first) + 20] ^= 0xFF
    records, problem = decode_records(bytes(data))
    assert [r.header["n"] for r in records] == [1]
    assert problem == f"a record with a wrong checksum at byte {len(first)}"


def test_garbage_is_reported_not_raised() -> None:
    records, problem = decode_records(b"not a log at all, just text")
    assert records == [] and problem == "no record marker at byte 0"


def test_snapshots_are_checked() -> None:
    assert decode_snapshot(encode_snapshot(b"state")) == b"state"
    damaged = bytearray(encode_snapshot(b"state"))
    damaged[-1] ^= 1
    for bad in (bytes(damaged), b"garbage", encode_snapshot(b"state")[:-2], b""):
        with pytest.raises(Unreadable):
            decode_snapshot(bad)


def test_appends_are_readable_after_sync_and_segments_never_reopen(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert journal.open_segment() == 0
    position = journal.append({"n": 1}, b"x")
    journal.sync(position)
    assert [r.header for r in journal.read_segment(0).records] == [{"n": 1}]
    journal.close()
    # a restart appends to a new segment, after any torn tail of the old one
    again = Journal(tmp_path)
    assert again.open_segment() == 1
    again.close()


def test_prune_keeps_two_snapshots_and_the_log_the_older_needs(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.open_segment()  # 0
    for _ in range(3):
        number = journal.open_segment()
        journal.write_snapshot(number, f"state {number}".encode())
        journal.prune()
    assert journal.snapshots() == [3, 2]
    assert journal.segments() == [2, 3]
    assert journal.read_snapshot(2) == b"state 2"
    journal.close()


def test_prune_keeps_the_whole_log_while_there_is_one_snapshot(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.open_segment()
    number = journal.open_segment()
    journal.write_snapshot(number, b"s")
    journal.prune()
    assert journal.segments() == [0, 1]
    journal.close()
