"""POST /analysis/suggest: rank the catalogue for a prompt.

Placeholder ranking (keyword overlap) until the ranking engine lands (issue 3).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.http import ApiBlueprint, json_response, parse_body
from scenarios.registry import specs

routes = ApiBlueprint(__name__)


class SuggestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1, max_length=2000)
    limit: int = Field(5, ge=1, le=20)


@routes.route("/analysis/suggest", methods=["POST"], cors=True)
def suggest() -> Any:
    request = parse_body(routes.current_request, SuggestRequest)
    words = set(request.prompt.lower().split())
    cards = []
    for spec in specs().values():
        matched = sorted(w for w in words if any(w in k for k in spec.keywords))
        cards.append({"scenario_id": spec.scenario_id, "title": spec.title,
                      "score": len(matched), "matched_terms": matched})
    cards.sort(key=lambda c: (-c["score"], c["scenario_id"]))
    return json_response({"suggestions": cards[: request.limit]})
