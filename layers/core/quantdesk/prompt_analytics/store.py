"""DynamoDB access for prompt analytics: the single table, one item per suggest.

``PK=PROMPTS#<owner>``, ``SK=SUGGEST#<suggest_id>`` (a time-sortable id, so a date window is one
key-range Query). A run started from a card appends its choice to that item, on condition that
the item exists under the caller's key and shows that card at that rank: one owner can neither
read nor extend another's analytics. Items expire after ``RETENTION_DAYS`` (the table's TTL).

Recording stays off the suggest's latency: the PutItem runs on a background thread after the
answer is built, and the request does not wait for it (``bench_prompt_analytics`` measures
both). Anything that reads or extends the log first waits for this container's pending writes
(``flush``), so a choice never races its own suggest. The price, on AWS: a write still pending
when Lambda freezes the container finishes when it thaws, and is lost if the container is
reclaimed in between. Analytics are best-effort; the run itself keeps its provenance (prompt,
rank, suggest id) in its manifest either way. Recording never fails the request it describes: a
write that fails is logged and dropped. botocore is imported on first use, on the writer thread
for a suggest, so the first suggest of a container does not pay for it.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Final

from quantdesk import keys
from quantdesk.clock import iso
from quantdesk.observability import logger
from quantdesk.prompt_analytics.models import Card, Choice, SuggestRecord
from quantdesk.runs.ids import ceiling_id, floor_id, new_run_id

RETENTION_DAYS: Final = 400
#: suggests one report reads at most (a window with more is reported ``truncated``)
MAX_ITEMS: Final = 20_000
_BATCH_GET: Final = 100
#: how long a reader waits for this container's pending writes
FLUSH_TIMEOUT_S: Final = 5.0


class PromptLog:
    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prompt-log")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def flush(self, timeout: float = FLUSH_TIMEOUT_S) -> None:
        """Wait (at most ``timeout`` seconds) for the writes this process has queued."""
        with self._lock:
            pending = set(self._pending)
        wait(pending, timeout=timeout)

    def _in_background(self, item: dict[str, Any]) -> None:
        future = self._writer.submit(self._put, item)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _put(self, item: dict[str, Any]) -> None:
        """On the writer thread: the first suggest's botocore import and client happen here."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - see above

        from quantdesk import aws  # noqa: PLC0415 - see above

        try:
            aws.client("dynamodb").put_item(TableName=self.table, Item=item)
        except (ClientError, BotoCoreError) as exc:
            logger.warning(
                "suggest not recorded",
                extra={"suggest_id": item["suggest_id"]["S"], "error": str(exc)},
            )

    def record_suggest(
        self,
        owner: str,
        *,
        prompt: str,
        prompt_hash: str,
        no_match: bool,
        cards: Iterable[Card],
        at: dt.datetime | None = None,
    ) -> str:
        """Queue one suggest made ``at`` (default: now) for writing; its id."""
        moment = at or dt.datetime.now(dt.UTC)
        suggest_id = new_run_id(int(moment.timestamp() * 1000))
        shown = list(cards)
        item = {
            **{k: {"S": v} for k, v in keys.suggest_key(owner, suggest_id).items()},
            "suggest_id": {"S": suggest_id},
            "at": {"S": iso(moment)},
            "prompt": {"S": prompt},
            "prompt_hash": {"S": prompt_hash},
            "no_match": {"BOOL": no_match},
            "card_ids": {"L": [{"S": c.scenario_id} for c in shown]},
            "cards": {"S": json.dumps([c.model_dump(mode="json") for c in shown])},
            keys.EXPIRES_AT: {"N": str(int(moment.timestamp()) + RETENTION_DAYS * 86_400)},
        }
        self._in_background(item)
        return suggest_id

    def record_choice(self, owner: str, suggest_id: str, choice: Choice) -> bool:
        """Append ``choice`` to the caller's suggest; False (logged) when there is no such
        suggest of this owner showing that scenario at that rank, or the write failed."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - cold start

        from quantdesk import aws  # noqa: PLC0415 - cold start

        self.flush()
        try:
            aws.client("dynamodb").update_item(
                TableName=self.table,
                Key={k: {"S": v} for k, v in keys.suggest_key(owner, suggest_id).items()},
                UpdateExpression="SET choices = list_append(if_not_exists(choices, :none), :c)",
                ConditionExpression=f"attribute_exists(PK) AND card_ids[{choice.rank - 1}] = :sid",
                ExpressionAttributeValues={
                    ":none": {"L": []},
                    ":c": {"L": [{"S": choice.model_dump_json()}]},
                    ":sid": {"S": choice.scenario_id},
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            logger.warning(
                "choice not recorded",
                extra={"suggest_id": suggest_id, "rank": choice.rank, "error": code},
            )
            return False
        except BotoCoreError as exc:
            logger.warning("choice not recorded", extra={"error": str(exc)})
            return False
        return True

    def suggests(self, owner: str, start_ms: int, end_ms: int) -> tuple[list[SuggestRecord], bool]:
        """The owner's suggests created in ``[start_ms, end_ms)``, oldest first; and whether
        there were more than ``MAX_ITEMS``."""
        from quantdesk import aws  # noqa: PLC0415 - cold start

        self.flush()
        pk = keys.prompts_pk(owner)
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":lo": {"S": keys.SUGGEST_PREFIX + floor_id(start_ms)},
                ":hi": {"S": keys.SUGGEST_PREFIX + ceiling_id(end_ms - 1)},
            },
        }
        records: list[SuggestRecord] = []
        while True:
            page = aws.client("dynamodb").query(**params)
            records.extend(_record(item) for item in page.get("Items", []))
            if len(records) >= MAX_ITEMS:
                return records[:MAX_ITEMS], True
            if "LastEvaluatedKey" not in page:
                return records, False
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def run_statuses(self, owner: str, run_ids: Iterable[str]) -> dict[str, str]:
        """run id -> status, for the runs among ``run_ids`` that exist and belong to ``owner``."""
        from quantdesk import aws  # noqa: PLC0415 - cold start

        wanted = sorted(set(run_ids))
        statuses: dict[str, str] = {}
        for i in range(0, len(wanted), _BATCH_GET):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {k: {"S": v} for k, v in keys.run_key(run_id).items()}
                        for run_id in wanted[i : i + _BATCH_GET]
                    ],
                    "ProjectionExpression": "run_id, #s, #o",
                    "ExpressionAttributeNames": {"#s": "status", "#o": "owner"},
                }
            }
            while request:
                page = aws.client("dynamodb").batch_get_item(RequestItems=request)
                for item in page.get("Responses", {}).get(self.table, []):
                    if item["owner"]["S"] == owner:
                        statuses[item["run_id"]["S"]] = item["status"]["S"]
                request = page.get("UnprocessedKeys") or {}
        return statuses


def _record(item: dict[str, Any]) -> SuggestRecord:
    return SuggestRecord(
        suggest_id=item["suggest_id"]["S"],
        at=item["at"]["S"],
        prompt=item["prompt"]["S"],
        prompt_hash=item["prompt_hash"]["S"],
        no_match=item["no_match"]["BOOL"],
        cards=[Card.model_validate(c) for c in json.loads(item["cards"]["S"])],
        choices=[Choice.model_validate_json(c["S"]) for c in item.get("choices", {}).get("L", [])],
    )
