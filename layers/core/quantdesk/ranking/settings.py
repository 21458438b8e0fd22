"""Settings of the ranking engine (``QD_RANKING_*``), read once per process by the handler.

A plain pydantic model rather than ``pydantic_settings``: importing pydantic-settings costs
~250 ms, more than the whole cold-start budget of the suggest function.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from quantdesk.settings import EnvSettings


class RankingSettings(EnvSettings):
    env_prefix: ClassVar[str] = "QD_RANKING_"

    provider: Literal["local", "bedrock"] = Field("local", description="prompt engine")
    bedrock_model_id: str = Field(
        "anthropic.claude-3-haiku-20240307-v1:0", description="Converse model id"
    )
    bedrock_timeout_ms: int = Field(2500, ge=100, le=30000, description="rerank time budget")
    rerank_top_n: int = Field(8, ge=2, le=20, description="candidates the LLM may reorder")
    min_score: float = Field(
        1.4, ge=0.0, description="raw score below which the best match is not confident"
    )
    min_clear_score: float = Field(
        0.3,
        ge=0.0,
        description="best raw score that answers a prompt whose every word is known",
    )
    score_half: float = Field(2.5, gt=0.0, description="raw score that maps to score 0.5")
