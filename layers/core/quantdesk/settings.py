"""Environment settings, validated once per process (cold start) and passed down explicitly.

Every Lambda reads the same variable names; the template and the local cloud set them from
``infrastructure.resources``. Nothing below a handler reads ``os.environ``.
"""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QD_", extra="ignore", frozen=True)

    table_name: str = Field("quantdesk", description="the single DynamoDB table")
    data_bucket: str = Field("quantdesk-data", description="S3 data lake (datasets, snapshots)")
    results_bucket: str = Field("quantdesk-results", description="S3 bucket for run payloads")
    scenario_run_arn: str = Field(
        "arn:aws:states:us-east-1:000000000000:stateMachine:quantdesk-scenario-run",
        description="ARN of the scenario-run state machine",
    )
    ingestion_arn: str = Field(
        "arn:aws:states:us-east-1:000000000000:stateMachine:quantdesk-ingestion",
        description="ARN of the ingestion state machine",
    )
    stream_secret: str = Field("local-dev-secret", description="HMAC key for stream tokens")
    public_base_url: str = Field("", description="origin prefix for URLs handed to clients")
    code_version: str = Field("dev", description="deployed code version, stored in manifests")


@cache
def get_settings() -> Settings:
    return Settings()
