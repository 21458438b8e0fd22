"""Market cap across a split: split-adjusted close x split-consistent shares equals the true
(unadjusted close x as-reported shares) market cap, on the sample's 2:1 split name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.ingestion.sources.sample import EVENTS, generate
from scenarios.base import ScenarioData
from scenarios.factor_ladder import Params as LadderParams
from scenarios.factor_ladder.compute import run as run_ladder
from scenarios.pointintime import fundamentals_as_of, split_adjusted
from scenarios.quality import QualityLog


@pytest.fixture(scope="module")
def sample() -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    return generate()


def _splits(extras: dict[str, pd.DataFrame]) -> pd.DataFrame:
    actions = extras["corporate_actions"]
    return actions[actions["action"] == "split"][["symbol", "date", "ratio"]]


def test_market_cap_moves_only_with_the_price_across_the_split_and_the_next_report(
    sample,
) -> None:
    # Given the split name's daily closes from two months before the split to after the first
    # report with post-split shares (its share count otherwise never changes in the sample)
    frames, extras = sample
    symbol = extras["corporate_actions"]["symbol"].iloc[0]
    close = frames["prices"].set_index(["symbol", "date"])["close"][symbol]
    close = close["2024-04-01":"2024-10-31"]
    adjusted = split_adjusted(frames["fundamentals"], _splits(extras))
    # When
    shares = np.array(
        [
            fundamentals_as_of(adjusted, [symbol], day, QualityLog()).loc[
                symbol, "shares_outstanding"
            ]
            for day in close.index
        ]
    )
    cap = close.to_numpy() * shares
    # Then the market cap changes day to day exactly as the price does: no 2x step on the
    # day the report with post-split shares arrives
    np.testing.assert_allclose(cap[1:] / cap[:-1], close.to_numpy()[1:] / close.to_numpy()[:-1])
    # and it is the true one: unadjusted close x shares outstanding before the split
    raw = extras["prices_unadjusted"].set_index(["symbol", "date"])["close"][symbol]
    first = close.index[0]
    reported = fundamentals_as_of(frames["fundamentals"], [symbol], first, QualityLog())
    assert cap[0] == pytest.approx(raw[first] * reported.loc[symbol, "shares_outstanding"])


def test_the_split_name_keeps_its_size_in_the_ladder(sample) -> None:
    frames, extras = sample
    symbol = extras["corporate_actions"]["symbol"].iloc[0]
    data = ScenarioData(
        prices=frames["prices"],
        fundamentals=frames["fundamentals"],
        sectors=frames["sectors"],
        splits=_splits(extras),
    )
    params = LadderParams(universe="us_all", as_of=pd.Timestamp("2024-07-15").date())
    after_report = LadderParams(universe="us_all", as_of=pd.Timestamp("2024-08-14").date())
    # When: between the split and the next report, then just after that report
    between = {r["symbol"]: r["size"] for r in run_ladder(data, params).rows}
    reported = {r["symbol"]: r["size"] for r in run_ladder(data, after_report).rows}
    # Then the size score barely moves (no 2x jump in market cap when the report catches up)
    assert between[symbol] == pytest.approx(reported[symbol], abs=0.15)
    assert np.isfinite(between[symbol])
    assert pd.Timestamp(EVENTS.split_date) < pd.Timestamp("2024-07-15")
