"""Step Functions error text: runs and ingestion show the Lambda's message, not its JSON."""

from __future__ import annotations

import json

from quantdesk.step_function_errors import readable_cause, readable_error

LAMBDA_CAUSE = json.dumps(
    {"errorMessage": "prices are stale", "errorType": "DataNotReady", "stackTrace": ["..."]}
)


def test_a_lambda_payload_cause_reads_as_its_message() -> None:
    assert readable_cause(LAMBDA_CAUSE) == "prices are stale"
    assert readable_cause("States.Timeout after 900 s") == "States.Timeout after 900 s"
    assert readable_cause("[1, 2]") == "[1, 2]"
    assert readable_cause(None) == ""


def test_a_catch_output_reads_as_name_and_message() -> None:
    assert readable_error({"Error": "DataNotReady", "Cause": LAMBDA_CAUSE}) == (
        "DataNotReady: prices are stale"
    )
    assert readable_error({"Error": "States.Timeout"}) == "States.Timeout"
    assert readable_error("boom") == "boom"
