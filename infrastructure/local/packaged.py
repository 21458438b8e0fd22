"""The packaged template and function zips the local cloud deploys (what ``make package``
writes, built by the same functions into ``.local/package``), rebuilt only when their sources
change (a hash of every input file is the cache key), so ``make up`` stays fast.

Layers are not built here (slow, and the local cloud runs the code from the virtualenv): the
local deploy uploads placeholders for them (see ``stack.py``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Final

from infrastructure import package
from infrastructure.resources import ROOT

CACHE: Final = ROOT / ".local" / "package"
#: what the package is built from: a change to any file under these paths rebuilds it
SOURCES: Final = (
    "infrastructure/resources.py",
    "infrastructure/cloudformation.py",
    "infrastructure/package.py",
    "functions",
    "statemachines",
)


def sources_digest() -> str:
    digest = hashlib.sha256()
    for source in SOURCES:
        root = ROOT / source
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_package(cache: Path = CACHE) -> tuple[dict[str, Any], Path]:
    """(template, directory its artifact paths are relative to), from the cache when current."""
    stamp = cache / "SOURCES"
    template_file = cache / "template.json"
    digest = sources_digest()
    if not (stamp.is_file() and stamp.read_text() == digest and template_file.is_file()):
        build(cache)
        stamp.write_text(digest)
    loaded: dict[str, Any] = json.loads(template_file.read_text())
    return loaded, cache


def build(out: Path) -> None:
    """``make package``'s template and function zips (``--code-only``)."""
    package.build_template(out)
    package.build_functions(out)
