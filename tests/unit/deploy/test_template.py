"""The packaged CloudFormation template: lint-clean, wired as the issue asks, stage-safe."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from chalice import Chalice

from infrastructure import cloudformation, resources
from infrastructure.local.lambda_runtime import load_handler
from infrastructure.resources import StateMachine
from quantdesk import keys
from quantdesk.ingestion.sources import SOURCES
from quantdesk.runs import shards
from tests.unit.deploy.template_refs import references

#: "This code may only work with 'package' cli command": our code paths are local on purpose,
#: `aws cloudformation package` uploads them (README, "Deploying to AWS")
EXPLAINED_WARNINGS = {"W3002"}
DATA_SERVICES = ("dynamodb:", "s3:", "states:", "lambda:", "sqs:", "secretsmanager:", "ssm:")
REQUIRED_OUTPUTS = {
    "TableName",
    "DataBucketName",
    "ResultsBucketName",
    "WebBucketName",
    "ScenarioRunStateMachineArn",
    "IngestionStateMachineArn",
    "WorkerFunctionName",
    "ProjectorFunctionName",
    "ApiFunctionName",
    "StreamFunctionName",
    "StreamFunctionUrl",
    "ApiUrl",
    "SiteUrl",
    "DistributionId",
    "ProjectorDlqUrl",
    "StreamSecretName",
}


@cache
def template() -> dict[str, Any]:
    rendered: dict[str, Any] = json.loads(cloudformation.rendered_text())
    return rendered


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template()["Resources"].items() if v["Type"] == kind}


def test_cfn_lint_finds_no_error_and_only_explained_warnings() -> None:
    matches = lint(cloudformation.rendered_text(), config=ManualArgs(regions=["us-east-1"]))
    unexplained = [
        f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})"
        for m in matches
        if m.rule.id not in EXPLAINED_WARNINGS
    ]
    assert unexplained == []


def test_there_is_no_transform_and_code_is_referenced_as_local_paths() -> None:
    assert "Transform" not in template()
    for function in of_type("AWS::Lambda::Function").values():
        assert re.fullmatch(r"functions/[a-z-]+\.zip", function["Properties"]["Code"])
    for layer in of_type("AWS::Lambda::LayerVersion").values():
        assert re.fullmatch(r"layers/[a-z]+\.zip", layer["Properties"]["Content"])


def test_stack_outputs_name_what_deploys_and_the_local_cloud_read() -> None:
    outputs = set(template()["Outputs"])
    assert outputs >= REQUIRED_OUTPUTS
    ingestion = {
        f"{cloudformation.logical_id(f.name)}FunctionName" for f in resources.INGESTION_FUNCTIONS
    }
    assert outputs >= ingestion


def test_every_physical_name_derives_from_the_stack() -> None:
    # no hard-coded partition, region or account (the ASL's service-integration resources,
    # arn:aws:states:::…, are the state language's own names)
    text = json.dumps(
        {
            k: v
            for k, v in template()["Resources"].items()
            if k not in of_type("AWS::StepFunctions::StateMachine")
        }
    )
    text = text.replace(":753240598075:layer:", "")  # the Lambda Web Adapter's publisher
    assert not re.search(r"arn:aws:|us-east-1|\b\d{12}\b", text)
    name_keys = (
        "FunctionName",
        "StateMachineName",
        "QueueName",
        "LayerName",
        "Name",
        "LogGroupName",
    )
    for logical, resource in template()["Resources"].items():
        props = resource.get("Properties", {})
        for key in name_keys:
            value = props.get(key)
            if value is None or (isinstance(value, dict) and "Ref" in value):  # a reference
                continue
            assert isinstance(value, dict) and "Fn::Sub" in value, (logical, key)
            assert "${AWS::StackName}" in value["Fn::Sub"], (logical, key)
    for bucket in of_type("AWS::S3::Bucket").values():
        assert "BucketName" not in bucket["Properties"]  # CloudFormation generates it


def test_no_data_action_is_allowed_on_every_resource() -> None:
    roles = of_type("AWS::IAM::Role")
    for logical, role in roles.items():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                if statement["Resource"] == "*":
                    data = [a for a in actions if a.startswith(DATA_SERVICES)]
                    assert data == [], (logical, data)


def test_every_function_has_its_own_role_log_group_and_retention() -> None:
    functions = of_type("AWS::Lambda::Function")
    assert len(functions) == len(cloudformation.all_functions())
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(roles)
    for logical, function in functions.items():
        log_group = template()["Resources"][f"{logical}Logs"]["Properties"]
        assert log_group["RetentionInDays"] > 0
        assert function["DependsOn"] == [f"{logical}Logs"]
        assert function["Properties"]["Environment"]["Variables"]["QD_ENV"] == "aws"
        assert function["Properties"]["Runtime"] == "python3.12"


def test_only_token_functions_may_read_the_stream_key() -> None:
    readers = set()
    for logical, role in of_type("AWS::IAM::Role").items():
        if cloudformation.STREAM_SECRET_SUFFIX in json.dumps(role):
            readers.add(logical.removesuffix("Role"))
    assert readers == {"ApiFunction", "StreamFunction"}
    for logical in readers:
        env = template()["Resources"][logical]["Properties"]["Environment"]["Variables"]
        assert env["QD_STREAM_SECRET_NAME"] == template()["Outputs"]["StreamSecretName"]["Value"]


def test_no_function_depends_on_a_state_machine_that_invokes_it() -> None:
    # functions name machines by a built ARN (Fn::Sub of a known name), never by Ref/GetAtt
    machines = set(of_type("AWS::StepFunctions::StateMachine"))
    for logical, function in of_type("AWS::Lambda::Function").items():
        assert not references(function) & machines, logical
    for logical, role in of_type("AWS::IAM::Role").items():
        if logical.endswith("FunctionRole"):
            assert not references(role) & machines, logical


def test_state_machines_log_and_trace_and_resolve_every_placeholder() -> None:
    for logical, machine in of_type("AWS::StepFunctions::StateMachine").items():
        props = machine["Properties"]
        assert props["TracingConfiguration"] == {"Enabled": True}
        assert props["LoggingConfiguration"]["Destinations"]
        text, substitutions = props["DefinitionString"]["Fn::Sub"]
        assert set(re.findall(r"\$\{([\w:.]+)\}", text)) == set(substitutions), logical


def test_an_unknown_substitution_target_is_refused_by_both_renderers() -> None:
    machine = StateMachine(
        name="quantdesk-odd",
        definition_file="scenario-run.asl.json",
        substitutions={"X": "queue:q"},
    )
    with pytest.raises(ValueError, match="queue:q"):
        resources.render_definition(machine, "us-east-1", "000000000000")
    with pytest.raises(ValueError, match="queue:q"):
        cloudformation._substitution(machine.substitutions["X"])


def test_projector_mapping_filters_retries_boundedly_and_dead_letters() -> None:
    stream = {"Fn::GetAtt": ["RunsTable", "StreamArn"]}
    (mapping,) = (
        m["Properties"]
        for m in of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == stream
    )
    (local,) = resources.STREAM_MAPPINGS
    assert [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]] == list(
        local.filter_patterns
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10_000
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 604_800
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["ProjectorDlq", "Arn"]
    }


def test_the_table_streams_and_expires_like_the_local_one() -> None:
    (table,) = (t["Properties"] for t in of_type("AWS::DynamoDB::Table").values())
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": resources.TABLE.ttl_attribute,
        "Enabled": True,
    }
    assert table["StreamSpecification"]["StreamViewType"] == resources.TABLE.stream_view


def test_the_table_indexes_runs_in_flight_sparsely_and_the_sweeper_queries_it() -> None:
    (table,) = (t["Properties"] for t in of_type("AWS::DynamoDB::Table").values())
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {keys.GSI1, keys.ACTIVE_INDEX}
    active = indexes[keys.ACTIVE_INDEX]
    assert active["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert [(k["AttributeName"], k["KeyType"]) for k in active["KeySchema"]] == [
        (keys.ACTIVE_PK, "HASH"),
        (keys.ACTIVE_SK, "RANGE"),
    ]
    defined = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert defined[keys.ACTIVE_PK] == defined[keys.ACTIVE_SK] == "S"
    sweeper = cloudformation.function_id(resources.SWEEPER)
    role = template()["Resources"][sweeper]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        s
        for policy in template()["Resources"][role]["Properties"]["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
    ]
    actions = {a for s in statements for a in s["Action"]}
    assert "dynamodb:Query" in actions and "dynamodb:Scan" not in actions
    (query,) = (s for s in statements if "dynamodb:Query" in s["Action"])
    assert {"Fn::Sub": "${RunsTable.Arn}/index/*"} in query["Resource"]


def test_buckets_are_encrypted_and_private() -> None:
    buckets = of_type("AWS::S3::Bucket")
    assert set(buckets) == {"DataBucket", "ResultsBucket", "WebBucket"}
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert all(props["PublicAccessBlockConfiguration"].values())
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]


def test_shard_partials_expire_and_only_the_worker_may_delete_them() -> None:
    buckets = of_type("AWS::S3::Bucket")
    rules = buckets["ResultsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [(r["Prefix"], r["Status"]) for r in rules] == [("shards/", "Enabled")]
    assert 0 < rules[0]["ExpirationInDays"] <= 30
    assert shards.shards_prefix("r1").startswith(rules[0]["Prefix"])
    deleters = {
        name
        for name, role in of_type("AWS::IAM::Role").items()
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
        if "s3:DeleteObject" in statement["Action"] and "ResultsBucket" in json.dumps(statement)
    }
    assert deleters == {"WorkerFunctionRole"}


def test_cloudfront_routes_api_and_stream_uncached_and_the_ui_through_oac() -> None:
    (distribution,) = of_type("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert {p: b["TargetOriginId"] for p, b in behaviours.items()} == {
        "/analysis/*": "api",
        "/predict": "api",
        "/predict/*": "api",
        "/runs/*/stream": "stream",
        "/inbox/stream": "stream",
    }
    assert {b["CachePolicyId"] for b in behaviours.values()} == {cloudformation.CACHING_DISABLED}
    origins = {o["Id"]: o for o in config["Origins"]}
    assert (
        "OriginAccessControlId" in origins["web"] and "OriginAccessControlId" in origins["stream"]
    )
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "web"


def test_the_stream_url_streams_and_only_cloudfront_may_invoke_it() -> None:
    url = of_type("AWS::Lambda::Url")["StreamFunctionUrl"]["Properties"]
    assert (url["AuthType"], url["InvokeMode"]) == ("AWS_IAM", "RESPONSE_STREAM")
    permission = of_type("AWS::Lambda::Permission")["StreamUrlPermission"]["Properties"]
    assert permission["Action"] == "lambda:InvokeFunctionUrl"
    assert permission["Principal"] == "cloudfront.amazonaws.com"
    assert "${Cdn}" in permission["SourceArn"]["Fn::Sub"]
    invoke = of_type("AWS::Lambda::Permission")["StreamInvokePermission"]["Properties"]
    assert (invoke["Action"], invoke["InvokedViaFunctionUrl"]) == ("lambda:InvokeFunction", True)
    assert invoke["SourceArn"] == permission["SourceArn"]
    env = of_type("AWS::Lambda::Function")["StreamFunction"]["Properties"]["Environment"]
    assert env["Variables"]["AWS_LWA_INVOKE_MODE"] == "response_stream"
    stream = of_type("AWS::Lambda::Function")["StreamFunction"]["Properties"]
    assert "LambdaAdapterLayerArm64" in json.dumps(stream["Layers"])
    assert stream["Architectures"] == ["arm64"]


def test_open_streams_can_be_capped_so_viewers_never_starve_the_worker() -> None:
    stream = of_type("AWS::Lambda::Function")["StreamFunction"]["Properties"]
    cap = {"Ref": "StreamReservedConcurrency"}
    assert stream["ReservedConcurrentExecutions"] == {
        "Fn::If": ["CapStream", cap, {"Ref": "AWS::NoValue"}]
    }
    assert template()["Parameters"]["StreamReservedConcurrency"]["Default"] == 0  # no cap
    assert template()["Conditions"]["CapStream"] == {"Fn::Not": [{"Fn::Equals": [cap, "0"]}]}
    others = [
        name
        for name, fn in of_type("AWS::Lambda::Function").items()
        if "ReservedConcurrentExecutions" in fn["Properties"] and name != "StreamFunction"
    ]
    assert others == []


@pytest.mark.parametrize("function", [resources.API, resources.PREDICT], ids=lambda f: f.suffix)
def test_the_rest_api_serves_every_chalice_route_through_its_function(
    function: resources.Function,
) -> None:
    app = load_handler(function)
    assert isinstance(app, Chalice)
    body = of_type("AWS::ApiGateway::RestApi")["RestApi"]["Properties"]["Body"]
    for path, methods in app.routes.items():
        for method in methods:
            operation = body["paths"][path][method.lower()]
            integration = operation["x-amazon-apigateway-integration"]
            assert integration["type"] == "aws_proxy"
            assert (
                f"${{{cloudformation.function_id(function)}.Arn}}" in integration["uri"]["Fn::Sub"]
            )
    permissions = of_type("AWS::Lambda::Permission").values()
    assert any(
        p["Properties"]["FunctionName"] == {"Ref": cloudformation.function_id(function)}
        and p["Properties"]["Principal"] == "apigateway.amazonaws.com"
        for p in permissions
    )


def test_the_api_authorizer_trusts_this_stacks_user_pool() -> None:
    body = of_type("AWS::ApiGateway::RestApi")["RestApi"]["Properties"]["Body"]
    authorizers = [
        scheme["x-amazon-apigateway-authorizer"]
        for scheme in body["securityDefinitions"].values()
        if "x-amazon-apigateway-authorizer" in scheme
    ]
    assert authorizers
    for authorizer in authorizers:
        assert authorizer["providerARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    client = of_type("AWS::Cognito::UserPoolClient")["UserPoolClient"]["Properties"]
    callback = "https://${Cdn.DomainName}" + resources.USER_POOL.callback_path
    assert client["CallbackURLs"] == [{"Fn::Sub": callback}]


def test_schedules_default_to_the_vendor_sources_never_the_sample() -> None:
    params = template()["Parameters"]
    defaults = set()
    for logical, schedule in of_type("AWS::Scheduler::Schedule").items():
        param = f"{logical.removesuffix('Schedule')}Sources"
        sources = json.loads(params[param]["Default"])
        defaults |= {s["source"] for s in sources}
        assert all(s["source"] in SOURCES for s in sources)
        assert schedule["Condition"] == f"Has{param}"  # "[]" still means no schedule
        assert "sample" not in json.dumps(schedule) + params[param]["Default"]
    assert {"stooq", "edgar", "membership"} <= defaults


def test_ingestion_functions_read_only_their_stacks_vendor_parameters() -> None:
    for function in resources.INGESTION_FUNCTIONS:
        logical = cloudformation.function_id(function)
        env = template()["Resources"][logical]["Properties"]["Environment"]["Variables"]
        assert env["QD_VENDOR_PARAMETERS_PATH"] == {"Fn::Sub": "/${AWS::StackName}/vendor"}
        role = json.dumps(template()["Resources"][f"{logical}Role"])
        assert ":parameter/${AWS::StackName}/vendor/*" in role
    readers = [r for r, role in of_type("AWS::IAM::Role").items() if "ssm:Get" in json.dumps(role)]
    assert len(readers) == len(resources.INGESTION_FUNCTIONS)


def test_rules_invoke_the_reconciler_and_sweeper_and_only_their_rule_may() -> None:
    rules = of_type("AWS::Events::Rule")
    permissions = of_type("AWS::Lambda::Permission")
    targets: dict[str, str] = {}
    for logical, rule in rules.items():
        props = rule["Properties"]
        (target,) = [t["Arn"]["Fn::GetAtt"][0] for t in props["Targets"]]
        targets[logical] = target
        (permission,) = (
            p["Properties"]
            for p in permissions.values()
            if p["Properties"]["SourceArn"] == {"Fn::GetAtt": [logical, "Arn"]}
        )
        assert permission["FunctionName"] == {"Ref": target}
        assert permission["Principal"] == "events.amazonaws.com"
    reconciler = cloudformation.function_id(resources.RECONCILER)
    sweeper = cloudformation.function_id(resources.SWEEPER)
    watches = [
        cloudformation.function_id(f) for f in (resources.WATCH_SNAPSHOTS, resources.WATCH_EVALUATE)
    ]
    assert sorted(targets.values()) == sorted([reconciler, sweeper, *watches])
    (ended,) = (rules[k]["Properties"] for k, t in targets.items() if t == reconciler)
    assert ended["EventPattern"]["detail"]["stateMachineArn"] == [
        cloudformation.state_machine_arn(resources.SCENARIO_RUN)
    ]
    assert ended["EventPattern"]["detail"]["status"] == ["FAILED", "TIMED_OUT", "ABORTED"]
    (swept,) = (rules[k]["Properties"] for k, t in targets.items() if t == sweeper)
    assert swept["ScheduleExpression"] == "rate(5 minutes)"


def test_alarms_watch_failed_executions_projector_errors_and_the_dlq() -> None:
    metrics = {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"])
        for a in of_type("AWS::CloudWatch::Alarm").values()
    }
    assert metrics == {
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/Lambda", "Errors"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    }
    failed = [
        a
        for a in of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "ExecutionsFailed"
    ]
    assert len(failed) == len(resources.STATE_MACHINES)


def test_a_resource_group_declared_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="RunsTable"):
        cloudformation.render([cloudformation.storage, cloudformation.storage])


def test_every_cloudfront_answer_carries_hsts_and_the_security_headers() -> None:
    (distribution,) = of_type("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert {json.dumps(b.get("ResponseHeadersPolicyId")) for b in behaviours} == {
        json.dumps({"Ref": "SecurityHeaders"})
    }
    (policy,) = of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    assert {"ContentTypeOptions", "FrameOptions", "ReferrerPolicy"} <= headers.keys()


def test_the_api_stage_is_throttled_and_metered_by_a_usage_plan() -> None:
    (stage,) = of_type("AWS::ApiGateway::Stage").values()
    (settings,) = stage["Properties"]["MethodSettings"]
    # parameters an operator raises for a bigger team (README, "Capacity at 10,000 researchers")
    rate, burst = {"Ref": "ApiThrottleRate"}, {"Ref": "ApiThrottleBurst"}
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (rate, burst)
    parameters = template()["Parameters"]
    assert parameters["ApiThrottleRate"]["Default"] == cloudformation.API_THROTTLE_RATE > 0
    assert parameters["ApiThrottleBurst"]["Default"] == cloudformation.API_THROTTLE_BURST > 0
    (plan,) = of_type("AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"] == {"RateLimit": rate, "BurstLimit": burst}
    assert plan["Properties"]["ApiStages"] == [
        {"ApiId": {"Ref": "RestApi"}, "Stage": {"Ref": "ApiStage"}}
    ]


def test_api_gateways_own_errors_have_the_api_error_shape() -> None:
    (api,) = of_type("AWS::ApiGateway::RestApi").values()
    responses = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
    assert {"MISSING_AUTHENTICATION_TOKEN", "UNAUTHORIZED", "THROTTLED"} <= responses.keys()
    for response in responses.values():
        body = json.loads(response["responseTemplates"]["application/json"])
        assert set(body) == {"code", "message", "field"}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == 404
    unauthorized = responses["UNAUTHORIZED"]["responseParameters"]
    assert unauthorized["gatewayresponse.header.WWW-Authenticate"].startswith("'Bearer")


def test_only_ingestion_functions_may_read_vendor_keys_under_the_stack_prefix() -> None:
    readers = set()
    for logical, role in of_type("AWS::IAM::Role").items():
        if cloudformation.VENDOR_KEYS_SUFFIX in json.dumps(role):
            readers.add(logical.removesuffix("Role"))
    ingestion = {cloudformation.function_id(f) for f in resources.INGESTION_FUNCTIONS}
    assert readers == ingestion
    for logical in ingestion:
        env = template()["Resources"][logical]["Properties"]["Environment"]["Variables"]
        assert env["QD_FRED_API_KEY_NAME"] == {"Fn::Sub": "/${AWS::StackName}/vendor/fred-api-key"}


def test_the_predict_function_reads_a_tracking_server_only_when_one_is_given() -> None:
    params = template()["Parameters"]
    conditions = template()["Conditions"]
    for name, condition in (
        (cloudformation.PREDICT_TRACKING_URI, "HasPredictTrackingServer"),
        (cloudformation.PREDICT_ARTIFACT_BUCKET, "HasPredictArtifactBucket"),
    ):
        assert params[name]["Default"] == ""  # our own registry unless the deployer says so
        assert conditions[condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": name}, ""]}]}
    fid = cloudformation.function_id(resources.PREDICT)
    env = of_type("AWS::Lambda::Function")[fid]["Properties"]["Environment"]["Variables"]
    assert env["QD_PREDICT_TRACKING_URI"] == {"Ref": cloudformation.PREDICT_TRACKING_URI}
    role = of_type("AWS::IAM::Role")[f"{fid}Role"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    (mlflow,) = [s for s in statements if s["Action"][0].startswith("sagemaker-mlflow:")]
    assert all(a.split(":")[1].startswith(("Get", "Search")) for a in mlflow["Action"])
    condition, servers, unset = mlflow["Resource"]["Fn::If"]
    assert condition == "HasPredictTrackingServer"
    assert "mlflow-tracking-server/*" in json.dumps(servers)
    assert unset == cloudformation.PREDICT_MODELS  # unset: nothing beyond our own models
    (bucket,) = [s for s in statements if "Fn::If" in json.dumps(s) and s != mlflow]
    assert bucket["Action"] == ["s3:GetObject"]
    assert bucket["Resource"]["Fn::If"][0] == "HasPredictArtifactBucket"
