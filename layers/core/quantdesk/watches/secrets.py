"""Webhook secrets at rest: sealed with the stack's KMS key, never stored in clear.

A watch's HMAC key is drawn at creation, returned once, and stored only as KMS ciphertext bound
to its watch (encryption context ``quantdesk:watch_id``), so reading the table reveals nothing
and a ciphertext copied onto another watch does not open. The API may only encrypt, the
delivery function may only decrypt; deleting the watch deletes its ciphertext with the item.
"""

from __future__ import annotations

import base64
import secrets
from typing import Final

from botocore.exceptions import ClientError

from quantdesk import aws
from quantdesk.errors import ServiceUnavailable

SECRET_BYTES: Final = 32
CONTEXT_KEY: Final = "quantdesk:watch_id"


class SecretUnavailable(Exception):
    """KMS did not open a watch's sealed secret (the message says why)."""


class WatchSecrets:
    def __init__(self, key_id: str) -> None:
        self.key_id = key_id

    def new(self, watch_id: str) -> tuple[str, str]:
        """A fresh secret for ``watch_id``: (the plain secret, its sealed form to store)."""
        plain = secrets.token_hex(SECRET_BYTES)
        try:
            blob = aws.client("kms").encrypt(
                KeyId=self.key_id,
                Plaintext=plain.encode(),
                EncryptionContext={CONTEXT_KEY: watch_id},
            )["CiphertextBlob"]
        except ClientError as exc:
            raise ServiceUnavailable("could not seal the webhook secret") from exc
        return plain, base64.b64encode(blob).decode()

    def open(self, watch_id: str, sealed: str) -> str:
        """The plain secret of ``watch_id`` from its sealed form."""
        try:
            plain: bytes = aws.client("kms").decrypt(
                CiphertextBlob=base64.b64decode(sealed),
                EncryptionContext={CONTEXT_KEY: watch_id},
            )["Plaintext"]
        except ClientError as exc:
            raise SecretUnavailable(exc.response["Error"]["Code"]) from exc
        return plain.decode()
