"""Services built once per Lambda container from settings validated at cold start."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from quantdesk.settings import get_settings

if TYPE_CHECKING:
    from quantdesk.prompt_analytics.store import PromptLog
    from quantdesk.runs.service import RunService
    from quantdesk.watches.service import WatchService


@cache
def run_service() -> RunService:
    """Imported on first use so a cold start serving only suggest never loads the run code."""
    from quantdesk.runs.service import RunService  # noqa: PLC0415 - cold start (see the docstring)

    return RunService(get_settings())


@cache
def prompt_log() -> PromptLog:
    """Imported on first use: its botocore import is paid by the first suggest, not at import."""
    from quantdesk.prompt_analytics.store import PromptLog  # noqa: PLC0415 - cold start

    return PromptLog(get_settings().table_name)


@cache
def watch_service() -> WatchService:
    """Imported on first use, like the run service."""
    from quantdesk.watches.service import WatchService  # noqa: PLC0415 - cold start
    from quantdesk.watches.settings import WatchSettings  # noqa: PLC0415 - cold start

    return WatchService(get_settings(), WatchSettings.for_lambda())
