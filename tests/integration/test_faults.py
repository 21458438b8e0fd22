"""Faults injected into the running local stack (as ``make reliability`` does): each run still
ends as it should and its viewer gets every event exactly once. The sweeper's path (no retry)
needs a short sweep bound and is covered by ``make reliability`` and the reconciler's unit
tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Stack
from tests.reliability import faults

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=120) as c:
        yield c


@pytest.mark.parametrize(
    ("fault", "ended"),
    [
        (faults.worker_exception, "yes (failed: InjectedWorkerCrash)"),
        (faults.throttled_dynamodb_task, "yes (succeeded)"),
        (faults.sse_drop_at_every_event, "yes (succeeded)"),
        (faults.api_stopped_then_retried, "yes (succeeded)"),
        (faults.projector_poison_record, "yes (succeeded, repaired from the run item)"),
    ],
    ids=lambda f: getattr(f, "__name__", ""),
)
def test_the_run_ends_correctly_and_its_viewer_misses_nothing(
    stack: Stack, client: httpx.Client, fault: faults.Fault, ended: str
) -> None:
    row = fault(stack, client)
    assert (row.ended, row.lost, row.duplicated) == (ended, 0, 0), row
