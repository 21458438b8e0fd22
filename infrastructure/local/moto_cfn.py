"""What moto 5.2.5's CloudFormation does differently from AWS's, found by deploying our
template into it, and the fixes the local deploy applies (pinned moto: the unit tests deploy
the packaged template and fail if a fix stops working):

* resource types it cannot create are skipped with a warning, and any reference to them fails
  the stack: :func:`unsupported_types` names them, so the deploy can emulate them instead;
* ``AWS::StepFunctions::StateMachine`` ignores ``DefinitionSubstitutions`` (and ``Definition``)
  and creates the machine in the backend that cannot execute, not the one the Step Functions
  API uses when execution is on: :func:`install` resolves the substitutions and creates the
  machine where the API (and the scheduler, and our CLI) will look for it;
* ``AWS::Lambda::Function`` ignores ``Layers`` on create and fails on them on update (it passes
  the layer objects where ARNs belong): :func:`install` leaves them out of updates too. Locally
  the code runs from the virtualenv, so no layer is needed.
"""

from __future__ import annotations

import json
import logging
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
    from moto.cloudformation.parsing import resource_class_from_type

    types = {r["Type"] for r in template["Resources"].values()}
    return {t for t in types if resource_class_from_type(t) is None}


class _ApiBackends:
    """``stepfunctions_backends[account][region]`` as the Step Functions API resolves it."""

    def __getitem__(self, account: str) -> Any:
        from moto.stepfunctions.responses import get_backend

        class Regions:
            def __getitem__(self, region: str) -> Any:
                return get_backend(account, region)

        return Regions()


def _substituted(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    props = dict(cloudformation_json.get("Properties", {}))
    definition = props.get("DefinitionString")
    if "Definition" in props:
        definition = json.dumps(props.pop("Definition"))
    if definition is not None:
        for key, value in (props.pop("DefinitionSubstitutions", None) or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        props["DefinitionString"] = definition
    return dict(cloudformation_json, Properties=props)


def install() -> None:
    """Apply the fixes (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.awslambda.models import LambdaFunction
    from moto.stepfunctions import models

    models.stepfunctions_backends = _ApiBackends()  # type: ignore[assignment]
    machine = models.StateMachine
    create = machine.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    update = machine.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> Any:
        return create(cls, resource_name, _substituted(cloudformation_json), *args, **kwargs)

    def update_from_cloudformation_json(cls: Any, **kwargs: Any) -> Any:
        kwargs["cloudformation_json"] = _substituted(kwargs["cloudformation_json"])
        return update(cls, **kwargs)

    function = LambdaFunction.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def update_function(cls: Any, **kwargs: Any) -> Any:
        template = kwargs["cloudformation_json"]
        props = {k: v for k, v in template["Properties"].items() if k != "Layers"}
        kwargs["cloudformation_json"] = dict(template, Properties=props)
        return function(cls, **kwargs)

    LambdaFunction.update_from_cloudformation_json = classmethod(update_function)  # type: ignore[assignment,method-assign]
    machine.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment,method-assign]
    machine.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore[assignment,method-assign]
    _installed = True
