"""``quantdesk dlq list|redrive``: the run-event records the projector could not handle.

``list`` prints one line per dead letter (condition, attempts, stream range, arrival);
``redrive`` replays each through the projector and removes those that now succeed. Against the
local cloud by default, or AWS with ``--aws``. Exit code 0 when nothing is left failing, 1 when
a redrive failed again (or the stack is unreachable).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Final

from quantdesk import stack_outputs
from quantdesk.runs.dead_letters import DeadLetters
from quantdesk.settings import get_settings

LOCAL_ENDPOINT: Final = "127.0.0.1:4566"
#: the local cloud's stack
LOCAL_STACK: Final = "quantdesk"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dlq", help="list or redrive records the projector failed")
    parser.add_argument("action", choices=("list", "redrive"))
    parser.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    parser.add_argument(
        "--endpoint",
        default=os.environ.get("LOCALSTACK_HOST") or LOCAL_ENDPOINT,
        help=f"local cloud host:port (default {LOCAL_ENDPOINT})",
    )
    parser.add_argument(
        "--stack",
        default=LOCAL_STACK,
        help=f"the stack whose outputs name the queue and the projector (default {LOCAL_STACK})",
    )
    parser.add_argument("--aws", action="store_true", help="use real AWS, not the local cloud")
    parser.set_defaults(func=dlq)


def dlq(args: argparse.Namespace) -> int:
    if not args.aws:
        # the CLI is an entry point: it configures where the AWS clients go
        os.environ["LOCALSTACK_HOST"] = args.endpoint
    try:
        os.environ.update(stack_outputs.environment(stack_outputs.outputs(args.stack)))
        get_settings.cache_clear()
        settings = get_settings()
        letters = DeadLetters(settings.projector_dlq, settings.projector_function)
        if args.action == "list":
            listed = letters.pending(args.limit)
            for letter in listed:
                print(
                    f"{letter.message_id}  {letter.condition} after {letter.attempts} attempt(s)"
                    f"  records {letter.first}..{letter.last} ({letter.size})"
                    f"  shard {letter.shard_id}  arrived {letter.arrived}"
                )
            print(f"{len(listed)} dead letter(s) in {settings.projector_dlq}")
            return 0
        outcomes = letters.redrive(args.limit)
    except Exception as exc:  # an unreachable stack is the common case: say so plainly
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("is the stack running? start it with `make up`", file=sys.stderr)
        return 1
    for outcome in outcomes:
        verdict = "redriven" if outcome.ok else "still failing"
        print(f"{outcome.letter.message_id}  {verdict}: {outcome.detail}")
    failed = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes) - failed} redriven, {failed} still failing")
    return 1 if failed else 0
