"""Services built once per Lambda container from settings validated at cold start."""

from __future__ import annotations

from functools import cache

from quantdesk.runs.service import RunService
from quantdesk.settings import get_settings


@cache
def run_service() -> RunService:
    return RunService(get_settings())
