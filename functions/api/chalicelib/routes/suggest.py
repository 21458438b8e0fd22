"""POST /analysis/suggest: rank the scenario catalogue for a prompt (see quantdesk.ranking)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from chalicelib.http import ApiBlueprint, json_response, parse_body
from quantdesk.observability import logger
from quantdesk.ranking.engine import suggest as rank_prompt
from quantdesk.ranking.models import SuggestRequest
from quantdesk.ranking.settings import RankingSettings

routes = ApiBlueprint(__name__)


@cache
def ranking_settings() -> RankingSettings:
    """Validated once per process (cold start); invalid settings fail loudly there."""
    return RankingSettings.from_env(os.environ)


@routes.route("/analysis/suggest", methods=["POST"])
def suggest() -> Any:
    request = parse_body(routes.current_request, SuggestRequest)
    response = rank_prompt(request, ranking_settings())
    engine = response.engine
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
        },
    )
    return json_response(response.model_dump(mode="json"))
