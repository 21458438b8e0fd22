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
from typing import Any

from quantdesk import stack_outputs
from quantdesk.cli.target import add_cloud_arguments, use_cloud
from quantdesk.runs.dead_letters import DeadLetters
from quantdesk.settings import get_settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dlq", help="list or redrive records the projector failed")
    parser.add_argument("action", choices=("list", "redrive"))
    parser.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    add_cloud_arguments(parser, "the queue and the projector")
    parser.set_defaults(func=dlq)


def dlq(args: argparse.Namespace) -> int:
    use_cloud(args)
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
