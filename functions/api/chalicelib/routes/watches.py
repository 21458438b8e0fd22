"""Watch and alert routes: create, list, read, pause/resume, delete watches; the inbox.

The watch models and service are imported on first use (cold start, as for runs)."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.http import ApiBlueprint, json_response, parse_body, parse_query
from chalicelib.identity import caller
from chalicelib.services import watch_service
from quantdesk.observability import logger
from quantdesk.runs.ids import check_id

routes = ApiBlueprint(__name__)


@routes.route("/analysis/watches", methods=["POST"])
def create_watch() -> Any:
    from quantdesk.watches.models import WatchRequest  # noqa: PLC0415 - cold start

    request = parse_body(routes.current_request, WatchRequest)
    created = watch_service().create(request, caller(routes.current_request))
    logger.info("watch created", extra={"watch_id": created.watch_id})
    return json_response(created.model_dump(mode="json"), status=201)


@routes.route("/analysis/watches", methods=["GET"])
def list_watches() -> Any:
    listed = watch_service().list_watches(caller(routes.current_request))
    return json_response(listed.model_dump(mode="json"))


@routes.route("/analysis/watches/{watch_id}", methods=["GET"])
def get_watch(watch_id: str) -> Any:
    check_id(watch_id, "watch_id")
    view = watch_service().describe(watch_id, caller(routes.current_request))
    return json_response(view.model_dump(mode="json"))


@routes.route("/analysis/watches/{watch_id}", methods=["PATCH"])
def patch_watch(watch_id: str) -> Any:
    from quantdesk.watches.models import WatchPatch  # noqa: PLC0415 - cold start

    check_id(watch_id, "watch_id")
    patch = parse_body(routes.current_request, WatchPatch)
    view = watch_service().set_state(watch_id, caller(routes.current_request), patch.state)
    logger.info("watch updated", extra={"watch_id": watch_id, "state": view.state})
    return json_response(view.model_dump(mode="json"))


@routes.route("/analysis/watches/{watch_id}", methods=["DELETE"])
def delete_watch(watch_id: str) -> Any:
    check_id(watch_id, "watch_id")
    watch_service().delete(watch_id, caller(routes.current_request))
    logger.info("watch deleted", extra={"watch_id": watch_id})
    return Response(body="", status_code=204)


@routes.route("/analysis/alerts", methods=["GET"])
def list_alerts() -> Any:
    from quantdesk.watches.models import AlertListQuery  # noqa: PLC0415 - cold start

    query = parse_query(routes.current_request, AlertListQuery)
    page = watch_service().alerts(caller(routes.current_request), query.limit, query.unread)
    return json_response(page.model_dump(mode="json"))


@routes.route("/analysis/alerts/{alert_id}/read", methods=["POST"])
def mark_alert_read(alert_id: str) -> Any:
    check_id(alert_id, "alert_id")
    alert = watch_service().mark_read(alert_id, caller(routes.current_request))
    return json_response(alert.model_dump(mode="json"))
