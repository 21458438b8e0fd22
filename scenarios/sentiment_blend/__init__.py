"""Sentiment blend: decayed news/social sentiment z-scores blended with price momentum."""

from __future__ import annotations

from pydantic import Field

from scenarios.base import ScenarioParams, ScenarioSpec, sessions_to_days


class Params(ScenarioParams):
    """Inputs of ``sentiment_blend`` (windows in trading sessions)."""

    half_life: float = Field(5.0, ge=1.0, le=63.0, description="Sentiment decay half-life")
    sentiment_window: int = Field(21, ge=5, le=126, description="Sessions of sentiment considered")
    momentum_window: int = Field(63, ge=5, le=252, description="Price momentum window")
    sentiment_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Weight of sentiment in the blend (rest: momentum)"
    )
    min_mentions: float = Field(
        3.0, ge=0.0, le=1000.0, description="Fewest mentions in the window for a sentiment score"
    )
    top_n: int = Field(10, ge=1, le=50, description="Assets featured in the charts")


SPEC = ScenarioSpec(
    scenario_id="sentiment_blend",
    version="1.0.0",
    title="Sentiment blend (decayed sentiment z-scores plus price momentum)",
    description=(
        "Turns daily news/social sentiment into an exponentially decayed, mention-weighted "
        "score per asset, standardises it across the selection and blends it with price "
        "momentum; flags where sentiment and price disagree."
    ),
    keywords=(
        "sentiment",
        "news sentiment",
        "social sentiment",
        "twitter",
        "reddit",
        "stocktwits",
        "buzz",
        "mentions",
        "hype",
        "nlp",
        "tone",
        "bullish",
        "bearish",
        "crowd",
        "retail sentiment",
        "alternative data",
        "momentum",
        "price momentum",
        "blend",
        "divergence",
        "attention",
    ),
    deliverables=(
        "Table: one row per asset with decayed sentiment, mentions, sentiment z, momentum, "
        "momentum z, blended score, divergence flag and rank",
        "Charts: blended score of the leaders; daily mention-weighted sentiment of the leaders",
        "Narrative: most positive and negative sentiment, and price/sentiment divergences",
    ),
    methodology=(
        "For the last sentiment_window sessions up to as_of, each day's mention-weighted score "
        "s_d = sum(score x mentions) / sum(mentions) is weighted by w_d = mentions_d x "
        "0.5^(age_d / half_life); sentiment = sum(w_d s_d) / sum(w_d) (needs min_mentions "
        "mentions). momentum = C[t] / C[t - momentum_window] - 1. Both are winsorised z-scored "
        "across assets; blend = sentiment_weight x z_sentiment + (1 - sentiment_weight) x "
        "z_momentum (momentum alone when sentiment is missing). divergence = signs of the two "
        "z-scores differ and both exceed 0.5 in size. Rank 1 = highest blend."
    ),
    datasets=("prices", "sentiment"),
    history=lambda p: sessions_to_days(max(p.momentum_window + 1, p.sentiment_window)),
    shard_shape="per_asset",
    params_model=Params,
)
