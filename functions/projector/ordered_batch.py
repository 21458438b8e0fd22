"""A Powertools batch processor that keeps each run's stream records in order.

Powertools' ``BatchProcessor`` carries on after a failed record, which for a stream would store
a run's event ``n+1`` while ``n`` is still missing: a viewer tailing ``SK > n-1`` would then skip
``n`` for good. Here, once a record of a run fails, that run's later records in the batch are
not processed and are reported as failed too; other runs carry on. Lambda checkpoints at the
lowest reported sequence number and redelivers from there, and storing is idempotent by
sequence, so the redelivered records that had succeeded are no-ops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType


class HeldBack(Exception):
    """Not processed: an earlier record of the same run failed in this batch."""


def run_key(record: dict[str, Any]) -> str:
    """The item a stream record belongs to (its partition key)."""
    keys = record.get("dynamodb", {}).get("Keys", {})
    return str(keys.get("PK", {}).get("S", ""))


class RunOrderedBatchProcessor(BatchProcessor):
    def __init__(self, key: Callable[[dict[str, Any]], str] = run_key) -> None:
        # report failures as batchItemFailures even when the whole batch failed, so Lambda
        # resumes at the first failed record instead of retrying everything
        super().__init__(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
        self._key = key

    def process(self) -> list[tuple[Any, ...]]:
        failed_runs: set[str] = set()
        results: list[tuple[Any, ...]] = []
        for record in self.records:
            key = self._key(record)
            if key in failed_runs:
                results.append(self._hold_back(record))
                continue
            result = self._process_record(record)
            if result[0] == "fail":
                failed_runs.add(key)
            results.append(result)
        return results

    def _hold_back(self, record: dict[str, Any]) -> tuple[Any, ...]:
        data = self._to_batch_type(record=record, event_type=self.event_type, model=self.model)
        error = HeldBack("an earlier record of this run failed")
        return self.failure_handler(record=data, exception=(HeldBack, error, None))
