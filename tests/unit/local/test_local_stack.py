"""The local cloud's stack: the packaged template deployed through the endpoint's CloudFormation
API (moto, in-process here), and the template resources it cannot create emulated from the
same template entries: schedules, the distribution's routing, the stream mapping's poller."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infrastructure import cloudformation
from infrastructure.local import distributed_map, event_rules, packaged
from infrastructure.local import stack as local_stack
from infrastructure.local.cloud import ACCOUNT, REGION, STACK_NAME, _parameters
from infrastructure.local.event_filter import matches
from infrastructure.local.identity import ensure_identity
from infrastructure.local.lambda_runtime import LambdaRuntime, functions_from_stack, install
from infrastructure.local.moto_cfn import unsupported_types
from infrastructure.local.origin import Routing, routing_from_stack
from infrastructure.local.scheduler import schedules_from_stack
from infrastructure.local.stack import EMULATED, DeployedStack
from infrastructure.local.stream_poller import StreamPoller, mapping_from_stack, neutralise
from infrastructure.resources import SCENARIO_RUN, SCHEDULES, STREAM_ASGI, Function
from quantdesk import aws

ORIGIN = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("package")
    packaged.build(out)
    return json.loads((out / "template.json").read_text()), out


@pytest.fixture(scope="module")
def deployed(package: tuple[dict[str, Any], Path]) -> Iterator[DeployedStack]:
    template, directory = package
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("LOCALSTACK_HOST", raising=False)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        aws.reset()
        # the ASL's Distributed Map fields need the local cloud's interpreter patches, as the
        # endpoint has them (not left to whichever test installed them first)
        distributed_map.install()
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            yield deploy(template, directory)
    aws.reset()


def deploy(template: dict[str, Any], directory: Path) -> DeployedStack:
    return local_stack.deploy(
        template,
        directory,
        stack_name=STACK_NAME,
        origin_url=ORIGIN,
        identity=ensure_identity("http://endpoint", REGION, ORIGIN),
        region=REGION,
        account=ACCOUNT,
        parameters=_parameters(template),
    )


def test_the_stack_is_the_packaged_template(deployed: DeployedStack) -> None:
    # Given the packaged template deployed through the endpoint's CloudFormation API
    cfn = aws.client("cloudformation")
    (described,) = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    template = deployed.template["Resources"]
    # Then every resource is either created by the endpoint or emulated, never dropped
    created = {
        r["LogicalResourceId"]
        for r in cfn.list_stack_resources(StackName=STACK_NAME)["StackResourceSummaries"]
    }
    conditional_off = {k for k, r in template.items() if "Condition" in r} - set(deployed.emulated)
    assert created | set(deployed.emulated) | conditional_off == set(template)
    assert not created & set(deployed.emulated)
    # And only types the endpoint cannot create (or the listed exception) are emulated
    emulated_types = {template[k]["Type"] for k in deployed.emulated}
    assert emulated_types <= set(EMULATED)
    assert unsupported_types(deployed.template) <= emulated_types
    assert unsupported_types({"Resources": {t: {"Type": t} for t in EMULATED}}) == set(EMULATED) - {
        "AWS::ApiGateway::Deployment"
    }
    # And the table has the template's keys and stream, named by the outputs
    table = aws.client("dynamodb").describe_table(TableName=deployed.outputs["TableName"])
    spec = template["RunsTable"]["Properties"]
    assert table["Table"]["KeySchema"] == spec["KeySchema"]
    assert (
        table["Table"]["StreamSpecification"]["StreamViewType"]
        == (spec["StreamSpecification"]["StreamViewType"])
    )
    # And the data lake's working zones expire (moto's CloudFormation ignores lifecycles)
    rules = aws.client("s3").get_bucket_lifecycle_configuration(
        Bucket=deployed.outputs["DataBucketName"]
    )["Rules"]
    declared = template["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert sorted((r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in rules) == sorted(
        (r["Prefix"], r["ExpirationInDays"]) for r in declared
    )


def test_state_machines_run_the_template_definition_with_substitutions(
    deployed: DeployedStack,
) -> None:
    sfn = aws.client("stepfunctions")
    worker = deployed.resolve({"Fn::GetAtt": ["WorkerFunction", "Arn"]})
    arn = deployed.outputs["ScenarioRunStateMachineArn"]
    definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    assert "${" not in definition
    assert worker in definition
    # context paths ($$.Execution.Name) survive the substitution
    source = json.dumps(SCENARIO_RUN.definition())
    assert definition.count("$$.") == source.count("$$.") > 0
    assert deployed.physical["RunsTable"] in definition
    # the machine is where the Step Functions API (which executes) finds it
    assert arn in {m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}


def test_functions_and_environment_come_from_the_stack(deployed: DeployedStack) -> None:
    functions = {f.name: f for f in functions_from_stack(deployed)}
    worker = functions[deployed.outputs["WorkerFunctionName"]]
    props = deployed.template["Resources"]["WorkerFunction"]["Properties"]
    assert (worker.handler, worker.memory_mb, worker.timeout_s, worker.code_dir) == (
        props["Handler"],
        props["MemorySize"],
        props["Timeout"],
        "functions/worker",
    )
    assert deployed.outputs["ApiFunctionName"] in functions
    environment = deployed.function_environment()
    assert environment["QD_TABLE_NAME"] == deployed.outputs["TableName"]
    assert environment["QD_DATA_BUCKET"] == deployed.outputs["DataBucketName"]
    assert environment["QD_RESULTS_BUCKET"] == deployed.outputs["ResultsBucketName"]
    assert environment["QD_SCENARIO_RUN_ARN"] == deployed.outputs["ScenarioRunStateMachineArn"]
    assert environment["QD_INGESTION_ARN"] == deployed.outputs["IngestionStateMachineArn"]
    # the stream-token key is the emulated secret, readable through Secrets Manager
    secret = aws.client("secretsmanager").get_secret_value(
        SecretId=environment["QD_STREAM_SECRET_NAME"]
    )
    assert len(secret["SecretString"]) == 64
    assert "AWS_LWA_INVOKE_MODE" not in environment


def test_redeploying_is_idempotent_and_updates_keep_the_data(
    deployed: DeployedStack, package: tuple[dict[str, Any], Path]
) -> None:
    # When the same package is deployed again, nothing changes
    template, directory = package
    again = deploy(template, directory)
    assert again.status == "CREATE_COMPLETE"
    assert again.physical == deployed.physical
    assert again.emulated["StreamSecret"] == deployed.emulated["StreamSecret"]
    # And a changed template updates the stack in place, the data kept
    updated = _deploy_changed(deployed, package, "ProjectorFunction", MemorySize=384)
    config = aws.client("lambda").get_function_configuration(
        FunctionName=updated.outputs["ProjectorFunctionName"]
    )
    assert config["MemorySize"] == 384


def test_a_changed_table_keeps_the_stack_updatable_and_the_table_as_it_is(
    deployed: DeployedStack, package: tuple[dict[str, Any], Path]
) -> None:
    # moto has no table update: a changed table used to become undefined and the update failed
    indexes = package[0]["Resources"]["RunsTable"]["Properties"]["GlobalSecondaryIndexes"]
    _deploy_changed(deployed, package, "RunsTable", GlobalSecondaryIndexes=indexes[:1])


def _deploy_changed(
    deployed: DeployedStack,
    package: tuple[dict[str, Any], Path],
    resource: str,
    **properties: Any,
) -> DeployedStack:
    """The package with ``resource``'s ``properties`` changed, deployed over the stack while its
    table holds an item (as after a restart with restored state): the update completes,
    references to the table still resolve, and the table and its item are kept."""
    table = deployed.outputs["TableName"]
    item = {"PK": {"S": "KEEP"}, "SK": {"S": resource}}
    aws.client("dynamodb").put_item(TableName=table, Item=item)
    template, directory = package
    changed = json.loads(json.dumps(template))
    changed["Resources"][resource]["Properties"].update(properties)
    updated = deploy(changed, directory)
    assert updated.status == "UPDATE_COMPLETE"
    assert updated.outputs["TableName"] == table
    assert aws.client("dynamodb").get_item(TableName=table, Key=item)["Item"] == item
    return updated


def test_schedules_come_from_the_template(deployed: DeployedStack) -> None:
    schedules = {s.name: s for s in schedules_from_stack(deployed)}
    props = deployed.template["Resources"]["IngestDailySchedule"]["Properties"]
    daily = schedules[f"{STACK_NAME}-ingest-daily"]
    assert (daily.expression, daily.timezone) == (
        props["ScheduleExpression"],
        props["ScheduleExpressionTimezone"],
    )
    assert daily.state_machine == deployed.outputs["IngestionStateMachineArn"]
    assert daily.input["sources"][0]["source"] == "sample"  # the local stack's parameter
    # A stage that asks for no sources has no schedule (the resources' condition is false)
    unscheduled = dataclasses.replace(
        deployed,
        parameters=deployed.parameters
        | {cloudformation.schedule_parameter(s): "[]" for s in SCHEDULES},
    )
    assert schedules_from_stack(unscheduled) == ()


def test_rules_come_from_the_template_and_live_in_the_endpoint(deployed: DeployedStack) -> None:
    rules = {r.name: r for r in event_rules.rules_from_stack(deployed)}
    ended = rules[f"{STACK_NAME}-run-execution-ended"]
    assert ended.function == deployed.outputs["ReconcilerFunctionName"]
    machine = deployed.outputs["ScenarioRunStateMachineArn"]

    def change(status: str, arn: str = machine) -> dict[str, Any]:
        return {
            "source": "aws.states",
            "detail-type": "Step Functions Execution Status Change",
            "detail": {"status": status, "stateMachineArn": arn},
        }

    # the pattern names this stack's scenario-run machine and the ends the reconciler handles
    assert matches(ended.pattern, change("FAILED"))
    assert not matches(ended.pattern, change("SUCCEEDED"))
    other = deployed.outputs["IngestionStateMachineArn"]
    assert not matches(ended.pattern, change("FAILED", other))
    sweep = rules[f"{STACK_NAME}-sweep-stuck-runs"]
    assert (sweep.function, sweep.schedule) == (
        deployed.outputs["SweeperFunctionName"],
        "rate(5 minutes)",
    )
    # the endpoint's CloudFormation created both rules with their targets
    events = aws.client("events")
    for rule in (ended, sweep):
        (target,) = events.list_targets_by_rule(Rule=rule.name)["Targets"]
        assert target["Arn"].endswith(f":function:{rule.function}")


def test_origin_routes_like_the_distribution(deployed: DeployedStack) -> None:
    routing = routing_from_stack(deployed)
    assert routing.kind("/analysis/suggest") == "api"
    assert routing.kind("/analysis/runs/abc/cancel") == "api"
    assert routing.kind("/predict") == "api"
    assert routing.kind("/runs/abc/stream") == "stream"
    assert routing.kind("/") == "web"
    assert routing.kind("/history/") == "web"
    assert routing.kind("/runs/abc") == "web"  # only the stream path goes to the Function URL
    assert routing.api == Function(
        name=deployed.outputs["ApiFunctionName"], code_dir="functions/api", handler="app.app"
    )
    assert routing.stream == Function(
        name=deployed.outputs["StreamFunctionName"],
        code_dir="functions/stream",
        handler=STREAM_ASGI,
    )


def test_the_first_matching_behavior_wins() -> None:
    routing = Routing(
        behaviors=(("/runs/*/stream", "stream"), ("/runs/*", "api")),
        default="web",
        api=None,
        stream=None,
    )
    assert routing.kind("/runs/a/stream") == "stream"
    assert routing.kind("/runs/a") == "api"
    assert routing.kind("/index.html") == "web"


def test_poller_is_configured_from_the_template_mapping(deployed: DeployedStack) -> None:
    props = deployed.template["Resources"]["ProjectorStreamMapping"]["Properties"]
    mapping = mapping_from_stack(
        deployed, "ProjectorStreamMapping", deployed.outputs["ProjectorFunctionName"]
    )
    assert mapping.batch_size == props["BatchSize"]
    assert mapping.maximum_retry_attempts == props["MaximumRetryAttempts"]
    assert mapping.bisect_on_error is props["BisectBatchOnFunctionError"]
    assert mapping.report_batch_item_failures
    assert [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]] == list(
        mapping.filter_patterns
    )
    dlq = deployed.outputs["ProjectorDlqUrl"].rsplit("/", 1)[-1]
    assert mapping.on_failure == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{dlq}"


def _run_item(run_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"RUN#{run_id}"}, "SK": {"S": "RUN"}, "status": {"S": "queued"}}


def test_the_endpoints_own_mapping_is_neutralised_and_ours_reports_failures(
    deployed: DeployedStack,
) -> None:
    # Given the projector replaced by a function that always fails, behind moto's Lambda API
    projector = deployed.outputs["ProjectorFunctionName"]
    runtime = LambdaRuntime(
        (Function(name=projector, code_dir="tests/unit/local", handler="fake_workers.fail"),),
        REGION,
        ACCOUNT,
    )
    install(runtime)
    lambda_client = aws.client("lambda")
    uuid = deployed.physical["ProjectorStreamMapping"]
    table = deployed.outputs["TableName"]
    dynamodb = aws.client("dynamodb")
    # moto's own mapping (what CloudFormation created) invokes inside the write...
    lambda_client.update_event_source_mapping(UUID=uuid, Enabled=True)
    dynamodb.put_item(TableName=table, Item=_run_item("moto"))
    assert runtime.invocations.get(projector) == 1
    # ...until it is neutralised: then writes invoke nothing and the records stay in the shard
    neutralise(lambda_client, uuid)
    assert lambda_client.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    poller = StreamPoller(
        dataclasses.replace(
            mapping_from_stack(deployed, "ProjectorStreamMapping", projector),
            maximum_retry_attempts=1,
        ),
        stream_arn,
        _streams(),
        lambda_client,
        retry_backoff_s=0,
        sqs=aws.client("sqs"),
    )
    poller.open_shards("LATEST")
    dynamodb.put_item(TableName=table, Item=_run_item("ours"))
    assert runtime.invocations.get(projector) == 1
    # When our poller delivers it and the function keeps failing
    for _ in range(10):
        if not poller.poll_once():
            break
    # Then the record is reported to the template's on-failure queue, as Lambda reports it
    assert runtime.invocations[projector] == 3  # moto's one, then our first try and one retry
    sqs = aws.client("sqs")
    queue = deployed.outputs["ProjectorDlqUrl"].rsplit("/", 1)[-1]
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    info = json.loads(message["Body"])
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["DDBStreamBatchInfo"]["streamArn"] == stream_arn
    assert info["DDBStreamBatchInfo"]["startSequenceNumber"] == poller.skipped[-1]


def _streams() -> Any:
    """The regional streams endpoint moto's in-process mock matches (see test_projector)."""
    return boto3.client(
        "dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com"
    )
