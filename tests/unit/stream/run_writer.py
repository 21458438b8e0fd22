"""A run and its events written straight to the table, seq by seq, as the API, the state machine,
worker and projector would write them (shared by the stream, projector and integration tests and
the streaming benchmark)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from quantdesk import aws, keys
from quantdesk.runs import tokens
from quantdesk.runs.models import Progress, Run, RunEvent, RunManifest
from quantdesk.runs.repository import RunRepository
from quantdesk.settings import get_settings

OWNER = "alice"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def queued_run(
    run_id: str, owner: str = OWNER, scenario_id: str = "trend_strength", now: str | None = None
) -> Run:
    """A run as the API stores it when it accepts the request."""
    now = now or now_iso()
    return Run(
        run_id=run_id,
        owner=owner,
        scenario_id=scenario_id,
        status="queued",
        created_at=now,
        updated_at=now,
        event_seq=1,
        manifest=RunManifest(
            scenario_id=scenario_id, scenario_version="1", params={}, code_version="test"
        ),
    )


def mark_running(repo: RunRepository, run_id: str) -> None:
    """What the state machine's MarkRunning state writes (the run enters the active index's
    ``running`` partition; its last update stays the one it was stored with)."""
    aws.client("dynamodb").update_item(
        TableName=repo.table,
        Key={k: {"S": v} for k, v in keys.run_key(run_id).items()},
        UpdateExpression="SET #s = :r, last_event = :e, #apk = :active, #ask = updated_at "
        "ADD event_seq :one",
        ExpressionAttributeNames={"#s": "status", "#apk": keys.ACTIVE_PK, "#ask": keys.ACTIVE_SK},
        ExpressionAttributeValues={
            ":r": {"S": "running"},
            ":active": {"S": keys.active_pk("running")},
            ":e": {"S": "status"},
            ":one": {"N": "1"},
        },
    )


@dataclass
class RunWriter:
    """Writes a run and its events as the state machine + projector would (seq by seq)."""

    repo: RunRepository
    run_id: str
    owner: str = OWNER
    seq: int = 0
    status: str = "queued"
    events: list[RunEvent] = field(default_factory=list)

    def create(self) -> RunWriter:
        self.repo.create(queued_run(self.run_id, self.owner))
        self.seq = 1
        self._put("status", "queued")
        return self

    def emit(self, kind: str, status: str | None = None, percent: float | None = None) -> RunEvent:
        """One more run write (status/progress) and its projected event."""
        self.seq += 1
        self.status = status or self.status
        aws.client("dynamodb").update_item(
            TableName=self.repo.table,
            Key={k: {"S": v} for k, v in keys.run_key(self.run_id).items()},
            UpdateExpression="SET #s = :s, event_seq = :n",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": self.status}, ":n": {"N": str(self.seq)}},
        )
        return self._put(kind, self.status, percent)

    def _put(self, kind: str, status: str, percent: float | None = None) -> RunEvent:
        progress = (
            Progress(step="computing", percent=percent, message="") if percent is not None else None
        )
        event = RunEvent(
            run_id=self.run_id,
            seq=self.seq,
            event=kind,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            at=now_iso(),
            progress=progress,
        )
        assert self.repo.put_event(event)
        self.events.append(event)
        return event

    def lifecycle(self, progress_steps: int = 3) -> RunWriter:
        """queued (already) -> running -> progress x n -> result -> succeeded."""
        self.emit("status", "running")
        for step in range(progress_steps):
            self.emit("progress", percent=10.0 * (step + 1))
        self.emit("result")
        self.emit("status", "succeeded")
        return self


def token_for(run: RunWriter, owner: str | None = None, ttl_s: int = 600) -> str:
    return tokens.issue(
        tokens.signing_key(get_settings().stream_secret_name), run.run_id, owner or run.owner, ttl_s
    )
