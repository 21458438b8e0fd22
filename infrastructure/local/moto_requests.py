"""Per-request costs of moto's server, cut for the local cloud: same answers, less CPU (pinned to
moto 5.2.5; tests/unit/local/test_moto_requests.py checks the answers against moto's own).

Under load (a hundred runs, each with viewers whose SSE tails query the table) the endpoint's
one interpreter was the limit, and three things every request paid for were a third of it:

* **DynamoDB reads serialized from the service model.** moto turns a result that is already
  DynamoDB's wire JSON (``dynamo_to_dict``) into JSON by walking the operation's output shape,
  member by member, for every attribute of every item: a quarter of the endpoint's time while
  viewers watched runs. A Query, GetItem or BatchGetItem result made only of JSON's own types,
  every top-level member one of the output shape's, is that walk's identity: it is written with
  ``json.dumps`` directly. Anything else (binary attributes, an unknown member) takes moto's way.
* **The backend lookup.** Every request's ``BackendDict[account]`` took moto's global backend
  lock and compared the registry with every other registry (``self not in _instances``, an
  ``__eq__`` per service); a hundred request threads queued on that lock. Once a registry holds
  the account and is registered, the lookup is a dictionary read; moto's ``reset`` (which
  empties the registrations) starts the check over.
* **The action's handler.** Every request listed its handler class's methods with
  ``inspect.getmembers`` to check the action is one; the list is computed once per class.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from moto.core import responses
from moto.core.base_backend import BackendDict
from moto.core.responses import ActionResult

#: the operations whose results are written directly: the reads the SSE tails, the API and the
#: workers make, and the stream pollers' GetRecords
DIRECT: Final = frozenset(
    {
        ("dynamodb", "Query"),
        ("dynamodb", "GetItem"),
        ("dynamodb", "BatchGetItem"),
        ("dynamodbstreams", "GetRecords"),
    }
)

_originals: dict[str, Any] = {}
#: bumped by moto's reset: registries registered before it must register again
_generation = 0


def installed() -> bool:
    return bool(_originals)


def install() -> None:
    if _originals:
        return
    _originals["execute_result"] = ActionResult.execute_result
    _originals["create_backend"] = BackendDict._create_account_specific_backend
    _originals["reset"] = BackendDict.__dict__["reset"]
    _originals["method_names"] = responses.method_names_from_class
    ActionResult.execute_result = _execute_result  # type: ignore[method-assign]
    BackendDict._create_account_specific_backend = _create_backend  # type: ignore[method-assign]
    BackendDict.reset = classmethod(_reset)  # type: ignore[method-assign,assignment]
    responses.method_names_from_class = functools.cache(_originals["method_names"])


def uninstall() -> None:
    """moto's own behaviour again (the tests compare answers with it)."""
    if not _originals:
        return
    ActionResult.execute_result = _originals.pop("execute_result")  # type: ignore[method-assign]
    BackendDict._create_account_specific_backend = _originals.pop("create_backend")  # type: ignore[method-assign]
    BackendDict.reset = _originals.pop("reset")  # type: ignore[method-assign]
    responses.method_names_from_class = _originals.pop("method_names")


def _execute_result(self: Any, context: Any) -> Any:
    operation = context.operation_model
    result = self.result
    if (context.service_model.service_name, operation.name) in DIRECT and type(result) is dict:
        direct = _direct_output(context.serializer_class, operation)
        if set(result) <= direct.members and _plain(result):
            headers = {"Content-Type": direct.content_type}
            return 200, headers, json.dumps(result, default=direct.timestamp)
    return _originals["execute_result"](self, context)


@dataclass(frozen=True)
class _DirectOutput:
    members: frozenset[str]
    content_type: str
    #: a date as the serializer writes it (DynamoDB's JSON: seconds since the epoch)
    timestamp: Callable[[datetime], Any]


#: per (serializer, operation name)
_outputs: dict[tuple[Any, str], _DirectOutput] = {}


def _direct_output(serializer_class: Any, operation: Any) -> _DirectOutput:
    key = (serializer_class, operation.name)
    known = _outputs.get(key)
    if known is None:
        shape = operation.output_shape
        serializer = serializer_class(operation_model=operation, pretty_print=False)
        dates = serializer._timestamp_serializer
        date_format = serializer_class.DEFAULT_TIMESTAMP_FORMAT
        known = _DirectOutput(
            frozenset(shape.members) if shape is not None else frozenset(),
            str(serializer._get_protocol_specific_content_type()),
            lambda value: dates._convert_timestamp_to_str(value, date_format),
        )
        _outputs[key] = known
    return known


def _plain(value: Any) -> bool:
    """Only JSON's own types and dates (no bytes or None, which moto's way converts or drops)."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(v) for v in value)
    return kind is str or kind is int or kind is bool or kind is float or kind is datetime


def _create_backend(self: Any, account_id: str) -> None:
    if dict.__contains__(self, account_id) and self.__dict__.get("_registered") == _generation:
        return
    _originals["create_backend"](self, account_id)
    self._registered = _generation


def _reset(cls: Any) -> None:
    global _generation
    _generation += 1
    _originals["reset"].__func__(cls)
