"""The template's watch resources: the functions' settings, the delivery queue with its
dead-letter queue and mapping, the schedules' role, least-privilege grants."""

from __future__ import annotations

import json
from typing import Any

from infrastructure import cloudformation, resources
from quantdesk.watches.settings import REQUIRED_ON_AWS, WatchSettings


def template() -> dict[str, Any]:
    rendered: dict[str, Any] = cloudformation.render()["Resources"]
    return rendered


def test_the_api_and_watch_functions_get_every_required_watch_setting() -> None:
    names = {WatchSettings.env_prefix + n.upper() for n in REQUIRED_ON_AWS}
    for function in (resources.API, *resources.WATCH_FUNCTIONS):
        env = template()[cloudformation.function_id(function)]["Properties"]["Environment"]
        assert names <= set(env["Variables"]), function.name


def test_webhooks_are_retried_then_dead_lettered_by_the_queue() -> None:
    resources_ = template()
    queue = resources_["AlertDeliveries"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["AlertDeliveriesDlq", "Arn"]},
        "maxReceiveCount": resources.ALERT_DELIVERY_ATTEMPTS,
    }
    # visibility at least six times the consumer's timeout (Lambda's SQS mapping asks so)
    assert queue["VisibilityTimeout"] >= 6 * resources.WATCH_DELIVER.timeout_s
    (mapping,) = (
        r["Properties"]
        for r in resources_.values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
        and r["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["AlertDeliveries", "Arn"]}
    )
    assert mapping["FunctionName"] == {"Ref": cloudformation.function_id(resources.WATCH_DELIVER)}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_schedules_may_invoke_only_the_fire_function_and_the_api_only_manage_watch_schedules() -> (
    None
):
    resources_ = template()
    role = resources_["WatchSchedulerRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "scheduler.amazonaws.com"
    }
    (statement,) = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["lambda:InvokeFunction"]
    assert "watch-fire" in json.dumps(statement["Resource"])
    api_role = resources_[f"{cloudformation.function_id(resources.API)}Role"]["Properties"]
    grants = api_role["Policies"][0]["PolicyDocument"]["Statement"]
    (schedules,) = [g for g in grants if "scheduler:CreateSchedule" in g["Action"]]
    assert "schedule/default/${AWS::StackName}-watch-*" in json.dumps(schedules["Resource"])


def test_only_the_api_seals_and_only_delivery_opens_webhook_secrets() -> None:
    resources_ = template()
    key = resources_["WatchSecretsKey"]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True

    def kms_actions(function: resources.Function) -> set[str]:
        role = resources_[f"{cloudformation.function_id(function)}Role"]["Properties"]
        statements = role["Policies"][0]["PolicyDocument"]["Statement"]
        found = {a for g in statements for a in g["Action"] if a.startswith("kms:")}
        for g in statements:
            if any(a.startswith("kms:") for a in g["Action"]):
                assert "key/${WatchSecretsKey}" in json.dumps(g["Resource"])
        return found

    assert kms_actions(resources.API) == {"kms:Encrypt"}
    assert kms_actions(resources.WATCH_DELIVER) == {"kms:Decrypt"}
    for function in (resources.WATCH_FIRE, resources.WATCH_SNAPSHOTS, resources.WATCH_EVALUATE):
        assert kms_actions(function) == set()
