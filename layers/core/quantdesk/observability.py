"""The one place Powertools observability objects are created (structured JSON logs).

Handlers set ``run_id`` as the correlation id as soon as they know it. The Tracer is not
created here: its import costs ~200 ms of cold start and we do not export traces yet.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="quantdesk")


def bind_run(run_id: str) -> None:
    """Tag every following log line of this invocation with the run id."""
    logger.set_correlation_id(run_id)
    logger.append_keys(run_id=run_id)
