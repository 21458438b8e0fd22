"""GET /analysis/scenarios[/{id}]: the scenario catalogue."""

from __future__ import annotations

from typing import Any

from chalicelib.http import ApiBlueprint, json_response
from quantdesk.errors import NotFound, quoted

# The catalogue (scenario specs) is imported on first use, not at cold start: a suggest-only
# container never pays for it.
routes = ApiBlueprint(__name__)


@routes.route("/analysis/scenarios", methods=["GET"])
def list_scenarios() -> Any:
    # cold start: the scenario specs load on the catalogue's first request
    from scenarios.base import Catalogue  # noqa: PLC0415
    from scenarios.registry import specs  # noqa: PLC0415

    return json_response(Catalogue(scenarios=list(specs().values())).model_dump(mode="json"))


@routes.route("/analysis/scenarios/{scenario_id}", methods=["GET"])
def get_scenario(scenario_id: str) -> Any:
    # cold start: the scenario specs load on the catalogue's first request
    from scenarios.registry import get_spec  # noqa: PLC0415

    spec = get_spec(scenario_id)
    if spec is None:
        raise NotFound(f"unknown scenario {quoted(scenario_id)}", field="scenario_id")
    return json_response(spec.model_dump(mode="json"))
