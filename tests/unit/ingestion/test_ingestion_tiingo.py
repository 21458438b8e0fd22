"""Tiingo on recorded answers: adjusted prices to the lake, unadjusted to the raw zone, the key
from SSM / Secrets Manager in a header (never in a URL or message)."""

from __future__ import annotations

import json

import pytest

from quantdesk import aws
from quantdesk.datalake import columnar
from quantdesk.datalake.reader import Lake
from quantdesk.ingestion import pipeline
from quantdesk.ingestion.errors import MalformedPayloadError, SourceConfigError
from quantdesk.ingestion.pipeline import IngestionContext
from quantdesk.ingestion.sources import tiingo, vendor_settings
from quantdesk.ingestion.sources.base import FetchRequest
from tests.unit.in_process_ingestion import run_source
from tests.unit.ingestion.vendor_replay import Replay, recording

KEY = "0123456789abcdef"


def answer(url: str) -> tuple[int, bytes]:
    if "/aapl/" in url:
        return 200, recording("tiingo_aapl.json")
    return 404, b'{"detail": "Error: Ticker \'NOPE\' not found"}'


def test_adjusted_fields_become_prices_and_the_rest_stays_raw() -> None:
    prices, raw = tiingo.parse_prices("AAPL", recording("tiingo_aapl.json"))
    first = json.loads(recording("tiingo_aapl.json"))[0]
    assert prices["close"].iloc[0] == pytest.approx(first["adjClose"])
    assert prices["open"].iloc[0] == pytest.approx(first["adjOpen"])
    assert str(prices["date"].iloc[0].date()) == "2024-01-02"
    assert raw["close"].iloc[0] == pytest.approx(first["close"])
    assert {"divCash", "splitFactor"} <= set(raw.columns)


@pytest.mark.parametrize(
    "body",
    [b"<html>", b'{"detail": "oops"}', json.dumps([{"date": "2024-01-02", "close": 1}]).encode()],
)
def test_a_malformed_answer_is_refused_whole(body: bytes) -> None:
    with pytest.raises(MalformedPayloadError):
        tiingo.parse_prices("AAPL", body)


def test_prices_load_with_the_key_in_a_header_and_an_unknown_ticker_is_reported(
    ctx: IngestionContext, monkeypatch
) -> None:
    replay = Replay(answer)
    src = tiingo.TiingoSource(
        http=replay.client("Tiingo"), lake=Lake(ctx.store, ctx.snapshots), key=lambda: KEY
    )
    monkeypatch.setattr(pipeline, "get_source", lambda name: src)
    request = FetchRequest(source="tiingo", options={"symbols": ["AAPL", "NOPE"]})
    outcome = run_source(request, "ing-tiingo", ctx)
    assert outcome.datasets[0].rows_loaded == 3
    (issue,) = outcome.issues
    assert (issue.file, issue.reason) == ("tiingo NOPE", "vendor_refused")
    assert all(r.headers["Authorization"] == f"Token {KEY}" for r in replay.requests)
    assert not any(KEY in r.url for r in replay.requests) and KEY not in outcome.message
    raw = columnar.decode(ctx.store.get_bytes("raw/tiingo/ing-tiingo/prices_unadjusted.parquet"))
    assert len(raw) == 3 and raw["splitFactor"].eq(1.0).all()


@pytest.mark.parametrize("where", ["ssm", "secretsmanager"])
def test_the_key_is_read_from_ssm_or_secrets_manager(moto_aws: None, where: str) -> None:
    vendor_settings._provider.cache_clear()
    if where == "ssm":
        aws.client("ssm").put_parameter(Name="/qd/tiingo", Value=KEY, Type="SecureString")
        location = "ssm:/qd/tiingo"
    else:
        aws.client("secretsmanager").create_secret(Name="qd/tiingo", SecretString=KEY)
        location = "qd/tiingo"
    assert vendor_settings.read_key(location, what="tiingo") == KEY
    vendor_settings._provider.cache_clear()


def test_a_missing_key_is_a_config_error_naming_where(moto_aws: None) -> None:
    vendor_settings._provider.cache_clear()
    with pytest.raises(SourceConfigError, match="ssm:/qd/none"):
        vendor_settings.read_key("ssm:/qd/none", what="tiingo")
    with pytest.raises(SourceConfigError, match="no API key location"):
        vendor_settings.read_key("", what="tiingo")
    vendor_settings._provider.cache_clear()
