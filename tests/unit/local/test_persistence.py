"""The durable endpoint in-process: moto's server behind the write-ahead log, "killed" (served
no more, no final snapshot, the log file left as it is) or stopped cleanly, its state wiped
from memory and restored from the folder. Clients reach it over HTTP like every real client."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core.base_backend import BackendDict
from moto.core.config import default_user_config

from infrastructure.local import foreground, moto_state
from infrastructure.local.journal import InUse
from infrastructure.local.persistence import (
    BACKGROUND,
    FINISHING_A_START,
    FOREGROUND,
    FOREGROUND_AGENT,
    SNAPSHOT_BYTES,
    SNAPSHOT_OVERDUE,
    SNAPSHOT_RECORDS,
    DurableApp,
    DurableEndpoint,
    DurableState,
    RestoreReport,
    WriteLock,
    is_mutating,
)
from infrastructure.local.stream_poller import StreamPoller
from infrastructure.resources import StreamMapping
from tests.stack import free_port

REGION = "us-east-1"


@dataclass
class Cloud:
    """The durable endpoint on a state folder; every start binds a fresh port (the state is in
    the folder, the port is only an address)."""

    directory: Path
    monkeypatch: pytest.MonkeyPatch
    endpoint: DurableEndpoint | None = None
    port: int = 0

    def start(self) -> RestoreReport:
        self.port = free_port()
        self.monkeypatch.setenv("MOTO_PORT", str(self.port))  # Step Functions calls back here
        self.endpoint = DurableEndpoint("127.0.0.1", self.port, self.directory)
        return self.endpoint.start()

    @property
    def running(self) -> DurableEndpoint:
        assert self.endpoint is not None
        return self.endpoint

    def kill(self) -> None:
        """What SIGKILL leaves: no final snapshot, nothing flushed beyond what was
        acknowledged; then moto's memory is wiped as a new process would have it."""
        endpoint = self.running
        assert endpoint._server is not None
        endpoint._server.stop()
        endpoint.state._stop.set()
        endpoint.state.journal._lock.close()  # the kernel's part of a kill
        moto_state.on_execution_end(None)
        BackendDict.reset()

    def restart(self, *, clean: bool) -> RestoreReport:
        if clean:
            self.running.stop()
            BackendDict.reset()
        else:
            self.kill()
        return self.start()


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    BackendDict.reset()
    yield Cloud(tmp_path, monkeypatch)
    BackendDict.reset()


def client(cloud: Cloud, service: str) -> Any:
    return boto3.client(service, endpoint_url=f"http://127.0.0.1:{cloud.port}", region_name=REGION)


def make_table(cloud: Cloud) -> None:
    client(cloud, "dynamodb").create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def stream_records(cloud: Cloud) -> list[tuple[str, str]]:
    dynamodb = client(cloud, "dynamodb")
    streams = client(cloud, "dynamodbstreams")
    arn = dynamodb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return [(r["dynamodb"]["SequenceNumber"], r["dynamodb"]["Keys"]["PK"]["S"]) for r in records]


def write_everything(cloud: Cloud) -> dict[str, Any]:
    """One acknowledged write per kind the product relies on; what to find again."""
    make_table(cloud)
    dynamodb = client(cloud, "dynamodb")
    for n in range(3):
        dynamodb.put_item(TableName="t", Item={"PK": {"S": f"k{n}"}, "n": {"N": str(n)}})
    dynamodb.update_item(
        TableName="t",
        Key={"PK": {"S": "k1"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "10"}},
    )
    s3 = client(cloud, "s3")
    s3.create_bucket(Bucket="results")
    s3.put_object(Bucket="results", Key="result.json", Body=b'{"rows": 3}')
    client(cloud, "iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    cognito = client(cloud, "cognito-idp")
    pool = cognito.create_user_pool(PoolName="users")["UserPool"]["Id"]
    user = cognito.admin_create_user(UserPoolId=pool, Username="researcher")["User"]
    sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
    return {"pool": pool, "sub": sub, "stream": stream_records(cloud)}


def assert_everything(cloud: Cloud, written: dict[str, Any]) -> None:
    items = client(cloud, "dynamodb").scan(TableName="t")["Items"]
    assert sorted((i["PK"]["S"], i["n"]["N"]) for i in items) == [
        ("k0", "0"),
        ("k1", "11"),
        ("k2", "2"),
    ]
    body = client(cloud, "s3").get_object(Bucket="results", Key="result.json")["Body"].read()
    assert body == b'{"rows": 3}'
    assert client(cloud, "iam").get_role(RoleName="r")["Role"]["RoleName"] == "r"
    user = client(cloud, "cognito-idp").admin_get_user(
        UserPoolId=written["pool"], Username="researcher"
    )
    assert {"Name": "sub", "Value": written["sub"]} in user["UserAttributes"]
    # the stream holds the same records under the same sequence numbers (poller checkpoints)
    assert stream_records(cloud) == written["stream"]


@pytest.mark.parametrize("clean", [False, True], ids=["killed", "stopped"])
def test_acknowledged_writes_survive_a_restart(cloud: Cloud, clean: bool) -> None:
    report = cloud.start()
    assert report.summary() == "no snapshot + 0 logged requests"
    written = write_everything(cloud)
    report = cloud.restart(clean=clean)
    assert report.problems == []
    if clean:  # the clean stop left a snapshot and nothing to replay
        assert report.snapshot is not None and report.replayed == 0
    else:
        assert report.snapshot is None and report.replayed > 0
    assert_everything(cloud, written)
    cloud.running.stop()


def test_a_snapshot_then_the_log_after_it(cloud: Cloud) -> None:
    cloud.start()
    make_table(cloud)
    dynamodb = client(cloud, "dynamodb")
    dynamodb.put_item(TableName="t", Item={"PK": {"S": "before"}})
    number = cloud.running.state.snapshot()
    dynamodb.put_item(TableName="t", Item={"PK": {"S": "after"}})
    dynamodb.get_item(TableName="t", Key={"PK": {"S": "after"}})  # a read: not logged
    report = cloud.restart(clean=False)
    assert (report.snapshot, report.replayed) == (number, 1)
    assert [pk for _, pk in stream_records(cloud)] == ["before", "after"]
    cloud.running.stop()


COUNTER_MACHINE = {
    "StartAt": "Count",
    "States": {
        "Count": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {
                "TableName": "t",
                "Key": {"PK": {"S": "counter"}},
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            },
            "ResultPath": None,
            "Next": "Hold",
        },
        "Hold": {"Type": "Wait", "SecondsPath": "$.hold", "End": True},
    },
}


def start_counter(cloud: Cloud, hold_s: int) -> str:
    sfn = client(cloud, "stepfunctions")
    machine = sfn.create_state_machine(
        name="counter",
        definition=json.dumps(COUNTER_MACHINE),
        roleArn="arn:aws:iam::000000000000:role/r",
    )["stateMachineArn"]
    return str(
        sfn.start_execution(stateMachineArn=machine, name="e1", input=json.dumps({"hold": hold_s}))[
            "executionArn"
        ]
    )


def wait_status(cloud: Cloud, arn: str, status: str) -> dict[str, Any]:
    sfn = client(cloud, "stepfunctions")
    deadline = time.monotonic() + 20
    while (described := sfn.describe_execution(executionArn=arn))["status"] != status:
        assert time.monotonic() < deadline, described["status"]
        time.sleep(0.05)
    return dict(described)


def counter(cloud: Cloud) -> int:
    item = client(cloud, "dynamodb").get_item(TableName="t", Key={"PK": {"S": "counter"}})
    return int(item["Item"]["n"]["N"])


@pytest.mark.parametrize("clean", [False, True], ids=["killed", "stopped"])
def test_a_finished_execution_is_restored_not_run_again(cloud: Cloud, clean: bool) -> None:
    cloud.start()
    make_table(cloud)
    arn = start_counter(cloud, hold_s=0)
    wait_status(cloud, arn, "SUCCEEDED")
    report = cloud.restart(clean=clean)
    time.sleep(0.3)  # a re-run would have counted again by now
    assert counter(cloud) == 1
    assert wait_status(cloud, arn, "SUCCEEDED")["stopDate"]
    assert report.interrupted == []
    if clean:  # the history came through the snapshot
        events = client(cloud, "stepfunctions").get_execution_history(executionArn=arn)["events"]
        assert events[-1]["type"] == "ExecutionSucceeded"
    cloud.running.stop()


def test_an_execution_running_at_the_kill_ends_aborted(cloud: Cloud) -> None:
    cloud.start()
    make_table(cloud)
    arn = start_counter(cloud, hold_s=60)
    wait_status(cloud, arn, "RUNNING")
    while True:  # its first task has written
        try:
            counter(cloud)
            break
        except KeyError:
            time.sleep(0.05)
    report = cloud.restart(clean=False)
    assert report.interrupted == [arn]
    described = wait_status(cloud, arn, "ABORTED")
    assert described["cause"] == "interrupted by a restart"
    assert counter(cloud) == 1
    # and how it ended is itself kept
    report = cloud.restart(clean=False)
    assert report.interrupted == []
    assert wait_status(cloud, arn, "ABORTED")["cause"] == "interrupted by a restart"
    cloud.running.stop()


def test_a_cloudformation_stack_and_its_resources_come_back_once(cloud: Cloud) -> None:
    template = {
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": "stacked",
                    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
                    "BillingMode": "PAY_PER_REQUEST",
                },
            }
        }
    }
    cloud.start()
    cloudformation = client(cloud, "cloudformation")
    cloudformation.create_stack(StackName="app", TemplateBody=json.dumps(template))
    for clean in (False, True):
        cloud.restart(clean=clean)
        stack = client(cloud, "cloudformation").describe_stacks(StackName="app")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        assert client(cloud, "dynamodb").list_tables()["TableNames"] == ["stacked"]
    cloud.running.stop()


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "expected"),
    [
        ("POST", "/", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}, b"{}", True),
        ("POST", "/", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query"}, b"{}", False),
        ("POST", "/", {"HTTP_X_AMZ_TARGET": "DynamoDBStreams_20120810.GetRecords"}, b"", False),
        ("POST", "/", {"HTTP_X_AMZ_TARGET": "AWSStepFunctions.StartExecution"}, b"", True),
        ("POST", "/", {"HTTP_X_AMZ_TARGET": "AWSStepFunctions.StartSyncExecution"}, b"", False),
        ("POST", "/2015-03-31/functions/f/invocations", {}, b"{}", False),
        ("POST", "/2015-03-31/functions", {}, b"{}", True),
        ("PUT", "/bucket/key", {}, b"data", True),
        ("GET", "/bucket/key", {}, b"", False),
        ("DELETE", "/bucket/key", {}, b"", True),
        (
            "POST",
            "/",
            {"CONTENT_TYPE": "application/x-www-form-urlencoded"},
            b"Action=CreateRole",
            True,
        ),
        (
            "POST",
            "/",
            {"CONTENT_TYPE": "application/x-www-form-urlencoded"},
            b"Action=GetRole",
            False,
        ),
    ],
)
def test_which_requests_are_logged(
    method: str, path: str, headers: dict[str, str], body: bytes, expected: bool
) -> None:
    service = "awslambda" if path.startswith("/2015") else "any"
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, **headers}
    assert is_mutating(service, environ, body) is expected


class Recorder:
    """A stream handler that keeps the keys it was given."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        self.keys += [r["dynamodb"]["Keys"]["PK"]["S"] for r in json.loads(Payload)["Records"]]
        return {"Payload": io.BytesIO(b"{}")}


@pytest.mark.parametrize(
    ("checkpoint", "delivered"),
    [(1, ["k2"]), (None, []), ("beyond", ["k0", "k1", "k2"])],
    ids=["after-checkpoint", "no-checkpoint-latest", "checkpoint-the-shard-lacks"],
)
def test_the_stream_poller_resumes_after_a_restored_checkpoint(
    cloud: Cloud, checkpoint: int | str | None, delivered: list[str]
) -> None:
    cloud.start()
    make_table(cloud)
    for n in range(3):
        client(cloud, "dynamodb").put_item(TableName="t", Item={"PK": {"S": f"k{n}"}})
    records = stream_records(cloud)
    arn = client(cloud, "dynamodb").describe_table(TableName="t")["Table"]["LatestStreamArn"]
    streams = client(cloud, "dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    function = Recorder()
    poller = StreamPoller(StreamMapping(function="f"), arn, streams, function)
    if checkpoint == "beyond":
        poller.checkpoints[shard] = str(int(records[-1][0]) + 100)
    elif checkpoint is not None:
        poller.checkpoints[shard] = records[checkpoint][0]
    poller.open_shards("LATEST")  # what a shard without a (usable) checkpoint would get
    poller.poll_once()
    assert function.keys == delivered
    if delivered:
        assert poller.checkpoints[shard] == records[-1][0]
    cloud.running.stop()


def test_one_local_cloud_per_state_folder(cloud: Cloud) -> None:
    cloud.start()
    with pytest.raises(InUse, match="in use by another running local cloud"):
        DurableEndpoint("127.0.0.1", free_port(), cloud.directory)
    cloud.running.stop()
    DurableEndpoint("127.0.0.1", free_port(), cloud.directory).state.journal.close()


def test_the_write_lock_hands_over_to_a_starts_last_write_then_foreground_waiters() -> None:
    lock = WriteLock()
    order: list[str] = []
    lock.acquire()
    waiters = []
    for name, rank in (
        ("execution-1", BACKGROUND),
        ("start-2 limits", FOREGROUND),
        ("execution-2", BACKGROUND),
        ("start-1 execution", FINISHING_A_START),
    ):

        def take(name: str = name, rank: int = rank) -> None:
            lock.acquire(rank=rank)
            order.append(name)
            lock.release()

        waiter = threading.Thread(target=take)
        waiter.start()
        waiters.append(waiter)
        while len(lock._waiting) < len(waiters):  # queued in this order
            time.sleep(0.001)
    lock.release()
    for waiter in waiters:
        waiter.join(timeout=5)
    assert order == ["start-1 execution", "start-2 limits", "execution-1", "execution-2"]
    lock.acquire()  # free again once every waiter is done
    lock.release()


def test_while_a_start_is_in_flight_only_the_origins_point_reads_go_straight_through() -> None:
    served: list[str] = []
    app = DurableApp(lambda environ, start_response: served.append(environ["name"]), None)  # type: ignore[arg-type]
    release = threading.Event()
    in_flight = threading.Event()

    def a_start_in_flight() -> None:
        with foreground.serving():
            in_flight.set()
            release.wait(5)

    def read(name: str, agent: str, target: str) -> threading.Thread:
        environ: dict[str, Any] = {"name": name, "REQUEST_METHOD": "POST", "HTTP_USER_AGENT": agent}
        environ |= {"HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{target}"}
        # a read: is_mutating sees no write action
        environ |= {"wsgi.input": io.BytesIO(b"{}"), "CONTENT_LENGTH": "2"}
        reader = threading.Thread(target=app, args=(environ, None))
        reader.start()
        return reader

    app.app.get_application = lambda environ: type("App", (), {"service": "dynamodb"})()
    holder = threading.Thread(target=a_start_in_flight)
    holder.start()
    in_flight.wait(5)
    origin = f"Boto3/1 {FOREGROUND_AGENT}"
    readers = [
        read("a start's GetItem", origin, "GetItem"),
        read("a tail's Query", origin, "Query"),
        read("a poller's GetItem", "Boto3/1", "GetItem"),
    ]
    time.sleep(0.2)
    assert served == ["a start's GetItem"]  # the others wait for the start
    release.set()
    holder.join()
    for reader in readers:
        reader.join(timeout=5)
    assert sorted(served) == ["a poller's GetItem", "a start's GetItem", "a tail's Query"]


def test_a_due_snapshot_waits_for_the_starts_in_flight_unless_long_overdue(tmp_path: Path) -> None:
    state = DurableState(tmp_path, app=None)
    try:
        assert not state.snapshot_wanted()  # nothing logged
        state._since_snapshot = (0, SNAPSHOT_RECORDS)
        assert state.snapshot_wanted()
        with foreground.serving():  # a start in flight: the dump would stall the burst
            assert not state.snapshot_wanted()
            state._since_snapshot = (0, SNAPSHOT_OVERDUE * SNAPSHOT_RECORDS)
            assert state.snapshot_wanted()  # a steady stream of starts: not forever
        state._since_snapshot = (SNAPSHOT_OVERDUE * SNAPSHOT_BYTES, 0)
        assert state.snapshot_wanted()
    finally:
        state.journal.close()
