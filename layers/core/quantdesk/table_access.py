"""What the classes that read and write the table share: its name and the process's client."""

from __future__ import annotations

from typing import Any

from quantdesk import aws


class TableAccess:
    """A reader and writer of the table named ``table_name``, through :func:`aws.client` (one
    client per process, made on first use, so a cold start that never reaches it pays nothing)."""

    def __init__(self, table_name: str) -> None:
        self.table = table_name

    @property
    def _db(self) -> Any:
        return aws.client("dynamodb")
