"""Ingestion speed and size: 3,000 symbols x 10 years of daily OHLCV through the ``files`` path
(in-process moto S3/DynamoDB, the same pipeline code the Lambdas run), a universe-date slice
read vs reading everything, and the worker layer's size against Lambda's 250 MB limit.

``BENCH_SYMBOLS`` / ``BENCH_YEARS`` shrink it for a quick look.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from moto import mock_aws

from infrastructure import resources
from quantdesk import aws
from quantdesk.datalake.reader import Lake, load_scenario_data
from quantdesk.datalake.repository import LakeObjectStore, SnapshotRepository
from quantdesk.datalake.snapshot_files import FRAME_CACHE
from quantdesk.ingestion import pipeline
from quantdesk.ingestion.models import FetchInput
from quantdesk.ingestion.sources.base import FetchRequest
from tests.unit.in_process_ingestion import run_source

SYMBOLS = int(os.environ.get("BENCH_SYMBOLS", "3000"))
YEARS = int(os.environ.get("BENCH_YEARS", "10"))
END = dt.date(2026, 10, 30)
LAMBDA_UNZIPPED_MB = 250
#: the worker layer: pandas + numpy + the columnar library (and their runtime dependencies)
LAYER = ("pandas", "numpy", "python-dateutil", "six", "fastparquet", "cramjam", "fsspec")
PYARROW_LAYER = ("pandas", "numpy", "python-dateutil", "six", "pyarrow")


def _tickers(count: int) -> list[str]:
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    rng = np.random.default_rng(7)
    out: set[str] = set()
    while len(out) < count:
        out.add("".join(rng.choice(letters, size=int(rng.integers(3, 6)))))
    return sorted(out)


def synthetic_files(symbols: list[str], years: int) -> dict[str, bytes]:
    """Yearly long-format CSV.gz files, plus sectors and universe files for the symbols."""
    days = pd.bdate_range(END - dt.timedelta(days=365 * years - 1), END)
    rng = np.random.default_rng(11)
    n, t = len(symbols), len(days)
    close = 50 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, (t, n)), axis=0))
    open_ = close * np.exp(rng.normal(0, 0.003, (t, n)))
    high = np.maximum(open_, close) * 1.004
    low = np.minimum(open_, close) * 0.996
    volume = rng.integers(1_000, 5_000_000, (t, n))
    files: dict[str, bytes] = {}
    year_of = days.year.to_numpy()
    for year in np.unique(year_of):
        rows = np.flatnonzero(year_of == year)
        frame = pd.DataFrame(
            {
                "date": np.repeat(days[rows].strftime("%Y-%m-%d").to_numpy(), n),
                "symbol": np.tile(np.array(symbols, dtype=object), len(rows)),
                "open": open_[rows].ravel().round(4),
                "high": high[rows].ravel().round(4),
                "low": low[rows].ravel().round(4),
                "close": close[rows].ravel().round(4),
                "volume": volume[rows].ravel(),
            }
        )
        files[f"prices/{year}.csv.gz"] = gzip.compress(_csv(frame), compresslevel=1)
    sectors = pd.DataFrame({"symbol": symbols, "sector": "Industrials", "industry": "Machinery"})
    files["sectors.csv"] = _csv(sectors)
    tiers = np.array(["us_large_cap", "us_mid_cap", "us_small_cap"])[np.arange(n) * 3 // n]
    universe = pd.concat(
        [
            pd.DataFrame({"universe": tiers, "symbol": symbols}),
            pd.DataFrame({"universe": "us_all", "symbol": symbols}),
        ]
    ).assign(start_date=str(days[0].date()), end_date="")
    files["universe.csv"] = _csv(universe)
    return files


def _csv(frame: pd.DataFrame) -> bytes:
    try:
        # optional: the CSV falls back to pandas without it
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.csv as pacsv  # noqa: PLC0415

        buffer = io.BytesIO()
        pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        return buffer.getvalue().replace(b'"', b"")
    except ImportError:
        return frame.to_csv(index=False).encode()


def _distribution_mb(names: tuple[str, ...]) -> tuple[float, float]:
    """Installed size (MB) of the distributions, as installed and without tests/caches."""
    total = lean = 0
    for name in names:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or []:
            path = Path(str(dist.locate_file(file)))
            if not path.is_file():
                continue
            size = path.stat().st_size
            total += size
            parts = set(file.parts)
            if not parts & {"tests", "__pycache__"} and not str(file).endswith(".pyc"):
                lean += size
    return total / 1e6, lean / 1e6


def _timed(label: str, func: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = func(*args, **kwargs)
    elapsed = time.perf_counter() - started
    print(f"  {label:<34} {elapsed:8.2f} s", flush=True)
    return result, elapsed


def _ingest_and_read() -> None:
    symbols = _tickers(SYMBOLS)
    files, _ = _timed(f"prepare {SYMBOLS} x {YEARS}y CSV.gz files", synthetic_files, symbols, YEARS)
    size_mb = sum(len(b) for b in files.values()) / 1e6
    print(f"  ({len(files)} files, {size_mb:.0f} MB compressed)")
    aws.reset()
    aws.client("dynamodb").create_table(**resources.TABLE.create_kwargs())
    aws.client("s3").create_bucket(Bucket=resources.DATA_BUCKET)
    store = LakeObjectStore(resources.DATA_BUCKET)
    ctx = pipeline.IngestionContext(store, SnapshotRepository(resources.TABLE.name))
    for name, data in files.items():
        store.put_bytes(f"landing/bench/{name}", data)

    request = FetchRequest(source="files", prefix="landing/bench/")
    started = time.perf_counter()
    fetched, _ = _timed(
        "fetch (read CSV, keep raw)",
        pipeline.fetch,
        FetchInput(run_id="bench", request=request),
        ctx,
    )
    validated, _ = _timed("validate + quarantine", pipeline.validate, fetched, ctx)
    written, _ = _timed("write partitions", pipeline.write, validated, ctx)
    outcome, _ = _timed("publish snapshots", pipeline.publish, written, ctx)
    total = time.perf_counter() - started
    prices = next(d for d in outcome.datasets if d.dataset == "prices")
    print(
        f"  ingested {prices.rows_loaded:,} price rows in {total:.1f} s: "
        f"{prices.rows_loaded / total:,.0f} rows/s end to end ({outcome.status})"
    )

    again = time.perf_counter()
    rerun = run_source(request, "bench-2", ctx)
    print(
        f"  re-run of the same batch: {time.perf_counter() - again:.1f} s, "
        f"new snapshots: {[d.dataset for d in rerun.datasets if d.snapshot_id] or 'none'}"
    )

    lake = Lake(store, ctx.snapshots)
    fetched_keys: list[str] = []
    original = store.get_bytes

    def counting(key: str) -> bytes:
        fetched_keys.append(key)
        return original(key)

    store.get_bytes = counting  # type: ignore[method-assign]
    cold = FRAME_CACHE.clear  # time cold reads, as a fresh Lambda does them
    start = END - dt.timedelta(days=365)
    cold()
    (slice_data, _), slice_s = _timed(
        "read us_large_cap, last 12 months",
        load_scenario_data,
        ["prices"],
        universe="us_large_cap",
        tickers=None,
        start=start,
        end=END,
        lake=lake,
    )
    slice_files = sum(k.startswith("lake/prices/") for k in fetched_keys)
    fetched_keys.clear()
    cold()
    (all_data, _), all_s = _timed(
        "read everything (us_all, all years)",
        load_scenario_data,
        ["prices"],
        universe="us_all",
        tickers=None,
        start=END - dt.timedelta(days=366 * YEARS),
        end=END,
        lake=lake,
    )
    all_files = sum(k.startswith("lake/prices/") for k in fetched_keys)
    fetched_keys.clear()
    cold()
    (one, _), one_s = _timed(
        "read 5 tickers, last 12 months",
        load_scenario_data,
        ["prices"],
        universe="us_all",
        tickers=symbols[:5],
        start=start,
        end=END,
        lake=lake,
    )
    one_files = sum(k.startswith("lake/prices/") for k in fetched_keys)
    print(
        f"  slice: {len(slice_data.prices):,} rows from {slice_files} files; "
        f"everything: {len(all_data.prices):,} rows from {all_files} files; "
        f"5 tickers: {len(one.prices):,} rows from {one_files} files"
    )
    _, warm_s = _timed(
        "same slice again, warm Lambda (cached)",
        load_scenario_data,
        ["prices"],
        universe="us_large_cap",
        tickers=None,
        start=start,
        end=END,
        lake=lake,
    )
    print(
        f"  slice read is {all_s / slice_s:.1f}x faster than reading everything "
        f"(5 tickers: {all_s / one_s:.1f}x; warm slice: {all_s / warm_s:.1f}x)"
    )


def _layer_size() -> None:
    total, lean = _distribution_mb(LAYER)
    print(
        f"  worker layer (pandas, numpy, fastparquet + deps): {total:.0f} MB installed, "
        f"{lean:.0f} MB without tests/caches: {LAMBDA_UNZIPPED_MB - lean:.0f} MB to spare "
        f"under Lambda's {LAMBDA_UNZIPPED_MB} MB"
    )
    arrow_total, arrow_lean = _distribution_mb(PYARROW_LAYER)
    if arrow_total:
        print(
            f"  same with pyarrow instead: {arrow_total:.0f} MB installed, "
            f"{arrow_lean:.0f} MB lean: {LAMBDA_UNZIPPED_MB - arrow_lean:.0f} MB to spare"
        )


def main() -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    # in-process AWS: an endpoint an earlier benchmark pointed the clients at (make cost's local
    # cloud) must not take the calls
    for name in ("LOCALSTACK_HOST", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    _layer_size()
    with mock_aws():
        _ingest_and_read()


if __name__ == "__main__":
    main()
