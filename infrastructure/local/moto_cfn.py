"""What moto 5.2.5's CloudFormation does differently from AWS's, found by deploying our
template into it, and the fixes the local deploy applies (pinned moto: the unit tests deploy
the packaged template and fail if a fix stops working):

* resource types it cannot create are skipped with a warning, and any reference to them fails
  the stack: :func:`unsupported_types` names them, so the deploy can emulate them instead;
* ``Fn::Sub`` with a variable map runs the text through Python's ``string.Template``, which
  turns ``$$`` into ``$`` (an ASL's ``$$.Execution.Name`` becomes ``$.Execution.Name``):
  :func:`without_sub_maps` rewrites those as an ``Fn::Join`` of the same parts first;
* ``AWS::StepFunctions::StateMachine`` is created in the backend that cannot execute, not the
  one the Step Functions API uses when execution is on: :func:`install` creates it where the
  API (the scheduler, our CLI) will look for it;
* ``AWS::Lambda::Function`` ignores ``Layers`` on create and fails on them on update (it passes
  the layer objects where ARNs belong): :func:`install` leaves them out of updates too. Locally
  the code runs from the virtualenv, so no layer is needed;
* ``AWS::DynamoDB::Table`` has no update: a changed table (a new index) became undefined and
  every reference to it failed the stack update of a restored local cloud. :func:`install` keeps
  the table as it is; what a restored table lacks is added by the code that needs it (the run
  repository adds the active-runs index at restart, ``RunRepository.ensure_active_index``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

_installed = False


class _KnownUnsupported(logging.Filter):
    """Drops moto's "No Moto CloudFormation support for <type>" for the types we emulate."""

    def __init__(self, types: set[str]) -> None:
        super().__init__()
        self.types = types

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != "No Moto CloudFormation support for %s":
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        return not (args and str(args[0]) in self.types)


def quiet(types: set[str]) -> None:
    """Silence moto's warning for resource types the local cloud emulates (once)."""
    logger = logging.getLogger("moto")
    if not any(isinstance(f, _KnownUnsupported) for f in logger.filters):
        logger.addFilter(_KnownUnsupported(types))


def unsupported_types(template: dict[str, Any]) -> set[str]:
    """The template's resource types moto's CloudFormation cannot create."""
    # moto reads its account id when first imported: after the local cloud has set it
    from moto.cloudformation.parsing import resource_class_from_type  # noqa: PLC0415

    types = {r["Type"] for r in template["Resources"].values()}
    return {t for t in types if resource_class_from_type(t) is None}


class _ApiBackends:
    """``stepfunctions_backends[account][region]`` as the Step Functions API resolves it."""

    def __init__(self, get_backend: Callable[[str, str], Any]) -> None:
        self.get_backend = get_backend

    def __getitem__(self, account: str) -> Any:
        get_backend = self.get_backend

        class Regions:
            def __getitem__(self, region: str) -> Any:
                return get_backend(account, region)

        return Regions()


def without_sub_maps(value: Any) -> Any:
    """``value`` with every ``{"Fn::Sub": [text, {name: v}]}`` written as
    ``{"Fn::Join": ["", [...]]}``: the text's pieces (plain, or ``Fn::Sub`` for what still
    names a resource or parameter) and each ``v`` where ``${name}`` stood."""
    if isinstance(value, list):
        return [without_sub_maps(v) for v in value]
    if not isinstance(value, dict):
        return value
    sub = value.get("Fn::Sub")
    if isinstance(sub, list):
        text, variables = sub[0], without_sub_maps(sub[1])
        names = "|".join(re.escape(name) for name in variables)
        parts: list[Any] = []
        pieces = re.split(r"\$\{(" + names + r")\}", text) if names else [text]
        for index, piece in enumerate(pieces):
            if index % 2:  # re.split puts the captured variable names at odd positions
                parts.append(variables[piece])
            elif piece:
                parts.append({"Fn::Sub": piece} if "${" in piece else piece)
        return {"Fn::Join": ["", parts]}
    return {k: without_sub_maps(v) for k, v in value.items()}


def install() -> None:
    """Apply the fixes (idempotent)."""
    global _installed
    if _installed:
        return
    # moto reads its account id when first imported: after the local cloud has set it
    from moto.awslambda.models import LambdaFunction  # noqa: PLC0415
    from moto.stepfunctions import models, responses  # noqa: PLC0415

    # responses (imported first) keeps the original backends; models' name now asks it
    models.stepfunctions_backends = _ApiBackends(responses.get_backend)  # type: ignore[assignment]
    function = LambdaFunction.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def update_function(cls: Any, **kwargs: Any) -> Any:
        template = kwargs["cloudformation_json"]
        props = {k: v for k, v in template["Properties"].items() if k != "Layers"}
        kwargs["cloudformation_json"] = dict(template, Properties=props)
        return function(cls, **kwargs)

    LambdaFunction.update_from_cloudformation_json = classmethod(update_function)  # type: ignore[assignment,method-assign]

    from moto.dynamodb.models.table import Table  # noqa: PLC0415

    def keep_table(cls: Any, *, original_resource: Any, **_: Any) -> Any:
        return original_resource

    Table.update_from_cloudformation_json = classmethod(keep_table)  # type: ignore[assignment,method-assign]
    _installed = True
