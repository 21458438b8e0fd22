"""The AWS stack's ``auth-config.json`` as the deploy writes it next to the web UI."""

from __future__ import annotations

import json

import pytest

from infrastructure.auth_config import main
from quantdesk.auth_config import AuthConfig


def test_aws_config_points_the_ui_at_the_hosted_ui(capsys: pytest.CaptureFixture[str]) -> None:
    # When the deploy writes the configuration from the stack's outputs
    code = main(
        [
            "--region",
            "eu-west-1",
            "--domain",
            "quantdesk-123",
            "--client-id",
            "abc",
            "--site-url",
            "https://d1.cloudfront.net/",
        ]
    )
    # Then the UI signs in on the pool's hosted-UI domain and comes back to the callback page
    assert code == 0
    written = json.loads(capsys.readouterr().out)
    assert written == {
        "mode": "cognito",
        "domain": "https://quantdesk-123.auth.eu-west-1.amazoncognito.com",
        "client_id": "abc",
        "redirect_uri": "https://d1.cloudfront.net/auth/callback/",
        "logout_uri": "https://d1.cloudfront.net/",
        "scopes": ["openid", "email", "profile"],
        "region": "eu-west-1",
        "default_user": None,
    }
    # And the clients read it back as they will at run time
    assert AuthConfig.model_validate(written).mode == "cognito"
