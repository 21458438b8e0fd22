"""Run routes: start, read (polling fallback), list, cancel.

The run models and service are imported on first use: a container answering only suggest
requests never pays for them at cold start."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.http import ApiBlueprint, json_response, parse_body, parse_query
from chalicelib.identity import caller
from chalicelib.services import run_service
from quantdesk.errors import NotFound
from quantdesk.observability import bind_run, logger

routes = ApiBlueprint(__name__)


def _check_run_id(run_id: str) -> None:
    # cold start (see the module docstring)
    from quantdesk.runs.models import RUN_ID_PATTERN  # noqa: PLC0415

    if not re.match(RUN_ID_PATTERN, run_id):
        raise NotFound(f"no run {run_id!r}", field="run_id")
    bind_run(run_id)


@routes.route("/analysis/run", methods=["POST"], cors=True)
def start_run() -> Any:
    # cold start (see the module docstring)
    from quantdesk.runs.models import RunRequest  # noqa: PLC0415

    request = parse_body(routes.current_request, RunRequest)
    accepted = run_service().start(request, caller(routes.current_request))
    bind_run(accepted.run_id)
    logger.info("run accepted", extra={"scenario_id": request.scenario_id})
    return json_response(accepted.model_dump(mode="json"), status=202)


@routes.route("/analysis/runs", methods=["GET"], cors=True)
def list_runs() -> Any:
    # cold start (see the module docstring)
    from quantdesk.runs.models import RunListQuery  # noqa: PLC0415

    query = parse_query(routes.current_request, RunListQuery)
    page = run_service().list_runs(caller(routes.current_request), query.limit, query.cursor)
    return json_response(page.model_dump(mode="json"))


@routes.route("/analysis/runs/{run_id}", methods=["GET"], cors=True)
def get_run(run_id: str) -> Any:
    _check_run_id(run_id)
    view = run_service().describe(run_id, caller(routes.current_request))
    return json_response(view.model_dump(mode="json"))


@routes.route("/analysis/runs/{run_id}/cancel", methods=["POST"], cors=True)
def cancel_run(run_id: str) -> Any:
    # cold start (see the module docstring)
    from quantdesk.runs.models import CancelResult  # noqa: PLC0415

    _check_run_id(run_id)
    run = run_service().cancel(run_id, caller(routes.current_request))
    logger.info("run cancelled")
    return json_response(CancelResult(run_id=run.run_id, status=run.status).model_dump())
