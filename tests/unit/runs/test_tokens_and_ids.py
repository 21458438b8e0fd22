from __future__ import annotations

import re
import time

import pytest

from quantdesk.errors import Unauthorized
from quantdesk.runs import tokens
from quantdesk.runs.ids import idempotent_run_id, new_run_id
from quantdesk.runs.models import RUN_ID_PATTERN


def test_token_round_trip_names_the_owner() -> None:
    token = tokens.issue("s3cret", "run1", "alice")
    assert tokens.verify("s3cret", "run1", token) == "alice"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: None,
        lambda t: "",
        lambda t: "garbage",
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.replace(t.split(".")[1], "Ym9i"),  # owner swapped to "bob"
    ],
)
def test_forged_or_missing_tokens_are_refused(mutate: object) -> None:
    token = tokens.issue("s3cret", "run1", "alice")
    with pytest.raises(Unauthorized):
        tokens.verify("s3cret", "run1", mutate(token))  # type: ignore[operator]


def test_a_token_is_bound_to_its_run_secret_and_lifetime() -> None:
    token = tokens.issue("s3cret", "run1", "alice")
    with pytest.raises(Unauthorized):
        tokens.verify("s3cret", "run2", token)
    with pytest.raises(Unauthorized):
        tokens.verify("other", "run1", token)
    expired = tokens.issue("s3cret", "run1", "alice", ttl_s=-1)
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify("s3cret", "run1", expired)


def test_run_ids_are_unique_well_formed_and_time_ordered() -> None:
    first = new_run_id()
    time.sleep(0.002)
    ids = [new_run_id() for _ in range(500)]
    assert len(set(ids)) == 500
    assert all(re.match(RUN_ID_PATTERN, i) for i in [first, *ids])
    assert first < min(ids)


def test_idempotent_ids_depend_on_owner_and_key() -> None:
    assert idempotent_run_id("a", "k") == idempotent_run_id("a", "k")
    assert idempotent_run_id("a", "k") != idempotent_run_id("b", "k")
    assert re.match(RUN_ID_PATTERN, idempotent_run_id("a", "k"))
