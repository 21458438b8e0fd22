"""Speed-ups of moto's server for the local cloud: same answers, less CPU (pinned to moto 5.2.5;
tests/unit/local/test_moto_speedups.py checks the answers against moto's own).

moto answers a DynamoDB Query on the table's key by sorting *every* item of the table and
keeping the queried partition: O(table) per Query. The SSE tails query each watched run's
partition every poll interval, and the table holds every run, event and snapshot, so under load
those Queries alone took a third of the local cloud's CPU, which every other request (moto, the
API, the interpreter threads) shares through one interpreter lock. Here a Query on the table's
key reads only its partition.

Every request to moto's server picks its service under one global lock, and that choice
lists moto's package directory (a stat of every module, ~200) and tries every service's URL
patterns: milliseconds per request, during which no other request could proceed. The choice
depends only on the host it is given, so it is remembered per host.

moto's TransactWriteItems deep-copies every table a transaction touches, as its rollback
backup, once per item: O(table) per call (the API's per-user limits take one per run start)
while other threads keep writing, so under load the copy itself failed ("dictionary changed
size during iteration", a 503) and a rollback could put back a stale table over other
requests' writes. Here transactions run one at a time, back up only the items they touch, and
a failed one restores just those.

moto's interpreter also parses the state machine's ASL with ANTLR for every execution (about
45 ms of CPU for ours, a burst of seconds when a hundred runs start together); the parsed
program keeps no state of its own (executions keep theirs in their environment), so each
definition is parsed once and every execution gets a copy: unpickled from the parsed program's
pickle (about 1 ms for ours; a deep copy took 15 ms, most of the endpoint's CPU while a hundred
runs started together).

The interpreter builds a new boto3 client for every task it runs (loading the service model,
building the client class: about a tenth of the endpoint's CPU per run). A client is safe to
share between threads; here each (service, region, endpoint) gets one, built once, with the
interpreter's own settings and a pool large enough for every execution evaluated at once.
"""

from __future__ import annotations

import copy
import json
import pickle
import re
import threading
from typing import Any

_query = threading.local()
#: definition -> its parsed program, pickled (each execution unpickles a copy of its own)
_programs: dict[str, bytes] = {}
_programs_lock = threading.Lock()
_installed = False


def installed() -> bool:
    return _installed


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.dynamodb.models.table import Table

    original_query = Table.query
    original_all_items = Table.all_items

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        _query.partition = hash_key
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _query.partition = None

    def all_items(self: Any) -> list[Any]:
        """Within a table-key Query: only the partition's items, in moto's order."""
        partition = getattr(_query, "partition", None)
        if partition is None:
            return original_all_items(self)
        stored = self.items.get(partition)
        if stored is None:
            return []
        if not self.range_key_attr:
            return [stored]
        return sorted(stored.values(), key=lambda item: item.range_key)

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    _parse_each_definition_once()
    _share_interpreter_clients()
    _remember_backend_per_host()
    _transactions_back_up_their_items()
    _parse_each_expression_once()
    _installed = True


_transaction = threading.local()
_transaction_lock = threading.Lock()


def _transactions_back_up_their_items() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    def deepcopy_table(self: Any, memo: dict[int, Any]) -> Any:
        if getattr(_transaction, "active", False):
            return self  # the transaction's own backup is per item (below)
        copied = self.__class__.__new__(self.__class__)
        memo[id(self)] = copied
        for name, value in self.__dict__.items():
            setattr(copied, name, copy.deepcopy(value, memo))
        return copied

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        with _transaction_lock:
            backups = []
            for entry in transact_items:
                kind, op = next(iter(entry.items()))
                table = self.tables.get(op.get("TableName"))
                if table is None:
                    continue
                source = op["Item"] if kind == "Put" else op["Key"]
                hash_key = DynamoType(source[table.hash_key_attr])
                range_key = (
                    DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
                )
                stored = table.items.get(hash_key)
                item = stored.get(range_key) if range_key is not None and stored else stored
                backups.append((table, hash_key, range_key, copy.deepcopy(item)))
            _transaction.active = True
            try:
                return original(self, transact_items)
            except Exception:
                for table, hash_key, range_key, item in reversed(backups):
                    _restore(table, hash_key, range_key, item)
                raise
            finally:
                _transaction.active = False

    Table.__deepcopy__ = deepcopy_table  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


#: the placeholders an expression names (``#name``, ``:value``)
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")
#: parsed expressions kept (a table's writes use a handful; the cache starts over when full)
EXPRESSIONS_KEPT = 4096


def _parse_each_expression_once() -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    conditions: dict[str, tuple[Any, list[str], list[str]]] = {}
    updates: dict[str, Any] = {}
    original_parse = ConditionExpressionParser.parse
    original_make = UpdateExpressionParser.make.__func__

    def parse(self: Any) -> Any:
        expression = self.condition_expression
        if not expression:
            return original_parse(self)
        named = set(_PLACEHOLDER.findall(expression))
        names = self.expression_attribute_names or {}
        values = self.expression_attribute_values or {}
        key = json.dumps(
            [
                expression,
                {n: v for n, v in names.items() if n in named},
                {n: v for n, v in values.items() if n in named},
            ],
            sort_keys=True,
        )
        found = conditions.get(key)
        if found is None:
            op = original_parse(self)  # raises for a bad expression: nothing kept
            found = (op, list(self.expr_attr_names_found), list(self.expr_attr_values_found))
            if len(conditions) >= EXPRESSIONS_KEPT:
                conditions.clear()
            conditions[key] = found
        self.expr_attr_names_found = list(found[1])
        self.expr_attr_values_found = list(found[2])
        return found[0]

    def make(cls: Any, expression_str: str) -> Any:
        tree = updates.get(expression_str)
        if tree is None:
            tree = original_make(cls, expression_str)
            if len(updates) >= EXPRESSIONS_KEPT:
                updates.clear()
            updates[expression_str] = tree
        return tree

    ConditionExpressionParser.parse = parse  # type: ignore[method-assign]
    UpdateExpressionParser.make = classmethod(make)  # type: ignore[method-assign,assignment]


def _restore(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    partition = table.items[hash_key]
    if item is None:
        partition.pop(range_key, None)
        if not partition:
            table.items.pop(hash_key, None)
    else:
        partition[range_key] = item


def _remember_backend_per_host() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    remembered: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        # called under the dispatcher's own lock
        if host not in remembered:
            remembered[host] = original(self, host)
        return remembered[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


def _parse_each_definition_once() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    def entrypoint(self: Any) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        with _programs_lock:
            image = _programs.get(definition)
        if image is None:
            image = pickle.dumps(AmazonStateLanguageParser.parse(definition)[0])
            with _programs_lock:
                _programs[definition] = image
        return pickle.loads(image)

    ExecutionWorker._get_evaluation_entrypoint = entrypoint  # type: ignore[method-assign]


#: the interpreter's modules that build a client per task (``from ... import boto_client_for``)
_CLIENT_USERS = (
    "state_map.result_writer.resource_eval.resource_eval_s3",
    "state_map.item_reader.eval.resource_eval_s3",
    "state_task.lambda_eval_utils",
    "state_task.service.state_task_service_unsupported",
    "state_task.service.state_task_service_glue",
    "state_task.service.state_task_service_events",
    "state_task.service.state_task_service_ecs",
    "state_task.service.state_task_service_sqs",
    "state_task.service.state_task_service_sfn",
    "state_task.service.state_task_service_dynamodb",
    "state_task.service.state_task_service_batch",
    "state_task.service.state_task_service_sns",
    "state_task.service.state_task_service_aws_sdk",
)
_CLIENT_POOL = 64


def _share_interpreter_clients() -> None:
    import importlib

    from boto3 import client as boto3_client
    from botocore.config import Config as botocore_config
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    clients: dict[tuple[str, str, str, bool], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto's own builder ignores the state's credentials too (every client signs as "ak");
        # the endpoint's port can change between servers in one process (tests)
        key = (region, service, moto_server_port(), botocore_stubber.enabled)
        with lock:  # building clients from boto3's default session is not thread-safe
            if key not in clients:
                client = original(region, service)
                config = client.meta.config.merge(
                    botocore_config(max_pool_connections=_CLIENT_POOL)
                )
                clients[key] = boto3_client(
                    service,
                    region_name=region,
                    endpoint_url=client.meta.endpoint_url,
                    aws_access_key_id="ak",
                    aws_secret_access_key="sk",
                    config=config,
                )
            return clients[key]

    prefix = "moto.stepfunctions.parser.asl.component.state.exec."
    for name in _CLIENT_USERS:
        module = importlib.import_module(prefix + name)
        if getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]
