"""``quantdesk analytics export`` end to end: the CLI's HTTP calls go to the real API app (over
moto), and what it writes is an evaluation set the ranking's labelled-prompt loader reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from quantdesk.cli import main
from tests.unit.api.test_analytics import run_card, suggest, workflow  # noqa: F401


@pytest.fixture
def cli_to_api(api: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every httpx client the CLI makes talks to the API app, signed in as ``local``."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no cached login

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        answer = api.get(path) if request.method == "GET" else None
        assert answer is not None, f"unexpected {request.method} {path}"
        return httpx.Response(answer.status_code, content=answer.body, headers=answer.headers)

    real = httpx.Client
    monkeypatch.setattr(
        httpx, "Client", lambda **kw: real(transport=httpx.MockTransport(handler), **kw)
    )


def test_export_writes_the_chosen_cards_as_evaluation_cases(
    api: Any,
    workflow: None,  # noqa: F811
    cli_to_api: None,
    tmp_path: Path,
) -> None:
    body = suggest(api, "momentum")
    run_card(api, body, 2)
    suggest(api, "what's the weather")  # no choice: not exported
    out = tmp_path / "chosen.json"
    assert main(["analytics", "export", "-o", str(out)]) == 0
    exported = json.loads(out.read_text())
    assert exported["prompts"] == [
        {"prompt": "momentum", "top1": body["suggestions"][1]["scenario_id"], "kind": "chosen"}
    ]


def test_merge_adds_only_new_prompts_and_keeps_the_file_readable(
    api: Any,
    workflow: None,  # noqa: F811
    cli_to_api: None,
    tmp_path: Path,
) -> None:
    run_card(api, suggest(api, "momentum"), 1)
    run_card(api, suggest(api, "dividend stocks"), 1)
    target = tmp_path / "prompts.json"
    target.write_text(
        '{\n  "about": "x",\n  "prompts": [\n'
        '    {"prompt": "Momentum", "top1": "trend_strength", "kind": "short"}\n  ]\n}\n'
    )
    assert main(["analytics", "export", "--merge", str(target)]) == 0
    prompts = json.loads(target.read_text())["prompts"]
    assert [(p["prompt"], p["kind"]) for p in prompts] == [
        ("Momentum", "short"),
        ("dividend stocks", "chosen"),
    ]
    assert target.read_text().count("\n") == 8  # one case a line, a blank line before the block


def test_a_bad_day_names_the_option(cli_to_api: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analytics", "export", "--from", "2024-02-30"]) == 2
    assert "(option --from)" in capsys.readouterr().err
