"""factor_tearsheet point in time: each formation date ranks exactly that date's universe
members (delisted and late-listed names included where they traded), checked against an
independent pandas/scipy computation; overlapping horizons get a Newey-West t-stat."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from statsmodels.api import OLS

from scenarios.base import ScenarioData
from scenarios.factor_tearsheet import Params
from scenarios.factor_tearsheet.compute import newey_west_t, run

N_DAYS = 400


def _world() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(17)
    dates = pd.bdate_range("2022-01-03", periods=N_DAYS)
    symbols = [f"S{j}" for j in range(8)]
    close = 30 * np.exp(np.cumsum(rng.normal(0, 0.02, (N_DAYS, 8)), axis=0))
    wide = pd.DataFrame(close, index=dates, columns=symbols)
    wide.loc[dates[300] :, "S6"] = np.nan  # S6 stops trading (delisted)
    wide.loc[: dates[199], "S7"] = np.nan  # S7 lists late, short of warm-up + window
    long = wide.stack().rename("close").reset_index()
    long.columns = ["date", "symbol", "close"]
    universe = pd.DataFrame(
        {
            "universe": "us_all",
            "symbol": symbols,
            "start_date": [dates[0]] * 7 + [dates[200]],
            "end_date": [pd.NaT] * 6 + [dates[301], pd.NaT],
        }
    )
    # S0 leaves the universe (still trading) for sessions 250-279
    universe.loc[0, "end_date"] = dates[250]
    universe = pd.concat(
        [
            universe,
            pd.DataFrame({"universe": ["us_all"], "symbol": ["S0"], "start_date": [dates[280]]}),
        ],
        ignore_index=True,
    )
    return long, universe


def _reference(long: pd.DataFrame, universe: pd.DataFrame, params: Params, h: int) -> list[float]:
    wide = long.pivot(index="date", columns="symbol", values="close")
    held = wide.ffill()  # a delisted name is held at its last price
    dates = wide.index
    last = len(dates) - 1
    first = last - params.evaluation_window + 1
    rank_ics = []
    for t in range(last - max(params.horizons), first - 1, -params.rebalance_every)[::-1]:
        day = dates[t]
        member = (universe["start_date"] <= day) & (
            universe["end_date"].isna() | (universe["end_date"] > day)
        )
        names = sorted(set(universe.loc[member, "symbol"]))
        exposure = 1 - wide.iloc[t] / wide.iloc[t - 21]
        forward = held.iloc[t + h] / held.iloc[t] - 1
        frame = pd.DataFrame({"x": exposure, "y": forward}).loc[names].dropna()
        if len(frame) >= 3:
            rank_ics.append(spearmanr(frame["x"], frame["y"]).statistic)
    return rank_ics


def test_each_formation_date_ranks_the_members_of_that_date() -> None:
    long, universe = _world()
    params = Params(
        universe="us_all", factor="reversal_1m", evaluation_window=252, horizons=[5, 21]
    )
    # When
    result = run(ScenarioData(prices=long, universe=universe), params)
    # Then
    rows = {r["horizon"]: r for r in result.rows}
    for h in (5, 21):
        expected = _reference(long, universe, params, h)
        assert rows[f"{h}d"]["dates"] == len(expected)
        assert rows[f"{h}d"]["mean_rank_ic"] == pytest.approx(np.mean(expected), rel=1e-5)
    assert result.data_quality.assets_used == 8
    assert "S6" not in result.data_quality.dropped and "S7" not in result.data_quality.dropped


def test_newey_west_t_equals_statsmodels_hac_on_a_constant() -> None:
    rng = np.random.default_rng(5)
    values = np.convolve(rng.normal(0.02, 0.1, 80), np.ones(4) / 4, mode="valid")
    for lags in (0, 1, 4):
        fit = OLS(values, np.ones(len(values))).fit(
            cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}
        )
        assert newey_west_t(list(values), lags) == pytest.approx(fit.tvalues[0], rel=1e-10)


def test_overlapping_horizons_report_both_t_stats() -> None:
    long, universe = _world()
    params = Params(
        universe="us_all", factor="reversal_1m", evaluation_window=252, horizons=[5, 21]
    )
    rows = {r["horizon"]: r for r in run(ScenarioData(prices=long, universe=universe), params).rows}
    # 5-session steps: a 5d horizon does not overlap (0 lags), a 21d one overlaps 4 steps
    assert rows["5d"]["rank_ic_t_nw"] is not None and rows["21d"]["rank_ic_t_nw"] is not None
    assert rows["21d"]["rank_ic_t_nw"] != pytest.approx(rows["21d"]["rank_ic_t"], rel=1e-3)


def test_a_cross_sectional_scenario_uses_the_members_on_as_of() -> None:
    from scenarios.base import ScenarioInputError  # noqa: PLC0415
    from scenarios.trend_strength import Params as TrendParams  # noqa: PLC0415
    from scenarios.trend_strength.compute import run as run_trend  # noqa: PLC0415

    long, universe = _world()
    long = long.assign(high=long["close"] * 1.01, low=long["close"] * 0.99)
    # on session 260: S0 is out of the universe (though trading), S6 still in, S7 too new
    as_of = pd.bdate_range("2022-01-03", periods=N_DAYS)[260].date()
    data = ScenarioData(prices=long, universe=universe)
    result = run_trend(data, TrendParams(universe="us_all", as_of=as_of, momentum_lookback=63))
    assert sorted(r["symbol"] for r in result.rows) == ["S1", "S2", "S3", "S4", "S5", "S6"]
    assert set(result.data_quality.dropped) == {"S7"}
    with pytest.raises(ScenarioInputError, match="member") as caught:
        run_trend(data, TrendParams(universe="us_mid_cap", as_of=as_of, momentum_lookback=63))
    assert caught.value.field == "universe"
