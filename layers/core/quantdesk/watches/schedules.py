"""One EventBridge Scheduler schedule per scheduled watch, named after it, invoking the fire
function with the watch id and the scheduled time (its idempotency key)."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from quantdesk import aws
from quantdesk.errors import ServiceUnavailable
from quantdesk.watches.models import Watch
from quantdesk.watches.settings import WatchSettings


class WatchSchedules:
    def __init__(self, settings: WatchSettings) -> None:
        self.settings = settings

    def name(self, watch_id: str) -> str:
        return f"{self.settings.name_prefix}-watch-{watch_id}"

    def put(self, watch: Watch, *, create: bool) -> None:
        """Create the watch's schedule, or update it (a pause disables it)."""
        if watch.trigger.schedule is None:
            return
        request = {
            "Name": self.name(watch.watch_id),
            "ScheduleExpression": watch.trigger.schedule,
            "ScheduleExpressionTimezone": watch.trigger.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED" if watch.state == "active" else "DISABLED",
            "Target": {
                "Arn": self.settings.fire_function_arn,
                "RoleArn": self.settings.scheduler_role_arn,
                "Input": json.dumps(
                    {"watch_id": watch.watch_id, "scheduled_time": "<aws.scheduler.scheduled-time>"}
                ),
            },
        }
        client = aws.client("scheduler")
        try:
            (client.create_schedule if create else client.update_schedule)(**request)
        except ClientError as exc:
            raise ServiceUnavailable("could not set the watch's schedule") from exc

    def delete(self, watch: Watch) -> None:
        if watch.trigger.schedule is None:
            return
        try:
            aws.client("scheduler").delete_schedule(Name=self.name(watch.watch_id))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise ServiceUnavailable("could not delete the watch's schedule") from exc
