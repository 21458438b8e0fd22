"""The one definition of quantdesk's AWS resources.

The AWS template (``infrastructure/cloudformation.py``) is built from these objects, and the
local cloud (``infrastructure/local``) deploys that template, so the two cannot drift: table key
schema and stream, buckets, Lambda functions (code dir, handler, memory, env), the stream
event-source mapping with its filter criteria, the state machines (ASL files + substitutions),
the schedules and the EventBridge rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from quantdesk import keys
from quantdesk.datalake.layout import (
    LANDING_PREFIX,
    QUARANTINE_PREFIX,
    RAW_PREFIX,
    VALIDATED_PREFIX,
)

ROOT: Final = Path(__file__).resolve().parent.parent
STATEMACHINES: Final = ROOT / "statemachines"
PREFIX: Final = "quantdesk"


@dataclass(frozen=True)
class Table:
    name: str
    stream_view: str = "NEW_AND_OLD_IMAGES"
    #: items with this epoch-seconds attribute expire (rate-limit windows, idempotency keys)
    ttl_attribute: str = keys.EXPIRES_AT

    def create_kwargs(self) -> dict[str, Any]:
        """``dynamodb.create_table`` arguments (also the template's key schema)."""
        string_attrs = (keys.PK, keys.SK, keys.GSI1PK, keys.GSI1SK, keys.ACTIVE_PK, keys.ACTIVE_SK)
        return {
            "TableName": self.name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": a, "AttributeType": "S"} for a in string_attrs
            ],
            "KeySchema": [
                {"AttributeName": keys.PK, "KeyType": "HASH"},
                {"AttributeName": keys.SK, "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": keys.GSI1,
                    "KeySchema": [
                        {"AttributeName": keys.GSI1PK, "KeyType": "HASH"},
                        {"AttributeName": keys.GSI1SK, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                },
                keys.active_index_spec(),
            ],
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": self.stream_view},
        }


@dataclass(frozen=True)
class Function:
    """A Lambda function: ``code_dir`` (relative to the repo) holds ``handler``'s module."""

    name: str
    code_dir: str
    handler: str
    memory_mb: int = 512
    timeout_s: int = 30
    #: "analytics" = the pandas/numpy layer; every function gets the core layer
    layers: tuple[str, ...] = ()
    #: reads the stream-token key (Secrets Manager on AWS, read at cold start)
    reads_stream_secret: bool = False

    @property
    def arn_suffix(self) -> str:
        return f"function:{self.name}"

    @property
    def suffix(self) -> str:
        """The name without the prefix: on AWS the function is ``<stack>-<suffix>``."""
        return self.name.removeprefix(f"{PREFIX}-")


@dataclass(frozen=True)
class Layer:
    """A Lambda layer: third-party ``requirements`` (distribution names, pinned in
    pyproject.toml) installed as wheels for the Lambda runtime, plus our own ``packages``."""

    name: str
    requirements: tuple[str, ...]
    packages: tuple[str, ...] = ()
    #: modules of a distribution to keep (the rest is build-time tooling), by distribution
    only_modules: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamMapping:
    """A DynamoDB-stream event-source mapping, as Lambda's (batching, filters, retries).

    A record still failing after ``maximum_retry_attempts`` (or older than
    ``maximum_record_age_s``) is skipped so the shard moves on, and a description of it goes to
    the ``on_failure`` queue (SQS), from which ``quantdesk dlq redrive`` replays it."""

    function: str
    batch_size: int = 100
    max_batching_window_s: float = 0.0
    maximum_retry_attempts: int = 10
    #: records older than this go to the on-failure destination instead of being retried
    maximum_record_age_s: int = 3600
    bisect_on_error: bool = True
    report_batch_item_failures: bool = True
    filter_patterns: tuple[dict[str, Any], ...] = ()
    #: SQS queue ARN that records discarded after retries are reported to ("" = logged only)
    on_failure: str = ""


#: what a ``kind:name`` substitution target may name
TARGET_KINDS: Final = ("table", "function", "bucket", "statemachine")


def parse_target(target: str) -> tuple[str, str]:
    """``"function:quantdesk-worker"`` -> ``("function", "quantdesk-worker")``; the one parser
    of substitution targets (the local cloud and the template both use it)."""
    kind, _, name = target.partition(":")
    if kind not in TARGET_KINDS:
        raise ValueError(f"unknown substitution target {target!r}")
    return kind, name


@dataclass(frozen=True)
class StateMachine:
    name: str
    definition_file: str
    #: ``${Name}`` in the ASL -> what it refers to: "table", "function:<name>", "bucket:<name>"
    substitutions: dict[str, str] = field(default_factory=dict)

    def definition(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((STATEMACHINES / self.definition_file).read_text())
        return loaded


@dataclass(frozen=True)
class EventRule:
    """An EventBridge rule invoking ``function``: on events matching ``pattern`` (for
    ``state_machine`` the machine's ARN is added to the pattern's detail), or on ``schedule``."""

    name: str
    function: str
    pattern: dict[str, Any] = field(default_factory=dict)
    state_machine: str = ""
    schedule: str = ""

    def event_pattern(self, region: str, account: str) -> dict[str, Any]:
        if not self.state_machine:
            return self.pattern
        arn = state_machine_arn(self.state_machine, region, account)
        return {
            **self.pattern,
            "detail": {**self.pattern.get("detail", {}), "stateMachineArn": [arn]},
        }


@dataclass(frozen=True)
class Schedule:
    """An EventBridge Scheduler schedule starting a state machine."""

    name: str
    expression: str
    state_machine: str
    input: dict[str, Any] = field(default_factory=dict)
    timezone: str = "America/New_York"


@dataclass(frozen=True)
class UserPool:
    """The Cognito user pool and its one app client (a public client: the web UI signs in with
    the authorization-code + PKCE flow, the CLI with USER_PASSWORD_AUTH over TLS; both refresh).
    API Gateway's Cognito authorizer, and locally the origin, accept this client's ID tokens."""

    name: str
    client_name: str
    #: path of the web UI's sign-in callback page on the site (CloudFront / local origin); the
    #: trailing slash as the static export serves pages (`/<path>/index.html`)
    callback_path: str = "/auth/callback/"
    id_token_minutes: int = 60
    refresh_token_days: int = 30
    #: the local stack's researcher: requests without a token act as them (local stack only)
    default_user: str = "researcher"

    def create_pool_kwargs(self) -> dict[str, Any]:
        """``cognito-idp.create_user_pool`` arguments (the template's pool has the same)."""
        return {
            "PoolName": self.name,
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "AutoVerifiedAttributes": ["email"],
            "MfaConfiguration": "OFF",
            "Policies": {
                "PasswordPolicy": {
                    "MinimumLength": 12,
                    "RequireLowercase": True,
                    "RequireUppercase": True,
                    "RequireNumbers": True,
                    "RequireSymbols": False,
                }
            },
        }

    def create_client_kwargs(self, pool_id: str, site_url: str) -> dict[str, Any]:
        """``cognito-idp.create_user_pool_client`` arguments for the site at ``site_url``."""
        return {
            "UserPoolId": pool_id,
            "ClientName": self.client_name,
            "GenerateSecret": False,
            "ExplicitAuthFlows": [
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email", "profile"],
            "SupportedIdentityProviders": ["COGNITO"],
            "CallbackURLs": [site_url.rstrip("/") + self.callback_path],
            "LogoutURLs": [site_url.rstrip("/") + "/"],
            "IdTokenValidity": self.id_token_minutes,
            "AccessTokenValidity": self.id_token_minutes,
            "RefreshTokenValidity": self.refresh_token_days,
            "TokenValidityUnits": {
                "IdToken": "minutes",
                "AccessToken": "minutes",
                "RefreshToken": "days",
            },
            "PreventUserExistenceErrors": "ENABLED",
            "EnableTokenRevocation": True,
        }


def issuer(region: str, pool_id: str) -> str:
    """The ``iss`` of the pool's tokens (the same URL shape on AWS and in moto)."""
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


USER_POOL: Final = UserPool(name=f"{PREFIX}-users", client_name=f"{PREFIX}-web")
#: Secrets Manager secret with the stream tokens' HMAC key (random; created, never shipped)
STREAM_KEY_SECRET: Final = f"{PREFIX}/stream-signing-key"

TABLE: Final = Table(name=f"{PREFIX}")
DATA_BUCKET: Final = f"{PREFIX}-data"
RESULTS_BUCKET: Final = f"{PREFIX}-results"
BUCKETS: Final = (DATA_BUCKET, RESULTS_BUCKET)
#: working zones of the data lake expire; ``lake/`` and ``snapshots/`` (what runs read) never do
DATA_RETENTION_DAYS: Final[dict[str, int]] = {
    f"{LANDING_PREFIX}/": 30,
    f"{VALIDATED_PREFIX}/": 30,
    f"{RAW_PREFIX}/": 180,
    f"{QUARANTINE_PREFIX}/": 180,
}


#: a sharded run's shard list and partials (``shards/<run_id>/``) are only read by its reduce
RESULTS_RETENTION_DAYS: Final[dict[str, int]] = {"shards/": 7}


def lifecycle_rules(retention: dict[str, int] = DATA_RETENTION_DAYS) -> list[dict[str, Any]]:
    """A bucket's expiry rules, the data bucket's by default (S3 API shape; the template's
    differs only in case)."""
    return [
        {
            "ID": f"expire-{prefix.rstrip('/')}",
            "Filter": {"Prefix": prefix},
            "Status": "Enabled",
            "Expiration": {"Days": days},
        }
        for prefix, days in retention.items()
    ]


WORKER: Final = Function(
    name=f"{PREFIX}-worker",
    code_dir="functions/worker",
    handler="handler.handler",
    memory_mb=1769,
    timeout_s=900,
    layers=("analytics",),
)
PROJECTOR: Final = Function(
    name=f"{PREFIX}-projector",
    code_dir="functions/projector",
    handler="handler.handler",
    memory_mb=256,
    timeout_s=60,
)


# -- ingestion (issue 5): one Lambda per step, the workflow, and its schedules ---------------
def _ingestion_function(step: str, memory_mb: int = 3008, timeout_s: int = 900) -> Function:
    return Function(
        name=f"{PREFIX}-ingest-{step}",
        code_dir="functions/ingestion",
        handler=f"handler.{step}",
        memory_mb=memory_mb,
        timeout_s=timeout_s,
        layers=("analytics",),
    )


INGESTION_FUNCTIONS: Final = (
    _ingestion_function("fetch"),
    _ingestion_function("validate"),
    _ingestion_function("write"),
    _ingestion_function("publish", memory_mb=1024, timeout_s=300),
    _ingestion_function("summarize", memory_mb=256, timeout_s=60),
)
INGESTION: Final = StateMachine(
    name=f"{PREFIX}-ingestion",
    definition_file="ingestion.asl.json",
    substitutions={
        **{
            f"{f.handler.removeprefix('handler.').title()}FunctionArn": f"function:{f.name}"
            for f in INGESTION_FUNCTIONS
        },
        # the bulk load's Distributed Map lists the landing prefix there
        "DataBucketName": f"bucket:{DATA_BUCKET}",
    },
)
#: per-dataset cadence: market data daily after the US close, reference data weekly
INGESTION_SCHEDULES: Final = (
    Schedule(
        name=f"{PREFIX}-ingest-daily",
        expression="cron(30 17 ? * MON-FRI *)",
        state_machine=INGESTION.name,
        input={
            "sources": [
                {
                    "source": "sample",
                    "datasets": ["prices", "sentiment", "macro", "earnings", "fundamentals"],
                }
            ]
        },
    ),
    Schedule(
        name=f"{PREFIX}-ingest-weekly",
        expression="cron(0 6 ? * SUN *)",
        state_machine=INGESTION.name,
        input={"sources": [{"source": "sample", "datasets": ["universe", "sectors"]}]},
    ),
)

#: what each schedule ingests on a deployed stage unless its stack parameter says otherwise
#: (the local stack passes each schedule's ``input``: the labelled synthetic sample). The
#: universe comes first (weekly, from the membership changes file); prices and fundamentals
#: of its open members daily; EDGAR's sectors ride on the submissions it reads anyway.
DEPLOYED_SOURCES: Final[dict[str, list[dict[str, Any]]]] = {
    f"{PREFIX}-ingest-daily": [
        {"source": "stooq", "datasets": ["prices"]},
        {"source": "edgar", "datasets": ["fundamentals", "sectors"]},
    ],
    f"{PREFIX}-ingest-weekly": [{"source": "membership", "datasets": ["universe"]}],
}
#: the vendor sources' operator settings on a deployed stage: SSM parameters under
#: ``/<stack>/<this>/`` (``edgar-user-agent``, ``tiingo-key`` as a SecureString)
VENDOR_KEYS_PATH: Final = "vendor"

#: the REST API: Chalice packages and deploys it; locally the origin serves ``app.app``
API: Final = Function(
    name=f"{PREFIX}-api", code_dir="functions/api", handler="app.app", reads_stream_secret=True
)
#: the SSE app behind a streaming Function URL. On AWS the Lambda Web Adapter runs ``run.sh``
#: (uvicorn); the ASGI application it serves, which the local origin mounts, is ``STREAM_ASGI``.
STREAM: Final = Function(
    name=f"{PREFIX}-stream",
    code_dir="functions/stream",
    handler="run.sh",
    timeout_s=900,
    reads_stream_secret=True,
)
STREAM_ASGI: Final = "app.app"

# -- no stuck run (issue 13): the reconciler and the sweeper -----------------------------------
RECONCILER: Final = Function(
    name=f"{PREFIX}-reconciler",
    code_dir="functions/reconciler",
    handler="handler.execution_ended",
    memory_mb=256,
    timeout_s=60,
)
SWEEPER: Final = Function(
    name=f"{PREFIX}-sweeper",
    code_dir="functions/reconciler",
    handler="handler.sweep",
    memory_mb=256,
    timeout_s=300,
)

# -- the legacy /predict endpoint (issue 16): the API's code, its own app and layer -------------
#: behind the same REST API (its routes' integrations name it): only this function carries
#: onnxruntime
PREDICT: Final = Function(
    name=f"{PREFIX}-predict",
    code_dir="functions/api",
    handler="predict_app.app",
    memory_mb=1024,
    layers=("predict",),
)


# -- watches and alerts (issue 15): a function per trigger, the webhook delivery queue ----------
def _watch_function(suffix: str, handler: str, timeout_s: int = 60) -> Function:
    return Function(
        name=f"{PREFIX}-watch-{suffix}",
        code_dir="functions/watches",
        handler=f"handler.{handler}",
        memory_mb=256,
        timeout_s=timeout_s,
    )


WATCH_FIRE: Final = _watch_function("fire", "scheduled")
WATCH_SNAPSHOTS: Final = _watch_function("snapshots", "snapshots_published", timeout_s=300)
WATCH_EVALUATE: Final = _watch_function("evaluate", "run_succeeded")
WATCH_DELIVER: Final = _watch_function("deliver", "deliver")
WATCH_FUNCTIONS: Final = (WATCH_FIRE, WATCH_SNAPSHOTS, WATCH_EVALUATE, WATCH_DELIVER)
#: one message per webhook delivery; after this many receives it moves to the dead-letter queue
ALERT_DELIVERY_ATTEMPTS: Final = 5

FUNCTIONS: Final[tuple[Function, ...]] = (
    WORKER,
    PROJECTOR,
    *INGESTION_FUNCTIONS,
    RECONCILER,
    SWEEPER,
    PREDICT,
    *WATCH_FUNCTIONS,
)

#: where the projector's mapping sends what it could not process (``quantdesk dlq``)
PROJECTOR_DLQ: Final = f"{PREFIX}-projector-dlq"

#: the Lambda layers (built for the runtime by ``infrastructure.package``): every function gets
#: ``core``; the pandas/numpy functions add ``analytics``
CORE_LAYER: Final = Layer(
    name="core",
    requirements=("pydantic", "aws-lambda-powertools", "starlette", "uvicorn", "chalice"),
    packages=("quantdesk", "scenarios"),
    # Chalice's runtime is chalice/app.py; the rest of the distribution is its deploy tooling
    only_modules={"chalice": ("chalice/__init__.py", "chalice/app.py")},
)
ANALYTICS_LAYER: Final = Layer(name="analytics", requirements=("pandas", "numpy", "fastparquet"))
#: /predict: ONNX models in MLflow's format (onnxruntime + numpy 110 MB; scikit-learn + SciPy
#: would be 206 MB)
PREDICT_LAYER: Final = Layer(name="predict", requirements=("numpy", "onnxruntime", "pyyaml"))
LAYERS: Final[tuple[Layer, ...]] = (CORE_LAYER, ANALYTICS_LAYER, PREDICT_LAYER)

STREAM_MAPPINGS: Final = (
    StreamMapping(
        function=PROJECTOR.name,
        batch_size=100,
        # a record that cannot be projected is retried briefly, then set aside, so it holds
        # up the other runs' events on its shard for well under a second
        maximum_retry_attempts=2,
        maximum_record_age_s=60,
        # only run items reach the projector (not events, snapshots, limits)
        filter_patterns=(
            {
                "eventName": ["INSERT", "MODIFY"],
                "dynamodb": {"Keys": {keys.SK: {"S": [keys.RUN_SK]}}},
            },
        ),
    ),
)

SCENARIO_RUN: Final = StateMachine(
    name=f"{PREFIX}-scenario-run",
    definition_file="scenario-run.asl.json",
    substitutions={"TableName": "table", "WorkerFunctionArn": f"function:{WORKER.name}"},
)

STATE_MACHINES: Final[tuple[StateMachine, ...]] = (SCENARIO_RUN, INGESTION)

SCHEDULES: Final[tuple[Schedule, ...]] = INGESTION_SCHEDULES

WATCH_RULES: Final = (
    # a succeeded ingestion published new snapshots: fire the snapshot watches reading them
    EventRule(
        name=f"{PREFIX}-snapshots-published",
        function=WATCH_SNAPSHOTS.name,
        state_machine=INGESTION.name,
        pattern={
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {"status": ["SUCCEEDED"]},
        },
    ),
    # a succeeded run: if a watch fired it, diff its result against the previous one
    EventRule(
        name=f"{PREFIX}-run-succeeded",
        function=WATCH_EVALUATE.name,
        state_machine=SCENARIO_RUN.name,
        pattern={
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {"status": ["SUCCEEDED"]},
        },
    ),
)

RULES: Final[tuple[EventRule, ...]] = (
    # a run whose execution ended without ending the run (a write throttled past its retries,
    # a stop, a timeout) is ended in the matching state
    EventRule(
        name=f"{PREFIX}-run-execution-ended",
        function=RECONCILER.name,
        state_machine=SCENARIO_RUN.name,
        pattern={
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"]},
        },
    ),
    # runs left queued (the API stopped between storing the run and starting its execution)
    EventRule(name=f"{PREFIX}-sweep-stuck-runs", function=SWEEPER.name, schedule="rate(5 minutes)"),
    *WATCH_RULES,
)


def environment(region: str, account: str) -> dict[str, str]:
    """The fixed names the unit tests' in-process AWS uses (read by ``quantdesk.settings``);
    deployed stacks, the local cloud's included, name everything from the template."""
    return {
        "QD_TABLE_NAME": TABLE.name,
        "QD_DATA_BUCKET": DATA_BUCKET,
        "QD_RESULTS_BUCKET": RESULTS_BUCKET,
        "QD_SCENARIO_RUN_ARN": state_machine_arn(SCENARIO_RUN.name, region, account),
        "QD_INGESTION_ARN": state_machine_arn(INGESTION.name, region, account),
        "QD_STREAM_SECRET_NAME": STREAM_KEY_SECRET,
        "QD_PROJECTOR_FUNCTION": PROJECTOR.name,
        "QD_PROJECTOR_DLQ": PROJECTOR_DLQ,
        "POWERTOOLS_SERVICE_NAME": PREFIX,
    }


def state_machine_arn(name: str, region: str, account: str) -> str:
    return f"arn:aws:states:{region}:{account}:stateMachine:{name}"


def function_arn(name: str, region: str, account: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def render_definition(machine: StateMachine, region: str, account: str) -> str:
    """The ASL with ``${...}`` substitutions resolved, as CloudFormation's
    the template's Fn::Sub resolves them."""
    text = (STATEMACHINES / machine.definition_file).read_text()
    for placeholder, target in machine.substitutions.items():
        kind, name = parse_target(target)
        if kind == "table":
            value = TABLE.name
        elif kind == "function":
            value = function_arn(name, region, account)
        elif kind == "bucket":
            value = name
        else:
            value = state_machine_arn(name, region, account)
        text = text.replace("${" + placeholder + "}", value)
    if "${" in text:
        raise ValueError(f"unresolved substitution in {machine.definition_file}")
    return text
