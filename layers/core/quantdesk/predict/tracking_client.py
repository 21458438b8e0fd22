"""A small client of an MLflow tracking server's REST API (Model Registry reads and artifact
downloads), so the predict function resolves versions without the mlflow package.

``uri`` is what ``MLFLOW_TRACKING_URI`` would hold:

- ``http(s)://host[:port][/prefix]``: a self-hosted server; requests go unsigned, except to an
  https host on AWS (``*.amazonaws.com``, ``*.sagemaker.aws``), which are SigV4-signed;
- ``arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name>`` (or ``mlflow-app/``):
  SageMaker's managed MLflow, reached at ``https://<region>.experiments.sagemaker.aws`` with the
  ARN in the ``x-mlflow-sm-tracking-server-arn`` header, every request SigV4-signed (service
  ``sagemaker-mlflow``) with the function's own credentials, as the ``sagemaker-mlflow`` plugin
  does.

Artifacts: ``s3://`` with boto3 (the function's role), ``mlflow-artifacts:`` through the
server's artifact proxy (``/api/2.0/mlflow-artifacts/artifacts/<path>``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlencode, urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from quantdesk import aws
from quantdesk.errors import ServiceUnavailable
from quantdesk.ingestion.sources.http import HttpRequest, HttpResponse, Transport, urllib_transport

SIGNING_SERVICE: Final = "sagemaker-mlflow"
ARN_HEADER: Final = "x-mlflow-sm-tracking-server-arn"
API: Final = "/api/2.0/mlflow"
ARTIFACTS_API: Final = "/api/2.0/mlflow-artifacts/artifacts"
_ARN: Final = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):\d{12}:"
    r"(?:mlflow-tracking-server|mlflow-app)/[A-Za-z0-9-]+$"
)
_AWS_HOST: Final = re.compile(r"(^|\.)(amazonaws\.com|sagemaker\.aws)$")
_REGION: Final = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_MISSING: Final = frozenset({"NoSuchKey", "404", "NotFound"})


class ArtifactMissing(Exception):
    """A version's file that cannot be had: absent, or in a store this client cannot read (the
    caller says which model it belongs to)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def error_code(self) -> str:
        return str(self.body.get("error_code", ""))


class TrackingClient:
    def __init__(
        self, uri: str, transport: Transport | None = None, timeout_s: float = 10.0
    ) -> None:
        self.uri = uri
        self.transport = transport or urllib_transport
        self.timeout_s = timeout_s
        self.headers: dict[str, str] = {"Accept": "application/json"}
        self.region: str | None = None
        arn = _ARN.match(uri)
        if arn:
            self.base = f"https://{arn['region']}.experiments.sagemaker.aws"
            self.headers[ARN_HEADER] = uri
            self.region = arn["region"]
        elif uri.startswith(("http://", "https://")):
            self.base = uri.rstrip("/")
            host = urlsplit(uri).hostname or ""
            if uri.startswith("https://") and _AWS_HOST.search(host):
                labels = [label for label in host.split(".") if _REGION.match(label)]
                self.region = labels[0] if labels else os.environ.get("AWS_REGION", "us-east-1")
        else:
            raise ValueError(
                f"tracking URI {uri!r}: an http(s):// URL or a SageMaker MLflow tracking-server ARN"
            )

    @property
    def signed(self) -> bool:
        return self.region is not None

    # -- the REST API -------------------------------------------------------------------------
    def get(self, endpoint: str, **params: str) -> Answer:
        """``GET /api/2.0/mlflow/<endpoint>``: any 4xx is the caller's to interpret; no answer or
        a 5xx/401/403 is a 503 (the server or its credentials, not the client's request)."""
        response = self._get(f"{self.base}{API}/{endpoint}?{urlencode(params, quote_via=quote)}")
        try:
            body = json.loads(response.body or b"{}")
        except ValueError:
            body = {}
        if response.status in (401, 403) or response.status >= 500 or not isinstance(body, dict):
            raise ServiceUnavailable(
                f"the MLflow tracking server answered {response.status} to {endpoint}"
                + (" (check the predict function's permissions)" if response.status < 500 else ""),
                field="model",
            )
        return Answer(response.status, body)

    # -- artifacts ----------------------------------------------------------------------------
    def read_artifact(self, artifact_uri: str, path: str) -> bytes:
        """The file ``path`` under ``artifact_uri``; :class:`ArtifactMissing` when absent."""
        root = artifact_uri.rstrip("/")
        if root.startswith("s3://"):
            return _read_s3(f"{root}/{path}")
        if root.startswith("mlflow-artifacts:"):
            rest = root.removeprefix("mlflow-artifacts:")
            if rest.startswith("//"):  # mlflow-artifacts://host:port/path: the path alone
                rest = "/" + rest[2:].partition("/")[2]
            url = f"{self.base}{ARTIFACTS_API}/{quote(rest.lstrip('/'))}/{quote(path)}"
            response = self._get(url)
            if response.status == 404:
                raise ArtifactMissing(f"its artifacts have no {path}")
            if response.status != 200:
                raise ServiceUnavailable(
                    f"the MLflow artifact proxy answered {response.status} for {path}",
                    field="model",
                )
            return response.body
        raise ArtifactMissing(
            f"its artifacts are in {artifact_uri.partition(':')[0]}:, which the predict function "
            "cannot read (use an s3:// artifact store or the server's artifact proxy)"
        )

    def _get(self, url: str) -> HttpResponse:
        headers = self._sign(url) if self.signed else dict(self.headers)
        try:
            return self.transport(HttpRequest(url, headers, self.timeout_s))
        except (OSError, TimeoutError) as exc:
            raise ServiceUnavailable(
                f"the MLflow tracking server did not answer ({type(exc).__name__}); retry",
                field="model",
            ) from exc

    def _sign(self, url: str) -> dict[str, str]:
        """SigV4 headers for a GET of ``url`` (service ``sagemaker-mlflow``)."""
        from botocore.auth import SigV4Auth  # noqa: PLC0415 - signed servers only
        from botocore.awsrequest import AWSRequest  # noqa: PLC0415

        credentials = aws.credentials()
        if credentials is None:
            raise ServiceUnavailable(
                "no AWS credentials to sign requests to the MLflow tracking server", field="model"
            )
        request = AWSRequest(method="GET", url=url, headers=dict(self.headers))
        SigV4Auth(credentials, SIGNING_SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())


def _read_s3(uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        body: bytes = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _MISSING:
            raise ArtifactMissing(f"its artifacts have no {key.rpartition('/')[2]}") from exc
        raise ServiceUnavailable(
            f"the MLflow artifact store (s3://{bucket}) could not be read", field="model"
        ) from exc
    except BotoCoreError as exc:
        raise ServiceUnavailable(
            f"the MLflow artifact store (s3://{bucket}) could not be read", field="model"
        ) from exc
    return body
