"""A stand-in deployment package for functions that tests register in moto directly: the
invocations run the real handler through ``infrastructure.local.lambda_runtime``."""

from __future__ import annotations

import io
import zipfile


def placeholder_zip(handler: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        module = handler.rpartition(".")[0].replace(".", "/")
        archive.writestr(f"{module}.py", "# served by infrastructure.local.lambda_runtime\n")
    return buffer.getvalue()
