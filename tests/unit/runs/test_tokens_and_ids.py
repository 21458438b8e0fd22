from __future__ import annotations

import re
import time

import pytest

from quantdesk import aws
from quantdesk.errors import NotFound, ServiceUnavailable, Unauthorized
from quantdesk.runs import tokens
from quantdesk.runs.ids import check_id, created_ms, new_run_id
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


def test_a_run_id_carries_its_creation_time() -> None:
    before = time.time_ns() // 1_000_000
    run_id = new_run_id()
    assert before <= created_ms(run_id) <= time.time_ns() // 1_000_000


@pytest.mark.parametrize(
    "variant",
    [
        lambda t: "+" + t,  # int() takes a sign
        lambda t: "0" + t,  # and leading zeros
        lambda t: t[:3] + "_" + t[3:],  # and underscores between digits
        lambda t: " " + t,  # and surrounding space
        lambda t: t.replace(".", "=.", 2).replace("=.", ".", 1),  # padded owner segment
        lambda t: t[:-1] + "\u00e9",  # non-ASCII in the signature (was a 500)
        lambda t: t[:-1] + "\ud800",  # a lone surrogate
        lambda t: t + "A" * 600,  # absurdly long
    ],
)
def test_only_the_canonical_spelling_of_a_token_is_accepted(variant: object) -> None:
    token = tokens.issue("s3cret", "run1", "alice")
    assert tokens.verify("s3cret", "run1", token) == "alice"
    with pytest.raises(Unauthorized):
        tokens.verify("s3cret", "run1", variant(token))  # type: ignore[operator]


def test_a_non_canonical_owner_encoding_is_refused() -> None:
    # "alice" in base64url is YWxpY2U; YWxpY2V decodes to the same bytes (other trailing bits)
    token = tokens.issue("s3cret", "run1", "alice")
    expires, owner, signature = token.split(".")
    assert owner == "YWxpY2U"
    with pytest.raises(Unauthorized):
        tokens.verify("s3cret", "run1", f"{expires}.YWxpY2V.{signature}")


def test_stream_tokens_live_minutes_not_hours() -> None:
    assert 60 <= tokens.DEFAULT_TTL_S <= 15 * 60


def test_the_signing_key_comes_from_secrets_manager(moto_aws: None) -> None:
    aws.client("secretsmanager").create_secret(Name="short", SecretString="tiny")
    assert tokens.signing_key("quantdesk/stream-signing-key") == "k" * 48
    with pytest.raises(ServiceUnavailable):
        tokens.signing_key("short")  # a weak key is refused, not used
    with pytest.raises(ServiceUnavailable):
        tokens.signing_key("no/such/secret")


def test_run_and_inbox_tokens_never_open_each_others_stream() -> None:
    run_token = tokens.issue("s3cret", "run1", "alice")
    inbox_token = tokens.issue_inbox("s3cret", "alice")
    assert tokens.verify_inbox("s3cret", inbox_token) == "alice"
    with pytest.raises(Unauthorized):
        tokens.verify_inbox("s3cret", run_token)
    with pytest.raises(Unauthorized):
        tokens.verify("s3cret", "run1", inbox_token)
    # a run id spelled like the inbox's scope does not make a run token an inbox token
    with pytest.raises(Unauthorized):
        tokens.verify_inbox("s3cret", tokens.issue("s3cret", "inbox", "alice"))


def test_an_inbox_token_is_bound_to_its_owner_secret_and_lifetime() -> None:
    token = tokens.issue_inbox("s3cret", "alice")
    with pytest.raises(Unauthorized):
        tokens.verify_inbox("s3cret", token.replace(token.split(".")[1], "Ym9i"))  # "bob"
    with pytest.raises(Unauthorized):
        tokens.verify_inbox("other", token)
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify_inbox("s3cret", tokens.issue_inbox("s3cret", "alice", ttl_s=-1))


@pytest.mark.parametrize("field", ["run_id", "watch_id", "alert_id"])
def test_a_path_id_not_of_the_run_id_shape_is_404_naming_its_field(field: str) -> None:
    check_id(new_run_id(), field)  # well formed: left to the lookup
    for bad in ["..%2F..%2Fetc", "0" * 25, "0" * 27, "A" * 26, ""]:
        with pytest.raises(NotFound, match=f"no {field.removesuffix('_id')} ") as raised:
            check_id(bad, field)
        assert raised.value.field == field
