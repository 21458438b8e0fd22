"""Partition naming and pruning: pure functions."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from quantdesk.datalake.layout import (
    SYMBOL_BUCKETS,
    parse_partition,
    partition_name,
    split_partitions,
    symbol_bucket,
    wanted_partition,
)


def test_partition_names_round_trip() -> None:
    for year, bucket in ((2024, 3), (2024, None), (None, None)):
        assert parse_partition(partition_name(year, bucket)) == (year, bucket)
    assert partition_name(2024, 3) == "year=2024/bucket=03"


def test_symbol_bucket_is_stable_across_processes() -> None:
    # crc32, not the salted built-in hash: these values never change
    assert [symbol_bucket(s) for s in ("AAPL", "MSFT", "A")] == [4, 3, 3]
    assert all(0 <= symbol_bucket(f"S{i}") < SYMBOL_BUCKETS for i in range(100))
    assert len({symbol_bucket(f"S{i}") for i in range(100)}) == SYMBOL_BUCKETS


def test_pruning_by_years_and_buckets() -> None:
    wanted = {"start": dt.date(2023, 6, 1), "end": dt.date(2024, 2, 1), "buckets": {1}}
    assert wanted_partition("prices", "year=2023/bucket=01", **wanted)
    assert not wanted_partition("prices", "year=2022/bucket=01", **wanted)
    assert not wanted_partition("prices", "year=2025/bucket=01", **wanted)
    assert not wanted_partition("prices", "year=2024/bucket=02", **wanted)
    assert wanted_partition("macro", "all", **wanted)


def test_split_partitions_groups_rows_by_year_and_bucket() -> None:
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2023-12-29", "2024-01-02", "2024-01-02"]),
            "symbol": ["AAA", "AAA", "BBB"],
        }
    )
    parts = dict(split_partitions("prices", frame))
    assert sum(len(p) for p in parts.values()) == 3
    assert f"year=2023/bucket={symbol_bucket('AAA'):02d}" in parts
    assert list(dict(split_partitions("sectors", frame))) == ["all"]
