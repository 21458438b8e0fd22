"""The legacy ``/predict`` endpoint (MLflow's scoring protocol) and ``GET /predict/models``.

``POST /predict`` scores with the configured model's alias (``champion``);
``POST /predict/{model}/{version_or_alias}`` with any registered version. The predict code
(numpy, onnxruntime) is imported on the first predict request, never by the API's other routes.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.http import JSON_HEADERS, ApiBlueprint, json_response, parse_body
from chalicelib.identity import caller

if TYPE_CHECKING:
    from quantdesk.predict.service import PredictService

routes = ApiBlueprint(__name__)
CONTENT_TYPES = ["application/json", "text/csv"]


@cache
def predict_service() -> PredictService:
    # cold start: numpy and the registry load with the first predict request
    from quantdesk.predict.registry import ModelRegistry  # noqa: PLC0415
    from quantdesk.predict.service import PredictService  # noqa: PLC0415
    from quantdesk.predict.settings import get_predict_settings  # noqa: PLC0415
    from quantdesk.settings import get_settings  # noqa: PLC0415

    predict = get_predict_settings()
    if predict.tracking_uri:
        from quantdesk.predict.tracking_client import TrackingClient  # noqa: PLC0415
        from quantdesk.predict.tracking_registry import TrackingRegistry  # noqa: PLC0415

        client = TrackingClient(predict.tracking_uri)
        return PredictService(TrackingRegistry(client, predict.alias_ttl_s), predict)
    settings = get_settings()
    return PredictService(ModelRegistry(settings.table_name, settings.data_bucket), predict)


@routes.route("/predict", methods=["POST"], content_types=CONTENT_TYPES)
def predict_default() -> Any:
    return _score(None, None)


@routes.route("/predict/{model}/{version_or_alias}", methods=["POST"], content_types=CONTENT_TYPES)
def predict_with(model: str, version_or_alias: str) -> Any:
    return _score(model, version_or_alias)


@routes.route("/predict/models", methods=["GET"])
def list_models() -> Any:
    caller(routes.current_request)
    return json_response(predict_service().listing().model_dump(mode="json"))


def _score(model: str | None, ref: str | None) -> Any:
    from quantdesk.predict.models import ScoringRequest  # noqa: PLC0415
    from quantdesk.predict.service import CSV, media_type  # noqa: PLC0415

    request = routes.current_request
    caller(request)
    if media_type(request.headers.get("content-type")) == CSV:
        payload: ScoringRequest | bytes = request.raw_body or b""
    else:
        payload = parse_body(request, ScoringRequest)
    version, body = predict_service().predict(model, ref, payload)
    # which version answered: an alias may move between two requests
    return Response(
        body=body, status_code=200, headers={**JSON_HEADERS, "X-Model-Version": str(version)}
    )
