"""POST /predict speaks MLflow's scoring protocol: every input format, the signature enforced,
params passed through, and bad input a 4xx naming the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.predict.conftest import expected

ROWS = [{"a": 1.0, "b": 2.0, "c": 4}, {"a": -0.5, "b": 0.25, "c": 0}]
WANT = [{"prediction": pytest.approx(expected(**r))} for r in ROWS]
PATH = "/predict/linear/champion"


def post(api: Any, body: Any, path: str = PATH, content_type: str = "application/json") -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return api.post(path, body=raw, headers={"Content-Type": content_type})


@pytest.fixture
def served(register: Callable[..., int], linear_model: Path) -> int:
    return register(linear_model)


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1.0, 2.0, 4], [-0.5, 0.25, 0]]}},
        {"dataframe_records": ROWS},
        {"instances": ROWS},
        {"inputs": {"a": [1.0, -0.5], "b": [2.0, 0.25], "c": [4, 0]}},
        {"inputs": ROWS},
    ],
    ids=["dataframe_split", "dataframe_records", "instances", "inputs-columns", "inputs-records"],
)
def test_every_json_format_scores_the_same_rows(predict_api: Any, served: int, body: Any) -> None:
    response = post(predict_api, body)
    assert response.status_code == 200, response.body
    assert json.loads(response.body) == {"predictions": WANT}
    assert response.headers["X-Model-Version"] == str(served)


def test_csv_body_scores_like_json(predict_api: Any, served: int) -> None:
    csv = "b,a,c\n2.0,1.0,4\n0.25,-0.5,0\n"
    response = post(predict_api, csv, content_type="text/csv; charset=utf-8")
    assert response.status_code == 200, response.body
    assert json.loads(response.body) == {"predictions": WANT}


def test_extra_columns_are_ignored_and_an_optional_column_may_be_left_out(
    predict_api: Any, served: int
) -> None:
    body = {"dataframe_records": [{"a": 1.0, "b": 2.0, "note": "ignored", "extra": 9}]}
    response = post(predict_api, body)
    assert response.status_code == 200, response.body
    # c is optional: left out it is NaN for the model, as MLflow passes it
    assert json.loads(response.body)["predictions"] == [{"prediction": None}]
    with_c = post(predict_api, {"dataframe_records": [{"a": 1.0, "b": 2.0, "c": 0, "x": 1}]})
    assert json.loads(with_c.body)["predictions"] == [{"prediction": expected(1.0, 2.0)}]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"dataframe_records": [{"a": 1.0}]}, "b", "missing column 'b'"),
        ({"dataframe_records": [{"a": 1.0, "b": "two"}]}, "b", "expected double"),
        ({"dataframe_records": [{"a": True, "b": 1.0}]}, "a", "expected double"),
        ({"dataframe_records": [{"a": None, "b": 1.0}]}, "a", "null where the signature"),
        (
            {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0]]}},
            "dataframe_split.data.0",
            "1 values for 2 columns",
        ),
        ({"rows": [[1.0, 2.0]]}, "body", "exactly one of"),
        ({"instances": ROWS, "inputs": ROWS}, "body", "exactly one of"),
        ({"inputs": {"a": [1.0, 2.0], "b": [1.0]}}, "inputs", "differ in length"),
        ({"dataframe_records": []}, "dataframe_records", "no rows"),
        ([1, 2], "body", "JSON object"),
    ],
)
def test_bad_payloads_are_400_naming_the_problem(
    predict_api: Any, served: int, body: Any, field: str, words: str
) -> None:
    response = post(predict_api, body)
    assert response.status_code == 400, response.body
    error = json.loads(response.body)
    assert error["code"] == "invalid_request"
    assert error["field"] == field
    assert words in error["message"]


def test_nan_is_refused_where_the_signature_requires_a_value(predict_api: Any, served: int) -> None:
    # Python's and MLflow's JSON both read the NaN literal
    raw = '{"dataframe_split": {"columns": ["a", "b"], "data": [[NaN, 1.0]]}}'
    response = post(predict_api, raw)
    assert response.status_code == 400
    assert json.loads(response.body)["field"] == "a"
    csv = post(predict_api, "a,b\n,1.0\n", content_type="text/csv")
    assert csv.status_code == 400
    assert json.loads(csv.body)["field"] == "a"


def test_more_rows_than_the_limit_is_400(predict_api: Any, served: int) -> None:
    from quantdesk.predict.settings import get_predict_settings  # noqa: PLC0415

    limit = get_predict_settings().max_rows
    body = {"inputs": {"a": [0.0] * (limit + 1), "b": [0.0] * (limit + 1)}}
    response = post(predict_api, body)
    assert response.status_code == 400
    error = json.loads(response.body)
    assert error["field"] == "inputs"
    assert f"limit of {limit}" in error["message"]
    ok = post(predict_api, {"inputs": {"a": [0.0] * limit, "b": [0.0] * limit}})
    assert ok.status_code == 200


def test_csv_type_errors_name_the_column(predict_api: Any, served: int) -> None:
    response = post(predict_api, "a,b\n1.0,abc\n", content_type="text/csv")
    assert response.status_code == 400
    assert json.loads(response.body)["field"] == "b"
    ragged = post(predict_api, "a,b\n1.0\n", content_type="text/csv")
    assert ragged.status_code == 400
    assert "line 2" in json.loads(ragged.body)["message"]


def test_other_media_types_are_415(predict_api: Any, served: int) -> None:
    response = post(predict_api, "a=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    latin = post(predict_api, "a,b\n1,2\n", content_type="text/csv; charset=latin-1")
    assert latin.status_code == 415


def test_params_reach_a_model_that_declares_them(
    predict_api: Any, register: Callable[..., int], scaled_model: Path
) -> None:
    register(scaled_model, name="scaled")
    rows = {"dataframe_records": [{"a": 1.0, "b": 2.0, "c": 4}]}
    path = "/predict/scaled/champion"
    default = json.loads(post(predict_api, rows, path).body)["predictions"]
    assert default == [{"prediction": pytest.approx(expected(1.0, 2.0, 4))}]
    scaled = post(predict_api, {**rows, "params": {"scale": 3.0, "unknown": "ignored"}}, path)
    assert json.loads(scaled.body)["predictions"] == [
        {"prediction": pytest.approx(expected(1.0, 2.0, 4, scale=3.0))}
    ]
    wrong = post(predict_api, {**rows, "params": {"scale": "big"}}, path)
    assert wrong.status_code == 400
    assert json.loads(wrong.body)["field"] == "params.scale"


def test_params_are_ignored_by_a_model_without_a_params_schema(
    predict_api: Any, served: int
) -> None:
    body = {"dataframe_records": ROWS, "params": {"scale": 3.0}}
    assert json.loads(post(predict_api, body).body) == {"predictions": WANT}


def test_predict_needs_a_signed_in_caller(predict_client: Any, served: int) -> None:
    response = predict_client.http.post(
        PATH,
        body=json.dumps({"dataframe_records": ROWS}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("long", [1, -(2**40)], [1.5, "1", True, 2**63]),
        ("integer", [7], [2**31, 1.0]),
        ("boolean", [True, False], [1, "true"]),
        ("string", ["x"], [1, None]),
        ("float", [1, 2.5], ["1.0", False]),
    ],
)
def test_column_types_are_enforced_as_the_signature_says(
    kind: str, good: list[Any], bad: list[Any]
) -> None:
    from quantdesk.predict.errors import BadScoringInput  # noqa: PLC0415
    from quantdesk.predict.models import ColumnSpec  # noqa: PLC0415
    from quantdesk.predict.protocol import enforce  # noqa: PLC0415

    spec = [ColumnSpec(name="x", type=kind)]
    typed = enforce({"x": good}, spec, from_csv=False)
    assert typed["x"].tolist() == good
    for value in bad:
        with pytest.raises(BadScoringInput) as refused:
            enforce({"x": [value]}, spec, from_csv=False)
        assert refused.value.field == "x"
