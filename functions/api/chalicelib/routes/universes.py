"""GET /analysis/universes: the universes scenarios can run on, with member counts.

The lake is shared, so every caller sees the same list (the built-in universes and those
ingestion registered for anyone's own tickers)."""

from __future__ import annotations

from typing import Any

from chalicelib.http import ApiBlueprint, json_response
from chalicelib.services import run_service

routes = ApiBlueprint(__name__)


@routes.route("/analysis/universes", methods=["GET"])
def list_universes() -> Any:
    return json_response(run_service().universes().model_dump(mode="json"))
