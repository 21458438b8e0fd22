"""Which stack a command talks to (``--url``, default ``$QUANTDESK_URL`` or the local origin),
and the error every command reports the same way (exit code 2). Light on purpose: every
command module imports it to build the parser."""

from __future__ import annotations

import argparse
import os
from typing import Final
from urllib.parse import urlsplit

DEFAULT_URL: Final = os.environ.get("QUANTDESK_URL", "http://127.0.0.1:8080")
LOOPBACK: Final = ("127.0.0.1", "localhost", "::1")
#: the local cloud's AWS endpoint and stack (commands that talk to AWS services directly)
LOCAL_ENDPOINT: Final = "127.0.0.1:4566"
LOCAL_STACK: Final = "quantdesk"


class CliError(Exception):
    """A problem to report to the researcher (exit code 2)."""


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in LOOPBACK


def add_cloud_arguments(parser: argparse.ArgumentParser, stack_names: str) -> None:
    """``--endpoint``, ``--stack`` and ``--aws`` for commands that call AWS services directly;
    ``stack_names``: what the stack's outputs name for the command (for its help)."""
    parser.add_argument(
        "--endpoint",
        default=os.environ.get("LOCALSTACK_HOST") or LOCAL_ENDPOINT,
        help=f"local cloud host:port (default {LOCAL_ENDPOINT})",
    )
    parser.add_argument(
        "--stack",
        default=LOCAL_STACK,
        help=f"the stack whose outputs name {stack_names} (default {LOCAL_STACK})",
    )
    parser.add_argument("--aws", action="store_true", help="use real AWS, not the local cloud")


def use_cloud(args: argparse.Namespace) -> None:
    """Point this process's AWS clients at the local cloud unless ``--aws`` (the CLI is an entry
    point: it configures where the clients go)."""
    if not args.aws:
        os.environ["LOCALSTACK_HOST"] = args.endpoint
