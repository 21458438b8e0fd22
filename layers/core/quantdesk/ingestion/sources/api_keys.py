"""Vendor API keys, read from AWS at fetch time (never from code, files or the environment).

A key's *name* is a setting: a name starting with ``/`` is an SSM Parameter Store parameter
(a SecureString is decrypted), any other name a Secrets Manager secret (its string value).
"""

from __future__ import annotations

from quantdesk import aws
from quantdesk.ingestion.errors import SourceConfigError


def vendor_api_key(name: str, *, vendor: str, setting: str) -> str:
    """The key stored under ``name``; :class:`SourceConfigError` naming ``setting`` otherwise."""
    if not name:
        raise SourceConfigError(
            f"{vendor} needs an API key: set {setting} to an SSM parameter or Secrets Manager "
            "secret holding it (offline: save the vendor's files and use --source files)"
        )
    try:
        if name.startswith("/"):
            answer = aws.client("ssm").get_parameter(Name=name, WithDecryption=True)
            key = answer["Parameter"]["Value"]
        else:
            key = aws.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    except Exception as exc:  # ClientError, missing parameter, no permission
        raise SourceConfigError(f"{vendor} API key {name!r} could not be read: {exc}") from exc
    if not isinstance(key, str) or not key.strip():
        raise SourceConfigError(f"{vendor} API key {name!r} is empty")
    return key.strip()
