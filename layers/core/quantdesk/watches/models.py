"""Watch and alert models: the API's request/response bodies and what is stored."""

from __future__ import annotations

from typing import Any, Final, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quantdesk.runs.models import ID_PATTERN, RUN_ID_PATTERN

WatchState = Literal["active", "paused"]
WATCH_ID_PATTERN: Final = RUN_ID_PATTERN
SCHEDULE_PATTERN: Final = r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\))$"
MAX_CHANNELS: Final = 5
MAX_THRESHOLDS: Final = 20


class Trigger(BaseModel):
    """``{"on": "snapshot"}`` (each new snapshot of a dataset the scenario reads) or
    ``{"schedule": "cron(...)"|"rate(...)", "timezone": "Europe/Paris"}``."""

    model_config = ConfigDict(extra="forbid")

    on: Literal["snapshot"] | None = None
    schedule: str | None = Field(None, pattern=SCHEDULE_PATTERN, max_length=256)
    timezone: str = Field("UTC", max_length=64, description="IANA time zone of the schedule")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.on is None) == (self.schedule is None):
            raise ValueError('give either "on": "snapshot" or a "schedule"')
        return self


class Channel(BaseModel):
    """Where alerts go besides the inbox (which always gets them):
    ``{"type": "webhook", "url": ...}``, ``{"type": "email", "address": ...}``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook", "email", "inbox"]
    url: str | None = Field(None, max_length=2048)
    address: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    @model_validator(mode="after")
    def _target(self) -> Self:
        if self.type == "webhook" and not self.url:
            raise ValueError("a webhook channel needs a url")
        if self.type == "email" and not self.address:
            raise ValueError("an email channel needs an address")
        return self


class Threshold(BaseModel):
    """A value of ``column`` crossing ``value`` (either way) between two results is a change."""

    model_config = ConfigDict(extra="forbid")

    column: str = Field(min_length=1, max_length=64)
    value: float


class WatchRequest(BaseModel):
    """``POST /analysis/watches``: a succeeded run to follow, or a scenario and its params."""

    model_config = ConfigDict(extra="forbid")

    run_id: str | None = Field(None, pattern=RUN_ID_PATTERN, description="a succeeded run")
    scenario_id: str | None = Field(None, pattern=ID_PATTERN)
    params: dict[str, Any] | None = None
    trigger: Trigger
    channels: list[Channel] = Field(default_factory=list, max_length=MAX_CHANNELS)
    rank_threshold: int = Field(
        3, ge=1, le=1000, description="a row moving this many places or more is a change"
    )
    thresholds: list[Threshold] = Field(
        default_factory=list,
        max_length=MAX_THRESHOLDS,
        description="values crossing these are changes; default: the scenario's own thresholds",
    )


class WatchPatch(BaseModel):
    """``PATCH /analysis/watches/{id}``: pause or resume."""

    model_config = ConfigDict(extra="forbid")

    state: WatchState


class Watch(BaseModel):
    """A stored watch. ``baseline_run_id`` is the run whose result the next firing is diffed
    against (the source run, then each succeeded firing)."""

    watch_id: str
    owner: str
    scenario_id: str
    params: dict[str, Any]
    datasets: list[str]
    trigger: Trigger
    channels: list[Channel]
    rank_threshold: int
    thresholds: list[Threshold]
    state: WatchState
    created_at: str
    updated_at: str
    source_run_id: str | None = None
    baseline_run_id: str | None = None
    last_fired_at: str | None = None
    #: the webhook secret, sealed with the stack's KMS key (see quantdesk.watches.secrets)
    secret_sealed: str


class WatchView(Watch):
    """A watch as the API shows it: no owner, never the secret again."""

    owner: str = Field(exclude=True)
    secret_sealed: str = Field(exclude=True)


class WatchCreated(WatchView):
    """``201`` of ``POST /analysis/watches``: the only time the webhook secret is returned."""

    webhook_secret: str = Field(
        description="HMAC-SHA256 key of X-Quantdesk-Signature; shown once, store it now"
    )


class WatchList(BaseModel):
    watches: list[WatchView]


# -- diffs and alerts ---------------------------------------------------------------------------
class RankMove(BaseModel):
    key: str
    from_rank: int
    to_rank: int


class Crossing(BaseModel):
    key: str
    column: str
    threshold: float
    before: float
    after: float
    direction: Literal["up", "down"]


class ResultDiff(BaseModel):
    """What changed between two results of one watch (rows keyed by their first column)."""

    key_column: str
    entries: list[str] = Field(default_factory=list, description="rows new in this result")
    exits: list[str] = Field(default_factory=list, description="rows gone from this result")
    rank_moves: list[RankMove] = Field(default_factory=list)
    crossings: list[Crossing] = Field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.entries or self.exits or self.rank_moves or self.crossings)


class Delivery(BaseModel):
    """One channel's delivery of an alert (the email's text, so the local UI can show it)."""

    type: Literal["webhook", "email"]
    target: str
    status: Literal["queued", "sent", "failed"]
    message: str | None = None


class Alert(BaseModel):
    alert_id: str
    watch_id: str
    run_id: str
    previous_run_id: str
    scenario_id: str
    created_at: str
    summary: str
    diff: ResultDiff
    read: bool = False
    deliveries: list[Delivery] = Field(default_factory=list)


class AlertPage(BaseModel):
    """``GET /analysis/alerts``: newest first."""

    alerts: list[Alert]
    unread: int = Field(description="unread alerts among the newest 100")
    stream_url: str = Field(
        description="the inbox's live stream (SSE, short-lived token), resuming after the "
        "newest alert this page could hold: every later alert arrives on it"
    )


class InboxEvent(BaseModel):
    """One event of the owner's inbox stream: a new alert, numbered by the owner's inbox
    sequence (``seq``, the SSE ``id``; gap-free, in the order alerts were stored)."""

    seq: int
    event: Literal["alert"] = "alert"
    alert_id: str
    watch_id: str
    run_id: str
    scenario_id: str
    summary: str
    created_at: str

    @classmethod
    def of(cls, seq: int, alert: Alert) -> InboxEvent:
        return cls(seq=seq, **alert.model_dump(include=_INBOX_EVENT_FIELDS))

    def data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


_INBOX_EVENT_FIELDS: Final = {
    "alert_id",
    "watch_id",
    "run_id",
    "scenario_id",
    "summary",
    "created_at",
}


class AlertListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(20, ge=1, le=100)
    unread: bool = Field(False, description="only unread alerts")


class WebhookBody(BaseModel):
    """What each webhook channel receives when a watch finds a change: this JSON, POSTed with
    ``X-Quantdesk-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by the watch's
    webhook_secret>``. Any 2xx is success; anything else (or no answer in 5 s) is retried with
    exponential backoff (30 s, 60 s, 120 s, 240 s), then set aside on a dead-letter queue.
    Deliveries are at least once: deduplicate by ``alert_id``."""

    watch_id: str
    alert_id: str
    run_id: str
    previous_run_id: str
    scenario_id: str
    summary: str
    diff: ResultDiff
