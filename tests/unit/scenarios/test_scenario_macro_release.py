"""macro_sensitivity sees a macro value only from its release date, never its reference date.

CPI for a month is dated the 1st of that month (FRED's ``observation_date``) but published
about six weeks later; an analysis dated in between must not know it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.base import ScenarioData
from scenarios.macro_sensitivity import Params
from scenarios.macro_sensitivity.compute import run
from scenarios.pointintime import macro_panel
from scenarios.quality import QualityLog

WINDOW = 126
TRUE_CPI_BETA = 3.0


def cpi_reacting_market(seed: int = 11) -> tuple[ScenarioData, pd.DataFrame]:
    """Daily rates/usd/oil published the same day; monthly CPI dated the 1st of its month and
    released on the 15th of the next; asset CPIX moves by 3 x the CPI change on release days.

    Returns the data and the CPI rows (date, release_date, value)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2023-01-02", "2023-09-29")
    n = len(dates)
    daily = {
        "rate_10y": 4.0 + np.cumsum(rng.normal(0, 0.05, n)),
        "usd": 100.0 * np.exp(np.cumsum(rng.normal(0, 0.005, n))),
        "oil": 70.0 * np.exp(np.cumsum(rng.normal(0, 0.02, n))),
    }
    months = pd.date_range("2022-10-01", "2023-09-01", freq="MS")
    cpi = pd.DataFrame(
        {
            "date": months,
            "release_date": months + pd.DateOffset(months=1, days=14),
            "value": 3.0 + np.cumsum(rng.normal(0, 0.3, len(months))),
        }
    )
    macro = pd.concat(
        [
            *(
                pd.DataFrame({"date": dates, "series": s, "value": v, "release_date": dates})
                for s, v in daily.items()
            ),
            cpi.assign(series="inflation"),
        ],
        ignore_index=True,
    )
    # the CPI level the market knows each day: the latest month released by then
    known = pd.merge_asof(pd.DataFrame({"at": dates}), cpi, left_on="at", right_on="release_date")[
        "value"
    ].to_numpy()
    d_cpi = np.diff(known)
    d_rates = np.diff(daily["rate_10y"])
    returns = {
        "CPIX": 1e-4 + TRUE_CPI_BETA * d_cpi + 0.2 * d_rates + rng.normal(0, 0.001, n - 1),
        "NOISE": rng.normal(0, 0.01, n - 1),
    }
    prices = pd.concat(
        [
            pd.DataFrame({"date": dates, "symbol": s, "close": 40 * np.exp(np.r_[0, np.cumsum(r)])})
            for s, r in returns.items()
        ],
        ignore_index=True,
    )
    return ScenarioData(prices=prices, macro=macro), cpi


def test_cpi_moves_on_its_release_day_not_its_reference_date() -> None:
    # Given CPI for July (dated 2023-07-01) released on 2023-08-15
    data, cpi = cpi_reacting_market()
    assert data.macro is not None
    dates = pd.bdate_range("2023-07-03", "2023-08-16")
    # When the levels are aligned to trading dates
    levels = macro_panel(data.macro, dates)["inflation"]
    july = cpi.loc[cpi["date"] == "2023-07-01", "value"].item()
    june = cpi.loc[cpi["date"] == "2023-06-01", "value"].item()
    # Then July's value is unknown until its release, June's (released 2023-07-15) holds before
    assert (levels[:"2023-08-14"] != july).all()
    assert levels["2023-07-17":"2023-08-14"].eq(june).all()
    assert levels["2023-08-15"] == july and levels["2023-08-16"] == july


def test_macro_sensitivity_never_sees_cpi_before_its_release() -> None:
    # Given an analysis on 2023-09-29, when CPI for September (dated 2023-09-01) and August
    # (2023-08-01, released 2023-09-15 -- known) exist but September's is released 2023-10-15
    data, _ = cpi_reacting_market()
    assert data.macro is not None
    macro = data.macro
    as_of = pd.Timestamp("2023-09-29")
    released = macro[pd.to_datetime(macro["release_date"]) <= as_of]
    assert len(released) < len(macro)  # some rows dated before as_of are still unpublished
    # When the scenario runs with and without the values not yet published
    params = Params(window=WINDOW, step=21, chart_points=3)
    seen = run(data, params)
    unpublished_removed = run(ScenarioData(prices=data.prices, macro=released), params)
    # Then it cannot tell the difference: the unpublished value is invisible
    assert seen.rows == unpublished_removed.rows


def test_release_dated_alignment_recovers_the_market_reaction_to_cpi() -> None:
    # Given an asset that reacts to CPI on its release day
    data, _ = cpi_reacting_market()
    # When
    result = run(data, Params(window=WINDOW, step=21, chart_points=3))
    rows = {r["symbol"]: r for r in result.rows}
    # Then the inflation beta is the reaction (dating CPI by reference month would give ~0)
    assert rows["CPIX"]["beta_inflation"] == pytest.approx(TRUE_CPI_BETA, abs=0.05)
    assert rows["CPIX"]["dominant"] == "inflation"
    assert abs(rows["NOISE"]["t_inflation"]) < 3


def test_a_revision_counts_from_its_own_release_and_an_older_late_release_does_not_regress() -> (
    None
):
    # Given July CPI first released 2023-08-15 as 3.0, revised on 2023-09-01 to 3.2, and a late
    # (re)publication of June on 2023-09-05
    macro = pd.DataFrame(
        {
            "date": pd.to_datetime(["2023-06-01", "2023-07-01", "2023-07-01", "2023-06-01"]),
            "series": "inflation",
            "value": [2.9, 3.0, 3.2, 2.8],
            "release_date": pd.to_datetime(
                ["2023-07-14", "2023-08-15", "2023-09-01", "2023-09-05"]
            ),
        }
    )
    dates = pd.DatetimeIndex(
        pd.to_datetime(["2023-07-13", "2023-07-14", "2023-08-15", "2023-09-01", "2023-09-06"])
    )
    # When / Then
    levels = macro_panel(macro, dates)["inflation"].tolist()
    assert np.isnan(levels[0])
    assert levels[1:] == [2.9, 3.0, 3.2, 3.2]


def test_rows_without_release_date_are_ignored_and_noted() -> None:
    macro = pd.DataFrame(
        {
            "date": pd.to_datetime(["2023-06-01", "2023-07-01"]),
            "series": "inflation",
            "value": [2.9, 3.0],
            "release_date": [pd.Timestamp("2023-07-14"), pd.NaT],
        }
    )
    log = QualityLog()
    levels = macro_panel(macro, pd.DatetimeIndex(["2023-12-29"]), log)["inflation"]
    assert levels.tolist() == [2.9]
    assert log.notes == [
        "1 macro values without a release date, reference date or numeric value ignored"
    ]
