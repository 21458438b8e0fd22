"""``python -m infrastructure.local up``: the whole product on one machine.

Starts the LocalStack-compatible endpoint (moto's server) with the template's resources, the
stream poller and scheduler, ingests the sample data on first start, and serves the API, the
SSE stream and the web UI on one origin. The endpoint's state is kept in ``--state-dir`` across
restarts (``make reset`` empties it).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from infrastructure.resources import ROOT

if TYPE_CHECKING:
    from infrastructure.local.cloud import LocalCloud

STATE_DIR = ROOT / ".local" / "state"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infrastructure.local")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the local cloud and the origin")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--aws-port", type=int, default=4566)
    up.add_argument("--port", type=int, default=8080)
    up.add_argument("--no-sample", action="store_true", help="skip the sample-data ingestion")
    up.add_argument(
        "--require-sign-in",
        action="store_true",
        help="no default researcher: every API request needs a bearer token",
    )
    up.add_argument(
        "--state-dir", type=Path, default=STATE_DIR, help="where the endpoint's state is kept"
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    from infrastructure import resources
    from infrastructure.local import collector, faults
    from infrastructure.local.cloud import LocalCloud
    from infrastructure.local.journal import InUse
    from infrastructure.local.origin import routing_from_stack
    from infrastructure.local.origin_process import OriginConfig, OriginProcess
    from infrastructure.local.sample_data import ensure_sample_data

    started = time.perf_counter()
    site_url = f"http://{args.host}:{args.port}"
    # tests and `make reliability` fire the scheduled rules (the sweeper) every few seconds
    every = os.environ.get("QD_LOCAL_RULE_EVERY_S")
    try:
        cloud = LocalCloud(
            host=args.host,
            port=args.aws_port,
            site_url=site_url,
            rule_every_s=float(every) if every else None,
            state_dir=args.state_dir,
        ).start()
    except InUse as exc:
        print(f"cannot start: {exc} (stop it, or pass another --state-dir)", file=sys.stderr)
        return 1
    assert cloud.stack is not None
    # a clean stop on SIGTERM as on Ctrl-C
    signal.signal(signal.SIGTERM, _interrupt)
    default_user = None if args.require_sign_in else resources.USER_POOL.default_user
    origin = OriginProcess(
        OriginConfig(
            host=args.host,
            port=args.port,
            endpoint=(cloud.host, cloud.port),
            routing=routing_from_stack(cloud.stack),
            identity=cloud.identity,
            environment=cloud.stack.function_environment() | {"QD_ALLOWED_ORIGIN": cloud.site_url},
            default_user=default_user,
            faults=os.environ.get(faults.ENABLE_VARIABLE) == "1",
        ),
        arm_faults=faults.arm_all,
    )
    try:
        # the origin starts while the sample data loads; /healthz says ready after both
        origin.start()
        print(
            f"local cloud   {cloud.endpoint}  (LocalStack-compatible endpoint)\n"
            f"stack         {cloud.stack.name} {cloud.stack.status} in {cloud.deploy_s:.1f}s "
            "(the packaged template, through the endpoint's CloudFormation)",
            flush=True,
        )
        print(restored_summary(cloud, args.state_dir, time.perf_counter() - started), flush=True)
        if not args.no_sample:
            print(ensure_sample_data(), flush=True)
            # /predict answers on a fresh clone: the shipped model, trained on the sample lake
            from quantdesk.predict.returns_model import ensure_champion

            print(ensure_champion(), flush=True)
        origin.wait_listening()
        collector.install()  # start-up's objects are kept; collections leave requests alone
        origin.ready()
        print(f"quantdesk     {site_url}  (web UI, API and stream)", flush=True)
        print(
            f"sign-in       user pool {cloud.identity.pool_id}, app client "
            f"{cloud.identity.client_id}; "
            + (
                "every request needs a bearer token"
                if default_user is None
                else f"requests without a token act as '{default_user}'"
            ),
            flush=True,
        )
        print(
            f"ready in {time.perf_counter() - started:.1f}s; try: "
            '.venv/bin/quantdesk ask "stocks with strong uptrends"',
            flush=True,
        )
        exit_code = origin.wait()
    except KeyboardInterrupt:
        exit_code = 0
    finally:
        origin.stop()
        cloud.stop()
    return 0 if not exit_code else 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def restored_summary(cloud: LocalCloud, state_dir: Path, elapsed_s: float) -> str:
    """What the start-up kept from the last run, and what it could not."""
    report = cloud.restored
    if report is None:
        return "state         in memory only"
    lines = [f"state         {state_dir}: {report.summary()} restored in {elapsed_s:.1f}s"]
    lines += [f"  not restored: {problem}" for problem in report.problems]
    if cloud.interrupted_runs:
        count = len(cloud.interrupted_runs)
        lines.append(
            f"  {count} run{'s' if count > 1 else ''} in flight at the stop ended failed "
            "(interrupted by a restart)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
