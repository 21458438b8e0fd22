"""``quantdesk login``, ``quantdesk logout`` and ``quantdesk dev-token <user>``.

``login`` signs in to a site and caches the session (see ``quantdesk.cli.credentials``): on AWS
with a username and password read from the terminal, on the local stack with a username alone.
``dev-token`` (local stack only) creates the user if needed and prints a bearer ID token for
them, alone on stdout: ``curl -H "Authorization: Bearer $(quantdesk dev-token analyst)" ...``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from quantdesk.cli.credentials import TokenCache
from quantdesk.cli.target import DEFAULT_URL, CliError


def register(subparsers: Any) -> None:
    url_help = f"the site (default {DEFAULT_URL}, or $QUANTDESK_URL)"
    login = subparsers.add_parser("login", help="sign in and cache the session for a site")
    login.add_argument("--url", default=DEFAULT_URL, help=url_help)
    login.add_argument("--username", help="prompted for when omitted")
    login.set_defaults(func=run_login)

    logout = subparsers.add_parser("logout", help="forget the cached session for a site")
    logout.add_argument("--url", default=DEFAULT_URL, help=url_help)
    logout.set_defaults(func=run_logout)

    dev = subparsers.add_parser(
        "dev-token", help="local stack only: print a bearer token for USER (created if needed)"
    )
    dev.add_argument("user")
    dev.add_argument("--url", default=DEFAULT_URL, help=url_help)
    dev.set_defaults(func=run_dev_token)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def run_login(args: argparse.Namespace) -> int:
    # CLI start-up: every command module is imported to build the parser
    import httpx  # noqa: PLC0415

    from quantdesk.cli.signin import (  # noqa: PLC0415
        cognito_sign_in,
        fetch_config,
        local_sign_in,
    )

    try:
        with httpx.Client(timeout=30) as client:
            config = fetch_config(client, args.url)
            username = args.username or input("Username: ").strip()
            if not username:
                raise CliError("a username is required")
            if config.mode == "local":
                session = local_sign_in(client, config, username)
            else:
                password = getpass.getpass("Password: ")
                session = cognito_sign_in(config, username, password, _new_password)
    except CliError as exc:
        return _fail(str(exc))
    except (EOFError, KeyboardInterrupt):
        return _fail("sign-in cancelled")
    cache = TokenCache()
    cache.put(args.url, session)
    print(f"Signed in to {args.url} as {session.username} (session kept in {cache.path})")
    return 0


def _new_password() -> str:
    print("First sign-in: choose a new password.", file=sys.stderr)
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat it: "):
        raise CliError("the two passwords differ")
    return first


def run_logout(args: argparse.Namespace) -> int:
    removed = TokenCache().remove(args.url)
    print(f"Signed out of {args.url}" if removed else f"No session for {args.url}")
    return 0


def run_dev_token(args: argparse.Namespace) -> int:
    # CLI start-up: every command module is imported to build the parser
    import httpx  # noqa: PLC0415

    from quantdesk.cli.signin import fetch_config, local_sign_in, require_local  # noqa: PLC0415

    try:
        require_local(args.url)
        with httpx.Client(timeout=30) as client:
            config = fetch_config(client, args.url)
            require_local(args.url, config)
            session = local_sign_in(client, config, args.user)
    except CliError as exc:
        return _fail(str(exc))
    sys.stdout.write(session.id_token + "\n")
    return 0
