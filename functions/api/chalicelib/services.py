"""Services built once per Lambda container from settings validated at cold start."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from quantdesk.settings import get_settings

if TYPE_CHECKING:
    from quantdesk.runs.service import RunService


@cache
def run_service() -> RunService:
    """Imported on first use so a cold start serving only suggest never loads the run code."""
    from quantdesk.runs.service import RunService  # noqa: PLC0415 - cold start (see the docstring)

    return RunService(get_settings())
