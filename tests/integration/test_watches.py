"""A watch on the real local stack: a new data snapshot re-runs it through the run workflow,
its result is diffed against the watched run, and the alert reaches the inbox and a signed
webhook (a real HTTP receiver here), through the template's rules, queue and functions."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.integration.test_ingestion_live import ingest
from tests.stack import Stack

pytestmark = pytest.mark.integration

# sentiment rows for one sample symbol on dates the sample covers: a new sentiment snapshot
SENTIMENT = """date,symbol,score,mentions
2026-10-28,BPF,0.30,90
2026-10-29,BPF,0.42,120
2026-10-30,BPF,0.35,80
"""


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    received: list[tuple[bytes, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers.get("X-Quantdesk-Signature", "")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def follow_inbox(url: str) -> list[Any]:
    """Alert events of the inbox stream at ``url``, collected by a background reader."""
    got: list[Any] = []

    def read() -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=300)) as client,
            connect_sse(client, "GET", url) as source,
        ):
            for message in source.iter_sse():
                if message.event == "alert":
                    got.append(message)
                    return

    threading.Thread(target=read, daemon=True).start()
    return got


def wait_for(check: Any, timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out")


def test_a_new_snapshot_reruns_the_watch_and_delivers_a_signed_alert(
    stack: Stack, tmp_path: Path, receiver: tuple[str, list[tuple[bytes, str]]]
) -> None:
    url, received = receiver
    client = httpx.Client(base_url=stack.base_url, timeout=30)
    # Given a succeeded sentiment run
    accepted = client.post("/analysis/run", json={"scenario_id": "sentiment_blend", "params": {}})
    assert accepted.status_code == 202, accepted.text
    run_id = accepted.json()["run_id"]
    wait_for(
        lambda: (r := client.get(f"/analysis/runs/{run_id}").json())["status"] == "succeeded" and r
    )
    # ...whose stored result lacks its top row (as if that asset had not been there before)
    s3 = stack.client("s3")
    bucket = stack.outputs["ResultsBucketName"]
    key = f"runs/{run_id}/result.json"
    doctored = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    top = doctored["rows"].pop(0)["symbol"]
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(doctored).encode())
    # When the researcher watches it on new snapshots, with a webhook
    created = client.post(
        "/analysis/watches",
        json={
            "run_id": run_id,
            "trigger": {"on": "snapshot"},
            "channels": [{"type": "webhook", "url": url}],
        },
    )
    assert created.status_code == 201, created.text
    watch = created.json()
    assert watch["datasets"] == ["prices", "sentiment"]
    # ...with the inbox open: its stream (through the origin's /inbox/stream route) follows
    listing = client.get("/analysis/alerts").json()
    streamed = follow_inbox(stack.base_url + listing["stream_url"])
    run_token = accepted.json()["stream_url"].split("token=")[1]
    refused = client.get(f"/inbox/stream?token={run_token}")
    assert refused.status_code == 401 and "event:" not in refused.text
    # And a new sentiment snapshot is published by the ingestion workflow
    (tmp_path / "sentiment.csv").write_text(SENTIMENT)
    done = ingest(stack, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # Then a run of the watch is started, like any run (in the history, marked with the watch)
    history = wait_for(
        lambda: [r for r in client.get("/analysis/runs").json()["runs"] if r["run_id"] > run_id]
    )
    fired = client.get(f"/analysis/runs/{history[0]['run_id']}").json()
    assert (fired["watch_id"], fired["scenario_id"]) == (watch["watch_id"], "sentiment_blend")
    # ...and the change reaches the inbox
    page = wait_for(lambda: (p := client.get("/analysis/alerts").json())["alerts"] and p)
    alert = next(a for a in page["alerts"] if a["watch_id"] == watch["watch_id"])
    assert alert["previous_run_id"] == run_id
    assert top in alert["diff"]["entries"]
    # ...and arrives live on the open inbox stream, numbered after what the listing held
    event = wait_for(lambda: streamed and streamed[0])
    after = int(listing["stream_url"].rsplit("last_event_id=", 1)[1])
    assert int(event.id) == after + 1
    assert json.loads(event.data)["alert_id"] == alert["alert_id"]
    # ...and the webhook, signed with the watch's secret
    raw, signature = wait_for(lambda: received and received[0])
    expected = hmac.new(watch["webhook_secret"].encode(), raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, f"sha256={expected}")
    body = json.loads(raw)
    assert (body["watch_id"], body["run_id"], body["previous_run_id"]) == (
        watch["watch_id"],
        alert["run_id"],
        run_id,
    )
    delivered = wait_for(
        lambda: (
            (
                a := next(
                    a
                    for a in client.get("/analysis/alerts").json()["alerts"]
                    if a["alert_id"] == alert["alert_id"]
                )
            )["deliveries"][0]["status"]
            == "sent"
            and a
        )
    )
    assert delivered["deliveries"][0]["target"] == url
    # And deleting the watch stops it
    assert client.delete(f"/analysis/watches/{watch['watch_id']}").status_code == 204
