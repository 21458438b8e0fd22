"""``quantdesk models register|list|alias|delete``: the model registry ``/predict`` serves.

``register PATH|URI --name N`` stores a model directory in MLflow's format (``MLmodel`` plus its
files) as the model's next version: a local directory, or an MLflow URI (``runs:/<run>/<path>``,
``models:/<name>/<version>``…) resolved with MLflow's client against ``MLFLOW_TRACKING_URI``.
``alias N VERSION ALIAS`` points an alias (``champion``, ``challenger``…) at a version; the
endpoint follows it on the next request. Against the local cloud by default, or AWS with
``--aws``. Exit code 0 on success, 2 when the registry refused (the message says why), 1 when
the stack is unreachable.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quantdesk.cli.target import add_cloud_arguments, use_cloud

if TYPE_CHECKING:
    from quantdesk.predict.registry import ModelRegistry


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("models", help="manage the models /predict serves")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("register", help="store a model (MLflow format) as a new version")
    add.add_argument("source", help="model directory, or an MLflow URI (runs:/..., models:/...)")
    add.add_argument("--name", required=True, help="registered model name")
    add.add_argument("--alias", help="also point this alias at the new version")
    actions.add_parser("list", help="models, versions, aliases and input signatures")
    alias = actions.add_parser("alias", help="point an alias at a version")
    alias.add_argument("name")
    alias.add_argument("version", type=int)
    alias.add_argument("alias")
    delete = actions.add_parser("delete", help="delete a version, or the whole model")
    delete.add_argument("name")
    delete.add_argument("--version", type=int, help="only this version (default: all)")
    for sub in (add, *(actions.choices[a] for a in ("list", "alias", "delete"))):
        add_cloud_arguments(sub, "the table and the data bucket")
    parser.set_defaults(func=models)


def models(args: argparse.Namespace) -> int:
    from quantdesk.errors import QuantdeskError  # noqa: PLC0415 - CLI start-up

    use_cloud(args)
    try:
        registry = registry_for(args.stack)
    except Exception as exc:  # an unreachable stack is the common case: say so plainly
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("is the stack running? start it with `make up`", file=sys.stderr)
        return 1
    try:
        return ACTIONS[args.action](registry, args)
    except QuantdeskError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2


def registry_for(stack: str) -> ModelRegistry:
    from quantdesk import stack_outputs  # noqa: PLC0415 - CLI start-up
    from quantdesk.predict.registry import ModelRegistry  # noqa: PLC0415
    from quantdesk.settings import get_settings  # noqa: PLC0415

    os.environ.update(stack_outputs.environment(stack_outputs.outputs(stack)))
    get_settings.cache_clear()
    settings = get_settings()
    return ModelRegistry(settings.table_name, settings.data_bucket)


def _register(registry: ModelRegistry, args: argparse.Namespace) -> int:
    record = register_source(registry, args.source, args.name)
    print(f"registered {record.name} version {record.version} from {record.source}")
    if args.alias:
        registry.set_alias(record.name, args.alias, record.version)
        print(f"alias {args.alias} -> {record.name} version {record.version}")
    return 0


def register_source(registry: ModelRegistry, source: str, name: str) -> Any:
    """Register a local model directory or an MLflow URI."""
    if "://" not in source and ":/" not in source:
        return registry.register(name, read_directory(Path(source)), str(source))
    # an MLflow URI: MLflow's client resolves it (tracking server, runs, registered models)
    import mlflow  # noqa: PLC0415 - only for URIs, a dev dependency

    with tempfile.TemporaryDirectory() as scratch:
        local = mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=scratch)
        return registry.register(name, read_directory(Path(local)), source)


def read_directory(path: Path) -> dict[str, bytes]:
    from quantdesk.errors import InvalidRequest  # noqa: PLC0415 - CLI start-up

    if not (path / "MLmodel").is_file():
        raise InvalidRequest(f"{path} is not a model directory (no MLmodel file)", field="path")
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def _list(registry: ModelRegistry, args: argparse.Namespace) -> int:
    names = registry.names()
    for name in names:
        model = registry.model(name)
        aliases = ", ".join(f"{a} -> {v}" for a, v in sorted(model.aliases.items()))
        print(f"{name}  ({aliases or 'no aliases'})")
        for record in model.versions:
            columns = ", ".join(f"{c.name}:{c.type}" for c in record.spec.inputs)
            print(f"  version {record.version}  {record.created_at}  {record.source}")
            print(f"    inputs: {columns}")
    print(f"{len(names)} registered model(s)")
    return 0


def _alias(registry: ModelRegistry, args: argparse.Namespace) -> int:
    registry.set_alias(args.name, args.alias, args.version)
    print(f"alias {args.alias} -> {args.name} version {args.version}")
    return 0


def _delete(registry: ModelRegistry, args: argparse.Namespace) -> int:
    gone = registry.delete(args.name, args.version)
    print(f"deleted {args.name} version(s) {', '.join(map(str, gone)) or 'none'}")
    return 0


ACTIONS = {"register": _register, "list": _list, "alias": _alias, "delete": _delete}
