"""The local cloud: a LocalStack-compatible AWS endpoint (moto's server) into which the packaged
CloudFormation template is deployed through the endpoint's CloudFormation API, our handlers
behind its Lambda API, and the template resources the endpoint cannot create emulated from the
same template entries: the stream mapping's poller, the scheduler, the EventBridge rules'
delivery (``event_rules.py``) and (in ``origin.py``) the distribution and Function URL.

The analytics functions run in worker processes (``lambda_runtime``), at most
:data:`EXECUTION_SLOTS_PER_WORKER` executions per worker process are evaluated at once
(``execution_admission``), moto's O(everything) costs are removed (``moto_speedups``) and faults can
be injected (``faults``, armed only through the origin's ``QD_LOCAL_FAULTS=1`` route).

Every name (table, buckets, functions, state machines) comes from the deployed stack: the
handlers get the environment the template gives its functions, as the endpoint holds it.
Clients reach the endpoint like LocalStack: ``LOCALSTACK_HOST=127.0.0.1:<port>`` and
``quantdesk.aws.client`` (localstack-client).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import time
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

from infrastructure import cloudformation, resources
from infrastructure.local import (
    event_rules,
    execution_admission,
    faults,
    moto_cfn,
    moto_requests,
    moto_speedups,
)
from infrastructure.local import stack as cfn_stack
from infrastructure.local.api_schedules import ApiSchedules
from infrastructure.local.endpoint_server import EndpointServer
from infrastructure.local.environment import (
    ACCOUNT,
    REGION,
    configure_environment,
    use_function_environment,
)
from infrastructure.local.identity import LocalIdentity, ensure_identity
from infrastructure.local.lambda_runtime import LambdaRuntime, functions_from_stack, install
from infrastructure.local.packaged import ensure_package
from infrastructure.local.persistence import DurableEndpoint, RestoreReport, StreamPositions
from infrastructure.local.queue_poller import QueuePoller, start_queue_pollers
from infrastructure.local.scheduler import Job, Scheduler, schedules_from_stack
from infrastructure.local.stack import DeployedStack
from infrastructure.local.stream_poller import (
    StreamPoller,
    honour_disabled_mappings,
    mapping_from_stack,
    neutralise,
)
from quantdesk import aws
from quantdesk.runs.reconcile import end_runs_in_flight
from quantdesk.runs.repository import RunRepository

log = logging.getLogger("quantdesk.local")

#: the local stack: ``<stack>-<suffix>`` names resolve to the names quantdesk uses locally
STACK_NAME: Final = resources.PREFIX
SWITCH_INTERVAL_S: Final = 0.0005
#: executions evaluated at once per worker process (``execution_admission``)
EXECUTION_SLOTS_PER_WORKER: Final = 4


@dataclass
class LocalCloud:
    host: str = "127.0.0.1"
    port: int = 4566
    #: where the local origin (the distribution, the Function URL and the hosted sign-in UI)
    #: listens: the CORS origin and the app client's sign-in callback
    site_url: str = "http://127.0.0.1:8080"
    schedules: bool = True
    stack_name: str = STACK_NAME
    #: where the endpoint's state is kept across restarts (None: in memory only)
    state_dir: Path | None = None
    stack: DeployedStack | None = field(init=False, default=None)
    #: fire the scheduled rules (the sweeper) at this interval instead of their expression
    #: (tests, make reliability)
    rule_every_s: float | None = None
    #: processes running the analytics (pandas) functions: their concurrency limit
    worker_processes: int = field(default_factory=lambda: os.cpu_count() or 2)
    runtime: LambdaRuntime = field(init=False)
    identity: LocalIdentity = field(init=False)
    #: what was restored from ``state_dir`` and the runs ended because a restart stopped them
    restored: RestoreReport | None = field(init=False, default=None)
    interrupted_runs: list[str] = field(init=False, default_factory=list)
    _positions: StreamPositions | None = field(init=False, default=None)
    pollers: list[StreamPoller] = field(init=False, default_factory=list)
    queue_pollers: list[QueuePoller] = field(init=False, default_factory=list)
    scheduler: Scheduler | None = field(init=False, default=None)
    #: the schedules the API creates (one per scheduled watch)
    api_schedules: ApiSchedules | None = field(init=False, default=None)
    #: how long the last deploy (package check + stack create/update) took
    deploy_s: float = field(init=False, default=0.0)
    rules: event_rules.RuleBus | None = field(init=False, default=None)
    _server: Any = field(init=False, default=None)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalCloud:
        from moto.core.config import default_user_config
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        configure_environment(self.host, self.port)
        os.environ["QD_ALLOWED_ORIGIN"] = self.site_url
        # every request here passes the interpreter lock many times (each socket read and
        # write); with dozens of busy interpreter threads, the default 5 ms switch interval
        # made each pass wait that long, so a request's latency grew with the load
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        self.runtime = LambdaRuntime(
            (),
            REGION,
            ACCOUNT,
            isolated_layers=("analytics",),
            processes=self.worker_processes,
            before_invoke=faults.before_invoke,
        )
        install(self.runtime)
        faults.install()
        moto_speedups.install()
        moto_requests.install()
        from infrastructure.local import distributed_map  # the Distributed Map emulation

        distributed_map.install()
        execution_admission.install(EXECUTION_SLOTS_PER_WORKER * self.worker_processes)
        if self.state_dir is None:
            app = DomainDispatcherApplication(create_backend_app)
            self._server = EndpointServer(self.host, self.port, app).bind().serve()
        else:
            # the fixes the deploy applies to moto, before a replayed deploy needs them
            honour_disabled_mappings()
            moto_cfn.install()
            self._server = DurableEndpoint(self.host, self.port, self.state_dir)
            self.restored = self._server.start()
        account = aws.client("sts").get_caller_identity()["Account"]
        if account != ACCOUNT:
            raise RuntimeError(
                f"moto was imported before the local cloud set its account ({account})"
            )
        # restored state first: the deploy finds the restored stack (update or no-op) and the
        # identity its pool and users
        stack = self.deploy()
        use_function_environment(stack.function_environment())
        # before any table write: moto would deliver the write's stream records synchronously
        # to the handler, inside the write (a deadlock with the durable endpoint); the pollers
        # resume from their saved positions and project the terminal events of the runs a
        # restart stopped
        self._start_stream_mappings(stack, self._neutralise_stream_mappings(stack))
        self.queue_pollers = start_queue_pollers(stack, REGION)
        rules = event_rules.rules_from_stack(stack)
        patterns = tuple(r for r in rules if not r.schedule)
        self.rules = event_rules.RuleBus(patterns, REGION, ACCOUNT, self._invoke).start()
        event_rules.install(self.rules)
        if self.restored is not None:
            from quantdesk.settings import get_settings

            self.interrupted_runs = end_runs_in_flight(RunRepository(get_settings().table_name))
        if self.schedules:
            self.scheduler = Scheduler(self._jobs(stack, rules))
            self.scheduler.start()
            self.api_schedules = ApiSchedules(
                aws.client("scheduler"), self._invoke, f"{self.stack_name}-watch-"
            ).start()
        return self

    def stop(self) -> None:
        if self.scheduler:
            self.scheduler.stop()
        if self.api_schedules:
            self.api_schedules.stop()
        if self.rules:
            self.rules.stop()
        self.runtime.shutdown()
        for poller in self.pollers:
            poller.stop()
        for queue_poller in self.queue_pollers:
            queue_poller.stop()
        if self._positions:
            self._positions.stop()
        if self._server:
            self._server.stop()

    def deploy(self) -> DeployedStack:
        """Deploy the packaged template (idempotent: an existing stack is updated, an unchanged
        one left alone) and key the Lambda runtime from it."""
        started = time.perf_counter()
        template, package_dir = ensure_package()
        # the template's Cognito pool and client, which the endpoint's CloudFormation cannot
        # create: the stack's references to them answer with this pool's ids
        self.identity = ensure_identity(self.endpoint, REGION, self.site_url)
        self.stack = cfn_stack.deploy(
            template,
            package_dir,
            stack_name=self.stack_name,
            origin_url=self.site_url,
            identity=self.identity,
            region=REGION,
            account=ACCOUNT,
            parameters=_parameters(template),
        )
        self.runtime.register(functions_from_stack(self.stack))
        self.deploy_s = time.perf_counter() - started
        return self.stack

    def _neutralise_stream_mappings(self, stack: DeployedStack) -> dict[str, dict[str, Any]]:
        """The stack's DynamoDB stream mappings (by logical id), the endpoint's own delivery
        of each disabled: our pollers deliver them."""
        lambda_client = aws.client("lambda")
        mappings = {}
        for logical in stack.resources_of("AWS::Lambda::EventSourceMapping"):
            deployed = lambda_client.get_event_source_mapping(UUID=stack.physical[logical])
            if ":dynamodb:" in deployed["EventSourceArn"]:
                neutralise(lambda_client, deployed["UUID"])
                mappings[logical] = deployed
        return mappings

    def _start_stream_mappings(
        self, stack: DeployedStack, mappings: dict[str, dict[str, Any]]
    ) -> None:
        saved: dict[str, dict[str, str]] = {}
        if self.state_dir is not None:
            self._positions = StreamPositions(self.state_dir / "stream-positions.json")
            saved, problem = self._positions.load()
            if problem and self.restored is not None:
                self.restored.problems.append(problem)
        lambda_client = aws.client("lambda")
        for logical, deployed in mappings.items():
            function = deployed["FunctionArn"].rsplit(":", 1)[-1]
            poller = StreamPoller(
                mapping_from_stack(stack, logical, function),
                deployed["EventSourceArn"],
                aws.client("dynamodbstreams"),
                lambda_client,
                sqs=aws.client("sqs"),
            )
            # the table, not its stream's ARN: a table rebuilt from the log gets a new stream
            # label but the same records, in the same order
            table = deployed["EventSourceArn"].split(":table/", 1)[1].split("/", 1)[0]
            key = f"{function} {table}"
            poller.checkpoints.update(saved.get(key, {}))
            # with kept state, from the saved checkpoint (or the shard's start): nothing missed
            poller.start("LATEST" if self.state_dir is None else "TRIM_HORIZON")
            if self._positions is not None:
                self._positions.follow(key, poller.checkpoints)
            self.pollers.append(poller)

    def _jobs(
        self, stack: DeployedStack, rules: tuple[resources.EventRule, ...]
    ) -> tuple[Job, ...]:
        """The template's schedules (starting state machines) and scheduled rules (invoking
        functions)."""
        starts = tuple(
            Job(s.name, s.expression, partial(self._start_execution, s), s.timezone)
            for s in schedules_from_stack(stack)
        )
        invokes = tuple(
            Job(r.name, r.schedule, partial(self._invoke_scheduled, r), every_s=self.rule_every_s)
            for r in rules
            if r.schedule
        )
        return starts + invokes

    def _start_execution(self, schedule: resources.Schedule) -> None:
        aws.client("stepfunctions").start_execution(
            stateMachineArn=schedule.state_machine,
            name=f"scheduled-{uuid.uuid4().hex[:12]}",
            input=json.dumps(schedule.input),
        )

    def _invoke_scheduled(self, rule: resources.EventRule) -> None:
        event = event_rules.scheduled_event(rule, REGION, ACCOUNT)
        self._invoke(rule.function, json.dumps(event).encode())

    def _invoke(self, function: str, payload: bytes) -> None:
        aws.client("lambda").invoke(FunctionName=function, Payload=payload)


def _parameters(template: dict[str, Any]) -> dict[str, str]:
    """The local stack's parameter values: the scheduled ingestions load the synthetic sample
    (a deployed stage schedules nothing unless asked), and a parameter without a default gets
    a fresh random value if it is a secret (``NoEcho``). An existing stack keeps its values."""
    values = {
        cloudformation.schedule_parameter(s): json.dumps(s.input["sources"])
        for s in resources.SCHEDULES
    }
    for name, spec in template.get("Parameters", {}).items():
        if "Default" in spec:
            continue
        if not spec.get("NoEcho"):
            raise ValueError(f"template parameter {name} needs a local value")
        values[name] = secrets.token_urlsafe(max(32, int(spec.get("MinLength", 0))))
    return values
