"""factor_tearsheet on fundamental factors: point-in-time at every formation date, by hand."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scenarios.base import ScenarioData, ScenarioInputError
from scenarios.crosssection import zscore, zscore_rows
from scenarios.factor_tearsheet import SPEC, FactorName, Params
from scenarios.factor_tearsheet.compute import run
from scenarios.factors import ALL_FACTORS, fundamental_exposures, fundamental_subscores
from scenarios.pointintime import FLOW_ITEMS, STOCK_ITEMS, fundamentals_as_of, fundamentals_history
from scenarios.quality import QualityLog

N_DAYS = 420
AS_OF = pd.bdate_range("2021-01-04", periods=N_DAYS)[-60]
FUNDAMENTAL = ("value", "quality", "size")


def reference_z(values: np.ndarray, limit: float = 0.01) -> np.ndarray:
    """Independent winsorised z-score: clip at the quantiles, then (w - mean) / std (ddof 0)."""
    x = np.asarray(values, dtype=float)
    ok = np.isfinite(x)
    low, high = np.quantile(x[ok], [limit, 1 - limit])
    w = np.clip(x[ok], low, high)
    out = np.full(len(x), np.nan)
    out[ok] = (w - w.mean()) / w.std()
    return out


def test_factor_enum_matches_the_factor_library() -> None:
    # Given / When
    schema = SPEC.inputs
    # Then the catalogue publishes every factor the library computes, as an enum
    assert get_args(FactorName) == ALL_FACTORS
    assert schema["properties"]["factor"]["enum"] == list(ALL_FACTORS)
    assert "fundamentals" in SPEC.datasets
    assert {"value factor", "quality factor", "size factor"} <= set(SPEC.keywords)
    assert "report_date <= t" in SPEC.methodology


def test_zscore_rows_equals_zscore_row_by_row() -> None:
    # Given rows with NaN/inf holes, a constant row, a single value and an empty row
    rng = np.random.default_rng(3)
    values = rng.normal(0, 2, (6, 40))
    values[0, ::3] = np.nan
    values[1, 5] = np.inf
    values[2] = 7.0
    values[3, 1:] = np.nan
    values[4] = np.nan
    # When
    rows = zscore_rows(values)
    # Then
    expected = np.vstack([zscore(np.where(np.isfinite(v), v, np.nan)) for v in values])
    np.testing.assert_allclose(rows, expected, rtol=1e-12, atol=1e-12)
    assert np.isnan(rows[4]).all() and (rows[2] == 0).all() and rows[3, 0] == 0


def test_value_and_quality_exposures_by_hand() -> None:
    # Given one date, three assets at price 10 with 1, 2 and 4 shares: caps 10, 20, 40
    items = {
        "shares_outstanding": np.array([[1.0, 2.0, 4.0]]),
        "book_equity": np.array([[5.0, 4.0, 8.0]]),
        "net_income": np.array([[np.nan, 2.0, 1.0]]),
        "total_assets": np.array([[10.0, 8.0, 16.0]]),
        "total_debt": np.array([[5.0, 2.0, 0.0]]),
    }
    # When
    sub = fundamental_subscores(items, np.full((1, 3), 10.0))
    value = fundamental_exposures("value", sub)[0]
    quality = fundamental_exposures("quality", sub)[0]
    size = fundamental_exposures("size", sub)[0]
    # Then b/p = 0.5, 0.2, 0.2; e/p = -, 0.1, 0.025; ROE = -, 0.5, 0.125; -D/A = -.5, -.25, 0
    z_bp = reference_z(np.array([0.5, 0.2, 0.2]))
    z_ep = reference_z(np.array([np.nan, 0.1, 0.025]))
    z_roe = reference_z(np.array([np.nan, 0.5, 0.125]))
    z_lev = reference_z(np.array([-0.5, -0.25, 0.0]))
    np.testing.assert_allclose(value, [z_bp[0], (z_bp[1] + z_ep[1]) / 2, (z_bp[2] + z_ep[2]) / 2])
    np.testing.assert_allclose(
        quality, [z_lev[0], (z_roe[1] + z_lev[1]) / 2, (z_roe[2] + z_lev[2]) / 2]
    )
    np.testing.assert_allclose(size, reference_z(-np.log([10.0, 20.0, 40.0])))


def restated(fundamentals: pd.DataFrame) -> pd.DataFrame:
    """Add a later restatement of every symbol's third quarter and a missing book value."""
    quarters = sorted(fundamentals["period_end"].unique())
    again = fundamentals[fundamentals["period_end"] == quarters[2]].copy()
    again["report_date"] = again["report_date"] + pd.Timedelta(days=70)
    again["net_income"] *= 1.5
    again["book_equity"] *= 0.5
    out = pd.concat([fundamentals, again], ignore_index=True)
    out.loc[5, "book_equity"] = np.nan
    return out


def test_history_equals_the_as_of_snapshot_at_every_date(make_data) -> None:
    # Given fundamentals with restatements, and dates around many report dates
    data = make_data(n_assets=6, n_days=N_DAYS)
    fundamentals = restated(data.fundamentals)
    symbols = ["A00", "A02", "A03", "A05", "NOPE"]
    dates = pd.bdate_range("2020-09-01", periods=N_DAYS + 100)[::7]
    # When
    history = fundamentals_history(fundamentals, symbols, dates, QualityLog())
    # Then row t is exactly what fundamentals_as_of sees at dates[t]
    items = [*STOCK_ITEMS, *FLOW_ITEMS]
    for t, date in enumerate(dates):
        snapshot = fundamentals_as_of(fundamentals, symbols, date, QualityLog())
        got = pd.DataFrame({k: history[k][t] for k in items}, index=snapshot.index)
        pd.testing.assert_frame_equal(got, snapshot[items].astype(float), check_names=False)
    assert np.isnan(history["book_equity"][:, -1]).all()  # NOPE never reports


def test_history_ignores_every_report_after_each_date(make_data) -> None:
    # Given reports after a cut corrupted (and a report from the future for a new quarter)
    fundamentals = restated(make_data(n_assets=6, n_days=N_DAYS).fundamentals)
    cut = pd.Timestamp("2021-09-30")
    poisoned = fundamentals.copy()
    later = poisoned["report_date"] > cut
    poisoned.loc[later, ["book_equity", "net_income", "shares_outstanding"]] = -999.0
    symbols = sorted(fundamentals["symbol"].unique())
    dates = pd.bdate_range("2021-01-04", cut)[::5]
    # When
    clean = fundamentals_history(fundamentals, symbols, dates, QualityLog())
    dirty = fundamentals_history(poisoned, symbols, dates, QualityLog())
    # Then
    for name, values in clean.items():
        np.testing.assert_array_equal(values, dirty[name])


@pytest.mark.parametrize("factor", FUNDAMENTAL)
def test_fundamental_tearsheet_is_point_in_time_and_deterministic(
    factor: str, make_data, poison
) -> None:
    # Given data whose every observation after as_of is corrupted
    data = make_data(n_days=N_DAYS)
    params = Params(factor=factor, evaluation_window=100, as_of=AS_OF.date())
    # When
    clean = run(data, params).model_dump_json()
    again = run(make_data(n_days=N_DAYS), params).model_dump_json()
    dirty = run(poison(data, AS_OF), params).model_dump_json()
    # Then
    assert clean == again == dirty
    assert '"mean_rank_ic":null' not in clean


def size_flip_data() -> tuple[ScenarioData, pd.DatetimeIndex]:
    """Four assets growing 0.4%, 0.3%, 0.2%, 0.1% a day from 10; AAA has the fewest shares
    until a report on the 31st session reverses the share counts."""
    dates = pd.bdate_range("2024-01-01", periods=60)
    growth = {"AAA": 0.004, "BBB": 0.003, "CCC": 0.002, "DDD": 0.001}
    t = np.arange(len(dates))
    prices = pd.concat(
        [
            pd.DataFrame({"date": dates, "symbol": s, "close": 10.0 * (1 + g) ** t})
            for s, g in growth.items()
        ],
        ignore_index=True,
    )
    rows = []
    for k, symbol in enumerate(growth):
        for period_end, report_date, shares in (
            ("2023-09-30", "2023-11-15", 1e6 * (k + 1)),
            ("2023-12-31", dates[30], 1e6 * (4 - k)),
        ):
            rows.append(
                {
                    "symbol": symbol,
                    "period_end": pd.Timestamp(period_end),
                    "report_date": pd.Timestamp(report_date),
                    "revenue": 1.0,
                    "net_income": 1.0,
                    "book_equity": 1.0,
                    "total_assets": 1.0,
                    "total_debt": 0.0,
                    "shares_outstanding": shares,
                }
            )
    return ScenarioData(prices=prices, fundamentals=pd.DataFrame(rows)), dates


def test_size_rank_ic_flips_on_the_report_date() -> None:
    # Given small caps (AAA first) outperform until the report that makes AAA the largest
    data, dates = size_flip_data()
    params = Params(
        factor="size", horizons=[1], n_quantiles=2, evaluation_window=42, rebalance_every=1
    )
    # When
    result = run(data, params)
    # Then formation dates are sessions 18..58; rank IC is +1 before session 30, -1 from it
    row = result.rows[0]
    ic_chart = result.series[0]
    assert ic_chart.x == [d.date().isoformat() for d in dates[18:59]]
    assert ic_chart.y["1d"] == [1.0] * 12 + [-1.0] * 29
    assert row["dates"] == 41
    assert row["mean_rank_ic"] == pytest.approx((12 - 29) / 41, rel=1e-5)
    assert row["hit_rate"] == pytest.approx(12 / 41, rel=1e-5)
    # top half (AAA, BBB) earns 0.35%/day before the flip; then (CCC, DDD) earn 0.15%
    assert row["q1"] == pytest.approx((12 * 0.0035 + 29 * 0.0015) / 41, rel=1e-5)
    assert row["q2"] == pytest.approx((12 * 0.0015 + 29 * 0.0035) / 41, rel=1e-5)
    assert row["spread"] == pytest.approx(row["q1"] - row["q2"], rel=1e-5)
    assert row["turnover"] == pytest.approx(1 / 40, rel=1e-5)  # replaced once in 40 steps


def test_fundamental_factor_without_fundamentals_names_the_dataset() -> None:
    # Given prices only
    data, _ = size_flip_data()
    # When / Then
    with pytest.raises(ScenarioInputError) as err:
        run(ScenarioData(prices=data.prices), Params(factor="value", evaluation_window=42))
    assert err.value.field == "fundamentals"


def test_assets_without_fundamentals_are_reported(make_data) -> None:
    # Given fundamentals for all but two assets
    data = make_data(n_days=N_DAYS)
    fundamentals = data.fundamentals[~data.fundamentals["symbol"].isin(["A03", "A07"])]
    # When
    result = run(
        ScenarioData(prices=data.prices, fundamentals=fundamentals),
        Params(factor="quality", evaluation_window=100),
    )
    # Then
    assert any(
        note.startswith("2 assets never had the fundamentals quality needs") and "A03, A07" in note
        for note in result.data_quality.notes
    )


def test_reports_without_dates_are_noted_not_used(make_data) -> None:
    # Given one report with no report date and one with no period end
    fundamentals = make_data(n_assets=3, n_days=N_DAYS).fundamentals.copy()
    fundamentals["report_date"] = fundamentals["report_date"].astype(object)
    fundamentals.loc[0, "report_date"] = None
    fundamentals.loc[1, "period_end"] = pd.NaT
    log = QualityLog()
    dates = pd.bdate_range("2021-06-01", periods=3)
    # When
    fundamentals_history(fundamentals, ["A00", "A01", "A02"], dates, log)
    # Then
    assert "1 fundamentals rows without a report date ignored" in log.notes
    assert "1 fundamentals rows without a period end ignored" in log.notes


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.integers(1, 12)),
        elements=st.one_of(st.floats(-1e6, 1e6), st.just(np.nan)),
    ),
    st.sampled_from([0.0, 0.01, 0.1]),
)
def test_zscore_rows_property(values: np.ndarray, limit: float) -> None:
    # Given any dates x assets array; When standardised row-wise; Then each row is zscore's
    rows = zscore_rows(values, limit)
    for t, row in enumerate(values):
        np.testing.assert_allclose(rows[t], zscore(row, limit), rtol=1e-9, atol=1e-9)
