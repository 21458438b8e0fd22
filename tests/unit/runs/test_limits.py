"""Per-user run limits and idempotency keys over moto's DynamoDB."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from quantdesk import aws
from quantdesk.clock import now_iso
from quantdesk.errors import Conflict, ServiceUnavailable, TooManyRequests
from quantdesk.runs import limits as limits_module
from quantdesk.runs.idempotency import IdempotencyKeys, fingerprint
from quantdesk.runs.ids import new_run_id
from quantdesk.runs.limits import Limits, RunLimits
from quantdesk.runs.models import RunError
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings
from tests.unit.stream.run_writer import queued_run


@pytest.fixture
def repo(moto_aws: None) -> RunRepository:
    return RunRepository(get_settings().table_name)


def store(repo: RunRepository, owner: str, run_id: str | None = None) -> str:
    run_id = run_id or new_run_id()
    repo.create(queued_run(run_id, owner))
    return run_id


def test_the_in_flight_cap_frees_a_slot_when_a_run_ends(repo: RunRepository) -> None:
    limits = RunLimits(repo.table, Limits(max_in_flight=2, max_per_minute=100))
    first, second = store(repo, "alice"), store(repo, "alice")
    limits.acquire("alice", first)
    limits.acquire("alice", second)
    with pytest.raises(TooManyRequests) as refused:
        limits.acquire("alice", new_run_id())
    assert refused.value.headers["RateLimit"] == '"inflight";r=0;t=5'
    assert refused.value.headers["Retry-After"] == "5"
    # another user is unaffected
    limits.acquire("bob", store(repo, "bob"))
    # the first run ends (as the state machine would write it): its slot is free again
    repo.finish(first, "succeeded", now_iso())
    limits.acquire("alice", store(repo, "alice"))
    with pytest.raises(TooManyRequests):
        limits.acquire("alice", new_run_id())


def test_starts_per_minute_are_counted_atomically_per_user(repo: RunRepository) -> None:
    if time.time() % 60 > 55:
        time.sleep(61 - time.time() % 60)
    limits = RunLimits(repo.table, Limits(max_in_flight=100, max_per_minute=3))
    for _ in range(3):
        limits.acquire("alice", new_run_id())
    with pytest.raises(TooManyRequests) as refused:
        limits.acquire("alice", new_run_id())
    headers = refused.value.headers
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert headers["RateLimit-Policy"] == '"inflight";q=100, "starts";q=3;w=60'
    limits.acquire("bob", new_run_id())


def test_a_refused_start_takes_nothing(repo: RunRepository) -> None:
    # the in-flight slot is not taken when the per-minute limit refuses (one transaction)
    limits = RunLimits(repo.table, Limits(max_in_flight=1, max_per_minute=1))
    if time.time() % 60 > 55:
        time.sleep(61 - time.time() % 60)
    run_id = store(repo, "alice")
    limits.acquire("alice", run_id)
    limits.release("alice", run_id)
    limits.release("alice", run_id)  # idempotent
    with pytest.raises(TooManyRequests) as refused:
        limits.acquire("alice", new_run_id())
    assert refused.value.headers["RateLimit"].startswith('"starts"')


def claim(keys: IdempotencyKeys, key: str = "k1", params: dict[str, Any] | None = None) -> Any:
    return keys.claim("alice", key, fingerprint("s", params or {}), new_run_id())


def test_the_same_key_replays_and_another_body_conflicts(repo: RunRepository) -> None:
    keys = IdempotencyKeys(repo.table, repo)
    first = claim(keys)
    assert not first.replay
    store(repo, "alice", first.run_id)
    again = claim(keys)
    assert again.replay and again.run_id == first.run_id
    with pytest.raises(Conflict):
        claim(keys, params={"universe": "us_all"})
    # another owner's identical key is theirs alone
    assert not keys.claim("bob", "k1", fingerprint("s", {}), new_run_id()).replay


def test_a_key_whose_start_failed_is_retried_not_burned(repo: RunRepository) -> None:
    keys = IdempotencyKeys(repo.table, repo)
    first = claim(keys)
    store(repo, "alice", first.run_id)
    repo.finish(first.run_id, "failed", now_iso(), RunError(type="StartFailed", message="x"))
    retry = claim(keys)
    assert not retry.replay and retry.run_id != first.run_id


def test_a_key_in_progress_is_a_conflict_and_a_released_key_is_free(
    repo: RunRepository,
) -> None:
    keys = IdempotencyKeys(repo.table, repo)
    first = claim(keys)  # its run is not stored yet: the first attempt is still going
    with pytest.raises(Conflict, match="still being processed"):
        claim(keys)
    keys.release("alice", "k1", first.run_id)
    assert not claim(keys).replay


def test_a_start_stores_its_run_in_the_limits_transaction_or_not_at_all(
    repo: RunRepository,
) -> None:
    limits = RunLimits(repo.table, Limits(max_in_flight=1, max_per_minute=100))
    taken, refused = queued_run(new_run_id(), "alice"), queued_run(new_run_id(), "alice")
    limits.acquire("alice", taken.run_id, put=repo.put_new(taken))
    assert repo.get(taken.run_id) is not None
    with pytest.raises(TooManyRequests):
        limits.acquire("alice", refused.run_id, put=repo.put_new(refused))
    assert repo.get(refused.run_id) is None


def test_a_start_over_the_rate_stores_nothing(repo: RunRepository) -> None:
    limits = RunLimits(repo.table, Limits(max_in_flight=10, max_per_minute=1))
    taken, refused = queued_run(new_run_id(), "alice"), queued_run(new_run_id(), "alice")
    limits.acquire("alice", taken.run_id, put=repo.put_new(taken))
    with pytest.raises(TooManyRequests) as error:
        limits.acquire("alice", refused.run_id, put=repo.put_new(refused))
    assert error.value.headers["RateLimit"].startswith('"starts"')
    assert repo.get(refused.run_id) is None


def test_a_cap_above_one_batch_of_reads_frees_every_ended_run(repo: RunRepository) -> None:
    cap = 150  # the runs are re-read in batches of 100: ended runs in both are found
    limits = RunLimits(repo.table, Limits(max_in_flight=cap, max_per_minute=1000))
    runs = [store(repo, "alice") for _ in range(cap)]
    for run_id in runs:
        limits.acquire("alice", run_id)
    for run_id in (runs[0], runs[120]):
        repo.finish(run_id, "succeeded", now_iso())
    limits.acquire("alice", store(repo, "alice"))
    limits.acquire("alice", store(repo, "alice"))
    with pytest.raises(TooManyRequests):
        limits.acquire("alice", new_run_id())


def conflicting(monkeypatch: pytest.MonkeyPatch, conflicts: int) -> list[float]:
    """The next ``conflicts`` transactions are cancelled as DynamoDB cancels one that meets
    another in flight on an item (which moto never does); the pauses taken between tries."""
    db = aws.client("dynamodb")
    real = db.transact_write_items
    left = [conflicts]
    pauses: list[float] = []

    def transact(**kwargs: Any) -> Any:
        if left[0] > 0:
            left[0] -= 1
            reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * 2
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": reasons,
                },
                "TransactWriteItems",
            )
        return real(**kwargs)

    monkeypatch.setattr(db, "transact_write_items", transact)
    monkeypatch.setattr(limits_module.time, "sleep", pauses.append)
    return pauses


def test_a_start_that_meets_a_concurrent_one_tries_again(
    repo: RunRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses = conflicting(monkeypatch, conflicts=2)
    limits = RunLimits(repo.table, Limits(max_in_flight=5, max_per_minute=100))
    run = queued_run(new_run_id(), "alice")
    limits.acquire("alice", run.run_id, put=repo.put_new(run))
    assert repo.get(run.run_id) is not None
    # two pauses, each at most the doubling bound (full jitter)
    assert len(pauses) == 2
    assert all(0 <= p <= limits_module.CONFLICT_PAUSE_S * 2**i for i, p in enumerate(pauses))


def test_a_start_that_keeps_conflicting_is_a_503_and_stores_nothing(
    repo: RunRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses = conflicting(monkeypatch, conflicts=limits_module.CONFLICT_ATTEMPTS)
    limits = RunLimits(repo.table, Limits(max_in_flight=5, max_per_minute=100))
    run = queued_run(new_run_id(), "alice")
    with pytest.raises(ServiceUnavailable):
        limits.acquire("alice", run.run_id, put=repo.put_new(run))
    assert repo.get(run.run_id) is None
    assert len(pauses) == limits_module.CONFLICT_ATTEMPTS - 1
