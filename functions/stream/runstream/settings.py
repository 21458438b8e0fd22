"""The SSE function's settings, validated once at cold start (``QD_STREAM_*`` variables)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from quantdesk.settings import EnvSettings


class StreamSettings(EnvSettings):
    env_prefix: ClassVar[str] = "QD_STREAM_"

    poll_interval_ms: int = Field(
        50, ge=5, le=5000, description="how often a run's tail queries for new events"
    )
    idle_poll_interval_ms: int = Field(
        500, ge=5, le=5000, description="the slowest a run's tail polls while no event comes"
    )
    repair_after_s: float = Field(
        5.0,
        gt=0,
        description="a run item terminal this long whose terminal event item is missing is "
        "sent to viewers from the run item (when they hold every earlier event)",
    )
    give_up_after_s: float = Field(
        60.0,
        gt=0,
        description="... and after this long even when earlier events are missing too",
    )
    page_size: int = Field(100, ge=1, le=1000, description="events per Query page")
    heartbeat_s: float = Field(15.0, gt=0, description="idle time before a heartbeat comment")
    retry_ms: int = Field(1000, ge=0, description="the `retry:` reconnect delay sent to clients")
    max_duration_s: float = Field(
        14 * 60.0,
        gt=0,
        description="end a stream cleanly after this long (below the Lambda timeout); the "
        "browser reconnects with Last-Event-ID and carries on",
    )
    deadline_margin_s: float = Field(
        5.0, ge=0, description="end this long before the invocation deadline the adapter reports"
    )
    stats: bool = Field(False, description="serve GET /runs/_stats (process-local counters)")

    @property
    def poll_interval_s(self) -> float:
        return self.poll_interval_ms / 1000
