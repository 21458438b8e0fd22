"""The local cloud and the template are built from one definition; these checks keep the
pieces consistent with each other and with the code."""

from __future__ import annotations

import json
import re

import pytest

from infrastructure import resources
from infrastructure.local.cloud import ACCOUNT, REGION
from quantdesk import keys


@pytest.mark.parametrize("machine", resources.STATE_MACHINES, ids=lambda m: m.name)
def test_every_placeholder_in_an_asl_file_is_substituted(machine: resources.StateMachine) -> None:
    text = (resources.STATEMACHINES / machine.definition_file).read_text()
    placeholders = set(re.findall(r"\$\{(\w+)\}", text))
    assert placeholders == set(machine.substitutions)
    rendered = json.loads(resources.render_definition(machine, REGION, ACCOUNT))
    assert rendered["StartAt"] in rendered["States"]


def test_every_asl_file_is_deployed() -> None:
    deployed = {m.definition_file for m in resources.STATE_MACHINES}
    on_disk = {p.name for p in resources.STATEMACHINES.glob("*.asl.json")}
    assert on_disk == deployed


@pytest.mark.parametrize("function", resources.FUNCTIONS, ids=lambda f: f.name)
def test_every_function_handler_exists(function: resources.Function) -> None:
    module, _, attr = function.handler.rpartition(".")
    source = (resources.ROOT / function.code_dir / f"{module.replace('.', '/')}.py").read_text()
    assert re.search(rf"^def {attr}\(|^{attr} = ", source, re.MULTILINE)


def test_table_keys_come_from_the_key_module() -> None:
    table = resources.TABLE.create_kwargs()
    assert [k["AttributeName"] for k in table["KeySchema"]] == [keys.PK, keys.SK]
    gsi, active = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == keys.GSI1
    assert [k["AttributeName"] for k in gsi["KeySchema"]] == [keys.GSI1PK, keys.GSI1SK]
    assert active["IndexName"] == keys.ACTIVE_INDEX
    assert [k["AttributeName"] for k in active["KeySchema"]] == [keys.ACTIVE_PK, keys.ACTIVE_SK]
    assert active["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_scenario_run_writes_the_key_design() -> None:
    rendered = resources.render_definition(resources.SCENARIO_RUN, REGION, ACCOUNT)
    assert f"'{keys.run_pk('{}')}'" in rendered
    for state in json.loads(rendered)["States"].values():
        if state.get("Resource") == "arn:aws:states:::dynamodb:updateItem":
            assert state["Parameters"]["Key"]["SK"] == {"S": keys.RUN_SK}
            assert "ADD event_seq :one" in state["Parameters"]["UpdateExpression"]


def test_scenario_run_keeps_the_active_index() -> None:
    """Entering ``running`` moves the run to that partition; every terminal write removes it."""
    states = resources.SCENARIO_RUN.definition()["States"]
    status_writes = {
        name: state["Parameters"]
        for name, state in states.items()
        if state.get("Resource") == "arn:aws:states:::dynamodb:updateItem"
        and "#status" in state["Parameters"]["UpdateExpression"]
    }
    running = status_writes.pop("MarkRunning")
    assert f"{keys.ACTIVE_PK} = :active, {keys.ACTIVE_SK} = :now" in running["UpdateExpression"]
    assert running["ExpressionAttributeValues"][":active"] == {"S": keys.active_pk("running")}
    assert status_writes  # the ends: succeeded, failed (two ways), timed out
    for name, parameters in status_writes.items():
        removed = f"REMOVE {keys.ACTIVE_PK}, {keys.ACTIVE_SK}"
        assert parameters["UpdateExpression"].endswith(removed), name


def test_schedules_target_deployed_state_machines() -> None:
    names = {m.name for m in resources.STATE_MACHINES}
    for schedule in resources.SCHEDULES:
        assert schedule.state_machine in names
