"""The tracking-server client's requests: SageMaker's managed MLflow (an ARN, or its https URL)
gets SigV4-signed requests for the ``sagemaker-mlflow`` service, a self-hosted http server
plain ones; ``s3://`` artifacts are read with boto3 (over moto here)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from quantdesk import aws
from quantdesk.ingestion.sources.http import HttpRequest, HttpResponse
from quantdesk.predict.tracking_client import (
    ARN_HEADER,
    SIGNING_SERVICE,
    ArtifactMissing,
    TrackingClient,
)

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/research"


class Recorder:
    """Stands in for the network: records each request, answers a registered model."""

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        return HttpResponse(200, json.dumps({"registered_model": {"name": "m"}}).encode())


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("LOCALSTACK_HOST", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")
    aws.reset()
    yield
    aws.reset()


def test_a_sagemaker_arn_is_reached_at_its_regional_endpoint_signed(credentials: Any) -> None:
    recorder = Recorder()
    client = TrackingClient(ARN, transport=recorder)
    assert client.get("registered-models/get", name="my model").status == 200
    (request,) = recorder.requests
    assert request.url == (
        "https://eu-west-1.experiments.sagemaker.aws/api/2.0/mlflow/registered-models/get"
        "?name=my%20model"
    )
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers[ARN_HEADER] == ARN
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert f"/eu-west-1/{SIGNING_SERVICE}/aws4_request" in headers["authorization"]
    assert ARN_HEADER in headers["authorization"]  # the routing header is signed too
    assert headers["x-amz-security-token"] == "token"
    assert "x-amz-date" in headers


def test_an_https_url_on_aws_is_signed_for_its_region(credentials: Any) -> None:
    recorder = Recorder()
    TrackingClient("https://us-east-2.experiments.sagemaker.aws", transport=recorder).get(
        "registered-models/search", max_results="1"
    )
    authorization = dict(recorder.requests[0].headers)["Authorization"]
    assert f"/us-east-2/{SIGNING_SERVICE}/aws4_request" in authorization


def test_a_self_hosted_server_gets_plain_requests() -> None:
    recorder = Recorder()
    TrackingClient("http://mlflow.internal:5000/", transport=recorder).get(
        "registered-models/get", name="m"
    )
    (request,) = recorder.requests
    assert request.url.startswith("http://mlflow.internal:5000/api/2.0/mlflow/")
    assert "Authorization" not in request.headers and ARN_HEADER not in request.headers


def test_anything_else_is_not_a_tracking_uri() -> None:
    with pytest.raises(ValueError, match="tracking URI"):
        TrackingClient("databricks")


def test_s3_artifacts_are_read_with_the_functions_role(moto_aws: None) -> None:
    aws.client("s3").create_bucket(Bucket="mlflow-artifacts-bucket")
    aws.client("s3").put_object(
        Bucket="mlflow-artifacts-bucket", Key="1/models/m-1/artifacts/MLmodel", Body=b"flavors: {}"
    )
    client = TrackingClient("http://unused:5000", transport=Recorder())
    root = "s3://mlflow-artifacts-bucket/1/models/m-1/artifacts/"
    assert client.read_artifact(root, "MLmodel") == b"flavors: {}"
    with pytest.raises(ArtifactMissing, match=r"no model\.onnx"):
        client.read_artifact(root, "model.onnx")
    with pytest.raises(ArtifactMissing, match="cannot read"):
        client.read_artifact("file:///tmp/mlruns/1", "MLmodel")
