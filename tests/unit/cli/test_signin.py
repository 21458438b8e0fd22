"""The CLI's sign-in: the token cache (0600, per site), refresh when due, the local-only
commands' refusal, and Cognito's USER_PASSWORD_AUTH (moto's in-process Cognito)."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from infrastructure.resources import USER_POOL
from quantdesk import aws
from quantdesk.auth_config import AuthConfig
from quantdesk.cli import main
from quantdesk.cli.credentials import Session, TokenCache, config_dir, site_key
from quantdesk.cli.signin import bearer_token, cognito_sign_in, refresh
from quantdesk.cli.target import CliError

SITE = "http://127.0.0.1:8080"
LOCAL = AuthConfig(
    mode="local",
    domain=SITE,
    client_id="client-1",
    redirect_uri=f"{SITE}/auth/callback/",
    logout_uri=f"{SITE}/",
    region="us-east-1",
    default_user="researcher",
)


def session(mode: str = "local", *, expires_in: float = 3600, token: str = "id-1") -> Session:
    return Session("analyst", token, "refresh-1", time.time() + expires_in, mode)


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def offline(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected, got {request.method} {request.url}")


# -- the cache -------------------------------------------------------------------------------


def test_cache_lives_in_xdg_config_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert TokenCache().path == tmp_path / "quantdesk" / "tokens.json"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert config_dir() == Path.home() / ".config" / "quantdesk"


def test_cache_file_is_private_and_keyed_by_site(tmp_path: Path) -> None:
    # Given a cache in a fresh directory, even where the umask would leave files readable
    cache = TokenCache(tmp_path / "cfg" / "quantdesk" / "tokens.json")
    # When sessions for two sites are stored
    cache.put("HTTP://127.0.0.1:8080/", session(token="local"))
    cache.put("https://d1.cloudfront.net", session("cognito", token="aws"))
    # Then only the owner can read the file or enter its directory
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.path.parent.stat().st_mode) == 0o700
    # And each site finds its own session, however its URL is written
    found = cache.get("http://127.0.0.1:8080")
    assert found is not None and found.id_token == "local"
    aws = cache.get("https://D1.cloudfront.net:443/analysis")
    assert aws is not None and aws.id_token == "aws"
    assert cache.remove(SITE) and cache.get(SITE) is None
    assert json.loads(cache.path.read_text()).keys() == {"https://d1.cloudfront.net"}


def test_an_existing_readable_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{}")
    path.chmod(0o644)
    TokenCache(path).put(SITE, session())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_site_key_normalises_case_default_ports_and_paths() -> None:
    assert site_key("HTTPS://Example.com:443/x/") == "https://example.com"
    assert site_key("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"


# -- which token a command sends -------------------------------------------------------------


def test_no_login_sends_no_token(tmp_path: Path) -> None:
    with client_for(offline) as client:
        assert bearer_token(client, SITE, cache=TokenCache(tmp_path / "t.json")) is None


def test_a_fresh_cached_login_is_sent_as_is(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "t.json")
    cache.put(SITE, session(token="fresh"))
    with client_for(offline) as client:
        assert bearer_token(client, SITE, cache=cache) == "fresh"


def test_an_expired_local_login_is_refreshed_and_cached(tmp_path: Path) -> None:
    # Given a cached local session whose ID token expires within the margin
    cache = TokenCache(tmp_path / "t.json")
    cache.put(SITE, session(expires_in=10, token="old"))
    seen: list[dict[str, str]] = []

    def site(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth-config.json":
            return httpx.Response(200, content=LOCAL.model_dump_json())
        assert request.url.path == "/oauth2/token"
        seen.append(dict(httpx.QueryParams(request.content.decode())))
        return httpx.Response(200, json={"id_token": "new", "expires_in": 3600})

    # When a command asks for its token
    with client_for(site) as client:
        token = bearer_token(client, SITE, cache=cache)
    # Then the refresh grant ran with the cached refresh token, and the new token is kept
    assert token == "new"
    assert seen == [
        {"grant_type": "refresh_token", "client_id": "client-1", "refresh_token": "refresh-1"}
    ]
    kept = cache.get(SITE)
    assert kept is not None and kept.id_token == "new" and not kept.expired()
    assert kept.refresh_token == "refresh-1"


def test_a_refused_refresh_forgets_the_session(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "t.json")
    cache.put(SITE, session(expires_in=-5))

    def site(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth-config.json":
            return httpx.Response(200, content=LOCAL.model_dump_json())
        return httpx.Response(400, json={"error": "invalid_grant", "error_description": "revoked"})

    with client_for(site) as client, pytest.raises(CliError, match="revoked"):
        bearer_token(client, SITE, cache=cache)
    assert cache.get(SITE) is None


def test_user_option_is_refused_off_the_local_stack_before_any_request(tmp_path: Path) -> None:
    with client_for(offline) as client, pytest.raises(CliError, match="not the local stack"):
        bearer_token(client, "https://d1.cloudfront.net", user="mallory")


def test_user_option_is_refused_when_a_loopback_site_is_not_local() -> None:
    cognito = LOCAL.model_copy(update={"mode": "cognito"})

    def site(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=cognito.model_dump_json())

    with client_for(site) as client, pytest.raises(CliError, match="not the local stack"):
        bearer_token(client, "http://localhost:9000", user="mallory")


# -- the commands ----------------------------------------------------------------------------


def test_dev_token_refuses_a_remote_site_with_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["dev-token", "analyst", "--url", "https://d1.cloudfront.net"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "not the local stack" in err


def test_logout_forgets_the_site(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    TokenCache().put(SITE, session())
    assert main(["logout", "--url", SITE]) == 0
    assert TokenCache().get(SITE) is None
    assert "Signed out" in capsys.readouterr().out


# -- AWS: Cognito's USER_PASSWORD_AUTH (moto) -------------------------------------------------


@pytest.fixture
def pool(moto_aws: None) -> AuthConfig:
    cognito = aws.client("cognito-idp")
    pool_id = cognito.create_user_pool(**USER_POOL.create_pool_kwargs())["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        **USER_POOL.create_client_kwargs(pool_id, "https://d1.cloudfront.net")
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="ada",
        TemporaryPassword="Temporary-Pass1",
        MessageAction="SUPPRESS",
    )
    return LOCAL.model_copy(
        update={"mode": "cognito", "client_id": client_id, "default_user": None}
    )


def test_cognito_first_sign_in_sets_a_new_password_then_refreshes(pool: AuthConfig) -> None:
    # Given a user an administrator created with a temporary password
    asked: list[str] = []

    def new_password() -> str:
        asked.append("new")
        return "Chosen-Password-9"

    # When they sign in with it
    first = cognito_sign_in(pool, "ada", "Temporary-Pass1", new_password)
    # Then they chose a new password and hold the pool's tokens
    assert asked == ["new"]
    assert first.mode == "cognito" and first.id_token.count(".") == 2 and first.refresh_token
    # And the new password signs in without a challenge
    second = cognito_sign_in(pool, "ada", "Chosen-Password-9", new_password)
    assert asked == ["new"] and second.username == "ada"

    # And an expired session is refreshed with REFRESH_TOKEN_AUTH
    def site(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=pool.model_dump_json())

    with client_for(site) as client:
        renewed = refresh(client, SITE, second)
    assert renewed.id_token.count(".") == 2 and renewed.refresh_token == second.refresh_token


def test_cognito_wrong_password_is_a_clear_error(pool: AuthConfig) -> None:
    with pytest.raises(CliError, match="incorrect username or password"):
        cognito_sign_in(pool, "ada", "Wrong-Password-1", lambda: "unused")
