"""The HTTP and SSE contract as an OpenAPI 3.1 document, built from the pydantic models the code
validates requests with and serialises responses from. ``docs/openapi.json`` and the web UI's
types generated from it (``frontend/src/lib/wire.gen.ts``) therefore cannot drift from the code:
``make lint`` fails when either is stale, ``make contract`` rewrites both.

``python -m quantdesk.openapi PATH`` writes the document; ``--check`` only compares.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

from quantdesk.datalake.models import UniverseList
from quantdesk.errors import ErrorBody
from quantdesk.predict.models import ModelListing, Predictions, ScoringRequest
from quantdesk.prompt_analytics.models import AnalyticsQuery, AnalyticsReport
from quantdesk.ranking.models import SuggestRequest, SuggestResponse
from quantdesk.runs.models import (
    RUN_ID_PATTERN,
    ArtifactLink,
    CancelResult,
    ExportQuery,
    RunAccepted,
    RunEvent,
    RunListQuery,
    RunRequest,
    RunSummaryPage,
    RunView,
)
from quantdesk.watches.models import (
    Alert,
    AlertListQuery,
    AlertPage,
    InboxEvent,
    WatchCreated,
    WatchList,
    WatchPatch,
    WatchRequest,
    WatchView,
    WebhookBody,
)
from scenarios.base import Catalogue, ScenarioSpec

#: bump the major part when a change breaks existing clients
CONTRACT_VERSION: Final = "1.0.0"
REF: Final = "#/components/schemas/{model}"

#: request bodies are described as the API validates them, responses as it serialises them
MODELS: Final[tuple[tuple[type[BaseModel], JsonSchemaMode], ...]] = (
    (SuggestRequest, "validation"),
    (RunRequest, "validation"),
    (SuggestResponse, "serialization"),
    (Catalogue, "serialization"),
    (ScenarioSpec, "serialization"),
    (RunAccepted, "serialization"),
    (RunView, "serialization"),
    (RunSummaryPage, "serialization"),
    (CancelResult, "serialization"),
    (ArtifactLink, "serialization"),
    (RunEvent, "serialization"),
    (ErrorBody, "serialization"),
    (UniverseList, "serialization"),
    (ScoringRequest, "validation"),
    (Predictions, "serialization"),
    (ModelListing, "serialization"),
    (AnalyticsReport, "serialization"),
    (WatchRequest, "validation"),
    (WatchPatch, "validation"),
    (WatchCreated, "serialization"),
    (WatchView, "serialization"),
    (WatchList, "serialization"),
    (AlertPage, "serialization"),
    (Alert, "serialization"),
    (WebhookBody, "serialization"),
    (InboxEvent, "serialization"),
)

Method = Literal["get", "post", "patch", "delete"]

SSE_FORMAT: Final = """\
`text/event-stream`. The first chunk is `retry: <ms>`. Each event is `id: <seq>`, \
`event: status|progress|result|error` and one `data:` line holding a RunEvent as JSON. Idle \
streams get `: heartbeat` comments. The stream closes after the terminal status event (or \
cleanly before the function's deadline; the client then resumes with Last-Event-ID)."""

INBOX_SSE_FORMAT: Final = """\
`text/event-stream`, as a run's stream: `retry: <ms>` first, then per new alert `id: <seq>` \
(the owner's inbox sequence: gap-free, in storing order), `event: alert` and one `data:` line \
holding an InboxEvent as JSON; `: heartbeat` comments when idle. It has no terminal event: it \
ends cleanly before the function's deadline and the client resumes with Last-Event-ID."""


def _resume_parameters(query_description: str) -> list[dict[str, Any]]:
    """A stream's resume point: the ``Last-Event-ID`` header or, on a first connect, the query."""
    digits = {"type": "string", "pattern": "^[0-9]+$"}
    return [
        {
            "name": "Last-Event-ID",
            "in": "header",
            "required": False,
            "description": "resume after this seq (EventSource sends it itself)",
            "schema": digits,
        },
        {
            "name": "last_event_id",
            "in": "query",
            "required": False,
            "description": query_description,
            "schema": digits,
        },
    ]


class ContractSchema(GenerateJsonSchema):
    """A response field the server always sends is required, even when the model gives it a
    default; only fields left out when empty (``exclude_if``) are optional."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        if self.mode == "serialization":
            return field.get("serialization_exclude_if") is None
        return super().field_is_required(field, total)


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(
    summary: str,
    ok: tuple[int, dict[str, Any]],
    errors: dict[int, str],
    *,
    body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    empty: dict[int, str] | None = None,
    error_ref: dict[str, Any],
) -> dict[str, Any]:
    """``errors`` answer with an ErrorBody, ``empty`` statuses with no body."""
    status, response = ok
    operation: dict[str, Any] = {"summary": summary}
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    operation["responses"] = {
        str(status): response,
        **{str(code): {"description": text} for code, text in sorted((empty or {}).items())},
        **{str(code): _json(error_ref, text) for code, text in sorted(errors.items())},
    }
    return operation


def _path_param(name: str, description: str, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(schema_generator=ContractSchema)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API and the run stream."""
    refs, defs = models_json_schema(MODELS, ref_template=REF, schema_generator=ContractSchema)

    def ref(model: type[BaseModel], mode: JsonSchemaMode = "serialization") -> dict[str, Any]:
        return dict(refs[(model, mode)])

    error = ref(ErrorBody)
    bad_body = "invalid body: not JSON, not an object, over 64 KB or failing validation"
    unavailable = "a dependency (DynamoDB, S3, Step Functions) failed; retry"
    run_id = _path_param("run_id", "26-character run id", RUN_ID_PATTERN)
    paths: dict[str, dict[Method, dict[str, Any]]] = {
        "/analysis/suggest": {
            "post": _operation(
                "Rank the scenario catalogue for a prompt",
                (200, _json(ref(SuggestResponse), "ranked scenario cards")),
                {400: bad_body},
                body=ref(SuggestRequest, "validation"),
                error_ref=error,
            )
        },
        "/analysis/scenarios": {
            "get": _operation(
                "The scenario catalogue",
                (200, _json(ref(Catalogue), "every scenario card")),
                {},
                error_ref=error,
            )
        },
        "/analysis/scenarios/{scenario_id}": {
            "get": _operation(
                "One scenario card",
                (200, _json(ref(ScenarioSpec), "the scenario card")),
                {404: "unknown scenario (field scenario_id)"},
                parameters=[_path_param("scenario_id", "catalogue id")],
                error_ref=error,
            )
        },
        "/analysis/run": {
            "post": _operation(
                "Start a run",
                (202, _json(ref(RunAccepted), "stored queued; the execution started")),
                {
                    400: bad_body + "; params are checked against the scenario (field params.*)",
                    404: "unknown scenario (field scenario_id)",
                    409: "idempotency_key already used for another request",
                    503: "the run could not be stored, or its execution could not start "
                    "(the run is then stored failed)",
                },
                body=ref(RunRequest, "validation"),
                error_ref=error,
            )
        },
        "/analysis/runs": {
            "get": _operation(
                "The caller's runs, newest first",
                (200, _json(ref(RunSummaryPage), "one page; next_cursor is null on the last")),
                {400: "invalid limit or cursor", 503: unavailable},
                parameters=_query_params(RunListQuery),
                error_ref=error,
            )
        },
        "/analysis/runs/{run_id}": {
            "get": _operation(
                "One run: state, manifest, timeline and result (the polling fallback)",
                (200, _json(ref(RunView), "the run")),
                {404: "no such run for this caller", 503: unavailable},
                parameters=[run_id],
                error_ref=error,
            )
        },
        "/analysis/runs/{run_id}/cancel": {
            "post": _operation(
                "Cancel a run that is not finished",
                (200, _json(ref(CancelResult), "the run is cancelled")),
                {
                    404: "no such run for this caller",
                    409: "the run already finished",
                    503: unavailable,
                },
                parameters=[run_id],
                error_ref=error,
            )
        },
        "/analysis/universes": {
            "get": _operation(
                "The universes scenarios can run on, with member counts (the lake is shared: "
                "the same list for every caller)",
                (200, _json(ref(UniverseList), "the latest universe snapshot's universes")),
                {503: unavailable},
                error_ref=error,
            )
        },
        "/analysis/runs/{run_id}/report": {
            "get": _operation(
                "A short-lived link to the run's self-contained HTML report",
                (200, _json(ref(ArtifactLink), "a presigned URL (5 minutes) and the manifest")),
                {
                    404: "no such run for this caller, or a run stored before reports existed",
                    409: "the run has not succeeded",
                    503: unavailable,
                },
                parameters=[run_id],
                error_ref=error,
            )
        },
        "/analysis/runs/{run_id}/export": {
            "get": _operation(
                "A short-lived link to the run's table as CSV, JSON or Parquet (full precision)",
                (200, _json(ref(ArtifactLink), "a presigned URL (5 minutes) and the manifest")),
                {
                    400: "format missing or not csv, json or parquet (field format)",
                    404: "no such run for this caller, or a run stored before exports existed",
                    409: "the run has not succeeded",
                    503: unavailable,
                },
                parameters=[run_id, *_query_params(ExportQuery)],
                error_ref=error,
            )
        },
        "/runs/{run_id}/stream": {
            "get": _operation(
                "Follow a run's events live (Server-Sent Events)",
                (
                    200,
                    {
                        "description": SSE_FORMAT,
                        "content": {"text/event-stream": {"schema": ref(RunEvent)}},
                    },
                ),
                {
                    400: "Last-Event-ID not a non-negative integer, or ahead of the run",
                    401: "token missing, forged, expired or for another run",
                    404: "no such run for the token's owner",
                },
                parameters=[
                    run_id,
                    {
                        "name": "token",
                        "in": "query",
                        "required": True,
                        "description": "from stream_url of POST /analysis/run",
                        "schema": {"type": "string"},
                    },
                    *_resume_parameters("the same, for a first connect (the header wins)"),
                ],
                empty={204: "the client already has the terminal event: stop reconnecting"},
                error_ref=error,
            )
        },
    }
    paths |= _predict_paths(
        ref(ScoringRequest, "validation"), ref(Predictions), ref(ModelListing), error
    )
    paths["/inbox/stream"] = {
        "get": _operation(
            "Follow the caller's new alerts live (Server-Sent Events)",
            (
                200,
                {
                    "description": INBOX_SSE_FORMAT,
                    "content": {"text/event-stream": {"schema": ref(InboxEvent)}},
                },
            ),
            {
                400: "Last-Event-ID not a non-negative integer, or ahead of the inbox",
                401: "token missing, forged, expired or not an inbox token",
            },
            parameters=[
                {
                    "name": "token",
                    "in": "query",
                    "required": True,
                    "description": "from stream_url of GET /analysis/alerts",
                    "schema": {"type": "string"},
                },
                *_resume_parameters(
                    "the same, for a first connect (the header wins); without either, the "
                    "stream starts at the newest alert"
                ),
            ],
            error_ref=error,
        )
    }
    paths["/analysis/analytics"] = {
        "get": _operation(
            "The caller's prompt analytics over a window of UTC days",
            (200, _json(ref(AnalyticsReport), "the aggregates and the labelled pairs")),
            {400: "from or to not a YYYY-MM-DD date, from after to, or over 366 days"},
            parameters=_query_params(AnalyticsQuery),
            error_ref=error,
        )
    }
    paths |= _watch_paths(ref, error, bad_body, unavailable)
    paths["/analysis/openapi.json"] = {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "the OpenAPI 3.1 document"}},
        }
    }
    _secure(paths, error)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "quantdesk",
            "version": CONTRACT_VERSION,
            "description": "Prompt-driven quant research: suggest, run, watch, read. Errors are "
            '`{"code", "message", "field"}` with field naming the input at fault.',
        },
        "paths": paths,
        "components": {"schemas": defs["$defs"], "securitySchemes": SECURITY_SCHEMES},
        "security": [{"cognito": []}],
    }


def _watch_paths(
    ref: Any, error: dict[str, Any], bad_body: str, unavailable: str
) -> dict[str, dict[Method, dict[str, Any]]]:
    """Watches and the alert inbox."""
    watch_id = _path_param("watch_id", "26-character watch id", RUN_ID_PATTERN)
    alert_id = _path_param("alert_id", "alert id (the run id of the firing)", RUN_ID_PATTERN)
    missing = "no such watch for this caller (field watch_id)"
    return {
        "/analysis/watches": {
            "post": _operation(
                "Watch a succeeded run (or a scenario and params): re-run it on each new data "
                "snapshot or on a schedule, alert on changes",
                (201, _json(ref(WatchCreated), "the watch, with its webhook_secret (only now)")),
                {
                    400: bad_body + "; a webhook URL not allowed (channels.N.url), a schedule "
                    "firing more often than the minimum (trigger.schedule), params (params.*)",
                    404: "unknown run for this caller (run_id) or scenario (scenario_id)",
                    409: "the run did not succeed (run_id)",
                    503: unavailable,
                },
                body=ref(WatchRequest, "validation"),
                error_ref=error,
            ),
            "get": _operation(
                "The caller's watches, newest first",
                (200, _json(ref(WatchList), "every watch of the caller")),
                {503: unavailable},
                error_ref=error,
            ),
        },
        "/analysis/watches/{watch_id}": {
            "get": _operation(
                "One watch",
                (200, _json(ref(WatchView), "the watch (never its secret)")),
                {404: missing, 503: unavailable},
                parameters=[watch_id],
                error_ref=error,
            ),
            "patch": _operation(
                "Pause or resume a watch",
                (200, _json(ref(WatchView), "the watch in its new state")),
                {400: bad_body, 404: missing, 503: unavailable},
                body=ref(WatchPatch, "validation"),
                parameters=[watch_id],
                error_ref=error,
            ),
            "delete": _operation(
                "Delete a watch (and its schedule); its alerts stay in the inbox",
                (204, {"description": "deleted"}),
                {404: missing, 503: unavailable},
                parameters=[watch_id],
                error_ref=error,
            ),
        },
        "/analysis/alerts": {
            "get": _operation(
                "The caller's alert inbox, newest first",
                (200, _json(ref(AlertPage), "alerts and the unread count")),
                {400: "invalid limit or unread", 503: unavailable},
                parameters=_query_params(AlertListQuery),
                error_ref=error,
            )
        },
        "/analysis/alerts/{alert_id}/read": {
            "post": _operation(
                "Mark an alert read",
                (200, _json(ref(Alert), "the alert")),
                {404: "no such alert for this caller (field alert_id)", 503: unavailable},
                parameters=[alert_id],
                error_ref=error,
            )
        },
    }


#: API Gateway's Cognito user-pool authorizer: ``Authorization: Bearer <ID token>``
SECURITY_SCHEMES: Final = {
    "cognito": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "the Cognito user pool's ID token (locally: the local pool's; without "
        "a header the local stack acts as its default researcher)",
    }
}

#: what API Gateway, the authorizer and the limits answer on any /analysis route
GATEWAY_ERRORS: Final = {
    401: "no, malformed, forged, expired or another pool's token (WWW-Authenticate: Bearer)",
}
BODY_ERRORS: Final = {
    413: "request body over 64 KB",
    415: "not application/json",
}
RATE_LIMITED: Final = (
    "per-user limit on runs in flight or starts per minute (Retry-After, RateLimit)"
)


def _secure(paths: dict[str, dict[Method, dict[str, Any]]], error: dict[str, Any]) -> None:
    """Every /analysis operation is behind the authorizer; the stream is authorized by its
    token (no bearer), the document itself is public."""
    for path, operations in paths.items():
        for method, operation in operations.items():
            if not path.startswith(("/analysis/", "/predict")):
                operation["security"] = []  # the stream: its token is the credential
                continue
            if operation.get("security") == []:
                continue
            extra = dict(GATEWAY_ERRORS)
            if "requestBody" in operation:
                extra |= BODY_ERRORS
            if path.startswith("/predict") and "requestBody" in operation:
                extra[415] = "neither application/json nor text/csv (UTF-8)"
            if (path, method) == ("/analysis/run", "post"):
                extra[429] = RATE_LIMITED
                operation["parameters"] = [
                    *operation.get("parameters", []),
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "IETF draft semantics: same key and body -> the same "
                        "run; another body -> 409; expires after 24 h",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 128},
                    },
                ]
            for status, text in extra.items():
                operation["responses"].setdefault(str(status), _json(error, text))


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quantdesk.openapi", description=__doc__)
    parser.add_argument("path", type=Path, help="where the document lives (docs/openapi.json)")
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.path.read_text() if args.path.exists() else ""
        if current != text:
            print(f"{args.path} is stale: run `make contract`", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(text)
    return 0


PREDICT_BODY: Final = """\
MLflow's scoring protocol (`mlflow models serve`): a JSON object with exactly one of \
`dataframe_split`, `dataframe_records`, `instances`, `inputs` (and optional `params`), or a \
`text/csv` body (header line, then rows). Columns are checked against the model's signature \
(GET /predict/models): extra columns are ignored."""


def _predict_paths(
    body: dict[str, Any],
    predictions: dict[str, Any],
    listing: dict[str, Any],
    error: dict[str, Any],
) -> dict[str, dict[Method, dict[str, Any]]]:
    """``/predict`` (issue 16): score with a registered model; list the models."""
    scoring_errors = {
        400: "a payload in none of the formats, a missing or mistyped column (field names "
        "it), null/NaN in a required column, more rows than max_rows, a mistyped param "
        "(field params.*)",
        404: "unknown model, version or alias (field model, version or alias)",
        503: "the version's files are missing or corrupt (other versions keep serving), or "
        "the registry failed; retry",
    }

    def scoring(summary: str, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        operation = _operation(
            summary,
            (200, _json(predictions, "one object per row, keyed by the model's output names")),
            scoring_errors,
            body=body,
            parameters=parameters,
            error_ref=error,
        )
        operation["description"] = PREDICT_BODY
        operation["requestBody"]["content"]["text/csv"] = {"schema": {"type": "string"}}
        operation["responses"]["200"]["headers"] = {
            "X-Model-Version": {
                "description": "the version that answered",
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
            }
        }
        return operation

    return {
        "/predict": {
            "post": scoring(
                "Score rows with the default model's champion (see GET /predict/models)"
            )
        },
        "/predict/{model}/{version_or_alias}": {
            "post": scoring(
                "Score rows with a registered model's version or alias",
                [
                    _path_param("model", "registered model name"),
                    _path_param("version_or_alias", "a version number, or an alias (champion…)"),
                ],
            )
        },
        "/predict/models": {
            "get": _operation(
                "Registered models: versions, aliases and each version's input signature",
                (200, _json(listing, "every registered model")),
                {503: "the registry failed; retry"},
                error_ref=error,
            )
        },
    }


if __name__ == "__main__":
    sys.exit(main())
