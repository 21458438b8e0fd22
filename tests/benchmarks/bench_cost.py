"""The AWS cost estimate (``make cost``): per 1,000 scenario runs and per daily ingestion,
measured in the local cloud, and Standard vs Express workflows as a ratio."""

from __future__ import annotations

from infrastructure import cost


def main() -> None:
    cost.main()
