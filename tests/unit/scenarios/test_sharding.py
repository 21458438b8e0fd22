"""Sharded scenario runs: every shard reduced together gives exactly the single worker's result.

The result JSON (rows, series, narrative, data-quality counts and notes) is compared for
equality, not closeness: shards compute every per-asset value with the same arithmetic as one
whole panel (column-wise numpy along dates), and the reduce runs the cross-sectional steps on
the stacked values in the same symbol order.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from scenarios.base import ScenarioData, ScenarioInputError, ScenarioParams
from scenarios.frames import PRICES
from scenarios.panel import ShardCalendarError
from scenarios.partial import ShardPartial
from scenarios.registry import SCENARIO_IDS, get_spec, runner
from scenarios.sharding import (
    SHAPES,
    SHARD_THRESHOLD_ASSETS,
    plan_shards,
    reduce_shards,
    restrict,
    run_shard,
    shard_shape,
    should_shard,
)
from tests.unit.scenarios.conftest import synthetic_data

#: parameters that fit the synthetic history and keep the suite fast
SMALL_PARAMS: dict[str, dict[str, object]] = {
    "trend_strength": {"adx_period": 5, "ma_window": 20, "slope_window": 5},
    "factor_tearsheet": {"evaluation_window": 100},
}
SHARDED = [s for s in SCENARIO_IDS if shard_shape(s) != "single"]
#: assets per shard in the tests: several shards on a 23-asset universe
MAX_ASSETS = 4


def params_for(scenario_id: str, **extra: object) -> ScenarioParams:
    spec = get_spec(scenario_id)
    assert spec is not None
    return spec.params_model(**SMALL_PARAMS.get(scenario_id, {}), **extra)


def dirty(data: ScenarioData) -> ScenarioData:
    """The synthetic universe with the defects load_panel counts, spread over several shards.

    A00 misses sessions (forward-filled), A05 has bad prices, A09 a duplicated row and an
    unparseable date, A13 stops trading early, A17 lists late (short history); A02 and A10
    have unscored sentiment rows, A03 and A15 announcements without EPS, A06 and A18 no book
    equity, A11 no fundamentals at all.
    """
    prices = data.prices.copy()
    dates = pd.DatetimeIndex(sorted(prices["date"].unique()))
    gone = (prices["symbol"] == "A00") & prices["date"].isin(dates[200:203])
    late = (prices["symbol"] == "A17") & (prices["date"] < dates[300])
    stopped = (prices["symbol"] == "A13") & (prices["date"] > dates[350])
    prices = prices[~(gone | late | stopped)].copy()
    prices.loc[(prices["symbol"] == "A05") & prices["date"].isin(dates[100:104]), "close"] = -1.0
    extra = prices[(prices["symbol"] == "A09")].tail(1).copy()
    undated = extra.copy().astype({"date": object})
    undated["date"] = None
    sentiment = data.sentiment.copy()
    sentiment.loc[
        sentiment["symbol"].isin(["A02", "A10"]).to_numpy().nonzero()[0][::40], "score"
    ] = np.nan
    earnings = data.earnings.copy()
    earnings.loc[
        earnings["symbol"].isin(["A03", "A15"]).to_numpy().nonzero()[0][::3], "eps_actual"
    ] = np.nan
    fundamentals = data.fundamentals.copy()
    fundamentals.loc[fundamentals["symbol"].isin(["A06", "A18"]), "book_equity"] = np.nan
    fundamentals = fundamentals[fundamentals["symbol"] != "A11"]
    return replace(
        data,
        prices=pd.concat([prices, extra, undated], ignore_index=True),
        sentiment=sentiment,
        earnings=earnings,
        fundamentals=fundamentals,
    )


@pytest.fixture(scope="module")
def universe() -> ScenarioData:
    return dirty(synthetic_data(n_assets=23, n_days=420, seed=11))


def sharded(
    scenario_id: str, data: ScenarioData, params: ScenarioParams, max_assets: int = MAX_ASSETS
):
    """Plan, run every shard on its own slice (through bytes, as on the cloud) and reduce."""
    symbols = data.prices["symbol"].dropna().unique().tolist()
    shards = plan_shards(scenario_id, params, symbols, max_assets=max_assets)
    json.dumps(shards)
    partials = [
        ShardPartial.from_bytes(
            run_shard(scenario_id, restrict(data, shard["symbols"]), params, shard).to_bytes()
        )
        for shard in reversed(shards)  # the reduce does not depend on arrival order
    ]
    context = replace(
        data,
        prices=pd.DataFrame(columns=list(PRICES)),
        fundamentals=None,
        earnings=None,
        sentiment=None,
        splits=None,
    )
    return len(shards), reduce_shards(scenario_id, partials, context, params)


def as_json(result) -> str:
    return json.dumps(result.model_dump(mode="json"), sort_keys=True)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_scenario_declares_a_shape(scenario_id: str) -> None:
    spec = get_spec(scenario_id)
    assert spec is not None and spec.shard_shape in SHAPES


@pytest.mark.parametrize("scenario_id", SHARDED)
def test_sharded_run_equals_single_worker(scenario_id: str, universe: ScenarioData) -> None:
    # Given a 23-asset universe with gaps, bad rows, a delisting and a late listing
    params = params_for(scenario_id, as_of=pd.Timestamp("2022-07-01").date())
    single = runner(scenario_id)(universe, params)
    # When it runs in shards of at most 4 assets
    n_shards, result = sharded(scenario_id, universe, params)
    # Then the result is the single worker's, byte for byte, counts and notes included
    assert n_shards >= 5
    assert single.data_quality.notes
    assert as_json(result) == as_json(single)


@pytest.mark.parametrize(
    ("scenario_id", "extra"),
    [
        ("factor_tearsheet", {"factor": "value"}),
        ("factor_ladder", {"sector_neutral": True}),
        ("pairs_cointegration", {"max_assets": 5, "same_sector": False}),
        ("risk_watchlist", {"benchmark": "A07"}),
    ],
)
def test_sharded_variants_equal_single_worker(
    scenario_id: str, extra: dict[str, object], universe: ScenarioData
) -> None:
    # Given a fundamental factor, sector-neutral scores, a liquidity screen cutting inside the
    # shards, a benchmark asset; When sharded; Then the same result
    params = params_for(scenario_id, **extra)
    single = runner(scenario_id)(universe, params)
    assert as_json(sharded(scenario_id, universe, params)[1]) == as_json(single)


@pytest.mark.parametrize("scenario_id", SHARDED)
def test_sharded_universe_members_equal_single_worker(
    scenario_id: str, universe: ScenarioData
) -> None:
    # Given membership intervals: A03 leaves the universe, A20 joins late, A22 never a member
    dates = pd.DatetimeIndex(sorted(universe.prices["date"].dropna().unique()))
    symbols = [f"A{i:02d}" for i in range(22)]
    members = pd.DataFrame(
        {
            "universe": "us_large_cap",
            "symbol": symbols,
            "start_date": [dates[250] if s == "A20" else dates[0] for s in symbols],
            "end_date": [dates[300] if s == "A03" else pd.NaT for s in symbols],
        }
    )
    data = replace(universe, universe=members)
    params = params_for(scenario_id)
    # When / Then
    single = runner(scenario_id)(data, params)
    assert as_json(sharded(scenario_id, data, params)[1]) == as_json(single)


@pytest.mark.parametrize("scenario_id", SHARDED)
def test_sharded_tickers_and_sector_equal_single_worker(
    scenario_id: str, universe: ScenarioData
) -> None:
    # Given explicit tickers (one unknown) restricted to a sector
    tickers = ["A01", "A04", "A05", "A08", "A12", "A13", "A16", "A20", "NOPE"]
    params = params_for(scenario_id, tickers=tickers, sector="Communication Services")
    # When / Then
    single = runner(scenario_id)(universe, params)
    _, result = sharded(scenario_id, universe, params, max_assets=2)
    assert "NOPE" in result.data_quality.dropped
    assert as_json(result) == as_json(single)


@pytest.mark.parametrize("scenario_id", SHARDED)
def test_sharded_errors_are_the_single_workers(scenario_id: str, universe: ScenarioData) -> None:
    # Given tickers none of which has data; When sharded; Then the same 4xx-style error
    params = params_for(scenario_id, tickers=["NOPE", "NADA"])
    with pytest.raises(ScenarioInputError) as single:
        runner(scenario_id)(universe, params)
    with pytest.raises(ScenarioInputError) as shards:
        sharded(scenario_id, universe, params)
    assert (str(shards.value), shards.value.field) == (str(single.value), single.value.field)


def test_shards_that_saw_different_sessions_are_refused(universe: ScenarioData) -> None:
    # Given one shard whose assets all miss a session the others have
    prices = universe.prices
    day = pd.Timestamp(sorted(prices["date"].dropna().unique())[380])
    thin = ~(prices["symbol"].isin(["A20", "A21", "A22"]) & (prices["date"] == day))
    data = replace(universe, prices=prices[thin])
    params = params_for("trend_strength")
    # When / Then: no merged result (it would differ from the single worker's)
    with pytest.raises(ShardCalendarError):
        sharded("trend_strength", data, params)


def test_plan_is_deterministic_even_and_json() -> None:
    symbols = [f"S{i:03d}" for i in range(10)]
    params = params_for("trend_strength")
    plan = plan_shards("trend_strength", params, symbols[::-1], 4)
    assert [len(s["symbols"]) for s in plan] == [4, 3, 3]
    assert [s["index"] for s in plan] == [0, 1, 2]
    assert [symbol for s in plan for symbol in s["symbols"]] == symbols
    assert plan == plan_shards("trend_strength", params_for("trend_strength"), symbols, 4)
    # never a one-asset shard
    assert [len(s["symbols"]) for s in plan_shards("trend_strength", params, symbols[:5], 2)] == [
        3,
        2,
    ]
    with pytest.raises(ValueError, match="at least 2"):
        plan_shards("trend_strength", params, symbols, 1)


def test_partial_bytes_round_trip_exactly() -> None:
    # Given a frame with floats (NaN, -0.0, subnormal), ints, bools, text and dates
    frame = pd.DataFrame(
        {
            "x": [np.nan, -0.0, 5e-324, 1 / 3],
            "n": [1, 2, 3, 4],
            "b": [True, False, True, False],
            "t": ["a", None, "c", "d"],
            "d": pd.to_datetime(["2024-01-02", None, "2024-01-04", "2024-01-05"]),
        },
        index=pd.Index(["A", "B", "C", "D"], name="symbol"),
    )
    wide = pd.DataFrame(
        np.arange(6.0).reshape(3, 2),
        index=pd.bdate_range("2024-01-01", periods=3),
        columns=pd.Index(["A", "B"], name="symbol"),
    )
    original = ShardPartial(frame=frame, meta={"k": [1, "x"]}, frames={"w": wide})
    # When
    back = ShardPartial.from_bytes(original.to_bytes())
    # Then
    assert back.meta == {"k": [1, "x"]}
    np.testing.assert_array_equal(
        back.frame["x"].to_numpy().view(np.int64), frame["x"].to_numpy().view(np.int64)
    )
    pd.testing.assert_frame_equal(back.frame, frame)
    pd.testing.assert_frame_equal(back.frames["w"], wide, check_freq=False)
    with pytest.raises(ValueError, match="magic"):
        ShardPartial.from_bytes(b"not a partial")


def test_threshold_decides_sharding() -> None:
    assert not should_shard("trend_strength", SHARD_THRESHOLD_ASSETS)
    assert should_shard("trend_strength", SHARD_THRESHOLD_ASSETS + 1)
    assert should_shard("trend_strength", None)  # size not known yet: the workflow plans it
    assert not should_shard("trend_strength", 10, threshold=10)
    assert should_shard("trend_strength", 11, threshold=10)


def test_choosing_and_planning_import_no_pandas() -> None:
    code = (
        "import sys; from scenarios.sharding import plan_shards, should_shard; "
        "from scenarios.trend_strength import Params; "
        "should_shard('trend_strength', 10); plan_shards('trend_strength', Params(), ['A', 'B']); "
        "print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
