"""pairs_cointegration against statsmodels: one ordering by a stated rule, MacKinnon p-values,
Benjamini-Hochberg q-values, and a nominal false-positive rate on independent random walks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.stattools import coint

from scenarios.base import ScenarioData
from scenarios.pairs_cointegration import Params
from scenarios.pairs_cointegration.compute import engle_granger, run
from scenarios.pairs_cointegration.mackinnon import critical_values, p_values
from tests.unit.scenarios.test_scenario_cross_asset import long_frame


def _random_walks(n_assets: int, n_days: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2022-01-03", periods=n_days)
    logp = 3.0 + np.cumsum(rng.normal(0, 0.015, (n_days, n_assets)), axis=0)
    frames = []
    for j in range(n_assets):
        frames.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "symbol": f"S{j:02d}",
                    "close": np.exp(logp[:, j]),
                    # distinct liquidity: S00 the most traded
                    "volume": 1e6 * (n_assets - j),
                }
            )
        )
    return pd.concat(frames, ignore_index=True), logp


@pytest.mark.parametrize("adf_lags", [0, 2])
def test_rows_match_statsmodels_coint_with_the_more_liquid_asset_dependent(adf_lags: int) -> None:
    # Given 8 independent random walks, S00 the most liquid
    prices, _ = _random_walks(8, 300, seed=5)
    params = Params(window=252, adf_lags=adf_lags, max_pairs=200, same_sector=False)
    # When
    result = run(ScenarioData(prices=prices), params)
    # Then every pair is tested once, dependent = higher dollar volume, stats as statsmodels
    assert len(result.rows) == 28
    wide = prices.pivot(index="date", columns="symbol", values="close").iloc[-252:]
    volume = (wide * prices.pivot(index="date", columns="symbol", values="volume")).mean()
    p_values_seen = []
    for row in result.rows:
        a, b = row["symbol_a"], row["symbol_b"]
        assert volume[a] > volume[b]
        stat, p_value, _ = coint(
            np.log(wide[a]), np.log(wide[b]), trend="c", maxlag=adf_lags, autolag=None
        )
        assert row["adf_stat"] == pytest.approx(stat, rel=1e-5)  # rows keep 6 significant digits
        assert row["p_value"] == pytest.approx(p_value, rel=1e-5, abs=1e-12)
        assert row["adf_lags"] == adf_lags
        p_values_seen.append((row["p_value"], row["q_value"]))
    p, q = np.asarray(p_values_seen).T
    np.testing.assert_allclose(q, multipletests(p, method="fdr_bh")[1], rtol=1e-4)


def test_false_positive_rate_on_independent_random_walks_is_nominal() -> None:
    # Given 4,000 pairs of independent random walks, T = 252 (the old rule, the more negative
    # of both orderings against asymptotic critical values, flagged about 9% of them)
    rng = np.random.default_rng(2026)
    a = np.cumsum(rng.normal(size=(252, 4000)), axis=0)
    b = np.cumsum(rng.normal(size=(252, 4000)), axis=0)
    # When
    stat = engle_granger(a, b, 0)["adf_stat"]
    # Then one ordering keeps the 5% test at about 5% (binomial sd 0.34 points)
    assert 0.04 <= float((p_values(stat) <= 0.05).mean()) <= 0.06
    assert 0.04 <= float((stat <= critical_values(251)["5%"]).mean()) <= 0.06
    both = np.minimum(stat, engle_granger(b, a, 0)["adf_stat"])
    assert float((both <= -3.34).mean()) > 0.07  # what the one-ordering rule removes


def test_finite_sample_critical_values_are_mackinnon_2010() -> None:
    crit = critical_values(251)
    assert crit["1%"] == pytest.approx(-3.94, abs=0.005)
    assert crit["5%"] == pytest.approx(-3.36, abs=0.005)
    assert crit["10%"] == pytest.approx(-3.06, abs=0.005)


def test_mackinnon_p_values_equal_statsmodels_over_the_whole_range() -> None:
    from statsmodels.tsa.adfvalues import mackinnonp  # noqa: PLC0415

    stats = np.linspace(-20.0, 2.0, 441)
    expected = [mackinnonp(t, regression="c", N=2) for t in stats]
    np.testing.assert_allclose(p_values(stats), expected, rtol=1e-12, atol=1e-15)


def test_the_cointegrated_pair_is_discovered_after_the_fdr_control() -> None:
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("2022-01-03", periods=300)
    b = np.cumsum(rng.normal(0, 0.01, 300)) + 4.0
    noise = np.zeros(300)
    for t in range(1, 300):
        noise[t] = 0.5 * noise[t - 1] + rng.normal(0, 0.005)
    closes = {"AAA": np.exp(0.5 + 2.0 * b + noise), "BBB": np.exp(b)}
    for k in range(6):
        closes[f"R{k}"] = np.exp(np.cumsum(rng.normal(0, 0.01, 300)) + 4.0)
    result = run(ScenarioData(prices=long_frame(dates, closes)), Params(window=252))
    best = result.rows[0]
    assert {best["symbol_a"], best["symbol_b"]} == {"AAA", "BBB"}
    assert best["q_value"] < 0.01
    assert sum(r["q_value"] <= 0.05 for r in result.rows) == 1
