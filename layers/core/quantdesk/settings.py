"""Environment settings, validated once per process (cold start) and passed down explicitly.

Every Lambda reads the same variable names; the template sets them (the local cloud deploys the
same template). Nothing below a handler reads ``os.environ``.

On AWS (``QD_ENV=aws``, which the template sets, or a Lambda with no local endpoint) the names
of the table, buckets and state machines do not default: a missing one is an error at cold
start, naming the variables. The defaults below are the fixed names of the unit tests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field


def on_aws(environ: Mapping[str, str] | None = None) -> bool:
    """Deployed to AWS: said explicitly (``QD_ENV``), or a Lambda with no local endpoint."""
    environ = os.environ if environ is None else environ
    if environ.get("QD_ENV"):
        return environ["QD_ENV"] == "aws"
    return bool(environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not environ.get("LOCALSTACK_HOST")


class MissingSettingError(RuntimeError):
    """A value every deployed function needs is not configured."""


class EnvSettings(BaseModel):
    """Settings read from ``<env_prefix><FIELD>`` environment variables, validated once.

    A plain pydantic model rather than pydantic-settings, whose import alone costs more than a
    tenth of the API's cold-start budget.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    env_prefix: ClassVar[str] = "QD_"
    #: fields a deployed function must be given (their defaults would be wrong there)
    required_on_aws: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Invalid values raise here, at cold start."""
        environ = os.environ if environ is None else environ
        values = {
            name: environ[cls.env_prefix + name.upper()]
            for name in cls.model_fields
            if cls.env_prefix + name.upper() in environ
        }
        return cls.model_validate(values)

    @classmethod
    def for_lambda(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings, checked for AWS when deployed there (see the module docstring)."""
        environ = os.environ if environ is None else environ
        if on_aws(environ):
            names = [cls.env_prefix + n.upper() for n in cls.required_on_aws]
            missing = [n for n in names if not environ.get(n)]
            if missing:
                raise MissingSettingError(f"not configured on AWS: {', '.join(missing)}")
        return cls.from_env(environ)


#: what a deployed function must be given (the local defaults would be wrong there)
REQUIRED_ON_AWS = (
    "table_name",
    "data_bucket",
    "results_bucket",
    "scenario_run_arn",
    "ingestion_arn",
)


class Settings(EnvSettings):
    """What every function needs: where the table, buckets and state machines are."""

    required_on_aws: ClassVar[tuple[str, ...]] = REQUIRED_ON_AWS

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
    stream_secret_name: str = Field(
        "quantdesk/stream-signing-key",
        description="Secrets Manager secret holding the stream tokens' HMAC key (no default key)",
    )
    max_runs_in_flight: int = Field(
        5, ge=1, le=1000, description="per user: runs queued or running at once (429 above)"
    )
    max_starts_per_minute: int = Field(
        10, ge=1, le=10000, description="per user: runs started per clock minute (429 above)"
    )
    projector_function: str = Field("quantdesk-projector", description="the projector Lambda")
    projector_dlq: str = Field(
        "quantdesk-projector-dlq", description="SQS queue of stream records it could not project"
    )
    public_base_url: str = Field("", description="origin prefix for URLs handed to clients")
    allowed_origin: str = Field(
        "http://127.0.0.1:8080",
        description="the one web origin CORS allows (the CloudFront domain on AWS)",
    )
    user_pool_arn: str = Field(
        "arn:aws:cognito-idp:us-east-1:000000000000:userpool/local",
        description="the Cognito user pool API Gateway's authorizer trusts",
    )
    code_version: str = Field("dev", description="deployed code version, stored in manifests")
    shard_threshold_assets: int | None = Field(
        None,
        ge=1,
        description="a run over more assets than this runs sharded (a Distributed Map); "
        "unset: the default measured by the scale benchmark (scenarios.sharding)",
    )
    max_shard_assets: int | None = Field(
        None, ge=1, description="assets per shard; unset: the default of scenarios.sharding"
    )
    max_universe_assets: int = Field(
        30_000, ge=1, description="a run's universe may have at most this many assets (400 above)"
    )
    fred_api_key_name: str = Field(
        "",
        description="FRED/ALFRED API key: an SSM parameter ('/...') or Secrets Manager secret name",
    )


@cache
def get_settings() -> Settings:
    return Settings.for_lambda()
