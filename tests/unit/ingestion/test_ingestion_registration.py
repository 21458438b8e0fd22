"""Own tickers: prices of symbols the lake does not know register them in a universe instead of
being quarantined; only rows that are actually wrong are."""

from __future__ import annotations

import pandas as pd
import pytest

from quantdesk.datalake.reader import Lake, load_scenario_data, read_partitions
from quantdesk.datalake.snapshot_files import load_manifest
from quantdesk.datalake.universes import lake_universes
from quantdesk.ingestion.errors import SourceConfigError
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.registration import safe_name, target
from quantdesk.ingestion.sources.base import FetchRequest
from scenarios.base import ScenarioInputError
from scenarios.registry import get_spec, runner
from tests.unit.in_process_ingestion import run_ingestion

KNOWN = (
    "universe,symbol,start_date,end_date\n"
    "us_large_cap,AAA,2020-01-01,\n"
    "us_large_cap,BBB,2020-01-01,2023-06-30\n"
)
SECTORS = "symbol,sector,industry\nAAA,Energy,Oil\nBBB,Utilities,Water\n"
HEADER = "date,symbol,open,high,low,close,volume\n"


def _rows(symbol: str, days: list[str], close: float = 10.0) -> str:
    return "".join(f"{d},{symbol},{close},{close + 1},{close - 1},{close},100\n" for d in days)


def _drop(ctx: IngestionContext, prefix: str, files: dict[str, str]) -> None:
    for name, body in files.items():
        ctx.store.put_bytes(prefix + name, body.encode())


def _ingest(ctx: IngestionContext, prefix: str, **options: str):
    return run_ingestion([FetchRequest(source="files", prefix=prefix, options=options)], ctx)


def _universe(ctx: IngestionContext) -> pd.DataFrame:
    record = ctx.snapshots.latest("universe")
    assert record is not None
    lake = Lake(ctx.store, ctx.snapshots)
    frame, _ = read_partitions(lake, "universe", load_manifest(ctx.store, record))
    return frame


@pytest.fixture
def known_lake(ctx: IngestionContext) -> IngestionContext:
    _drop(ctx, "landing/reference/", {"universe.csv": KNOWN, "sectors.csv": SECTORS})
    assert _ingest(ctx, "landing/reference/").status == "succeeded"
    return ctx


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("My Batch", "my_batch"),
        ("2024-prices", "u_2024_prices"),
        ("crypto/ALTS!!", "crypto_alts"),
        ("ëë", "u"),
        ("x" * 60, "x" * 40),
    ],
)
def test_batch_names_become_safe_universe_names(text: str, name: str) -> None:
    assert safe_name(text) == name


def test_the_target_universe_is_named_by_the_request_or_the_batch() -> None:
    explicit = target(
        FetchRequest(source="files", prefix="landing/x/", options={"universe": "mine"})
    )
    assert (explicit.name, explicit.explicit) == ("mine", True)
    by_batch = target(
        FetchRequest(source="files", prefix="landing/x/", options={"batch": "Q3 Ideas"})
    )
    assert (by_batch.name, by_batch.explicit) == ("q3_ideas", False)
    assert target(FetchRequest(source="files", prefix="landing/My-Drop/")).name == "my_drop"
    with pytest.raises(SourceConfigError, match=r"options\.universe"):
        target(FetchRequest(source="files", prefix="landing/x/", options={"universe": "Bad Name"}))


def test_unknown_tickers_are_registered_and_only_wrong_rows_quarantined(
    known_lake: IngestionContext,
) -> None:
    ctx = known_lake
    prices = (
        HEADER
        + _rows("AAA", ["2024-01-02", "2024-01-03"])
        + _rows("NEWA", ["2024-01-03", "2024-01-04"])
        + _rows("NEWB", ["2024-01-02", "2024-01-03"])
        + "2024-01-02,NEWC,10,9,11,10,100\n"  # high below low: actually wrong
        + _rows("NEWC", ["2024-01-05"])
    )
    _drop(ctx, "landing/run-1/", {"prices.csv": prices})
    summary = _ingest(ctx, "landing/run-1/", batch="My Ideas")
    # Then the new tickers are registered in a universe named after the batch...
    source = summary.sources[0]
    assert summary.status == "succeeded_with_warnings", summary.message
    assert source.registered is not None
    assert (source.registered.universe, source.registered.symbols) == ("my_ideas", 3)
    assert "registered 3 new symbol(s) in universe my_ideas" in summary.message
    # ...and only the wrong row is quarantined, for what is wrong with it
    prices_outcome = next(d for d in source.datasets if d.dataset == "prices")
    assert prices_outcome.reasons == {"ohlc_inconsistent": 1}
    assert prices_outcome.rows_loaded == 7
    # Members from their first valid price date, open-ended; known AAA is not re-registered
    universe = _universe(ctx)
    mine = universe[universe["universe"] == "my_ideas"].set_index("symbol")
    assert sorted(mine.index) == ["NEWA", "NEWB", "NEWC"]
    assert mine["start_date"].dt.strftime("%Y-%m-%d").to_dict() == {
        "NEWA": "2024-01-03",
        "NEWB": "2024-01-02",
        "NEWC": "2024-01-05",
    }
    assert mine["end_date"].isna().all()
    assert len(universe[universe["universe"] == "us_large_cap"]) == 2  # untouched


def test_a_registered_universe_is_listed_and_readable_by_scenarios(
    known_lake: IngestionContext,
) -> None:
    ctx = known_lake
    prices = HEADER + _rows("NEWA", ["2024-01-02", "2024-01-03"]) + _rows("NEWB", ["2024-01-03"])
    _drop(ctx, "landing/run-2/", {"prices.csv": prices})
    _ingest(ctx, "landing/run-2/", batch="mine")
    listed = lake_universes(ctx.snapshots)
    assert listed.snapshot_id == ctx.snapshots.latest("universe").snapshot_id
    counts = {u.name: (u.members, u.symbols) for u in listed.universes or []}
    assert counts == {"mine": (2, 2), "us_large_cap": (1, 2)}
    data, read = load_scenario_data(
        ["prices"],
        universe="mine",
        tickers=None,
        start=pd.Timestamp("2024-01-01").date(),
        end=None,
        lake=Lake(ctx.store, ctx.snapshots),
    )
    assert sorted(data.prices["symbol"].unique()) == ["NEWA", "NEWB"]
    assert "universe" in read


def test_newer_prices_of_registered_tickers_register_nothing_again(
    known_lake: IngestionContext,
) -> None:
    ctx = known_lake
    _drop(ctx, "landing/a/", {"prices.csv": HEADER + _rows("NEWA", ["2024-01-02"])})
    assert _ingest(ctx, "landing/a/", batch="first").sources[0].registered is not None
    _drop(ctx, "landing/b/", {"prices.csv": HEADER + _rows("NEWA", ["2024-01-03"])})
    again = _ingest(ctx, "landing/b/", batch="second")
    assert again.status == "succeeded", again.message
    assert again.sources[0].registered is None
    assert set(_universe(ctx)["universe"]) == {"us_large_cap", "first"}


def test_a_named_universe_takes_every_ticker_of_the_batch(known_lake: IngestionContext) -> None:
    ctx = known_lake
    prices = HEADER + _rows("AAA", ["2024-01-02"]) + _rows("ZZZ", ["2024-01-03"])
    _drop(ctx, "landing/c/", {"prices.csv": prices})
    summary = _ingest(ctx, "landing/c/", universe="watch")
    assert summary.sources[0].registered.symbols == 2
    # the same files into another named universe are another batch, not "already applied"
    other = _ingest(ctx, "landing/c/", universe="watch_two")
    assert other.sources[0].already_applied is None
    assert other.sources[0].registered.symbols == 2
    # into the same one again: nothing to do
    assert _ingest(ctx, "landing/c/", universe="watch").sources[0].already_applied
    universe = _universe(ctx)
    assert sorted(universe.loc[universe["universe"] == "watch", "symbol"]) == ["AAA", "ZZZ"]


def test_other_datasets_of_new_tickers_load_with_their_prices_and_are_hinted_without(
    known_lake: IngestionContext,
) -> None:
    ctx = known_lake
    sentiment = "date,symbol,score,mentions\n2024-01-02,NEWA,0.5,3\n2024-01-02,GHOST,0.1,1\n"
    _drop(
        ctx,
        "landing/d/",
        {"prices.csv": HEADER + _rows("NEWA", ["2024-01-02"]), "sentiment.csv": sentiment},
    )
    summary = _ingest(ctx, "landing/d/")
    outcome = next(d for d in summary.sources[0].datasets if d.dataset == "sentiment")
    assert (outcome.rows_loaded, outcome.reasons) == (1, {"unknown_symbol": 1})
    assert any("ingest their prices first" in note for note in outcome.notes)
    assert summary.sources[0].registered.universe == "d"


def test_scenarios_needing_sectors_say_so_on_registered_tickers(
    known_lake: IngestionContext,
) -> None:
    ctx = known_lake
    days = [d.strftime("%Y-%m-%d") for d in pd.bdate_range("2023-01-02", periods=300)]
    prices = HEADER + _rows("NEWA", days) + _rows("NEWB", days, close=20.0)
    _drop(ctx, "landing/e/", {"prices.csv": prices})
    _ingest(ctx, "landing/e/")
    data, _ = load_scenario_data(
        ["prices", "sectors"],
        universe="e",
        tickers=None,
        start=pd.Timestamp(days[0]).date(),
        end=None,
        lake=Lake(ctx.store, ctx.snapshots),
    )
    assert data.sectors is not None and data.sectors.empty  # the lake's sectors know none
    spec = get_spec("sector_rotation")
    assert spec is not None
    with pytest.raises(ScenarioInputError) as refused:
        runner("sector_rotation")(data, spec.params_model(universe="e"))
    assert refused.value.field == "sectors"
    assert "sectors" in str(refused.value)
