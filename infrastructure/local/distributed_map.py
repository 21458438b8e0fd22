"""Distributed Map features the endpoint's Step Functions interpreter lacks, emulated from the
same ASL (pinned to moto 5.2.5, whose interpreter is LocalStack's).

moto runs a ``"Mode": "DISTRIBUTED"`` map's items as frames of the parent execution, reads an
``ItemReader`` (S3 ``getObject`` JSON, ``listObjectsV2``), honours ``MaxConcurrency`` and
``ItemSelector``, and stops the items with the parent. What it lacks, added here:

* **failure tolerance**: it records each failed item and then lets the map succeed whatever
  ``ToleratedFailurePercentage``/``ToleratedFailureCount`` say. Here, as on AWS, a map whose
  failed items exceed the tolerance fails with ``States.ExceedToleratedFailureThreshold``
  (locally once its running items have finished: AWS stops them sooner);
* **``ItemBatcher``** (``MaxItemsPerBatch``, ``BatchInput`` with ``.$`` paths into the map's
  input): its parser rejects the field (and a whole number as ``ToleratedFailurePercentage``,
  and ``"ExecutionType": "EXPRESS"`` children, which run as Standard ones here).
  Here it is taken out of the definition before parsing and applied to the items the reader
  returned: each child gets ``{"BatchInput": {...}, "Items": [...]}``, as on AWS;
* **every page of ``listObjectsV2``**: its reader takes the first page only (1,000 objects);
  here it follows ``ContinuationToken`` to the end of the prefix, as AWS's reader does (an
  empty prefix gives no items, where it raised ``KeyError('Contents')``; ``LastModified`` is
  an ISO 8601 string, so the items are JSON).

Two of its bugs on a map's failure path are corrected too, so a failed iteration fails (or is
caught) with its own error: an iteration that ended with a ``States.*`` error (``States.Runtime``,
``States.Timeout``...) was re-raised as a custom error name, which its constructor refuses
(``ValueError: Custom Error Names MUST NOT begin with the prefix 'States.'``), so the map, and
the execution, failed with that message instead; and a Lambda ``ClientError`` without a request
id (an HTTP 500 from the endpoint) raised ``KeyError('RequestId')`` while it was being turned
into ``Lambda.<code>``, a ``States.Runtime`` that no ``Catch`` of the task saw.
"""

from __future__ import annotations

import importlib
import json
import threading
from typing import Any, Final

#: the batcher of each Distributed Map, by the parsed state's name (definitions are parsed
#: once per machine; names are unique within one, and a batcher is keyed by its content too)
_batchers: dict[str, dict[str, Any]] = {}
_lock: Final = threading.Lock()
_installed = False


def install() -> None:
    """Patch moto's interpreter (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    _enforce_tolerance()
    _batch_items()
    _list_every_page()
    _name_iteration_errors()
    _lambda_errors_without_request_id()


def exceeds_tolerance(failed: int, total: int, count: int, percentage: float) -> bool:
    """Whether ``failed`` of ``total`` items exceed a map's tolerance: more failures than
    ``ToleratedFailureCount`` and a larger share than ``ToleratedFailurePercentage`` (the
    interpreter gives an absent field as 0, so the one given decides; AWS fails a map that
    exceeds either of two given fields, which our definitions never give)."""
    share = 100.0 * failed / total if total else 0.0
    return failed > count and share > percentage


def _moto(module: str) -> Any:
    """A module of moto's Step Functions interpreter (imported once the cloud set moto up)."""
    return importlib.import_module(f"moto.stepfunctions.parser.{module}")


_ITERATION: Final = "asl.component.state.exec.state_map.iteration.distributed_iteration_component"
_ERRORS: Final = "asl.component.common.error_name"


def _enforce_tolerance() -> None:
    api = _moto("api")
    failure = _moto(f"{_ERRORS}.failure_event")
    StatesErrorName = _moto(f"{_ERRORS}.states_error_name").StatesErrorName
    kind = _moto(f"{_ERRORS}.states_error_name_type").StatesErrorNameType
    kind = kind.StatesExceedToleratedFailureThreshold
    EventDetails = _moto("asl.eval.event.event_detail").EventDetails
    DistributedIterationComponent = _moto(_ITERATION).DistributedIterationComponent
    original = DistributedIterationComponent._map_run

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        original(self, env, eval_input)
        if not env.is_running():  # stopped with its execution: aborted, not failed
            return
        record = eval_input.map_run_record
        items = record.item_counter
        failed = items.failed.get() + items.timed_out.get()
        if not exceeds_tolerance(
            failed,
            items.total.get(),
            eval_input.tolerated_failure_count,
            eval_input.tolerated_failure_percentage,
        ):
            return
        cause = f"{failed} of {items.total.get()} items failed: over the tolerated failures"
        raise failure.FailureEventException(
            failure.FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=kind),
                event_type=api.HistoryEventType.MapRunFailed,
                event_details=EventDetails(
                    mapRunFailedEventDetails=api.MapRunFailedEventDetails(
                        error=kind.to_name(), cause=cause
                    )
                ),
            )
        )

    DistributedIterationComponent._map_run = map_run  # type: ignore[method-assign]


def prepared(definition: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """The definition as the interpreter's parser accepts it, and the batchers by map state
    name: ``ItemBatcher`` fields taken out, a whole ``ToleratedFailurePercentage`` written as
    a decimal (its grammar takes only a decimal number there; AWS takes both), and Express
    child executions run as Standard ones (its grammar takes only ``STANDARD``; locally the
    children are frames of the parent either way)."""
    loaded = json.loads(definition)
    found: dict[str, dict[str, Any]] = {}
    changed = False

    def visit(states: dict[str, Any]) -> None:
        nonlocal changed
        for name, state in states.items():
            batcher = state.pop("ItemBatcher", None)
            if batcher is not None:
                found[name] = batcher
                changed = True
            config = state.get("ItemProcessor", {}).get("ProcessorConfig", {})
            if config.get("ExecutionType") == "EXPRESS":
                config["ExecutionType"] = "STANDARD"
                changed = True
            percentage = state.get("ToleratedFailurePercentage")
            if isinstance(percentage, int):
                state["ToleratedFailurePercentage"] = float(percentage)
                changed = True
            for nested in ("ItemProcessor", "Iterator"):
                visit(state.get(nested, {}).get("States", {}))
            for branch in state.get("Branches", []):
                visit(branch.get("States", {}))

    visit(loaded["States"])
    return (json.dumps(loaded) if changed else definition), found


def batch_input(template: Any, state_input: Any, extract: Any) -> Any:
    """``BatchInput`` with its ``"key.$": "<path>"`` fields resolved against the map's input
    (``extract(path, data)``: the interpreter's JSONPath)."""
    if not isinstance(template, dict):
        return template
    out: dict[str, Any] = {}
    for key, value in template.items():
        if key.endswith(".$") and isinstance(value, str):
            out[key[:-2]] = extract(value, state_input)
        else:
            out[key] = batch_input(value, state_input, extract)
    return out


def batches(items: list[Any], batcher: dict[str, Any], resolved_input: Any) -> list[Any]:
    """Items grouped as a map's ``ItemBatcher`` groups them (``MaxItemsPerBatch``): each child
    gets ``{"Items": [...]}``, with ``"BatchInput"`` when the batcher has one (AWS's shape)."""
    size = int(batcher.get("MaxItemsPerBatch", len(items) or 1))
    extra = {} if resolved_input is None else {"BatchInput": resolved_input}
    return [{**extra, "Items": items[i : i + size]} for i in range(0, len(items), size)]


def _batch_items() -> None:
    DistributedIterationComponent = _moto(_ITERATION).DistributedIterationComponent
    AmazonStateLanguageParser = _moto("asl.parse.asl_parser").AmazonStateLanguageParser
    extract = _moto("asl.utils.json_path").extract_json

    parse = AmazonStateLanguageParser.parse

    def parse_batched(definition: str, *args: Any, **kwargs: Any) -> Any:
        stripped, found = prepared(definition)
        with _lock:
            _batchers.update(found)
        return parse(stripped, *args, **kwargs)

    AmazonStateLanguageParser.parse = staticmethod(parse_batched)  # type: ignore[method-assign]

    original = DistributedIterationComponent._map_run

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        batcher = _batchers.get(eval_input.state_name)
        if batcher is not None:
            items = env.stack.pop()
            resolved = None
            if "BatchInput" in batcher:
                resolved = batch_input(batcher["BatchInput"], env.states.get_input(), extract)
            env.stack.append(batches(list(items), batcher, resolved))
        original(self, env, eval_input)

    DistributedIterationComponent._map_run = map_run  # type: ignore[method-assign]


def _list_every_page() -> None:
    ResourceEvalS3 = _moto(
        "asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3"
    ).ResourceEvalS3

    def list_objects_v2(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        s3 = ResourceEvalS3._get_s3_client(
            resource_runtime_part=resource_runtime_part, state_credentials=state_credentials
        )
        parameters = env.stack.pop()
        contents: list[Any] = []
        for page in s3.get_paginator("list_objects_v2").paginate(**parameters):
            contents += page.get("Contents", [])
        env.stack.append(json.loads(json.dumps(contents, default=_iso)))  # items are JSON

    ResourceEvalS3._handle_list_objects_v2 = staticmethod(list_objects_v2)  # type: ignore[method-assign]


def _iso(value: Any) -> str:
    return str(value.isoformat())


def _name_iteration_errors() -> None:
    worker = _moto("asl.component.state.exec.state_map.iteration.iteration_worker")
    CustomErrorName = worker.CustomErrorName
    StatesErrorName = _moto(f"{_ERRORS}.states_error_name").StatesErrorName
    kind = _moto(f"{_ERRORS}.states_error_name_type").StatesErrorNameType

    def error_name(error_name: str | None) -> Any:
        if error_name is not None and error_name.startswith("States."):
            return StatesErrorName(typ=kind.from_name(error_name))
        return CustomErrorName(error_name=error_name)

    worker.CustomErrorName = error_name  # the name the iteration worker builds its errors with


def _lambda_errors_without_request_id() -> None:
    StateTaskServiceLambda = _moto(
        "asl.component.state.exec.state_task.service.state_task_service_lambda"
    ).StateTaskServiceLambda
    original = StateTaskServiceLambda._error_cause_from_client_error

    def error_cause(client_error: Any) -> tuple[str, str]:
        metadata = client_error.response.setdefault("ResponseMetadata", {})
        metadata.setdefault("RequestId", "")
        metadata.setdefault("HTTPStatusCode", 0)
        result: tuple[str, str] = original(client_error)
        return result

    StateTaskServiceLambda._error_cause_from_client_error = staticmethod(error_cause)  # type: ignore[method-assign]
