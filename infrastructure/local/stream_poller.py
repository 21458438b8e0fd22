"""A DynamoDB-stream event-source mapping for the local cloud, behaving like Lambda's.

moto's own mappings invoke synchronously inside the table write and then clear the shard, so
we poll the stream ourselves: per shard, records are read in order, filtered with the mapping's
filter criteria (non-matching records are dropped, as on AWS), delivered in batches of up to
``batch_size`` through the Lambda Invoke API (so the handler gets AWS's event shape), and the
checkpoint advances only past records the function processed. A failed batch is retried,
bisected when ``bisect_on_error`` is set, and ``batchItemFailures`` resume from the first
failed record. After ``maximum_retry_attempts`` a record is skipped and logged (AWS would send
it to the on-failure destination).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from infrastructure.local.event_filter import matches
from infrastructure.resources import StreamMapping

log = logging.getLogger("quantdesk.local.stream")


class StreamPoller:
    def __init__(
        self,
        mapping: StreamMapping,
        stream_arn: str,
        streams: Any,
        lambda_client: Any,
        interval_s: float = 0.02,
    ) -> None:
        self.mapping = mapping
        self.stream_arn = stream_arn
        self._streams = streams
        self._lambda = lambda_client
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stream-poller", daemon=True)
        self._iterators: dict[str, str] = {}
        self.delivered = 0
        self.dropped_by_filter = 0
        self.skipped: list[str] = []

    def start(self) -> None:
        for shard in self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
            "Shards"
        ]:
            self._iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            busy = False
            for shard_id in list(self._iterators):
                try:
                    busy |= self._poll_shard(shard_id)
                except Exception:  # keep polling, as the managed service does
                    log.exception("stream poll failed")
                    time.sleep(0.5)
            if not busy:
                self._stop.wait(self.interval_s)

    def _poll_shard(self, shard_id: str) -> bool:
        response = self._streams.get_records(
            ShardIterator=self._iterators[shard_id], Limit=self.mapping.batch_size
        )
        records = response["Records"]
        if records:
            self._deliver(records)
        self._iterators[shard_id] = response["NextShardIterator"]
        return bool(records)

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        patterns = self.mapping.filter_patterns
        selected = [r for r in records if not patterns or any(matches(p, r) for p in patterns)]
        self.dropped_by_filter += len(records) - len(selected)
        pending = [self._as_lambda_record(r) for r in selected]
        attempts = 0
        while pending:
            failed_from = self._invoke(pending)
            if failed_from is None:
                self.delivered += len(pending)
                return
            self.delivered += failed_from
            pending = pending[failed_from:]
            attempts += 1
            if attempts > self.mapping.maximum_retry_attempts:
                self.skipped.append(pending[0]["dynamodb"]["SequenceNumber"])
                log.error("skipping stream record after retries: %s", self.skipped[-1])
                pending = pending[1:]
                attempts = 0
            elif self.mapping.bisect_on_error and failed_from == 0 and len(pending) > 1:
                # deliver the first half alone; the rest follows once it succeeds
                half = len(pending) // 2
                first_failed = self._invoke(pending[:half])
                if first_failed is None:
                    self.delivered += half
                    pending = pending[half:]
            time.sleep(min(0.05 * attempts, 0.5))

    def _invoke(self, batch: list[dict[str, Any]]) -> int | None:
        """Deliver a batch; None when all succeeded, else the index of the first failure."""
        response = self._lambda.invoke(
            FunctionName=self.mapping.function,
            Payload=json.dumps({"Records": batch}, default=str).encode(),
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            log.warning("stream batch failed: %s", payload)
            return 0
        failures = (payload or {}).get("batchItemFailures") if isinstance(payload, dict) else None
        if not failures or not self.mapping.report_batch_item_failures:
            return None
        failed_ids = {f["itemIdentifier"] for f in failures}
        for index, record in enumerate(batch):
            if record["dynamodb"]["SequenceNumber"] in failed_ids:
                return index
        return None

    def _as_lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """Lambda adds ``eventSourceARN`` and epoch-second creation times to stream records."""
        converted = dict(record)
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if created is not None and hasattr(created, "timestamp"):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        converted["dynamodb"] = dynamodb
        converted["eventSourceARN"] = self.stream_arn
        return converted
