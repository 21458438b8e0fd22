"""EventBridge rules for the local cloud, delivered from the template's ``AWS::Events::Rule``
resources (:func:`rules_from_stack`; the unit tests use ``infrastructure.resources.RULES``).

The endpoint's CloudFormation creates the rules but never fires them. A rule with a
``ScheduleExpression`` is fired by the local scheduler, like the other schedules. Step Functions
emits an "Execution Status Change" event when an execution ends; here moto's interpreter reports
each ended execution through :func:`install` (its ``terminated`` callback, pinned to moto
5.2.5), the event is built in the shape AWS sends, matched against every rule's pattern
(EventBridge's pattern syntax, the same as Lambda filter criteria) and delivered to the rule's
function through the Lambda Invoke API, asynchronously and in order, on a thread of its own, as
EventBridge invokes targets.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from infrastructure.local.event_filter import matches
from infrastructure.resources import EventRule

if TYPE_CHECKING:
    from infrastructure.local.stack import DeployedStack

log = logging.getLogger("quantdesk.local.events")

DETAIL_TYPE = "Step Functions Execution Status Change"


def rules_from_stack(stack: DeployedStack) -> tuple[EventRule, ...]:
    """The template's enabled rules, one per Lambda target (``function`` is its physical name),
    the pattern resolved against the stack (the state machine's ARN in it)."""
    rules = []
    for logical, props in stack.resources_of("AWS::Events::Rule").items():
        if props.get("State", "ENABLED") != "ENABLED":
            continue
        name = str(stack.resolve(props.get("Name", logical)))
        for target in props.get("Targets", []):
            arn = str(stack.resolve(target["Arn"]))
            if ":lambda:" not in arn:
                raise ValueError(f"rule {logical}: only Lambda targets run locally")
            rules.append(
                EventRule(
                    name=name,
                    function=arn.rsplit(":", 1)[-1],
                    pattern=stack.resolve(props.get("EventPattern", {})),
                    schedule=str(props.get("ScheduleExpression", "")),
                )
            )
    return tuple(rules)


def _epoch_ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def execution_status_change(execution: Any, region: str, account: str) -> dict[str, Any]:
    """The EventBridge event AWS sends when an execution's status changes."""
    described = execution.to_describe_output()
    status = str(described["status"])
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": "aws.states",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [described["executionArn"]],
        "detail": {
            "executionArn": described["executionArn"],
            "stateMachineArn": described["stateMachineArn"],
            "name": described["name"],
            "status": status.rsplit(".", 1)[-1],
            "startDate": _epoch_ms(described.get("startDate")),
            "stopDate": _epoch_ms(described.get("stopDate")),
            "input": described.get("input"),
            "output": described.get("output"),
            "error": described.get("error"),
            "cause": described.get("cause"),
        },
    }


def scheduled_event(rule: EventRule, region: str, account: str) -> dict[str, Any]:
    """The event a scheduled EventBridge rule sends its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{rule.name}"],
        "detail": {},
    }


class RuleBus:
    """Matches events against the pattern rules and invokes their functions."""

    def __init__(
        self,
        rules: tuple[EventRule, ...],
        region: str,
        account: str,
        invoke: Callable[[str, bytes], None],
    ) -> None:
        self.region = region
        self.account = account
        self._patterns = [
            (rule, rule.event_pattern(region, account)) for rule in rules if not rule.schedule
        ]
        self._invoke = invoke
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._deliver, name="event-rules", daemon=True)
        #: (rule name, event) of every delivery made, for tests and diagnostics
        self.delivered: list[tuple[str, dict[str, Any]]] = []

    def start(self) -> RuleBus:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def put(self, event: dict[str, Any]) -> None:
        for rule, pattern in self._patterns:
            if matches(pattern, event):
                self._queue.put((rule.function, event))

    def _deliver(self) -> None:
        while (item := self._queue.get()) is not None:
            function, event = item
            try:
                self._invoke(function, json.dumps(event).encode())
                self.delivered.append((function, event))
            except Exception:  # EventBridge retries; a dead endpoint here is shutting down
                log.exception("rule target %s failed", function)


_bus: RuleBus | None = None


def install(bus: RuleBus) -> None:
    """Report every ended execution of moto's interpreter to ``bus`` (idempotent)."""
    global _bus
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    first = _bus is None
    _bus = bus
    if not first:
        return
    original = BaseExecutionWorkerCommunication.terminated

    def terminated(self: Any) -> None:
        original(self)
        if _bus is not None:
            try:
                _bus.put(execution_status_change(self.execution, _bus.region, _bus.account))
            except Exception:
                log.exception("could not emit the execution's status change")

    BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]
