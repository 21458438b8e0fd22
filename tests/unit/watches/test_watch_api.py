"""Watch and alert routes through the Chalice app, against moto."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from quantdesk import aws
from quantdesk.settings import get_settings
from quantdesk.watches.secrets import SecretUnavailable, WatchSecrets
from quantdesk.watches.webhooks import WebhookRefused, check_url
from tests.unit.watches.conftest import result, store_succeeded_run

JSON = {"Content-Type": "application/json"}
SNAPSHOT = {"on": "snapshot"}


@pytest.fixture
def api(watch_env: dict[str, str], api_client: Any) -> Iterator[Any]:
    from chalicelib import services  # noqa: PLC0415 - on sys.path once the API app is loaded
    from tests.unit.runs.conftest import SignedInClient  # noqa: PLC0415

    services.run_service.cache_clear()
    services.watch_service.cache_clear()
    yield SignedInClient(api_client.http, "alice")
    services.watch_service.cache_clear()
    services.run_service.cache_clear()


def post(api: Any, body: Any) -> Any:
    return api.post("/analysis/watches", body=json.dumps(body), headers=JSON)


def body(response: Any) -> Any:
    return json.loads(response.body)


def test_a_watch_on_a_succeeded_run_returns_its_secret_once(api: Any) -> None:
    # Given one of alice's succeeded runs
    run_id = store_succeeded_run("alice", result([]), params={"universe": "us_large_cap"})
    # When she watches it on each new snapshot, with a webhook
    created = post(
        api,
        {
            "run_id": run_id,
            "trigger": SNAPSHOT,
            "channels": [{"type": "webhook", "url": "http://127.0.0.1:9/hook"}],
        },
    )
    # Then the watch is created with the secret, re-runs that scenario, diffs against that run
    assert created.status_code == 201
    watch = body(created)
    assert len(watch["webhook_secret"]) == 64
    assert (watch["scenario_id"], watch["baseline_run_id"]) == ("trend_strength", run_id)
    assert watch["datasets"] == ["prices"]
    # ...and the secret is never shown again, nor the owner
    again = body(api.get(f"/analysis/watches/{watch['watch_id']}"))
    listed = body(api.get("/analysis/watches"))["watches"]
    assert [w["watch_id"] for w in listed] == [watch["watch_id"]]
    for shown in (again, listed[0]):
        assert "webhook_secret" not in shown
        assert "secret" not in shown
        assert "owner" not in shown


def test_the_webhook_secret_is_stored_sealed_for_its_watch_and_deleted_with_it(
    api: Any, watch_env: dict[str, str]
) -> None:
    # Given a watch with a webhook
    created = body(
        post(
            api,
            {
                "scenario_id": "trend_strength",
                "params": {},
                "trigger": SNAPSHOT,
                "channels": [{"type": "webhook", "url": "http://127.0.0.1:9/hook"}],
            },
        )
    )
    secret, watch_id = created["webhook_secret"], created["watch_id"]
    # Then nothing in the table holds the secret in clear, encoded or not
    table = get_settings().table_name
    items = aws.client("dynamodb").scan(TableName=table)["Items"]
    dumped = json.dumps(items)
    assert watch_id in dumped
    for form in (secret, secret.encode().hex(), base64.b64encode(secret.encode()).decode()):
        assert form not in dumped
    # ...but its sealed form, which the stack's key opens for this watch only
    (sealed,) = [
        json.loads(i["definition"]["S"])["secret_sealed"] for i in items if "definition" in i
    ]
    secrets = WatchSecrets(watch_env["key"])
    assert secrets.open(watch_id, sealed) == secret
    with pytest.raises(SecretUnavailable):
        other = watch_id[:-1] + ("1" if watch_id[-1] != "1" else "2")
        secrets.open(other, sealed)  # copied onto another watch: refused
    # When the watch is deleted, its sealed secret goes with it
    assert api.delete(f"/analysis/watches/{watch_id}").status_code == 204
    assert "secret_sealed" not in json.dumps(aws.client("dynamodb").scan(TableName=table))


def test_watches_are_listed_and_read_per_owner(api: Any) -> None:
    created = body(post(api, {"scenario_id": "trend_strength", "params": {}, "trigger": SNAPSHOT}))
    bob = api.as_user("bob")
    assert body(bob.get("/analysis/watches")) == {"watches": []}
    for method in ("get", "delete"):
        response = getattr(bob, method)(f"/analysis/watches/{created['watch_id']}")
        assert response.status_code == 404
        assert body(response)["field"] == "watch_id"
    assert api.get(f"/analysis/watches/{created['watch_id']}").status_code == 200


def test_a_scheduled_watch_has_a_schedule_that_pause_disables_and_delete_removes(api: Any) -> None:
    # Given a watch on weekdays at 18:00 New York time
    trigger = {"schedule": "cron(0 18 ? * MON-FRI *)", "timezone": "America/New_York"}
    created = body(post(api, {"scenario_id": "trend_strength", "params": {}, "trigger": trigger}))
    name = f"quantdesk-watch-{created['watch_id']}"
    scheduler = aws.client("scheduler")
    schedule = scheduler.get_schedule(Name=name)
    assert schedule["ScheduleExpressionTimezone"] == "America/New_York"
    assert schedule["State"] == "ENABLED"
    assert json.loads(schedule["Target"]["Input"])["watch_id"] == created["watch_id"]
    path = f"/analysis/watches/{created['watch_id']}"
    # When it is paused, then resumed
    paused = api.patch(path, body=json.dumps({"state": "paused"}), headers=JSON)
    assert (paused.status_code, body(paused)["state"]) == (200, "paused")
    assert scheduler.get_schedule(Name=name)["State"] == "DISABLED"
    resumed = api.patch(path, body=json.dumps({"state": "active"}), headers=JSON)
    assert body(resumed)["state"] == "active"
    assert scheduler.get_schedule(Name=name)["State"] == "ENABLED"
    # When it is deleted, its schedule goes with it
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert name not in [s["Name"] for s in scheduler.list_schedules()["Schedules"]]


@pytest.mark.parametrize(
    ("watch", "status", "field"),
    [
        ({"trigger": SNAPSHOT}, 400, "run_id"),
        ({"scenario_id": "trend_strength", "run_id": "0" * 26, "trigger": SNAPSHOT}, 400, "run_id"),
        ({"scenario_id": "trend_strength"}, 400, "trigger"),
        ({"scenario_id": "trend_strength", "trigger": {}}, 400, "trigger"),
        ({"scenario_id": "trend_strength", "trigger": {"on": "rain"}}, 400, "trigger.on"),
        ({"scenario_id": "nope", "trigger": SNAPSHOT}, 404, "scenario_id"),
        (
            {"scenario_id": "trend_strength", "params": {"bogus": 1}, "trigger": SNAPSHOT},
            400,
            "params.bogus",
        ),
        (
            {
                "scenario_id": "trend_strength",
                "params": {"as_of": "2026-01-02"},
                "trigger": SNAPSHOT,
            },
            400,
            "params.as_of",
        ),
        ({"run_id": "0" * 26, "trigger": SNAPSHOT}, 404, "run_id"),
        # schedules firing more often than the 60-minute minimum, or malformed
        (
            {"scenario_id": "trend_strength", "trigger": {"schedule": "rate(5 minutes)"}},
            400,
            "trigger.schedule",
        ),
        (
            {"scenario_id": "trend_strength", "trigger": {"schedule": "cron(*/10 * * * ? *)"}},
            400,
            "trigger.schedule",
        ),
        (
            {"scenario_id": "trend_strength", "trigger": {"schedule": "cron(0,30 9 * * ? *)"}},
            400,
            "trigger.schedule",
        ),
        (
            {"scenario_id": "trend_strength", "trigger": {"schedule": "cron(0 9 * *)"}},
            400,
            "trigger.schedule",
        ),
        (
            {"scenario_id": "trend_strength", "trigger": {"schedule": "daily"}},
            400,
            "trigger.schedule",
        ),
        (
            {"scenario_id": "trend_strength", "trigger": {"schedule": "rate(99999999999 days)"}},
            400,
            "trigger.schedule",
        ),
        (
            {
                "scenario_id": "trend_strength",
                "trigger": {"schedule": "rate(1 day)", "timezone": "Mars/Base"},
            },
            400,
            "trigger.timezone",
        ),
        # webhook URLs that may not receive alerts
        *[
            (
                {
                    "scenario_id": "trend_strength",
                    "trigger": SNAPSHOT,
                    "channels": [{"type": "inbox"}, {"type": "webhook", "url": url}],
                },
                400,
                "channels.1.url",
            )
            for url in (
                "ftp://example.com/hook",
                "https://user:pass@example.com/hook",
                "http://example.com/hook",
                "https://10.0.0.8/hook",
                "https://169.254.169.254/latest/meta-data",
                "https://[::ffff:192.168.0.1]/hook",
                "https://metadata.internal/hook",
                "https://example.com:99999/hook",
                # IPv4 in the resolver's other spellings: 127.0.0.1, 10.0.0.1, 127.0.0.1
                "https://127.1/hook",
                "https://10.1/hook",
                "https://0177.0.0.1/hook",
                "https://0x7f000001/hook",
                "https://example.com/hook\r\nX-Injected: 1",
                "https://exa mple.com/hook",
            )
        ],
        (
            {
                "scenario_id": "trend_strength",
                "trigger": SNAPSHOT,
                "channels": [{"type": "webhook"}],
            },
            400,
            "channels.0",
        ),
        (
            {
                "scenario_id": "trend_strength",
                "trigger": SNAPSHOT,
                "channels": [{"type": "email", "address": "x"}],
            },
            400,
            "channels.0.address",
        ),
    ],
)
def test_bad_watches_get_a_4xx_naming_the_field(
    api: Any, watch: dict[str, Any], status: int, field: str
) -> None:
    response = post(api, watch)
    assert response.status_code == status, response.body
    assert body(response)["field"] == field
    # nothing was stored
    assert body(api.get("/analysis/watches")) == {"watches": []}


def test_a_watch_on_another_owners_run_is_not_found(api: Any) -> None:
    bobs_run = store_succeeded_run("bob", result([]))
    response = post(api, {"run_id": bobs_run, "trigger": SNAPSHOT})
    assert (response.status_code, body(response)["field"]) == (404, "run_id")


def test_pause_takes_only_a_known_state(api: Any) -> None:
    created = body(post(api, {"scenario_id": "trend_strength", "trigger": SNAPSHOT}))
    response = api.patch(
        f"/analysis/watches/{created['watch_id']}", body=json.dumps({"state": "off"}), headers=JSON
    )
    assert (response.status_code, body(response)["field"]) == (400, "state")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123/hook", "https://localhost/hook"])
def test_loopback_webhooks_are_allowed_only_off_aws(url: str) -> None:
    check_url(url, allow_loopback=True)
    with pytest.raises(WebhookRefused):
        check_url(url, allow_loopback=False)
    check_url("https://hooks.example.com/quantdesk", allow_loopback=False)


def test_deployed_watch_settings_have_no_local_defaults() -> None:
    from quantdesk.settings import MissingSettingError  # noqa: PLC0415
    from quantdesk.watches.settings import WatchSettings  # noqa: PLC0415

    with pytest.raises(MissingSettingError, match="QD_WATCH_DELIVERY_QUEUE_URL"):
        WatchSettings.for_lambda({"QD_ENV": "aws"})
    deployed = WatchSettings.for_lambda(
        {
            "QD_ENV": "aws",
            "QD_WATCH_DELIVERY_QUEUE_URL": "https://sqs/q",
            "QD_WATCH_FIRE_FUNCTION_ARN": "arn:f",
            "QD_WATCH_SCHEDULER_ROLE_ARN": "arn:r",
            "QD_WATCH_NAME_PREFIX": "stage",
            "QD_WATCH_SECRETS_KEY_ID": "key-id",
        }
    )
    assert (deployed.name_prefix, deployed.secrets_key_id) == ("stage", "key-id")


@pytest.mark.parametrize(
    ("schedule", "token"),
    [("cron(0 9 LW * ? *)", "LW"), ("cron(0 9 ? * 1#6 *)", "1#6"), ("cron(0 9 ? * X *)", "X")],
)
def test_the_api_names_the_field_and_the_unsupported_token(
    api: Any, schedule: str, token: str
) -> None:
    request = {"scenario_id": "trend_strength", "trigger": {"schedule": schedule}}
    response = api.post(
        "/analysis/watches",
        body=json.dumps(request),
        headers={"Content-Type": "application/json"},
    )
    error = json.loads(response.body)
    assert response.status_code == 400 and error["field"] == "trigger.schedule"
    assert error["message"].startswith("trigger.schedule:") and repr(token) in error["message"]
    assert "invalid literal" not in error["message"]


def test_the_api_accepts_a_monthly_last_weekday_schedule(api: Any) -> None:
    request = {"scenario_id": "trend_strength", "trigger": {"schedule": "cron(0 18 ? * 6L *)"}}
    response = api.post(
        "/analysis/watches",
        body=json.dumps(request),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201
