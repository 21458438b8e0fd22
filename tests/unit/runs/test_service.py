"""RunService against moto: validation, idempotency, ownership, cancellation."""

from __future__ import annotations

import pytest

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from quantdesk import aws
from quantdesk.errors import Conflict, InvalidRequest, NotFound
from quantdesk.runs import tokens
from quantdesk.runs.models import RunRequest
from quantdesk.runs.service import RunService
from quantdesk.settings import get_settings


def test_start_stores_a_queued_run_with_a_complete_manifest(service: RunService) -> None:
    accepted = service.start(
        RunRequest(scenario_id="trend_strength", params={"tickers": ["$aapl", "MSFT"]}), "alice"
    )
    run = service.repo.get(accepted.run_id)
    assert run is not None
    assert (run.status, run.event_seq, run.owner) == ("queued", 1, "alice")
    # validated, normalised params with defaults are what the run is reproduced from
    assert run.manifest.params["tickers"] == ["AAPL", "MSFT"]
    assert run.manifest.params["universe"] == "us_large_cap"
    assert run.manifest.scenario_version
    assert accepted.status_url == f"/analysis/runs/{accepted.run_id}"
    token = accepted.stream_url.split("token=")[1]
    assert (
        tokens.verify(tokens.signing_key(get_settings().stream_secret_name), accepted.run_id, token)
        == "alice"
    )
    arn = resources.state_machine_arn(resources.SCENARIO_RUN.name, REGION, ACCOUNT)
    executions = aws.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    assert [e["name"] for e in executions] == [accepted.run_id]


def test_invalid_params_name_the_field(service: RunService) -> None:
    with pytest.raises(InvalidRequest) as caught:
        service.start(RunRequest(scenario_id="trend_strength", params={"tickers": ["no way"]}), "a")
    assert caught.value.field == "params.tickers"


def test_same_idempotency_key_returns_the_same_run_and_starts_once(service: RunService) -> None:
    request = RunRequest(scenario_id="trend_strength", params={}, idempotency_key="k-1")
    first = service.start(request, "alice")
    again = service.start(request, "alice")
    assert first.run_id == again.run_id
    other_owner = service.start(request, "bob")
    assert other_owner.run_id != first.run_id
    with pytest.raises(Conflict) as caught:
        service.start(
            RunRequest(
                scenario_id="trend_strength", params={"universe": "us_all"}, idempotency_key="k-1"
            ),
            "alice",
        )
    assert caught.value.field == "idempotency_key"


def test_a_retry_starts_the_workflow_the_first_request_never_started(
    service: RunService,
) -> None:
    # Given the first request stored the run but stopped before starting the execution
    service.executions.start = lambda run_id, payload: None  # type: ignore[method-assign]
    request = RunRequest(scenario_id="trend_strength", params={}, idempotency_key="k-3")
    first = service.start(request, "alice")
    assert service.executions.describe(first.run_id) is None
    del service.executions.start  # the API is back
    # When the client retries with the same idempotency key
    again = service.start(request, "alice")
    started = [e["name"] for e in _executions(service)]
    # Then the same run is started, exactly once, and a further retry starts nothing new
    assert again.run_id == first.run_id
    assert started == [first.run_id]
    service.start(request, "alice")
    assert [e["name"] for e in _executions(service)] == [first.run_id]


def _executions(service: RunService) -> list[dict[str, str]]:
    arn = service.settings.scenario_run_arn
    return list(aws.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"])


def test_runs_are_private_to_their_owner(service: RunService) -> None:
    accepted = service.start(RunRequest(scenario_id="trend_strength"), "alice")
    with pytest.raises(NotFound):
        service.describe(accepted.run_id, "mallory")
    with pytest.raises(NotFound):
        service.cancel(accepted.run_id, "mallory")
    assert service.list_runs("mallory", 10, None).runs == []
    assert [r.run_id for r in service.list_runs("alice", 10, None).runs] == [accepted.run_id]


def test_cancel_is_final(service: RunService) -> None:
    accepted = service.start(RunRequest(scenario_id="trend_strength"), "alice")
    cancelled = service.cancel(accepted.run_id, "alice")
    assert cancelled.status == "cancelled"
    assert cancelled.event_seq == 2
    with pytest.raises(Conflict):
        service.cancel(accepted.run_id, "alice")


def test_listing_pages_newest_first(service: RunService) -> None:
    ids = [
        service.start(RunRequest(scenario_id="trend_strength"), "alice").run_id for _ in range(3)
    ]
    first = service.list_runs("alice", 2, None)
    assert [r.run_id for r in first.runs] == ids[::-1][:2]
    assert first.next_cursor
    second = service.list_runs("alice", 2, first.next_cursor)
    assert [r.run_id for r in second.runs] == ids[:1]


def test_a_page_cursor_never_reaches_another_owners_runs(service: RunService) -> None:
    alice = [service.start(RunRequest(scenario_id="trend_strength"), "alice") for _ in range(2)]
    alices_cursor = service.list_runs("alice", 1, None).next_cursor
    assert alices_cursor
    # Given bob replays alice's cursor / When he lists / Then it is a 400 on the cursor
    with pytest.raises(InvalidRequest) as caught:
        service.list_runs("bob", 10, alices_cursor)
    assert caught.value.field == "cursor"
    # and alice's own cursor still pages on to her older run
    assert [r.run_id for r in service.list_runs("alice", 10, alices_cursor).runs] == [
        alice[0].run_id
    ]
    for garbage in ("%%%", "bm90LWEtcnVuLWlk", "x" * 40):
        with pytest.raises(InvalidRequest):
            service.list_runs("alice", 10, garbage)
