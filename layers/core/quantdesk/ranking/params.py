"""Pre-filled run parameters: what the prompt (or profile) said, validated by the scenario.

Only inputs the scenario's ``params_model`` declares are proposed, and whatever fails its
validation (bounds, cross-field rules) is dropped: a card never carries params the run endpoint
would reject.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ValidationError

from quantdesk.ranking.entities import DAYS_PER_YEAR, TRADING_DAYS_PER_YEAR

#: name fragments of an input that takes the horizon, most specific first
HORIZON_FIELDS: Final = ("horizon", "holding", "lookback")
RISK_FIELDS: Final = ("risk_appetite", "risk_level", "risk")


def _horizon_value(model: type[BaseModel], name: str, calendar_days: int) -> int:
    """Calendar days, or trading sessions unless the field is a ``*_days`` calendar count."""
    info = model.model_fields[name]
    text = f"{info.description or ''} {model.__doc__ or ''}".lower()
    if name.endswith("_days") and "session" not in text and "trading" not in text:
        return calendar_days
    return round(calendar_days * TRADING_DAYS_PER_YEAR / DAYS_PER_YEAR)


def _horizon_fields(model: type[BaseModel]) -> list[str]:
    names = [n for n, f in model.model_fields.items() if f.annotation in (int, int | None)]
    return [n for fragment in HORIZON_FIELDS for n in names if fragment in n]


def _validates(model: type[BaseModel], candidate: dict[str, Any]) -> set[str] | None:
    """None when ``candidate`` validates, else the names at fault (all of them if unnamed)."""
    try:
        model.model_validate(candidate)
    except ValidationError as exc:
        named = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        return (named & set(candidate)) or set(candidate)
    return None


def prefill(
    model: type[BaseModel],
    *,
    tickers: list[str],
    universe: str | None,
    sector: str | None,
    horizon_days: int | None,
    risk: str | None,
) -> dict[str, Any]:
    """The validated subset of the proposed inputs, normalised by the model (JSON-ready)."""
    fields = model.model_fields
    proposed: dict[str, Any] = {}
    if tickers and "tickers" in fields:
        proposed["tickers"] = list(tickers)
    elif universe and "universe" in fields:
        proposed["universe"] = universe
    if sector and "sector" in fields:
        proposed["sector"] = sector
    risk_field = next((name for name in RISK_FIELDS if name in fields), None)
    if risk and risk_field:
        proposed[risk_field] = risk
    accepted: dict[str, Any] = {}
    for name, value in proposed.items():
        if _validates(model, {**accepted, name: value}) is None:
            accepted[name] = value
    if horizon_days:
        for name in _horizon_fields(model):
            value = _horizon_value(model, name, horizon_days)
            if _validates(model, {**accepted, name: value}) is None:
                accepted[name] = value
                break
    if not accepted:
        return {}
    validated = model.model_validate(accepted)
    return validated.model_dump(mode="json", include=set(accepted))
