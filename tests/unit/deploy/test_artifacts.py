"""Every function's handler, and everything it imports at cold start, is in its zip or its
layers (``make package``'s dist/), read from the zips themselves.

The layers hold wheels for the Lambda runtime (arm64, CPython 3.12), so nothing is imported
here: imports are followed statically from the handler module through our own modules, and
each one must resolve to the standard library, the runtime's boto3, or a file in the zips.
"""

from __future__ import annotations

import ast
import os
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from infrastructure import cloudformation, package, resources
from infrastructure.resources import Function

DIST = package.DIST
#: what the python3.12 Lambda runtime itself provides
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
#: imported only when LOCALSTACK_HOST points at a local endpoint (quantdesk.aws)
LOCAL_ONLY = {"localstack_client"}


def layers_built() -> bool:
    return all((DIST / cloudformation.layer_path(layer)).exists() for layer in resources.LAYERS)


pytestmark = pytest.mark.skipif(
    not layers_built() and not os.environ.get("CI"),
    reason="no layers in dist/: run `make package` (`make test` does, before the tests)",
)


class Artifact:
    """The files of a function zip plus its layers, as the runtime's sys.path sees them."""

    def __init__(self, zips: list[tuple[Path, str]]) -> None:
        self.files: dict[str, tuple[Path, str]] = {}
        for path, root in zips:
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if name.startswith(root) and not name.endswith("/"):
                        self.files.setdefault(name[len(root) :], (path, name))

    def module_file(self, module: str) -> str | None:
        base = module.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            if candidate in self.files:
                return candidate
        return None

    def has_top_level(self, name: str) -> bool:
        return any(
            f.split("/")[0] in (name, f"{name}.py") or f.startswith(f"{name}.") for f in self.files
        )

    def source(self, rel: str) -> str:
        path, name = self.files[rel]
        with zipfile.ZipFile(path) as archive:
            return archive.read(name).decode()


def artifact(function: Function) -> Artifact:
    zips = [(DIST / cloudformation.artifact_path(function), "")]
    for layer in ("core", *function.layers):
        zips.append((DIST / f"layers/{layer}.zip", "python/"))
    return Artifact(zips)


def imports_of(source: str, module: str, is_package: bool) -> set[str]:
    """Modules ``module`` imports, at module level or lazily inside functions (those run at
    invocation), leaving out ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    found: set[str] = set()
    package_name = module if is_package else module.rpartition(".")[0]
    for statement in ast.walk(tree):
        if isinstance(statement, ast.Import):
            found |= {alias.name for alias in statement.names}
        elif isinstance(statement, ast.ImportFrom):
            base = statement.module or ""
            if statement.level:
                parent = package_name.split(".")
                parent = parent[: len(parent) - (statement.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in statement.names}
    return found


def unresolved_imports(function: Function) -> tuple[set[str], int]:
    files = artifact(function)
    own_zip = DIST / cloudformation.artifact_path(function)
    entry = function.handler.rpartition(".")[0]
    seen: set[str] = set()
    missing: set[str] = set()
    todo = [entry]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        rel = files.module_file(module)
        top = module.split(".")[0]
        if rel is None:
            # "from pkg import name" also lands here for names that are not modules
            known = sys.stdlib_module_names | RUNTIME_PROVIDED | LOCAL_ONLY
            if not (top in known or files.has_top_level(top)):
                missing.add(module)
            continue
        ours = top in {"quantdesk", "scenarios"} or files.files[rel][0] == own_zip
        if not ours:
            continue  # a third-party package is present; its own imports are its business
        imports = imports_of(files.source(rel), module, rel.endswith("__init__.py"))
        todo.extend(imports)
    return missing, len(seen)


@pytest.mark.parametrize("function", cloudformation.all_functions(), ids=lambda f: f.suffix)
def test_the_handler_and_its_imports_are_in_the_zip_or_layers(function: Function) -> None:
    files = artifact(function)
    if function == resources.STREAM:
        # the Lambda Web Adapter runs run.sh, which serves app:app with uvicorn
        assert files.files.get("run.sh")
        path, name = files.files["run.sh"]
        with zipfile.ZipFile(path) as archive:
            assert (archive.getinfo(name).external_attr >> 16) & 0o111, "run.sh must be executable"
        assert files.has_top_level("uvicorn")
        function = Function(function.name, function.code_dir, resources.STREAM_ASGI)
    module = function.handler.rpartition(".")[0]
    assert files.module_file(module), f"{module} is not in {function.name}'s zip"
    missing, followed = unresolved_imports(function)
    assert missing == set()
    assert followed > 50  # the walk really went through our packages


def test_a_function_without_its_analytics_layer_would_fail_to_import() -> None:
    missing, _ = unresolved_imports(replace(resources.WORKER, layers=()))
    assert {m.split(".")[0] for m in missing} >= {"pandas", "numpy"}


def test_layers_hold_wheels_for_the_lambda_runtime_not_this_machine() -> None:
    with zipfile.ZipFile(DIST / "layers/analytics.zip") as archive:
        names = archive.namelist()
    extensions = [n for n in names if n.endswith(".so") and "/numpy/" in n]
    assert extensions and all(
        "cpython-312-aarch64" in n or "aarch64" in n for n in extensions if "cpython" in n
    )
    assert not any(n.startswith(("python/boto3/", "python/botocore/")) for n in names)
