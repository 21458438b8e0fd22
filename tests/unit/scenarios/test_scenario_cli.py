"""``quantdesk run-scenario``: local CSV in, deliverables out, clear errors."""

from __future__ import annotations

import json

import pytest

from quantdesk.cli import main


@pytest.fixture
def prices_csv(tmp_path, make_data):
    path = tmp_path / "prices.csv"
    make_data(n_assets=5).prices.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("scenario_id", "fields"),
    [
        ("trend_strength", {"symbol", "adx", "momentum_12_1"}),
        ("mean_reversion", {"symbol", "rsi", "rsi_2"}),
        ("volatility_regime", {"realized_vol"}),
    ],
)
def test_json_rows_carry_the_documented_fields(
    scenario_id: str, fields: set[str], prices_csv, capsys
) -> None:
    # When
    code = main(["run-scenario", scenario_id, "--prices", str(prices_csv), "--format", "json"])
    # Then
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["scenario_id"] == scenario_id
    assert len(result["rows"]) == 5
    assert all(fields <= set(row) for row in result["rows"])


def test_table_output_has_table_narrative_and_quality(prices_csv, capsys) -> None:
    code = main(["run-scenario", "trend_strength", "--prices", str(prices_csv)])
    out = capsys.readouterr().out
    assert code == 0
    assert "ADX" in out and "12-1 momentum" in out
    assert "leads with score" in out
    assert "data quality: 5 of 5 assets used" in out


def test_extra_datasets_and_params_file(tmp_path, make_data, prices_csv, capsys) -> None:
    sectors = tmp_path / "sectors.csv"
    make_data(n_assets=5).sectors.to_csv(sectors, index=False)
    params = tmp_path / "params.json"
    params.write_text('{"min_members": 1}')
    code = main(
        [
            "run-scenario",
            "sector_rotation",
            "--prices",
            str(prices_csv),
            "--data",
            f"sectors={sectors}",
            "--params",
            f"@{params}",
            "--format",
            "json",
        ]
    )
    assert code == 0
    assert {row["sector"] for row in json.loads(capsys.readouterr().out)["rows"]}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trend_strength", "--params", '{"tickers": ["NOPE"]}'], "field: tickers"),
        (["trend_strength", "--params", '{"as_of": "2035-01-01"}'], "field: as_of"),
        (["trend_strength", "--params", '{"adx_period": 1}'], "adx_period"),
        (["trend_strength", "--params", "not json"], "invalid --params"),
        (["no_such_scenario"], "unknown scenario"),
        (["sector_rotation"], "field: sectors"),
    ],
)
def test_bad_input_is_a_clear_message(argv, message: str, prices_csv, capsys) -> None:
    code = main(["run-scenario", argv[0], "--prices", str(prices_csv), *argv[1:]])
    assert code == 2
    assert message in capsys.readouterr().err


def test_negative_and_text_prices_are_reported(tmp_path, make_data, capsys) -> None:
    # Given a CSV with a negative and a non-numeric close
    frame = make_data(n_assets=3).prices.copy()
    frame["close"] = frame["close"].astype(object)
    frame.loc[frame.index[-10], "close"] = -1.0
    frame.loc[frame.index[-11], "close"] = "oops"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    # When
    code = main(["run-scenario", "mean_reversion", "--prices", str(path), "--format", "json"])
    # Then
    quality = json.loads(capsys.readouterr().out)["data_quality"]
    assert code == 0
    assert quality["rows_dropped"] == 2


def test_fundamental_factor_tearsheet_from_csv(tmp_path, make_data, capsys) -> None:
    # Given prices and fundamentals CSVs, and one price row with a garbled date
    data = make_data(n_assets=6, n_days=420)
    prices = data.prices.copy()
    prices["date"] = prices["date"].dt.strftime("%Y-%m-%d")
    prices.loc[prices.index[50], "date"] = "2021-02-30"
    prices_path, fundamentals_path = tmp_path / "prices.csv", tmp_path / "fundamentals.csv"
    prices.to_csv(prices_path, index=False)
    data.fundamentals.to_csv(fundamentals_path, index=False)
    argv = ["run-scenario", "factor_tearsheet", "--prices", str(prices_path)]
    params = ["--params", '{"factor": "value", "evaluation_window": 100}', "--format", "json"]
    # When
    code = main([*argv, "--data", f"fundamentals={fundamentals_path}", *params])
    # Then
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert [row["horizon"] for row in result["rows"]] == ["1d", "5d", "21d"]
    assert result["rows"][0]["mean_rank_ic"] is not None
    assert any("unparseable date" in note for note in result["data_quality"]["notes"])
    # And without the fundamentals the message names the dataset
    assert main([*argv, *params]) == 2
    assert "field: fundamentals" in capsys.readouterr().err


def test_pairs_json_rows_carry_the_cointegration_contract(tmp_path, capsys) -> None:
    # Given two cointegrated assets and an unrelated one in a CSV
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415
    from statsmodels.tsa.stattools import coint  # noqa: PLC0415

    rng = np.random.default_rng(8)
    dates = pd.bdate_range("2022-01-03", periods=400)
    b = np.cumsum(rng.normal(0, 0.01, 400)) + 4.0
    logs = {"AAA": 1.0 + 1.5 * b + rng.normal(0, 0.004, 400), "BBB": b}
    logs["CCC"] = np.cumsum(rng.normal(0, 0.01, 400)) + 3.0
    volume = {"AAA": 2e6, "BBB": 1e6, "CCC": 5e5}
    frame = pd.concat(
        [
            pd.DataFrame({"date": dates, "symbol": s, "close": np.exp(v), "volume": volume[s]})
            for s, v in logs.items()
        ]
    )
    path = tmp_path / "prices.csv"
    frame.to_csv(path, index=False)
    # When
    code = main(
        [
            "run-scenario",
            "pairs_cointegration",
            "--prices",
            str(path),
            "--params",
            '{"adf_lags": 1, "same_sector": false}',
            "--format",
            "json",
        ]
    )
    # Then: dependent (more liquid) first, p-value = statsmodels' coint on the same closes
    assert code == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert len(rows) == 3
    for row in rows:
        assert {"symbol_a", "symbol_b", "adf_stat", "adf_lags", "p_value", "q_value"} <= set(row)
        assert volume[row["symbol_a"]] > volume[row["symbol_b"]]
        a, b_ = frame[frame.symbol == row["symbol_a"]], frame[frame.symbol == row["symbol_b"]]
        _, p_value, _ = coint(
            np.log(a["close"].to_numpy()[-252:]),
            np.log(b_["close"].to_numpy()[-252:]),
            trend="c",
            maxlag=1,
            autolag=None,
        )
        assert row["p_value"] == pytest.approx(p_value, rel=1e-5, abs=1e-12)
        assert row["adf_lags"] == 1
    assert rows[0]["pair"] == "AAA/BBB" and rows[0]["q_value"] < 0.01
