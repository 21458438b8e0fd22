"""Run routes: start, read (polling fallback), list, cancel, report and export links.

The run models and service are imported on first use: a container answering only suggest
requests never pays for them at cold start."""

from __future__ import annotations

from typing import Any

from chalicelib.http import ApiBlueprint, json_response, parse_body, parse_query
from chalicelib.identity import caller
from chalicelib.services import prompt_log, run_service
from quantdesk.clock import now_iso
from quantdesk.errors import InvalidRequest
from quantdesk.observability import bind_run, logger
from quantdesk.runs.ids import check_id

routes = ApiBlueprint(__name__)


def _check_run_id(run_id: str) -> None:
    check_id(run_id)
    bind_run(run_id)


def idempotency_key(header: str | None) -> str | None:
    """The ``Idempotency-Key`` header: a structured-field string (``"..."``, as the IETF draft
    writes it) or a bare token; 1-128 printable ASCII characters."""
    if header is None:
        return None
    value = header.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not 1 <= len(value) <= 128 or not all(" " < c < "\x7f" for c in value):
        raise InvalidRequest(
            "Idempotency-Key must be 1-128 printable ASCII characters", field="Idempotency-Key"
        )
    return value


@routes.route("/analysis/run", methods=["POST"])
def start_run() -> Any:
    # cold start (see the module docstring)
    from quantdesk.runs.models import RunRequest  # noqa: PLC0415

    request = parse_body(routes.current_request, RunRequest)
    key = idempotency_key(routes.current_request.headers.get("idempotency-key"))
    owner = caller(routes.current_request)
    # a suggest this container just answered may still be writing (usually none is): the choice
    # below needs it, and the run's own writes never interleave with it
    prompt_log().flush()
    accepted = run_service().start(request, owner, key)
    bind_run(accepted.run_id)
    logger.info("run accepted", extra={"scenario_id": request.scenario_id})
    provenance = request.provenance
    if provenance and provenance.suggest_id and provenance.rank:
        # cold start (see the module docstring)
        from quantdesk.prompt_analytics.models import Choice  # noqa: PLC0415

        choice = Choice(
            run_id=accepted.run_id,
            rank=provenance.rank,
            scenario_id=request.scenario_id,
            params=request.params,
            at=now_iso(),
        )
        prompt_log().record_choice(owner, provenance.suggest_id, choice)
    return json_response(accepted.model_dump(mode="json"), status=202)


@routes.route("/analysis/runs", methods=["GET"])
def list_runs() -> Any:
    # cold start (see the module docstring)
    from quantdesk.runs.models import RunListQuery  # noqa: PLC0415

    query = parse_query(routes.current_request, RunListQuery)
    page = run_service().list_runs(caller(routes.current_request), query.limit, query.cursor)
    return json_response(page.model_dump(mode="json"))


@routes.route("/analysis/runs/{run_id}", methods=["GET"])
def get_run(run_id: str) -> Any:
    _check_run_id(run_id)
    view = run_service().describe(run_id, caller(routes.current_request))
    return json_response(view.model_dump(mode="json"))


@routes.route("/analysis/runs/{run_id}/cancel", methods=["POST"])
def cancel_run(run_id: str) -> Any:
    # cold start (see the module docstring)
    from quantdesk.runs.models import CancelResult  # noqa: PLC0415

    _check_run_id(run_id)
    run = run_service().cancel(run_id, caller(routes.current_request))
    logger.info("run cancelled")
    return json_response(CancelResult(run_id=run.run_id, status=run.status).model_dump())


@routes.route("/analysis/runs/{run_id}/report", methods=["GET"])
def run_report(run_id: str) -> Any:
    _check_run_id(run_id)
    service = run_service()
    link = service.artifact_link(service.owned(run_id, caller(routes.current_request)), "report")
    logger.info("report link issued")
    return json_response(link.model_dump(mode="json"))


@routes.route("/analysis/runs/{run_id}/export", methods=["GET"])
def run_export(run_id: str) -> Any:
    # cold start (see the module docstring)
    from quantdesk.runs.models import ExportQuery  # noqa: PLC0415

    _check_run_id(run_id)
    service = run_service()
    # the owner check first: another owner's run is a 404 whatever the query says
    run = service.owned(run_id, caller(routes.current_request))
    query = parse_query(routes.current_request, ExportQuery)
    link = service.artifact_link(run, query.format)
    logger.info("export link issued", extra={"format": query.format})
    return json_response(link.model_dump(mode="json"))
