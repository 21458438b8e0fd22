"""``make cost``: what 1,000 scenario runs and one daily ingestion cost on AWS.

Measured, not assumed: the local cloud (in this process, on a free port) runs the sample
ingestion and a few scenario runs through the real state machines and handlers. From those
executions it takes the state transitions (the execution history's ``*StateEntered`` events),
each Lambda's handler time (priced at the function's memory from ``infrastructure.resources``,
arm64 GB-seconds), and every DynamoDB and S3 request our code and the state machines made.
Prices come from ``infrastructure/prices.json`` (us-east-1 list prices, dated).

Handler time here is this machine's CPU, not a Lambda vCPU, and cold starts, CloudWatch Logs,
CloudFront and the stream viewer's queries are not counted: read the result as an order of
magnitude, and the Standard/Express comparison as the ratio it is.
"""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from botocore.client import BaseClient

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION, LocalCloud
from quantdesk import aws
from quantdesk.ingestion.pipeline import new_run_id
from quantdesk.ingestion.workflow import start_and_follow
from quantdesk.runs.models import RunRequest
from quantdesk.runs.service import RunService
from quantdesk.settings import get_settings

PRICES_FILE: Final = Path(__file__).with_name("prices.json")
SCENARIO: Final = "trend_strength"
RUNS: Final = 3
DYNAMODB_WRITES: Final = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
DYNAMODB_READS: Final = {"GetItem", "Query", "Scan", "BatchGetItem"}
S3_GETS: Final = {"GetObject", "HeadObject"}


@dataclass
class Usage:
    """What one workflow execution used."""

    transitions: int = 0
    seconds: float = 0.0
    lambda_ms: dict[str, float] = field(default_factory=dict)
    invocations: dict[str, float] = field(default_factory=dict)
    requests: dict[tuple[str, str], float] = field(default_factory=dict)

    def scaled(self, factor: float) -> Usage:
        return Usage(
            transitions=round(self.transitions * factor),
            seconds=self.seconds * factor,
            lambda_ms={k: v * factor for k, v in self.lambda_ms.items()},
            invocations={k: v * factor for k, v in self.invocations.items()},
            requests={k: v * factor for k, v in self.requests.items()},
        )


@dataclass
class Recorder:
    """Counts AWS requests and times handlers while ``active``."""

    usage: Usage = field(default_factory=Usage)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, service: str, operation: str) -> None:
        with self.lock:
            key = (service, operation)
            self.usage.requests[key] = self.usage.requests.get(key, 0) + 1

    def handler(self, name: str, ms: float) -> None:
        with self.lock:
            self.usage.lambda_ms[name] = self.usage.lambda_ms.get(name, 0) + ms
            self.usage.invocations[name] = self.usage.invocations.get(name, 0) + 1

    def take(self) -> Usage:
        with self.lock:
            usage, self.usage = self.usage, Usage()
        return usage


@contextmanager
def recording(cloud: Any) -> Iterator[Recorder]:
    """Hook every botocore call in this process and the local cloud's Lambda runtime."""
    recorder = Recorder()
    original_call = BaseClient._make_api_call
    original_invoke = cloud.runtime.invoke

    def call(client: Any, operation: str, params: Any) -> Any:
        recorder.request(client.meta.service_model.service_name, operation)
        return original_call(client, operation, params)

    def invoke(name: str, event: Any) -> tuple[str, bool]:
        started = time.perf_counter()
        try:
            return original_invoke(name, event)  # type: ignore[no-any-return]
        finally:
            recorder.handler(name, (time.perf_counter() - started) * 1000)

    BaseClient._make_api_call = call  # type: ignore[method-assign]
    cloud.runtime.invoke = invoke
    try:
        yield recorder
    finally:
        BaseClient._make_api_call = original_call  # type: ignore[method-assign]
        cloud.runtime.invoke = original_invoke


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _transitions(execution_arn: str) -> int:
    sfn = aws.client("stepfunctions")
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return sum(1 for e in events if e["type"].endswith("StateEntered"))


def _wait(execution_arn: str, timeout_s: float = 300) -> str:
    sfn = aws.client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while True:
        status = str(sfn.describe_execution(executionArn=execution_arn)["status"])
        if status != "RUNNING" or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def _execution_arn(machine: str, name: str) -> str:
    return (
        resources.state_machine_arn(machine, REGION, ACCOUNT).replace(
            ":stateMachine:", ":execution:"
        )
        + f":{name}"
    )


def measure(runs: int = RUNS) -> tuple[Usage, Usage]:
    """(one sample ingestion, one scenario run averaged over ``runs``) in the local cloud."""
    cloud = LocalCloud(port=_free_port(), schedules=False).start()
    try:
        with recording(cloud) as recorder:
            run_id = new_run_id()
            started = time.perf_counter()
            start_and_follow([{"source": "sample"}], run_id, out=io.StringIO())
            ingestion = recorder.take()
            ingestion.seconds = time.perf_counter() - started
            ingestion.transitions = _transitions(_execution_arn(resources.INGESTION.name, run_id))

            service = RunService(get_settings())
            total = Usage()
            for _ in range(runs):
                started = time.perf_counter()
                # fresh: each run must compute (a cached answer would cost nothing to measure)
                request = RunRequest(scenario_id=SCENARIO, fresh=True)
                accepted = service.start(request, owner="cost")
                arn = _execution_arn(resources.SCENARIO_RUN.name, accepted.run_id)
                status = _wait(arn)
                if status != "SUCCEEDED":
                    raise RuntimeError(f"scenario run {accepted.run_id} ended {status}")
                time.sleep(1.0)  # let the stream poller project the run's last events
                usage = recorder.take()
                usage.seconds = time.perf_counter() - started
                usage.transitions = _transitions(arn)
                total = _add(total, usage)
        return ingestion, total.scaled(1 / runs)
    finally:
        cloud.stop()


def _add(a: Usage, b: Usage) -> Usage:
    return Usage(
        transitions=a.transitions + b.transitions,
        seconds=a.seconds + b.seconds,
        lambda_ms=dict(Counter(a.lambda_ms) + Counter(b.lambda_ms)),
        invocations=dict(Counter(a.invocations) + Counter(b.invocations)),
        requests=dict(Counter(a.requests) + Counter(b.requests)),
    )


def prices() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PRICES_FILE.read_text())
    return loaded


def memory_gb(name: str) -> float:
    functions = {f.name: f for f in (*resources.FUNCTIONS, resources.API, resources.STREAM)}
    return functions[name].memory_mb / 1024


def cost_lines(usage: Usage, price: dict[str, Any], api_requests: int = 0) -> dict[str, float]:
    """Dollars by line item for one execution's usage (Standard workflow)."""
    gb_s = sum(ms / 1000 * memory_gb(name) for name, ms in usage.lambda_ms.items())
    requests = usage.requests
    writes = sum(
        n for (svc, op), n in requests.items() if svc == "dynamodb" and op in DYNAMODB_WRITES
    )
    reads = sum(
        n for (svc, op), n in requests.items() if svc == "dynamodb" and op in DYNAMODB_READS
    )
    s3_gets = sum(n for (svc, op), n in requests.items() if svc == "s3" and op in S3_GETS)
    s3_puts = sum(n for (svc, op), n in requests.items() if svc == "s3" and op not in S3_GETS)
    return {
        "Step Functions (Standard transitions)": usage.transitions
        * price["states_standard_transition"],
        "Lambda GB-seconds (arm64)": gb_s * price["lambda_arm64_gb_second"],
        "Lambda requests": sum(usage.invocations.values()) * price["lambda_request"],
        "DynamoDB requests": writes * price["dynamodb_write_request_unit"]
        + reads * price["dynamodb_read_request_unit"],
        "S3 requests": s3_puts * price["s3_put_list_request"] + s3_gets * price["s3_get_request"],
        "API Gateway requests": api_requests * price["api_gateway_rest_request"],
    }


def express_cost(usage: Usage, price: dict[str, Any]) -> float:
    """The same execution as an Express workflow (requests + duration at 64 MB)."""
    return (
        price["states_express_request"]
        + usage.seconds * price["states_express_memory_gb"] * price["states_express_gb_second"]
    )


def report(ingestion: Usage, run: Usage, price: dict[str, Any]) -> str:
    out = [
        f"prices: {price['region']} list prices as of {price['as_of']} (infrastructure/prices.json)"
    ]

    def table(title: str, usage: Usage, scale: int, api_requests: int) -> float:
        lines = cost_lines(usage.scaled(scale), price, api_requests)
        out.append(f"\n{title}")
        for item, dollars in lines.items():
            out.append(f"  {item:40} ${dollars:10.4f}")
        total = sum(lines.values())
        out.append(f"  {'total':40} ${total:10.4f}")
        return total

    def usage_line(label: str, usage: Usage) -> str:
        gb_s = sum(ms / 1000 * memory_gb(n) for n, ms in usage.lambda_ms.items())
        ddb = sum(n for (svc, _), n in usage.requests.items() if svc == "dynamodb")
        s3 = sum(n for (svc, _), n in usage.requests.items() if svc == "s3")
        invocations = sum(usage.invocations.values())
        return (
            f"{label}: {usage.transitions} state transitions, {invocations:.0f} "
            f"Lambda invocations, {gb_s:.2f} GB-s, {ddb:.0f} DynamoDB and {s3:.0f} S3 requests, "
            f"{usage.seconds:.1f} s end to end"
        )

    out.append(usage_line("one scenario run (measured, mean)", run))
    out.append(usage_line("one sample ingestion (measured)", ingestion))
    # a run costs the API calls of the UI: suggest, run, then the status on completion
    runs_total = table("per 1,000 scenario runs", run, 1000, api_requests=3 * 1000)
    table("per daily ingestion (the sample source's size)", ingestion, 1, api_requests=0)
    standard = run.transitions * price["states_standard_transition"]
    express = express_cost(run, price)
    out.append(
        f"\nworkflow type, per 1,000 runs: Standard ${standard * 1000:.4f} vs Express "
        f"${express * 1000:.4f} ({standard / express:.1f}x); the state machine is "
        f"{100 * standard * 1000 / runs_total:.0f}% of a run's cost"
    )
    return "\n".join(out)


def main() -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    ingestion, run = measure()
    print(report(ingestion, run, prices()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
