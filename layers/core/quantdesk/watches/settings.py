"""What the watch code needs besides the common settings (``QD_WATCH_*``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from quantdesk.aws import local_endpoint
from quantdesk.settings import EnvSettings, on_aws

#: what a deployed function must be given (the defaults are the unit tests' names)
REQUIRED_ON_AWS = (
    "delivery_queue_url",
    "fire_function_arn",
    "scheduler_role_arn",
    "name_prefix",
    "secrets_key_id",
)


class WatchSettings(EnvSettings):
    env_prefix: ClassVar[str] = "QD_WATCH_"
    required_on_aws: ClassVar[tuple[str, ...]] = REQUIRED_ON_AWS

    min_interval_minutes: int = Field(
        60, ge=1, le=7 * 24 * 60, description="a schedule firing more often is refused (400)"
    )
    delivery_queue_url: str = Field(
        "", description="SQS queue of webhook deliveries (the delivery function consumes it)"
    )
    fire_function_arn: str = Field(
        "arn:aws:lambda:us-east-1:000000000000:function:quantdesk-watch-fire",
        description="what each watch's Scheduler schedule invokes",
    )
    scheduler_role_arn: str = Field(
        "arn:aws:iam::000000000000:role/quantdesk-watch-scheduler",
        description="the role Scheduler assumes to invoke it",
    )
    name_prefix: str = Field(
        "quantdesk", description="schedules are <prefix>-watch-<id>, topics <prefix>-alerts-<h>"
    )
    secrets_key_id: str = Field(
        "alias/quantdesk-watch-secrets",
        description="KMS key sealing each watch's webhook secret (the API encrypts, delivery "
        "decrypts)",
    )
    webhook_timeout_s: float = Field(5.0, gt=0, le=30)
    #: webhooks to the loopback host: on the local cloud (which deploys the AWS template, so
    #: ``QD_ENV`` says aws there too) and in tests, never on AWS
    allow_loopback: bool = Field(default_factory=lambda: bool(local_endpoint()) or not on_aws())
