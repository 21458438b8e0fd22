"""The researcher's command line: ``quantdesk <command>``.

Each command lives in its own module exposing ``register(subparsers)``; it sets ``func`` on its
parser, called with the parsed args and returning the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Final

COMMAND_MODULES: Final = (
    "ask",
    "run_scenario",
    "ingest",
    "login",
    "dlq",
    "models",
    "analytics",
    "report",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quantdesk", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"quantdesk.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"quantdesk.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
