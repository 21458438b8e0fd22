"""Each fault of ``make reliability``, injected into a running local stack.

A fault function gets the stack (started with ``QD_LOCAL_FAULTS=1`` so the origin serves
``POST /_local/faults``) and returns a :class:`Row`: did the run end as it should, how many
events its viewers missed or saw twice (against the run's own sequence numbers 1..final), and
how long from the fault to the viewer's terminal event.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import connect_sse

from quantdesk import aws, keys
from quantdesk.runs import tokens
from quantdesk.runs.dead_letters import DeadLetters
from quantdesk.runs.idempotency import IdempotencyKeys, fingerprint
from quantdesk.runs.ids import new_run_id
from quantdesk.runs.repository import RunRepository
from quantdesk.runs.service import queued_run
from quantdesk.settings import get_settings
from scenarios.registry import get_spec
from tests.stack import Stack, stack_clients

TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}
SCENARIO = "trend_strength"
PARAMS: dict[str, Any] = {}
REQUEST: dict[str, Any] = {"scenario_id": SCENARIO, "params": PARAMS, "fresh": True}


@dataclass
class Row:
    fault: str
    ended: str
    lost: int | None = None
    duplicated: int | None = None
    recover_s: float | None = None
    note: str = ""


@dataclass
class Watched:
    seqs: list[int]
    status: str
    ended_at: float
    error: dict[str, Any] | None = None


def watch(client: httpx.Client, url: str, *, drop_every_event: bool = False) -> Watched:
    """Follow a run's stream to its terminal event; with ``drop_every_event`` the connection is
    dropped after each event and resumed with ``Last-Event-ID``, as a flaky network would."""
    seqs: list[int] = []
    headers: dict[str, str] = {}
    while True:
        with connect_sse(client, "GET", url, headers=headers) as source:
            if source.response.status_code == 204:  # nothing will ever follow
                return Watched(seqs, "closed", time.perf_counter())
            for message in source.iter_sse():
                if not message.data:
                    continue
                seqs.append(int(message.id))
                data = json.loads(message.data)
                if message.event == "status" and data["status"] in TERMINAL:
                    return Watched(seqs, data["status"], time.perf_counter(), data.get("error"))
                if drop_every_event:
                    headers = {"Last-Event-ID": message.id}
                    break
            else:
                return Watched(seqs, "stream ended early", time.perf_counter())


def counts(client: httpx.Client, run_id: str, watched: Watched) -> tuple[int, int]:
    """(lost, duplicated) against the run's own sequence numbers."""
    run = client.get(f"/analysis/runs/{run_id}").json()
    expected = set(range(1, int(run["event_seq"]) + 1))
    return len(expected - set(watched.seqs)), len(watched.seqs) - len(set(watched.seqs))


def arm(client: httpx.Client, **faults: int) -> None:
    client.post("/_local/faults", json=faults).raise_for_status()


def start(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    response = client.post("/analysis/run", json={**REQUEST, **extra})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def caller(stack: Stack, client: httpx.Client) -> str:
    """The owner the API stores for this client (read back from a stream token)."""
    accepted = start(client)
    watch(client, accepted["stream_url"])
    token = accepted["stream_url"].split("token=")[1]
    with stack_clients(stack):
        key = tokens.signing_key(get_settings().stream_secret_name)
    return tokens.verify(key, accepted["run_id"], token)


def one_run(
    client: httpx.Client, fault: str, expect: str, *, drop_every_event: bool = False
) -> Row:
    began = time.perf_counter()
    accepted = start(client)
    watched = watch(client, accepted["stream_url"], drop_every_event=drop_every_event)
    lost, duplicated = counts(client, accepted["run_id"], watched)
    error = (watched.error or {}).get("type", "")
    ended = f"yes ({watched.status}{': ' + error if error else ''})"
    if watched.status != expect:
        ended = f"NO: {watched.status}, expected {expect}"
    return Row(fault, ended, lost, duplicated, watched.ended_at - began)


# -- the faults ---------------------------------------------------------------------------------


def worker_exception(stack: Stack, client: httpx.Client) -> Row:
    arm(client, worker_crash=1)
    row = one_run(client, "worker exception", "failed")
    row.note = "crash caught, run failed with the worker's error"
    return row


def throttled_dynamodb_task(stack: Stack, client: httpx.Client) -> Row:
    arm(client, throttle_run_writes=3)
    row = one_run(client, "throttled DynamoDB task (3 writes)", "succeeded")
    row.note = "absorbed by the tasks' jittered Retry"
    return row


def sse_drop_at_every_event(stack: Stack, client: httpx.Client) -> Row:
    row = one_run(client, "SSE drop at every event", "succeeded", drop_every_event=True)
    row.note = "each reconnect resumes from Last-Event-ID"
    return row


def projector_poison_record(stack: Stack, client: httpx.Client) -> Row:
    """A run item whose terminal write cannot be projected (an unknown event kind), followed
    by a normal run: the poison goes to the DLQ, its viewer still gets the terminal event from
    the run item, and the next run's events are not held up."""

    owner = caller(stack, client)
    baseline = one_run(client, "baseline", "succeeded").recover_s or 0.0
    with stack_clients(stack):
        settings = get_settings()
        poisoned = _stored_run(owner)
        began = time.perf_counter()
        aws.client("dynamodb").update_item(
            TableName=settings.table_name,
            Key={k: {"S": v} for k, v in keys.run_key(poisoned["run_id"]).items()},
            UpdateExpression=(
                "SET #s = :s, last_event = :bad, updated_at = :now, finished_at = :now "
                "ADD event_seq :one"
            ),
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": {"S": "succeeded"},
                ":bad": {"S": "not-an-event-kind"},
                ":now": {"S": "2026-01-01T00:00:01.000Z"},
                ":one": {"N": "1"},
            },
        )
        next_run = one_run(client, "next run", "succeeded")
        watched = watch(client, poisoned["stream_url"])
        dead = DeadLetters(settings.projector_dlq, settings.projector_function).pending()
    lost, duplicated = counts(client, poisoned["run_id"], watched)
    ended = f"yes ({watched.status}, repaired from the run item)"
    if watched.status != "succeeded":
        ended = f"NO: {watched.status}"
    delay = (next_run.recover_s or 0.0) - baseline
    return Row(
        "projector poison record",
        ended,
        lost,
        duplicated,
        watched.ended_at - began,
        f"{len(dead)} in the DLQ; next run {next_run.recover_s:.1f}s vs {baseline:.1f}s alone "
        f"({delay:+.1f}s)",
    )


def api_stopped_then_retried(stack: Stack, client: httpx.Client) -> Row:
    """The API stored the run and stopped before starting its execution; the client retries
    with the same idempotency key."""
    owner = caller(stack, client)
    key = f"stopped-{time.time_ns()}"
    with stack_clients(stack):
        stored = _stored_run(owner, idempotency_key=key)
    began = time.perf_counter()
    retried = start(client, idempotency_key=key)
    assert retried["run_id"] == stored["run_id"]
    watched = watch(client, retried["stream_url"])
    lost, duplicated = counts(client, stored["run_id"], watched)
    ended = f"yes ({watched.status})" if watched.status == "succeeded" else f"NO: {watched.status}"
    return Row(
        "API stopped between write and start, client retries",
        ended,
        lost,
        duplicated,
        watched.ended_at - began,
        "the retry starts the stored run",
    )


def api_stopped_never_retried(stack: Stack, client: httpx.Client) -> Row:
    """The same, and nobody retries: the sweeper ends the run so it is not queued forever."""
    owner = caller(stack, client)
    with stack_clients(stack):
        stored = _stored_run(owner)
    began = time.perf_counter()
    watched = watch(client, stored["stream_url"])
    lost, duplicated = counts(client, stored["run_id"], watched)
    error = (watched.error or {}).get("type", "")
    ended = f"yes ({watched.status}: {error})"
    if watched.status != "failed":
        ended = f"NO: {watched.status}"
    bound = os.environ.get("QD_SWEEP_QUEUED_AFTER_S", "?")
    return Row(
        "API stopped between write and start, no retry",
        ended,
        lost,
        duplicated,
        watched.ended_at - began,
        f"sweeper (bound {bound}s here, 300s by default)",
    )


def _stored_run(owner: str, *, idempotency_key: str | None = None) -> dict[str, str]:
    """A run stored ``queued`` exactly as the API stores it (its idempotency key claimed
    first), with no execution started."""
    settings = get_settings()
    repo = RunRepository(settings.table_name)
    run_id = new_run_id()
    if idempotency_key:
        request = fingerprint(SCENARIO, PARAMS)
        IdempotencyKeys(settings.table_name, repo).claim(owner, idempotency_key, request, run_id)
    spec = get_spec(SCENARIO)
    assert spec is not None
    params = spec.params_model.model_validate(PARAMS).model_dump(mode="json")
    repo.create(
        queued_run(run_id, owner, spec, params, code_version=settings.code_version),
        idempotency_key,
    )
    token = tokens.issue(tokens.signing_key(settings.stream_secret_name), run_id, owner)
    return {"run_id": run_id, "stream_url": f"/runs/{run_id}/stream?token={token}"}


Fault = Callable[[Stack, httpx.Client], Row]

FAULTS: tuple[Fault, ...] = (
    worker_exception,
    throttled_dynamodb_task,
    projector_poison_record,
    sse_drop_at_every_event,
    api_stopped_then_retried,
    api_stopped_never_retried,
)
