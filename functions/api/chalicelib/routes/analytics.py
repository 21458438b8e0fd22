"""GET /analysis/analytics?from=&to=: the caller's prompt analytics, aggregated.

Only the caller's own suggests are read (their partition key is the owner), and run outcomes
only of runs the caller owns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from chalicelib.http import ApiBlueprint, json_response, parse_query
from chalicelib.identity import caller
from chalicelib.services import prompt_log
from quantdesk.observability import logger

routes = ApiBlueprint(__name__)


def normalise(scenario_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as the scenario's input model reads them (defaults filled in); as given when
    the scenario is unknown or they no longer validate."""
    # cold start: the scenario specs load on the first analytics request
    from pydantic import ValidationError  # noqa: PLC0415

    from scenarios.registry import get_spec  # noqa: PLC0415

    spec = get_spec(scenario_id)
    if spec is None:
        return dict(params)
    try:
        return spec.params_model.model_validate(params).model_dump(mode="json")
    except ValidationError:
        return dict(params)


@routes.route("/analysis/analytics", methods=["GET"])
def analytics() -> Any:
    # cold start: the analytics code loads on its first request
    from quantdesk.prompt_analytics.models import AnalyticsQuery  # noqa: PLC0415
    from quantdesk.prompt_analytics.report import build_report  # noqa: PLC0415

    query = parse_query(routes.current_request, AnalyticsQuery)
    start, end = query.window(dt.datetime.now(dt.UTC).date())
    owner = caller(routes.current_request)
    log = prompt_log()
    records, truncated = log.suggests(owner, _epoch_ms(start), _epoch_ms(end) + 86_400_000)
    run_ids = [choice.run_id for record in records for choice in record.choices]
    report = build_report(
        records,
        log.run_statuses(owner, run_ids),
        from_date=start.isoformat(),
        to_date=end.isoformat(),
        truncated=truncated,
        normalise=normalise,
    )
    logger.info("analytics read", extra={"prompts": report.prompts, "truncated": truncated})
    return json_response(report.model_dump(mode="json"))


def _epoch_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
