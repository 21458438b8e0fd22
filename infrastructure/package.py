"""``make package``: everything a deploy needs, in ``dist/``.

```
dist/template.json          plain CloudFormation (infrastructure.cloudformation), local code paths
dist/functions/<name>.zip   one per function: its code dir only
dist/layers/<name>.zip      python/<third-party wheels for the Lambda runtime> + our packages
dist/web/                   the static web UI (a copy of frontend/out)
```

Layers are installed from the pins in pyproject.toml as manylinux wheels for python3.12 on the
template's architecture (``pip install --platform … --only-binary=:all:``), never from this
machine's site-packages; the wheel install is cached under ``build/layers`` by pins and
platform. boto3/botocore come from the Lambda runtime. Each builder is its own function so the
local cloud can build the template and function zips without the (slow) layer build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from infrastructure import cloudformation, resources
from infrastructure.resources import ROOT, Function, Layer

DIST: Final = ROOT / "dist"
LAYER_CACHE: Final = ROOT / "build" / "layers"
WEB_EXPORT: Final = ROOT / "frontend" / "out"
PYTHON_VERSION: Final = "3.12"
#: Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34): every manylinux tag up to 2.34
#: (pip does not expand a single ``--platform`` to the older tags itself)
GLIBC_TAGS: Final = ("manylinux2014", "manylinux_2_17", "manylinux_2_28", "manylinux_2_34")
MACHINE: Final = {"arm64": "aarch64", "x86_64": "x86_64"}


def platforms(architecture: str) -> list[str]:
    return [f"{tag}_{MACHINE[architecture]}" for tag in GLIBC_TAGS]


#: Lambda's limit on a function plus its layers, unzipped
MAX_UNZIPPED: Final = 250 * 1024 * 1024
#: a fixed timestamp keeps zips byte-identical when their content is, so `cloudformation
#: package` (which names uploads by content hash) re-uploads and redeploys only what changed
ZIP_DATE: Final = (1980, 1, 1, 0, 0, 0)
SKIP: Final = re.compile(r"(^|/)(__pycache__|\.pytest_cache|\.mypy_cache)(/|$)|\.pyc$")


class PackageError(RuntimeError):
    pass


def pins() -> dict[str, str]:
    """``{"pandas": "pandas==3.1.1", …}`` from pyproject.toml's runtime dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    out: dict[str, str] = {}
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]
        out[name.lower()] = requirement
    return out


def _files(root: Path) -> Iterable[tuple[Path, str]]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not SKIP.search(rel):
            yield path, rel


def _write_zip(target: Path, entries: Iterable[tuple[Path, str]]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path, name in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            archive.writestr(info, path.read_bytes())
    tmp.replace(target)


def unzipped_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(i.file_size for i in archive.infolist())


# -- template --------------------------------------------------------------------------------
def build_template(dist: Path = DIST) -> Path:
    target = dist / "template.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(cloudformation.rendered_text())
    return target


# -- function zips -----------------------------------------------------------------------------
def build_function(function: Function, dist: Path = DIST) -> Path:
    target = dist / cloudformation.artifact_path(function)
    source = ROOT / function.code_dir
    _write_zip(target, ((p, rel) for p, rel in _files(source) if rel != "README.md"))
    return target


def build_functions(dist: Path = DIST) -> list[Path]:
    return [build_function(f, dist) for f in cloudformation.all_functions()]


# -- layers ----------------------------------------------------------------------------------
def layer_key(layer: Layer, architecture: str = cloudformation.ARCHITECTURE) -> str:
    """What the cached wheel install depends on: the pins, the platform, the runtime."""
    pinned = pins()
    spec = {
        "requirements": [pinned[r] for r in layer.requirements],
        "platforms": platforms(architecture),
        "python": PYTHON_VERSION,
        "only_modules": {k: list(v) for k, v in sorted(layer.only_modules.items())},
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _pip_install(requirements: list[str], target: Path, architecture: str, deps: bool) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        *(flag for platform in platforms(architecture) for flag in ("--platform", platform)),
        "--only-binary=:all:",
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        "cp",
        "--target",
        str(target),
        *([] if deps else ["--no-deps"]),
        *requirements,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise PackageError(
            f"pip could not install {requirements} for {architecture}:\n{result.stderr}"
        )


def install_layer(layer: Layer, architecture: str = cloudformation.ARCHITECTURE) -> Path:
    """The layer's third-party wheels for the Lambda runtime (``<cache>/python``), built once
    per pin set."""
    cache = LAYER_CACHE / f"{layer.name}-{layer_key(layer, architecture)}"
    site = cache / "python"
    if (cache / ".complete").exists():
        return site
    shutil.rmtree(cache, ignore_errors=True)
    pinned = pins()
    full = [pinned[r] for r in layer.requirements if r not in layer.only_modules]
    if full:
        _pip_install(full, site, architecture, deps=True)
    for distribution, keep in layer.only_modules.items():
        scratch = cache / f"scratch-{distribution}"
        _pip_install([pinned[distribution]], scratch, architecture, deps=False)
        for rel in keep:
            (site / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(scratch / rel, site / rel)
        shutil.rmtree(scratch)
    # the runtime provides boto3/botocore; never ship a second copy (or a stale one)
    for provided in ("boto3", "botocore", "s3transfer"):
        if (site / provided).exists():
            raise PackageError(f"layer {layer.name} pulled in {provided}: the runtime has it")
    for bin_dir in (site / "bin",):
        shutil.rmtree(bin_dir, ignore_errors=True)
    (cache / ".complete").touch()
    return site


def build_layer(layer: Layer, dist: Path = DIST) -> Path:
    site = install_layer(layer)
    entries = [(p, f"python/{rel}") for p, rel in _files(site)]
    for package in layer.packages:
        source = _package_dir(package)
        entries += [(p, f"python/{package}/{rel}") for p, rel in _files(source)]
    target = dist / cloudformation.layer_path(layer)
    _write_zip(target, entries)
    return target


def _package_dir(package: str) -> Path:
    for root in (ROOT / "layers" / "core", ROOT):
        if (root / package / "__init__.py").exists():
            return root / package
    raise PackageError(f"package {package!r} not found")


def build_layers(dist: Path = DIST) -> list[Path]:
    return [build_layer(layer, dist) for layer in resources.LAYERS]


# -- web -------------------------------------------------------------------------------------
def build_web(dist: Path = DIST, export: Path = WEB_EXPORT) -> Path:
    if not (export / "index.html").exists():
        raise PackageError(f"no web export in {export}: run `make frontend` first")
    target = dist / "web"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(export, target)
    return target


# -- sizes -----------------------------------------------------------------------------------
def check_sizes(dist: Path = DIST) -> list[str]:
    """One line per artifact; PackageError when a function plus its layers exceeds Lambda's
    250 MB unzipped limit."""
    lines = []
    layer_sizes: dict[str, int] = {}
    for layer in resources.LAYERS:
        path = dist / cloudformation.layer_path(layer)
        layer_sizes[layer.name] = unzipped_size(path)
        lines.append(_line(path, layer_sizes[layer.name], dist))
    too_big = []
    for function in cloudformation.all_functions():
        path = dist / cloudformation.artifact_path(function)
        own = unzipped_size(path)
        total = own + sum(layer_sizes[n] for n in ("core", *function.layers))
        lines.append(_line(path, own, dist) + f", with layers {_size(total)}")
        if total > MAX_UNZIPPED:
            too_big.append(f"{function.name}: {total / 2**20:.1f} MB")
    if too_big:
        raise PackageError("over Lambda's 250 MB unzipped limit: " + ", ".join(too_big))
    return lines


def _size(n: int) -> str:
    return f"{n / 2**20:7.1f} MB" if n >= 2**20 else f"{n / 2**10:7.1f} KB"


def _line(path: Path, unzipped: int, dist: Path) -> str:
    zipped = path.stat().st_size
    return (
        f"{path.relative_to(dist).as_posix():30} {_size(zipped)} zipped {_size(unzipped)} unzipped"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infrastructure.package")
    parser.add_argument("--out", type=Path, default=DIST)
    parser.add_argument(
        "--code-only", action="store_true", help="template and function zips only (no layers/web)"
    )
    args = parser.parse_args(argv)
    try:
        print(f"template   {build_template(args.out).relative_to(args.out)}")
        build_functions(args.out)
        if args.code_only:
            return 0
        build_layers(args.out)
        web = build_web(args.out)
        print(f"web        {sum(1 for _ in web.rglob('*') if _.is_file())} files")
        for line in check_sizes(args.out):
            print(line)
    except PackageError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
