"""POST /analysis/suggest: rank the scenario catalogue for a prompt (see quantdesk.ranking), and
record it in the caller's prompt analytics (one PutItem, queued after ranking on a background
thread: the answer does not wait for it; see ``quantdesk.prompt_analytics.store``)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from chalicelib.http import ApiBlueprint, json_response, parse_body
from chalicelib.identity import caller
from chalicelib.services import prompt_log
from quantdesk.observability import logger
from quantdesk.ranking.engine import suggest as rank_prompt
from quantdesk.ranking.models import SuggestRequest, SuggestResponse
from quantdesk.ranking.settings import RankingSettings

routes = ApiBlueprint(__name__)


@cache
def ranking_settings() -> RankingSettings:
    """Validated once per process (cold start); invalid settings fail loudly there."""
    return RankingSettings.from_env(os.environ)


@routes.route("/analysis/suggest", methods=["POST"])
def suggest() -> Any:
    request = parse_body(routes.current_request, SuggestRequest)
    owner = caller(routes.current_request)
    response = rank_prompt(request, ranking_settings())
    engine = response.engine
    response.suggest_id = record(owner, request.prompt, response)
    logger.info(
        "suggested",
        extra={
            "prompt_hash": engine.prompt_hash,
            "prompt_chars": len(request.prompt),
            "top": [s.scenario_id for s in response.suggestions[:3]],
            "no_confident_match": response.no_confident_match,
            "provider": engine.provider,
            "fallback_reason": engine.fallback_reason,
            "latency_ms": engine.latency_ms,
            "suggest_id": response.suggest_id,
        },
    )
    return json_response(response.model_dump(mode="json"))


def record(owner: str, prompt: str, response: SuggestResponse) -> str:
    # cold start: the analytics models load with the first suggest, not at import
    from quantdesk.prompt_analytics.models import Card  # noqa: PLC0415

    return prompt_log().record_suggest(
        owner,
        prompt=prompt,
        prompt_hash=response.engine.prompt_hash,
        no_match=response.no_confident_match,
        cards=[
            Card(rank=s.rank, scenario_id=s.scenario_id, score=s.score, params=s.params)
            for s in response.suggestions
        ],
    )
