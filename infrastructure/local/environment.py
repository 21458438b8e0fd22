"""The environment a local-cloud process needs: its AWS clients pointed at the endpoint, and the
stack's function environment. Used by the endpoint's process and by the origin's (which must not
import moto: it only talks to the endpoint over HTTP)."""

from __future__ import annotations

import os
from typing import Final

from quantdesk import aws
from quantdesk.settings import get_settings

REGION: Final = "us-east-1"
ACCOUNT: Final = "000000000000"


def configure_environment(host: str, port: int) -> None:
    """Point this process's AWS clients (ours and moto's Step Functions interpreter) at the
    endpoint."""
    os.environ["LOCALSTACK_HOST"] = f"{host}:{port}"
    # clients we do not build (Powertools' Secrets Manager provider) honour AWS_ENDPOINT_URL
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    os.environ["MOTO_PORT"] = str(port)
    # LocalStack's account id; moto reads it when first imported
    os.environ["MOTO_ACCOUNT_ID"] = ACCOUNT
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    aws.reset()


def use_function_environment(environment: dict[str, str]) -> None:
    """Give this process (where handlers run) the environment the stack's functions get."""
    os.environ.update(environment)
    get_settings.cache_clear()
