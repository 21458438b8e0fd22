"""macro_sensitivity and sentiment_blend on constructed data with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.base import ScenarioData, ScenarioInputError
from scenarios.macro_sensitivity import Params as MacroParams
from scenarios.macro_sensitivity.compute import FACTORS
from scenarios.macro_sensitivity.compute import run as run_macro
from scenarios.sentiment_blend import Params as SentimentParams
from scenarios.sentiment_blend.compute import run as run_sentiment

#: true betas (rates, inflation, usd, oil) of the constructed assets
TRUE_BETAS = {
    "AAA": (0.5, -1.0, 2.0, 0.3),
    "BBB": (0.0, 0.0, 0.0, 1.2),
    "CCC": (0.0, 0.0, 0.0, 0.0),
}
N_DAYS = 120
WINDOW = 63


def reference_z(values: np.ndarray, limit: float = 0.01) -> np.ndarray:
    """Independent winsorised z-score: clip at the quantiles, then (w - mean) / std (ddof 0)."""
    x = np.asarray(values, dtype=float)
    ok = np.isfinite(x)
    low, high = np.quantile(x[ok], [limit, 1 - limit])
    w = np.clip(x[ok], low, high)
    out = np.full(len(x), np.nan)
    out[ok] = (w - w.mean()) / w.std()
    return out


def macro_case() -> tuple[ScenarioData, np.ndarray, dict[str, np.ndarray]]:
    """Macro levels from seeded random changes; asset log returns = 2e-4 + changes @ beta +
    noise. Returns the data, the (n-1, 4) factor changes and each asset's log returns."""
    rng = np.random.default_rng(5)
    dates = pd.bdate_range("2024-01-01", periods=N_DAYS)
    d_rates = rng.normal(0, 0.05, N_DAYS - 1)
    d_inflation = rng.normal(0, 0.02, N_DAYS - 1)
    d_usd = rng.normal(0, 0.005, N_DAYS - 1)
    d_oil = rng.normal(0, 0.02, N_DAYS - 1)
    changes = np.column_stack([d_rates, d_inflation, d_usd, d_oil])
    levels = {
        "rate_10y": 4.0 + np.concatenate([[0.0], np.cumsum(d_rates)]),
        "inflation": 3.0 + np.concatenate([[0.0], np.cumsum(d_inflation)]),
        "usd": 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(d_usd)])),
        "oil": 70.0 * np.exp(np.concatenate([[0.0], np.cumsum(d_oil)])),
        "rate_2y": np.full(N_DAYS, 3.5),
    }
    macro = pd.concat(
        [pd.DataFrame({"date": dates, "series": s, "value": v}) for s, v in levels.items()],
        ignore_index=True,
    ).assign(release_date=lambda m: m["date"])  # released the same day: betas are contemporaneous
    returns = {
        symbol: 2e-4 + changes @ np.array(beta) + rng.normal(0, 0.001, N_DAYS - 1)
        for symbol, beta in TRUE_BETAS.items()
    }
    prices = pd.concat(
        [
            pd.DataFrame(
                {
                    "date": dates,
                    "symbol": symbol,
                    "close": 50.0 * np.exp(np.concatenate([[0.0], np.cumsum(r)])),
                }
            )
            for symbol, r in returns.items()
        ],
        ignore_index=True,
    )
    return ScenarioData(prices=prices, macro=macro), changes, returns


def test_macro_betas_t_stats_and_r_squared_match_lstsq() -> None:
    # Given assets with known betas to the four factor changes
    data, changes, returns = macro_case()
    x = np.column_stack([np.ones(WINDOW), changes[-WINDOW:]])
    # When
    result = run_macro(data, MacroParams(window=WINDOW))
    # Then every row matches an independent OLS on the last `window` sessions
    rows = {r["symbol"]: r for r in result.rows}
    assert set(rows) == set(TRUE_BETAS)
    for symbol, true_beta in TRUE_BETAS.items():
        y = returns[symbol][-WINDOW:]
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ beta
        s2 = resid @ resid / (WINDOW - 5)
        se = np.sqrt(np.diag(s2 * np.linalg.inv(x.T @ x)))
        r2 = 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))
        row = rows[symbol]
        for k, factor in enumerate(FACTORS):
            assert row[f"beta_{factor}"] == pytest.approx(beta[k + 1], rel=1e-5, abs=1e-9)
            assert row[f"t_{factor}"] == pytest.approx(beta[k + 1] / se[k + 1], rel=1e-5)
            # and the regression recovers the construction (noise is small)
            assert row[f"beta_{factor}"] == pytest.approx(true_beta[k], abs=0.1)
        assert row["r_squared"] == pytest.approx(r2, rel=1e-5)
        assert row["dominant"] == FACTORS[int(np.argmax(np.abs(beta[1:] / se[1:])))]
    # Then the ranking is by R-squared: the macro-driven names first, pure noise last
    assert [r["symbol"] for r in result.rows][-1] == "CCC"
    assert rows["BBB"]["dominant"] == "oil"
    assert rows["AAA"]["r_squared"] > 0.99 and rows["CCC"]["r_squared"] < 0.2


def test_macro_factor_without_movement_is_left_out_and_noted() -> None:
    # Given a 2-year rate pinned at 3.5% (its changes are all zero)
    data, changes, returns = macro_case()
    # When the rates factor is that series
    result = run_macro(data, MacroParams(window=WINDOW, rate_series="rate_2y"))
    # Then the rates beta is not estimated (no spurious t from a singular X'X), the other
    # betas are OLS on the three moving factors, and the data quality says so
    x = np.column_stack([np.ones(WINDOW), changes[-WINDOW:, 1:]])
    for row in result.rows:
        beta, *_ = np.linalg.lstsq(x, returns[row["symbol"]][-WINDOW:], rcond=None)
        assert row["beta_rates"] is None and row["t_rates"] is None
        assert row["dominant"] != "rates"
        for k, factor in enumerate(FACTORS[1:]):
            assert row[f"beta_{factor}"] == pytest.approx(beta[k + 1], rel=1e-5, abs=1e-9)
    assert all(claim.field != "beta_rates" for claim in result.narrative)
    assert (
        f"rate_2y does not move over the last {WINDOW} sessions: the rates beta is not "
        "estimated" in result.data_quality.notes
    )
    assert result.series[0].y and all(v is None for v in next(iter(result.series[0].y.values())))


def test_macro_missing_series_names_macro() -> None:
    data, _, _ = macro_case()
    assert data.macro is not None
    without_oil = data.macro[data.macro["series"] != "oil"]
    with pytest.raises(ScenarioInputError) as err:
        run_macro(ScenarioData(prices=data.prices, macro=without_oil), MacroParams(window=WINDOW))
    assert err.value.field == "macro" and "oil" in str(err.value)


def sentiment_case() -> tuple[ScenarioData, pd.DatetimeIndex]:
    """31 sessions to Monday 2024-02-12; the 5-session window is Tue 02-06 .. Mon 02-12.

    Closes: AAA 100 + t, BBB 100 + 2t, CCC 100 - t.
    """
    dates = pd.bdate_range("2024-01-01", periods=31)
    t = np.arange(31, dtype=float)
    prices = pd.concat(
        [
            pd.DataFrame({"date": dates, "symbol": s, "close": c})
            for s, c in (("AAA", 100 + t), ("BBB", 100 + 2 * t), ("CCC", 100 - t))
        ],
        ignore_index=True,
    )
    sentiment = pd.DataFrame(
        [
            # AAA: two posts today (0.5 x 2, 1.0 x 2) and -0.5 x 4 two sessions ago
            ("2024-02-12", "AAA", 0.5, 2.0),
            ("2024-02-12", "AAA", 1.0, 2.0),
            ("2024-02-08", "AAA", -0.5, 4.0),
            # BBB: -1.0 x 3 on Saturday (credited to Monday) and +1.0 x 1 four sessions ago
            ("2024-02-10", "BBB", -1.0, 3.0),
            ("2024-02-06", "BBB", 1.0, 1.0),
            # before the window: ignored
            ("2024-02-05", "BBB", 1.0, 100.0),
            # CCC: only 2 mentions (< min_mentions = 3)
            ("2024-02-12", "CCC", 0.9, 2.0),
        ],
        columns=["date", "symbol", "score", "mentions"],
    ).assign(date=lambda f: pd.to_datetime(f["date"]))
    return ScenarioData(prices=prices, sentiment=sentiment), dates


def test_sentiment_decay_and_mention_weighting_by_hand() -> None:
    # Given
    data, _ = sentiment_case()
    params = SentimentParams(half_life=1.0, sentiment_window=5, momentum_window=5, min_mentions=3.0)
    # When
    result = run_sentiment(data, params)
    rows = {r["symbol"]: r for r in result.rows}
    # Then decay weights are mentions x 0.5^age: AAA (3 x 1 - 2 x 0.25) / (4 x 1 + 4 x 0.25)
    assert rows["AAA"]["sentiment"] == pytest.approx(2.5 / 5.0, rel=1e-6)
    assert rows["BBB"]["sentiment"] == pytest.approx((-3 + 1 / 16) / (3 + 1 / 16), rel=1e-6)
    assert rows["CCC"]["sentiment"] is None
    assert [rows[s]["mentions"] for s in ("AAA", "BBB", "CCC")] == [8, 4, 2]
    # momentum over 5 sessions from the closes at t = 25 and t = 30
    momentum = np.array([130 / 125 - 1, 160 / 150 - 1, 70 / 75 - 1])
    for symbol, value in zip(("AAA", "BBB", "CCC"), momentum, strict=True):
        assert rows[symbol]["momentum"] == pytest.approx(value, rel=1e-6)
    # z-scores across assets; CCC has momentum only
    mom_z = reference_z(momentum)
    sent_z = reference_z(np.array([0.5, (-3 + 1 / 16) / (3 + 1 / 16), np.nan]))
    expected_blend = [0.5 * sent_z[0] + 0.5 * mom_z[0], 0.5 * sent_z[1] + 0.5 * mom_z[1], mom_z[2]]
    for k, symbol in enumerate(("AAA", "BBB", "CCC")):
        assert rows[symbol]["momentum_z"] == pytest.approx(mom_z[k], rel=1e-5)
        assert rows[symbol]["blend"] == pytest.approx(expected_blend[k], rel=1e-5)
    assert rows["AAA"]["sentiment_z"] == pytest.approx(1.0) and rows["CCC"]["sentiment_z"] is None
    # BBB: sentiment z -1 against momentum z +0.9: a divergence; AAA agrees; CCC has no sentiment
    assert [rows[s]["divergence"] for s in ("AAA", "BBB", "CCC")] == ["no", "yes", "no"]
    assert [r["symbol"] for r in result.rows] == ["AAA", "BBB", "CCC"]
    assert "1 assets had fewer than 3 mentions: blend uses momentum only" in (
        result.data_quality.notes
    )


def test_sentiment_half_life_changes_the_weights() -> None:
    # Given the same posts, a long half-life weights the old posts almost like today's
    data, _ = sentiment_case()
    # When
    result = run_sentiment(
        data,
        SentimentParams(half_life=63.0, sentiment_window=5, momentum_window=5, min_mentions=3.0),
    )
    # Then AAA = (3 w0 - 2 w2) / (4 w0 + 4 w2) with w_a = 0.5^(a / 63)
    w0, w2 = 1.0, 0.5 ** (2 / 63)
    aaa = next(r for r in result.rows if r["symbol"] == "AAA")
    assert aaa["sentiment"] == pytest.approx((3 * w0 - 2 * w2) / (4 * w0 + 4 * w2), rel=1e-5)


def test_sentiment_weight_zero_is_pure_momentum() -> None:
    data, _ = sentiment_case()
    result = run_sentiment(
        data,
        SentimentParams(half_life=1.0, sentiment_window=5, momentum_window=5, sentiment_weight=0.0),
    )
    for row in result.rows:
        assert row["blend"] == pytest.approx(row["momentum_z"], rel=1e-6)
