"""breakout_scanner and sector_rotation on hand-built price paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.base import ScenarioData, ScenarioInputError
from scenarios.breakout_scanner import Params as BreakoutParams
from scenarios.breakout_scanner.compute import run as run_breakout
from scenarios.sector_rotation import Params as RotationParams
from scenarios.sector_rotation.compute import run as run_rotation

N_DAYS = 70
DATES = pd.bdate_range("2024-01-01", periods=N_DAYS)


def reference_z(values: np.ndarray, limit: float = 0.01) -> np.ndarray:
    """Independent winsorised z-score: clip at the quantiles, then (w - mean) / std (ddof 0)."""
    x = np.asarray(values, dtype=float)
    low, high = np.quantile(x, [limit, 1 - limit])
    w = np.clip(x, low, high)
    return (w - w.mean()) / w.std()  # type: ignore[no-any-return]


def ohlcv(symbol: str, close: np.ndarray, volume: np.ndarray) -> pd.DataFrame:
    """High = close + 1, low = close - 1."""
    return pd.DataFrame(
        {
            "date": DATES,
            "symbol": symbol,
            "open": close,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": volume,
        }
    )


def breakout_case() -> ScenarioData:
    """Closes at 100 (volume 1e6) for 69 sessions, then on the last session:

    * UP jumps to 110 on 3x volume; DOWN drops to 90 on 2x volume;
    * QUIET rises to 105 on 1.4x volume (below the 1.5x needed);
    * FLAT stays at 100; it spiked to 120 at session 20 (inside the 63-session window) and to
      200 at session 3 (outside it).
    """
    flat = np.full(N_DAYS, 100.0)
    volume = np.full(N_DAYS, 1e6)

    def last(close: float, vol: float) -> tuple[np.ndarray, np.ndarray]:
        c, v = flat.copy(), volume.copy()
        c[-1], v[-1] = close, vol
        return c, v

    spiky = flat.copy()
    spiky[3], spiky[20] = 200.0, 120.0
    frames = [
        ohlcv("UP", *last(110.0, 3e6)),
        ohlcv("DOWN", *last(90.0, 2e6)),
        ohlcv("QUIET", *last(105.0, 1.4e6)),
        ohlcv("FLAT", spiky, volume),
    ]
    return ScenarioData(prices=pd.concat(frames, ignore_index=True))


BREAKOUT_PARAMS = {"high_window": 63, "donchian_window": 5, "volume_window": 5}


def test_breakout_table_by_hand() -> None:
    # Given / When
    result = run_breakout(breakout_case(), BreakoutParams(**BREAKOUT_PARAMS))
    rows = {r["symbol"]: r for r in result.rows}
    # Then the 52-week high includes today's high and only the last 63 sessions
    assert {s: rows[s]["high_52w"] for s in rows} == {
        "UP": 111.0,
        "DOWN": 101.0,
        "QUIET": 106.0,
        "FLAT": 121.0,
    }
    assert rows["UP"]["pct_from_high"] == pytest.approx(110 / 111 - 1, rel=1e-5)
    assert rows["FLAT"]["pct_from_high"] == pytest.approx(100 / 121 - 1, rel=1e-5)
    assert [rows[s]["at_high"] for s in ("UP", "DOWN", "QUIET", "FLAT")] == [
        "yes",
        "no",
        "yes",
        "no",
    ]
    assert [rows[s]["days_since_high"] for s in ("UP", "DOWN", "QUIET", "FLAT")] == [0, 1, 0, 49]
    # Then the Donchian channel is the 5 sessions before today: 101 / 99 for everyone
    for row in result.rows:
        assert (row["channel_high"], row["channel_low"]) == (101.0, 99.0)
    assert {s: rows[s]["breakout"] for s in rows} == {
        "UP": "up",
        "DOWN": "down",
        "QUIET": "up",
        "FLAT": "none",
    }
    # Then volume is compared with the 5 sessions before today; 1.4x does not confirm
    assert {s: rows[s]["volume_ratio"] for s in rows} == {
        "UP": 3.0,
        "DOWN": 2.0,
        "QUIET": 1.4,
        "FLAT": 1.0,
    }
    assert {s: rows[s]["confirmed"] for s in rows} == {
        "UP": "yes",
        "DOWN": "yes",
        "QUIET": "no",
        "FLAT": "no",
    }


def test_breakout_score_and_rank_by_hand() -> None:
    # Given the same paths, in row order UP, DOWN, QUIET, FLAT
    pct_from_high = np.array([110 / 111, 90 / 101, 105 / 106, 100 / 121]) - 1
    volume_ratio = np.array([3.0, 2.0, 1.4, 1.0])
    position = (np.array([110.0, 90.0, 105.0, 100.0]) - 99) / (101 - 99)
    bonus = np.array([1.0, -1.0, 0.0, 0.0])
    expected = (
        reference_z(pct_from_high) + reference_z(volume_ratio) + reference_z(position)
    ) / 3 + bonus
    # When
    result = run_breakout(breakout_case(), BreakoutParams(**BREAKOUT_PARAMS))
    # Then
    symbols = ["UP", "DOWN", "QUIET", "FLAT"]
    rows = {r["symbol"]: r for r in result.rows}
    for symbol, score in zip(symbols, expected, strict=True):
        assert rows[symbol]["score"] == pytest.approx(score, rel=1e-5)
    assert [r["symbol"] for r in result.rows] == [symbols[k] for k in np.argsort(-expected)]
    assert result.rows[0]["symbol"] == "UP" and result.rows[-1]["symbol"] == "DOWN"
    assert result.narrative[0].text.startswith(
        "1 confirmed upside breakouts and 1 confirmed breakdowns among 4 assets"
    )


def test_breakout_volume_multiple_is_inclusive() -> None:
    # Given QUIET's 1.4x volume, When the multiple is exactly 1.4, Then it confirms
    result = run_breakout(breakout_case(), BreakoutParams(**BREAKOUT_PARAMS, volume_multiple=1.4))
    assert next(r for r in result.rows if r["symbol"] == "QUIET")["confirmed"] == "yes"


def rotation_case() -> tuple[ScenarioData, dict[str, np.ndarray]]:
    """Daily simple returns per asset (closes from 100); sectors:

    Tech: T1 +0.2%/day, T2 +0.1%/day. Energy: E1 -1%/day then +3%/day for the last 5
    sessions, E2 flat. Utilities: U1 alone (below min_members). NOSEC: unclassified.
    """
    n = N_DAYS - 1
    turn = np.where(np.arange(n) >= n - 5, 0.03, -0.01)
    returns = {
        "T1": np.full(n, 0.002),
        "T2": np.full(n, 0.001),
        "E1": turn,
        "E2": np.zeros(n),
        "U1": np.full(n, 0.005),
        "NOSEC": np.full(n, 0.01),
    }
    prices = pd.concat(
        [
            pd.DataFrame(
                {
                    "date": DATES,
                    "symbol": s,
                    "close": 100.0 * np.concatenate([[1.0], np.cumprod(1 + r)]),
                }
            )
            for s, r in returns.items()
        ],
        ignore_index=True,
    )
    sectors = pd.DataFrame(
        {
            "symbol": ["T1", "T2", "E1", "E2", "U1"],
            "sector": ["Information Technology"] * 2 + ["Energy"] * 2 + ["Utilities"],
            "industry": ["x"] * 5,
        }
    )
    return ScenarioData(prices=prices, sectors=sectors), returns


def compound(r: np.ndarray, window: int) -> float:
    return float(np.prod(1 + r[-window:]) - 1)


def test_sector_rotation_by_hand() -> None:
    # Given
    data, returns = rotation_case()
    params = RotationParams(short_window=5, medium_window=21, long_window=63)
    windows = (5, 21, 63)
    tech = (returns["T1"] + returns["T2"]) / 2
    energy = (returns["E1"] + returns["E2"]) / 2
    market = (returns["T1"] + returns["T2"] + returns["E1"] + returns["E2"]) / 4
    # When
    result = run_rotation(data, params)
    rows = {r["sector"]: r for r in result.rows}
    # Then equal-weight sector index returns compound over each window
    assert set(rows) == {"Information Technology", "Energy"}
    for name, index in (("Information Technology", tech), ("Energy", energy)):
        row = rows[name]
        columns = ("return_short", "return_medium", "return_long")
        for column, window in zip(columns, windows, strict=True):
            assert row[column] == pytest.approx(compound(index, window), rel=1e-5)
        assert row["relative_strength"] == pytest.approx(
            compound(index, 21) - compound(market, 21), rel=1e-5
        )
        assert row["members"] == 2
    # Then with two sectors each RS z-score is +-1: Energy leads over 5 sessions only, so
    # Tech scores (-1 + 1 + 1) / 3 and Energy the opposite
    assert rows["Information Technology"]["score"] == pytest.approx(1 / 3, rel=1e-5)
    assert rows["Energy"]["score"] == pytest.approx(-1 / 3, rel=1e-5)
    assert [r["sector"] for r in result.rows] == ["Information Technology", "Energy"]
    # Then leaders: best medium-window member return
    assert rows["Information Technology"]["leader"] == "T1"
    assert rows["Information Technology"]["leader_return"] == pytest.approx(1.002**21 - 1, rel=1e-5)
    assert rows["Energy"]["leader"] == "E2" and rows["Energy"]["leader_return"] == 0.0
    # Then Energy is turning up (short window positive, long negative) and the skips are reported
    assert any(c.row == "Energy" and c.field == "return_short" for c in result.narrative)
    assert result.data_quality.dropped == {"NOSEC": "no sector classification"}
    assert "sector Utilities skipped: 1 member(s) < 2" in result.data_quality.notes
    assert result.data_quality.assets_used == 4
    cumulative = result.series[0].y["Energy"]
    assert cumulative[-1] == pytest.approx(compound(energy, 63), rel=1e-5)


def test_sector_rotation_score_averages_three_windows() -> None:
    # Given three sectors, so the z-scores are not just +-1
    data, returns = rotation_case()
    assert data.sectors is not None
    sectors = data.sectors.copy()
    sectors.loc[sectors["symbol"] == "U1", "sector"] = "Utilities"
    sectors = pd.concat(
        [sectors, pd.DataFrame({"symbol": ["NOSEC"], "sector": ["Utilities"], "industry": ["x"]})]
    )
    params = RotationParams(short_window=5, medium_window=21, long_window=63)
    # When
    result = run_rotation(ScenarioData(prices=data.prices, sectors=sectors), params)
    # Then score = mean over windows of the (not winsorised) z-score of RS across sectors
    index = {
        "Energy": (returns["E1"] + returns["E2"]) / 2,
        "Information Technology": (returns["T1"] + returns["T2"]) / 2,
        "Utilities": (returns["U1"] + returns["NOSEC"]) / 2,
    }
    market = sum(returns[s] for s in ("T1", "T2", "E1", "E2", "U1", "NOSEC")) / 6
    names = sorted(index)
    z = []
    for window in (5, 21, 63):
        rs = np.array([compound(index[n], window) - compound(market, window) for n in names])
        z.append((rs - rs.mean()) / rs.std())
    expected = np.mean(z, axis=0)
    rows = {r["sector"]: r for r in result.rows}
    for name, score in zip(names, expected, strict=True):
        assert rows[name]["score"] == pytest.approx(score, rel=1e-5)
    assert [r["sector"] for r in result.rows] == [names[k] for k in np.argsort(-expected)]


def test_sector_rotation_without_a_full_sector_names_min_members() -> None:
    data, _ = rotation_case()
    with pytest.raises(ScenarioInputError) as err:
        run_rotation(
            data, RotationParams(short_window=5, medium_window=21, long_window=63, min_members=3)
        )
    assert err.value.field == "min_members"
