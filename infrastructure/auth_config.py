"""Print the AWS stack's ``auth-config.json``, which the deploy uploads next to the web UI:

    python -m infrastructure.auth_config --region R --domain PREFIX --client-id ID \
        --site-url https://dxxxx.cloudfront.net > auth-config.json
"""

from __future__ import annotations

import argparse
import sys

from infrastructure.resources import USER_POOL
from quantdesk.auth_config import for_aws, hosted_ui_domain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infrastructure.auth_config")
    parser.add_argument("--region", required=True)
    parser.add_argument("--domain", required=True, help="the pool's domain prefix or its URL")
    parser.add_argument("--client-id", required=True, help="the web app client's id")
    parser.add_argument("--site-url", required=True, help="the CloudFront URL of the web UI")
    args = parser.parse_args(argv)
    domain = args.domain
    if not domain.startswith("https://"):
        domain = hosted_ui_domain(domain, args.region)
    config = for_aws(
        domain=domain,
        client_id=args.client_id,
        region=args.region,
        site_url=args.site_url,
        callback_path=USER_POOL.callback_path,
    )
    sys.stdout.write(config.model_dump_json(indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
