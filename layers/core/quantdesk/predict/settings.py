"""The predict feature's settings (``QD_PREDICT_*``), validated once per container."""

from __future__ import annotations

from functools import cache
from typing import ClassVar

from pydantic import Field

from quantdesk.settings import EnvSettings


class PredictSettings(EnvSettings):
    env_prefix: ClassVar[str] = "QD_PREDICT_"

    default_model: str = Field("returns-ridge", description="the model POST /predict scores")
    default_alias: str = Field("champion", description="its alias POST /predict scores")
    max_rows: int = Field(1000, ge=1, description="rows accepted per scoring request")
    tracking_uri: str = Field(
        "",
        pattern=r"^(|https?://\S+|arn:aws[a-z-]*:sagemaker:\S+)$",
        description="an MLflow tracking server whose Model Registry /predict serves (http(s) URL "
        "or SageMaker MLflow ARN); empty: our own registry (DynamoDB + S3)",
    )
    alias_ttl_s: float = Field(
        10.0, ge=0, description="how long a tracking server's alias resolution is reused"
    )


@cache
def get_predict_settings() -> PredictSettings:
    return PredictSettings.from_env()
