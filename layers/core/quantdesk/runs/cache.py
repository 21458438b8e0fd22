"""The result cache: an identical request answered with the result an earlier run computed.

Identical means: same owner, scenario id and version, validated params and code version (the
entry's key, a digest of them) and the same data (the snapshot ids the run would read now equal
those the cached run read). One ``BatchGetItem`` fetches the entry together with the ``LATEST``
snapshot pointers of the datasets the scenario reads, so a lookup is one DynamoDB round trip and
no S3 read; an entry ends with its snapshot (a new snapshot of any of those datasets is a miss).

Entries are written when a run succeeds (the projector sees the ``succeeded`` write) and point
at that run's stored result and artifacts; a later run of the same request replaces them.
Entries are per owner: a cached run never links another owner's run.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import ClientError

from quantdesk import keys
from quantdesk.observability import logger
from quantdesk.runs.models import Run
from quantdesk.runs.repository import decode_item
from quantdesk.table_access import TableAccess
from scenarios.base import ScenarioParams, ScenarioSpec

#: entries outlive their use only until the table's TTL sweeps them (a new snapshot already
#: makes them misses; this only bounds the storage of requests never repeated)
ENTRY_TTL_S: Final = 30 * 24 * 3600


def request_digest(run: Run) -> str:
    """The cache key of ``run``'s request: scenario id and version, params, code version."""
    manifest = run.manifest
    canonical = json.dumps(
        [manifest.scenario_id, manifest.scenario_version, manifest.params, manifest.code_version],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def datasets_read(spec: ScenarioSpec, params: ScenarioParams) -> tuple[str, ...]:
    """The datasets a run of ``spec`` with ``params`` reads, as its manifest records them:
    prices, the scenario's own, sectors for a sector filter, the universe unless tickers are
    given."""
    wanted = {"prices", *spec.datasets}
    if params.sector:
        wanted.add("sectors")
    if not params.tickers:
        wanted.add("universe")
    return tuple(sorted(wanted))


@dataclass(frozen=True)
class CacheHit:
    """What a cached run copies from the run it reuses."""

    run_id: str
    result_key: str
    result_summary: dict[str, Any] | None
    data_snapshots: dict[str, str]
    artifacts: dict[str, str]
    timings: dict[str, float]


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class ResultCache(TableAccess):
    def lookup(self, run: Run, datasets: tuple[str, ...]) -> CacheHit | None:
        """The cached result for ``run``'s request on today's data, or None (also when the
        table cannot answer: a miss only costs a computation)."""
        entry_key = keys.cache_key(run.owner, request_digest(run))
        wanted = [entry_key, *(keys.latest_snapshot_key(d) for d in datasets)]
        try:
            response = self._db.batch_get_item(
                RequestItems={
                    self.table: {
                        "Keys": [{k: _s(v) for k, v in key.items()} for key in wanted],
                        "ConsistentRead": True,
                    }
                }
            )
        except ClientError:
            logger.warning("result cache unavailable: computing", exc_info=True)
            return None
        items = {
            (item[keys.PK]["S"], item[keys.SK]["S"]): decode_item(item)
            for item in response.get("Responses", {}).get(self.table, [])
        }
        entry = items.get((entry_key[keys.PK], entry_key[keys.SK]))
        if entry is None or entry.get("expires_at", 0) < time.time():
            return None
        current = {}
        for dataset in datasets:
            pointer = items.get((keys.dataset_pk(dataset), keys.LATEST_SNAPSHOT_SK))
            if pointer is None:  # never ingested, or left unprocessed: no basis for a hit
                return None
            current[dataset] = pointer["snapshot_id"]
        if entry["data_snapshots"] != current:
            return None
        return CacheHit(
            run_id=entry["run_id"],
            result_key=entry["result_key"],
            result_summary=entry.get("result_summary"),
            data_snapshots=entry["data_snapshots"],
            artifacts=entry.get("artifacts") or {},
            timings=entry.get("timings") or {},
        )

    def remember(self, run: Run) -> None:
        """Make ``run`` (succeeded, computed, not itself cached) the entry for its request."""
        if run.status != "succeeded" or run.cached or not run.result_key:
            return
        item = {
            **{k: _s(v) for k, v in keys.cache_key(run.owner, request_digest(run)).items()},
            "run_id": _s(run.run_id),
            "scenario_id": _s(run.scenario_id),
            "result_key": _s(run.result_key),
            "result_summary": _s(json.dumps(run.result_summary, default=str)),
            "data_snapshots": _s(json.dumps(run.manifest.data_snapshots, sort_keys=True)),
            "artifacts": _s(json.dumps(run.artifacts)),
            "timings": _s(json.dumps(run.manifest.timings)),
            "finished_at": _s(run.finished_at or run.updated_at),
            keys.EXPIRES_AT: {"N": str(int(time.time()) + ENTRY_TTL_S)},
        }
        # a replayed stream record of an older run never displaces a newer run's entry
        try:
            self._db.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(finished_at) OR finished_at <= :at",
                ExpressionAttributeValues={":at": item["finished_at"]},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
