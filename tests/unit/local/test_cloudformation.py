"""The AWS template and the local cloud come from one definition; these tests fail on drift.
(The local cloud deploys this template: tests/unit/local/test_local_stack.py.)"""

from __future__ import annotations

import json
import re
from typing import Any

from infrastructure import cloudformation, resources


def _resources_of(kind: str) -> dict[str, Any]:
    rendered = cloudformation.render()["Resources"]
    return {k: v["Properties"] for k, v in rendered.items() if v["Type"] == kind}


def test_stream_mapping_filters_match_the_local_poller() -> None:
    (mapping,) = (
        m
        for m in _resources_of("AWS::Lambda::EventSourceMapping").values()
        if m["EventSourceArn"] == {"Fn::GetAtt": ["RunsTable", "StreamArn"]}
    )
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    (local,) = resources.STREAM_MAPPINGS
    assert patterns == list(local.filter_patterns)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_sse_function_streams_through_the_web_adapter() -> None:
    url = _resources_of("AWS::Lambda::Url")["StreamFunctionUrl"]
    assert url["InvokeMode"] == "RESPONSE_STREAM"
    env = _resources_of("AWS::Lambda::Function")["StreamFunction"]["Environment"]["Variables"]
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert re.search(r"LambdaAdapterLayer", json.dumps(_resources_of("AWS::Lambda::Function")))
