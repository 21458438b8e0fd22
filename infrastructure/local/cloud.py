"""The local cloud: a LocalStack-compatible AWS endpoint (moto's server) with quantdesk's
resources deployed from ``infrastructure.resources``, our handlers behind its Lambda API, a
DynamoDB-stream poller and a scheduler.

Clients reach it like LocalStack: ``LOCALSTACK_HOST=127.0.0.1:<port>`` and
``quantdesk.aws.client`` (localstack-client). Pointing ``LOCALSTACK_HOST`` at a real LocalStack
and running :meth:`LocalCloud.deploy` there works the same way.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

from infrastructure import resources
from infrastructure.local.identity import LocalIdentity, ensure_identity
from infrastructure.local.lambda_runtime import LambdaRuntime, install
from infrastructure.local.scheduler import Scheduler
from infrastructure.local.stream_poller import StreamPoller
from quantdesk import aws

log = logging.getLogger("quantdesk.local")

REGION = "us-east-1"
ACCOUNT = "000000000000"
ROLE_NAME = "quantdesk-lambda"


def configure_environment(host: str, port: int) -> None:
    """Point this process's AWS clients (ours and moto's Step Functions interpreter) at the
    endpoint, and give every handler the environment the template gives it."""
    os.environ["LOCALSTACK_HOST"] = f"{host}:{port}"
    os.environ["MOTO_PORT"] = str(port)
    # LocalStack's account id; moto reads it when first imported
    os.environ["MOTO_ACCOUNT_ID"] = ACCOUNT
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.update(resources.environment(REGION, ACCOUNT))
    from quantdesk.settings import get_settings

    get_settings.cache_clear()
    aws.reset()


@dataclass
class LocalCloud:
    host: str = "127.0.0.1"
    port: int = 4566
    schedules: bool = True
    #: the local origin's URL (CORS origin, the app client's sign-in callback)
    site_url: str = "http://127.0.0.1:8080"
    runtime: LambdaRuntime = field(init=False)
    identity: LocalIdentity = field(init=False)
    poller: StreamPoller | None = field(init=False, default=None)
    scheduler: Scheduler | None = field(init=False, default=None)
    _server: Any = field(init=False, default=None)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalCloud:
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        configure_environment(self.host, self.port)
        os.environ["QD_ALLOWED_ORIGIN"] = self.site_url
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        self.runtime = LambdaRuntime(resources.FUNCTIONS, REGION, ACCOUNT)
        install(self.runtime)
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        account = aws.client("sts").get_caller_identity()["Account"]
        if account != ACCOUNT:
            raise RuntimeError(
                f"moto was imported before the local cloud set its account ({account})"
            )
        self.deploy()
        self.identity = ensure_identity(self.endpoint, REGION, self.site_url)
        self._start_stream_mappings()
        if self.schedules:
            self.scheduler = Scheduler(resources.SCHEDULES, self._start_execution)
            self.scheduler.start()
        return self

    def stop(self) -> None:
        if self.scheduler:
            self.scheduler.stop()
        if self.poller:
            self.poller.stop()
        if self._server:
            self._server.stop()

    def deploy(self) -> None:
        """Create the template's resources in the endpoint (idempotent)."""
        dynamodb = aws.client("dynamodb")
        if resources.TABLE.name not in dynamodb.list_tables()["TableNames"]:
            dynamodb.create_table(**resources.TABLE.create_kwargs())
            dynamodb.update_time_to_live(
                TableName=resources.TABLE.name,
                TimeToLiveSpecification={
                    "Enabled": True,
                    "AttributeName": resources.TABLE.ttl_attribute,
                },
            )
        s3 = aws.client("s3")
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for bucket in resources.BUCKETS:
            if bucket not in existing:
                s3.create_bucket(Bucket=bucket)
        s3.put_bucket_lifecycle_configuration(
            Bucket=resources.DATA_BUCKET,
            LifecycleConfiguration={"Rules": resources.lifecycle_rules()},
        )
        role_arn = self._ensure_role()
        lambda_client = aws.client("lambda")
        deployed = {f["FunctionName"] for f in lambda_client.list_functions()["Functions"]}
        for function in resources.FUNCTIONS:
            if function.name in deployed:
                continue
            lambda_client.create_function(
                FunctionName=function.name,
                Runtime="python3.12",
                Role=role_arn,
                Handler=function.handler,
                Code={"ZipFile": _placeholder_zip(function.handler)},
                Timeout=function.timeout_s,
                MemorySize=function.memory_mb,
                Environment={"Variables": resources.environment(REGION, ACCOUNT)},
            )
        sfn = aws.client("stepfunctions")
        machines = {
            m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]
        }
        for machine in resources.STATE_MACHINES:
            definition = resources.render_definition(machine, REGION, ACCOUNT)
            if machine.name in machines:
                sfn.update_state_machine(
                    stateMachineArn=machines[machine.name], definition=definition
                )
            else:
                sfn.create_state_machine(
                    name=machine.name, definition=definition, roleArn=role_arn, type="STANDARD"
                )

    def _ensure_role(self) -> str:
        iam = aws.client("iam")
        try:
            return str(iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"])
        except iam.exceptions.NoSuchEntityException:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            role = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
            return str(role["Role"]["Arn"])

    def _start_stream_mappings(self) -> None:
        stream_arn = aws.client("dynamodb").describe_table(TableName=resources.TABLE.name)["Table"][
            "LatestStreamArn"
        ]
        for mapping in resources.STREAM_MAPPINGS:
            self.poller = StreamPoller(
                mapping, stream_arn, aws.client("dynamodbstreams"), aws.client("lambda")
            )
            self.poller.start()

    def _start_execution(self, state_machine: str, payload: str) -> None:
        import uuid

        aws.client("stepfunctions").start_execution(
            stateMachineArn=resources.state_machine_arn(state_machine, REGION, ACCOUNT),
            name=f"scheduled-{uuid.uuid4().hex[:12]}",
            input=payload,
        )


def _placeholder_zip(handler: str) -> bytes:
    """Code for the registration only: invocations run the real code via LambdaRuntime."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        module = handler.rpartition(".")[0].replace(".", "/")
        archive.writestr(f"{module}.py", "# served by infrastructure.local.lambda_runtime\n")
    return buffer.getvalue()
