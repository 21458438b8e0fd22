"""Settings of the ranking engine (``QD_RANKING_*``), read once per process by the handler.

A plain pydantic model rather than ``pydantic_settings``: importing pydantic-settings costs
~250 ms, more than the whole cold-start budget of the suggest function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "QD_RANKING_"


class RankingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["local", "bedrock"] = Field("local", description="prompt engine")
    bedrock_model_id: str = Field(
        "anthropic.claude-3-haiku-20240307-v1:0", description="Converse model id"
    )
    bedrock_timeout_ms: int = Field(2500, ge=100, le=30000, description="rerank time budget")
    rerank_top_n: int = Field(8, ge=2, le=20, description="candidates the LLM may reorder")
    min_score: float = Field(
        1.4, ge=0.0, description="raw score below which the best match is not confident"
    )
    score_half: float = Field(2.5, gt=0.0, description="raw score that maps to score 0.5")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RankingSettings:
        """Settings from ``QD_RANKING_<FIELD>`` variables (invalid values raise at cold start)."""
        values = {
            name: environ[ENV_PREFIX + name.upper()]
            for name in cls.model_fields
            if ENV_PREFIX + name.upper() in environ
        }
        return cls.model_validate(values)
