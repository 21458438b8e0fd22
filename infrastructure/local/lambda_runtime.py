"""Runs our real Lambda handlers for the local cloud.

moto executes Lambda code only in Docker. Every invocation in moto (the Invoke API, Step
Functions' ``lambda:invoke``, our stream poller) passes through
``moto.awslambda.models.LambdaFunction._invoke_lambda``; :func:`install` replaces that one method
so the call reaches the handler the deployed template names, with the event AWS would send and
a Lambda-like context. :func:`functions_from_stack` keys the runtime from the deployed stack:
physical function name -> the template resource's ``Handler``, memory and timeout, and the code
directory ``infrastructure.resources`` builds that resource's zip from (locally the code runs
from the repository, not from the zip). Pinned to moto 5.2.5 (tests/integration checks the
hook).

Functions with a layer in ``isolated_layers`` (the CPU-heavy analytics functions) run in a pool
of separate processes, as Lambda runs each invocation in its own execution environment: the
local cloud's own process (moto, the interpreter threads, the API, the SSE tails) shares one
interpreter lock, and a pandas computation holding it stalled every request in flight. The
pool's size is the functions' concurrency limit; each process keeps the handlers it loaded
(warm). The pool's processes run at a lower priority (:data:`WORKER_NICENESS`): on one machine the
analytics share the cores with the endpoint and the origin, and a hundred runs computing must not
delay the requests that start and watch them (on AWS they run on compute of their own).
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from infrastructure.local.child_process import background_worker
from infrastructure.resources import ROOT, Function

if TYPE_CHECKING:
    from infrastructure.local.stack import DeployedStack

Handler = Callable[[Any, Any], Any]


#: how much lower the analytics processes' priority is (``nice``)
WORKER_NICENESS: Final = 5


@dataclass
class LambdaContext:
    """The attributes of AWS's Python Lambda context object that code relies on."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LambdaRuntime:
    """Loads handlers once (cold start) and invokes them like the Lambda service."""

    def __init__(
        self,
        functions: tuple[Function, ...],
        region: str,
        account: str,
        *,
        isolated_layers: tuple[str, ...] = (),
        processes: int = 2,
        before_invoke: Callable[[str], None] | None = None,
    ) -> None:
        self._functions = {f.name: f for f in functions}
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.region = region
        self.account = account
        self.invocations: dict[str, int] = {}
        self._isolated_layers = set(isolated_layers)
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = None
        #: called with the function name before each invocation (the local cloud's faults)
        self._before_invoke = before_invoke

    def register(self, functions: tuple[Function, ...]) -> None:
        """Serve ``functions`` (by physical name), e.g. after a deploy."""
        with self._lock:
            self._functions |= {f.name: f for f in functions}

    def knows(self, name: str) -> bool:
        return name in self._functions

    def handler(self, name: str) -> Handler:
        with self._lock:
            if name not in self._handlers:
                self._handlers[name] = load_handler(self._functions[name])
            return self._handlers[name]

    def invoke(self, name: str, event: Any) -> tuple[str, bool]:
        """Run the handler; returns (JSON payload, errored) as the Invoke API reports it."""
        function = self._functions[name]
        if isinstance(event, str | bytes):
            event = json.loads(event or "{}")
        with self._lock:
            self.invocations[name] = self.invocations.get(name, 0) + 1
        if self._before_invoke is not None:
            try:
                self._before_invoke(name)
            except Exception as exc:
                return _error_payload(exc, str(uuid.uuid4())), True
        if self._isolated_layers & set(function.layers):
            pool = self._pool_for_isolated()
            try:
                return pool.submit(
                    _invoke_isolated, asdict(function), event, self.region, self.account
                ).result()
            except BrokenProcessPool as exc:
                # a worker process died (a crash in native code): as on AWS, this invocation
                # fails with Runtime.ExitError and the next one gets a fresh sandbox
                self._replace_broken(pool)
                crash = RuntimeExitError(f"Runtime exited without providing a reason: {exc}")
                return _error_payload(crash, str(uuid.uuid4())), True
        return _run(self.handler(name), function, event, self.region, self.account)

    def _pool_for_isolated(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: this process runs server and interpreter threads
                self._pool = ProcessPoolExecutor(
                    self._processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=background_worker,
                    initargs=(os.getpid(), WORKER_NICENESS),
                )
            return self._pool

    def _replace_broken(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class RuntimeExitError(Exception):
    """Reported as ``Runtime.ExitError``, as Lambda names a sandbox that exited mid-invoke."""


def _run(
    handler: Handler, function: Function, event: Any, region: str, account: str
) -> tuple[str, bool]:
    context = LambdaContext(
        function_name=function.name,
        memory_limit_in_mb=function.memory_mb,
        timeout_s=function.timeout_s,
        invoked_function_arn=f"arn:aws:lambda:{region}:{account}:function:{function.name}",
    )
    try:
        result = handler(event, context)
    except Exception as exc:
        return _error_payload(exc, context.aws_request_id), True
    return json.dumps(result, default=str), False


def _error_payload(exc: BaseException, request_id: str) -> str:
    return json.dumps(
        {
            "errorMessage": str(exc),
            "errorType": "Runtime.ExitError"
            if isinstance(exc, RuntimeExitError)
            else type(exc).__name__,
            "requestId": request_id,
            "stackTrace": traceback.format_exception(exc)[-8:],
        }
    )


def _invoke_isolated(
    function: dict[str, Any], event: Any, region: str, account: str
) -> tuple[str, bool]:
    """Runs in a pool process: load (once per process) and invoke."""
    definition = Function(**{**function, "layers": tuple(function["layers"])})
    return _run(load_handler(definition), definition, event, region, account)


def definitions() -> dict[str, Function]:
    """Template logical id of each function -> its definition in ``infrastructure.resources``
    (the code directory its zip is built from, its layers)."""
    from infrastructure import cloudformation

    return {cloudformation.function_id(f): f for f in cloudformation.all_functions()}


def functions_from_stack(stack: DeployedStack) -> tuple[Function, ...]:
    """The stack's Lambda functions as the runtime runs them."""
    defined = definitions()
    return tuple(
        Function(
            name=stack.physical[logical],
            code_dir=defined[logical].code_dir,
            handler=str(props["Handler"]),
            memory_mb=int(props.get("MemorySize", 128)),
            timeout_s=int(props.get("Timeout", 3)),
            layers=defined[logical].layers,
        )
        for logical, props in stack.resources_of("AWS::Lambda::Function").items()
        if logical in defined
    )


_loaded: dict[tuple[str, str], Handler] = {}


def load_handler(function: Function) -> Handler:
    """Import ``handler`` from ``code_dir`` as Lambda does (code dir first on the path), under
    a module name unique to the function so two ``handler.py`` files never collide. Loaded once
    per process, like a warm container: a second load returns the same object."""
    key = (function.code_dir, function.handler)
    if key not in _loaded:
        _loaded[key] = _import_handler(function)
    return _loaded[key]


def _import_handler(function: Function) -> Handler:
    code_dir = ROOT / function.code_dir
    module_file, _, attr = function.handler.rpartition(".")
    path = Path(code_dir, *module_file.split(".")).with_suffix(".py")
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    module_name = f"_lambda_{function.name.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    handler: Handler = getattr(module, attr)
    return handler


_runtime: LambdaRuntime | None = None


def install(runtime: LambdaRuntime) -> None:
    """Route moto's Lambda invocations to ``runtime`` (idempotent)."""
    global _runtime
    from moto.awslambda.models import LambdaFunction

    _runtime = runtime

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        if _runtime is None or not _runtime.knows(self.function_name):
            return (
                json.dumps({"errorMessage": f"no local handler for {self.function_name}"}),
                True,
                "",
            )
        payload, errored = _runtime.invoke(self.function_name, event)
        return payload, errored, ""

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
