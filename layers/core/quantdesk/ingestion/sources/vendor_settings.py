"""Settings of the online vendor sources (``QD_<FIELD>`` environment variables), and API keys.

Keys are never in settings or code: a setting names where the key lives, in SSM Parameter Store
(``ssm:/quantdesk/tiingo-key``, a SecureString) or Secrets Manager (``quantdesk/tiingo-key`` or
``secretsmanager:quantdesk/tiingo-key``), read with Powertools Parameters (cached).

On a deployed stage the template sets only ``QD_VENDOR_PARAMETERS_PATH`` (``/<stack>/vendor``)
and the operator keeps two SSM parameters there: ``edgar-user-agent`` (SEC's required contact)
and ``tiingo-key`` (SecureString). ``QD_EDGAR_USER_AGENT`` / ``QD_TIINGO_KEY_NAME`` override them
(a local run, the CLI).
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from pydantic import Field

from quantdesk import aws
from quantdesk.ingestion.errors import SourceConfigError
from quantdesk.settings import EnvSettings

KEY_CACHE_S: Final = 300


class VendorSettings(EnvSettings):
    edgar_user_agent: str = Field(
        "",
        description="User-Agent for SEC EDGAR, which requires a contact: 'Org Name admin@org.org'",
    )
    tiingo_key_name: str = Field(
        "", description="where the Tiingo API key lives: 'ssm:/param/name' or a secret's name"
    )
    vendor_parameters_path: str = Field(
        "", description="SSM path of the operator's vendor parameters (a deployed stage)"
    )
    membership_key: str = Field(
        "reference/universe_changes.csv",
        description="data-bucket key of the universe membership changes file",
    )
    stooq_min_interval_s: float = Field(1.0, ge=0.0, description="between two Stooq requests")
    tiingo_min_interval_s: float = Field(
        1.0, ge=0.0, description="between two Tiingo requests (free plan: 50 an hour, 1000 a day)"
    )
    edgar_min_interval_s: float = Field(
        0.12, ge=0.1, description="between two SEC requests (SEC allows 10 a second)"
    )
    fetch_budget_s: float = Field(
        600.0, gt=0, description="a fetch stops starting requests after this long (Lambda: 900 s)"
    )


@cache
def get_vendor_settings() -> VendorSettings:
    return VendorSettings.from_env()


@cache
def _provider(kind: str) -> Any:
    # deferred: only a source that needs a key pays for Parameters
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

    if kind == "ssm":
        return parameters.SSMProvider(boto3_client=aws.client("ssm"))
    return parameters.SecretsProvider(boto3_client=aws.client("secretsmanager"))


def read_key(location: str, *, what: str) -> str:
    """The API key stored at ``location`` (see the module docstring); a clear config error
    naming the setting when it is missing or empty."""
    if not location:
        raise SourceConfigError(f"{what}: no API key location configured")
    kind, _, name = location.partition(":")
    if kind not in ("ssm", "secretsmanager"):
        kind, name = "secretsmanager", location
    try:
        if kind == "ssm":
            value = _provider(kind).get(name, decrypt=True, max_age=KEY_CACHE_S)
        else:
            value = _provider(kind).get(name, max_age=KEY_CACHE_S)
    except Exception as exc:  # GetParameterError wraps every client failure
        raise SourceConfigError(f"{what}: cannot read the API key at {location}") from exc
    if not isinstance(value, str) or not value.strip():
        raise SourceConfigError(f"{what}: the API key at {location} is empty")
    return value.strip()


def edgar_user_agent(settings: VendorSettings) -> str:
    """SEC's required contact: the setting, else ``<path>/edgar-user-agent`` in SSM."""
    if settings.edgar_user_agent or not settings.vendor_parameters_path:
        return settings.edgar_user_agent
    location = f"ssm:{settings.vendor_parameters_path}/edgar-user-agent"
    return read_key(location, what="edgar User-Agent contact")


def tiingo_key_location(settings: VendorSettings) -> str:
    if settings.tiingo_key_name or not settings.vendor_parameters_path:
        return settings.tiingo_key_name
    return f"ssm:{settings.vendor_parameters_path}/tiingo-key"
