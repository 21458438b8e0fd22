"""The single-table key design. Every PK/SK is built here; the template and moto tables are
created from the same constants (``infrastructure.resources``).

| item             | PK              | SK                 | GSI1PK        | GSI1SK            |
|------------------|-----------------|--------------------|---------------|-------------------|
| run              | RUN#<run_id>    | RUN                | OWNER#<owner> | <created_at>#<id> |
| run event        | RUN#<run_id>    | EVT#<seq:010d>     |               |                   |
| dataset snapshot | DATASET#<name>  | SNAP#<snapshot_id> |               |                   |
| latest snapshot  | DATASET#<name>  | LATEST             |               |                   |
| applied batch    | DATASET#<name>  | BATCH#<sha256>     |               |                   |
| ingestion run    | INGEST#<run_id> | INGEST             | INGESTS       | <created_at>#<id> |
| ingested batch   | SOURCE#<source> | BATCH#<fingerprint>|               |                   |
| runs in flight   | LIMIT#<owner>   | INFLIGHT           |               |                   |
| starts in minute | LIMIT#<owner>   | STARTS#<epoch min> |               |                   |
| idempotency key  | IDEM#<owner>    | KEY#<sha256 of key>|               |                   |
| prompt analytics | PROMPTS#<owner> | SUGGEST#<suggest_id>|              |                   |
| watch            | WATCH#<id>      | WATCH              | WATCHES#<owner>| <created_at>#<id>|
| snapshot watch   | SNAPWATCH#<ds>  | WATCH#<id>         |               |                   |
| alert            | ALERTS#<owner>  | ALERT#<alert_id>   |               |                   |
| inbox sequence   | INBOX#<owner>   | SEQ                |               |                   |
| inbox event      | INBOX#<owner>   | EVT#<seq:010d>     |               |                   |
| result cache     | CACHE#<owner>   | KEY#<sha256 of req>|               |                   |

Limit windows and idempotency keys carry ``expires_at`` (epoch seconds, the table's TTL).

A run in flight (``queued`` or ``running``) also carries ``ActivePK`` = ``ACTIVE#<status>`` and
``ActiveSK`` = the time it entered that status: the keys of the sparse ``Active`` index, removed
in the write that ends the run, so the index holds only the runs in flight.
"""

from __future__ import annotations

from typing import Any, Final

PK: Final = "PK"
SK: Final = "SK"
GSI1: Final = "GSI1"
GSI1PK: Final = "GSI1PK"
GSI1SK: Final = "GSI1SK"

RUN_SK: Final = "RUN"
EVENT_PREFIX: Final = "EVT#"
SEQ_WIDTH: Final = 10


#: the sparse index of runs in flight (keys only); see the module docstring
ACTIVE_INDEX: Final = "Active"
ACTIVE_PK: Final = "ActivePK"
ACTIVE_SK: Final = "ActiveSK"
#: the statuses a run is in flight in (the index's partitions)
ACTIVE_STATUSES: Final = ("queued", "running")


def active_index_spec() -> dict[str, Any]:
    """The active index's definition (the template's, moto's, and a restored local table's):
    keys only, so a run's progress writes, which change no key, never write to it."""
    return {
        "IndexName": ACTIVE_INDEX,
        "KeySchema": [
            {"AttributeName": ACTIVE_PK, "KeyType": "HASH"},
            {"AttributeName": ACTIVE_SK, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }


def active_pk(status: str) -> str:
    return f"ACTIVE#{status}"


def run_id_of(pk: str) -> str:
    """The run id in a run item's partition key (``RUN#<run_id>``)."""
    return pk.removeprefix("RUN#")


def run_key(run_id: str) -> dict[str, str]:
    return {PK: f"RUN#{run_id}", SK: RUN_SK}


def run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def event_sk(seq: int) -> str:
    return f"{EVENT_PREFIX}{seq:0{SEQ_WIDTH}d}"


def owner_pk(owner: str) -> str:
    return f"OWNER#{owner}"


def owner_sk(created_at: str, run_id: str) -> str:
    return f"{created_at}#{run_id}"


def dataset_pk(dataset: str) -> str:
    return f"DATASET#{dataset}"


def snapshot_sk(snapshot_id: str) -> str:
    return f"SNAP#{snapshot_id}"


LATEST_SNAPSHOT_SK: Final = "LATEST"

# -- ingestion (issue 5) ----------------------------------------------------------------------
#: a batch already applied to a dataset (idempotency): PK=DATASET#<name>, SK=BATCH#<sha>
BATCH_PREFIX: Final = "BATCH#"
#: an ingestion run's summary: PK=INGEST#<run_id>, SK=INGEST; listed via GSI1PK=INGESTS
INGEST_SK: Final = "INGEST"
INGESTS_GSI1PK: Final = "INGESTS"


def batch_sk(batch_sha: str) -> str:
    return f"{BATCH_PREFIX}{batch_sha}"


def ingest_key(run_id: str) -> dict[str, str]:
    return {PK: f"INGEST#{run_id}", SK: INGEST_SK}


def source_batch_key(source: str, fingerprint: str) -> dict[str, str]:
    """A source batch already ingested (same files / same generator input): re-runs skip it."""
    return {PK: f"SOURCE#{source}", SK: batch_sk(fingerprint)}


# -- per-user limits and idempotency keys (issue 12) --------------------------------------------
#: the table's TTL attribute (epoch seconds)
EXPIRES_AT: Final = "expires_at"


def inflight_key(owner: str) -> dict[str, str]:
    """The set of an owner's run ids that hold an in-flight slot."""
    return {PK: f"LIMIT#{owner}", SK: "INFLIGHT"}


def starts_key(owner: str, minute: int) -> dict[str, str]:
    """An owner's run starts in one clock minute (``minute`` = epoch seconds // 60)."""
    return {PK: f"LIMIT#{owner}", SK: f"STARTS#{minute}"}


def idempotency_key(owner: str, key_digest: str) -> dict[str, str]:
    return {PK: f"IDEM#{owner}", SK: f"KEY#{key_digest}"}


# -- prompt analytics (issue 15) ----------------------------------------------------------------
#: one item per suggest (time-sortable id), the choices that followed appended to it
SUGGEST_PREFIX: Final = "SUGGEST#"


def prompts_pk(owner: str) -> str:
    return f"PROMPTS#{owner}"


def suggest_key(owner: str, suggest_id: str) -> dict[str, str]:
    return {PK: prompts_pk(owner), SK: f"{SUGGEST_PREFIX}{suggest_id}"}


# -- watches and alerts (issue 15) --------------------------------------------------------------
#: a watch: PK=WATCH#<id>, SK=WATCH; listed per owner via GSI1PK=WATCHES#<owner>
WATCH_SK: Final = "WATCH"


def watch_key(watch_id: str) -> dict[str, str]:
    return {PK: f"WATCH#{watch_id}", SK: WATCH_SK}


def watches_pk(owner: str) -> str:
    return f"WATCHES#{owner}"


def snapshot_watch_key(dataset: str, watch_id: str) -> dict[str, str]:
    """A snapshot watch listed under a dataset it reads (a new snapshot of it fires the watch)."""
    return {PK: f"SNAPWATCH#{dataset}", SK: f"WATCH#{watch_id}"}


def snapshot_watches_pk(dataset: str) -> str:
    return f"SNAPWATCH#{dataset}"


def alert_key(owner: str, alert_id: str) -> dict[str, str]:
    """An owner's alert (the inbox): ids sort by time, so the newest come first backwards."""
    return {PK: f"ALERTS#{owner}", SK: f"ALERT#{alert_id}"}


def alerts_pk(owner: str) -> str:
    return f"ALERTS#{owner}"


#: the owner's inbox: a counter (``SEQ``) and one immutable event item per alert, numbered by it
INBOX_SEQ_SK: Final = "SEQ"


def inbox_pk(owner: str) -> str:
    return f"INBOX#{owner}"


# -- result cache (issue 15) ------------------------------------------------------------------


def cache_key(owner: str, request_digest: str) -> dict[str, str]:
    """The owner's last succeeded run for one request (scenario, version, params, code)."""
    return {PK: f"CACHE#{owner}", SK: f"KEY#{request_digest}"}


def latest_snapshot_key(dataset: str) -> dict[str, str]:
    return {PK: dataset_pk(dataset), SK: LATEST_SNAPSHOT_SK}
