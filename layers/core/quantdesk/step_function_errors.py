"""Step Functions error text: a failed Lambda reaches a ``Catch`` as ``{"Error", "Cause"}`` whose
``Cause`` is the Lambda's JSON error payload. Runs and ingestion both keep only its message."""

from __future__ import annotations

import json
from typing import Any


def readable_cause(cause: Any) -> str:
    """The message of a ``Cause`` (``errorMessage`` of a Lambda payload), else the text as is."""
    if not cause:
        return ""
    if not isinstance(cause, str):
        return str(cause)
    try:
        payload = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(payload, dict):
        return str(payload.get("errorMessage") or payload.get("message") or cause)
    return cause


def readable_error(error: Any) -> str:
    """``"Name: message"`` from a ``Catch`` output (anything else as text)."""
    if not isinstance(error, dict):
        return str(error)
    name = str(error.get("Error", "Error"))
    cause = readable_cause(error.get("Cause"))
    return f"{name}: {cause}" if cause else name
