"""The quantdesk REST API (AWS Chalice). Routes live in chalicelib/routes as blueprints."""

from __future__ import annotations

import os

# No pydantic plugins are used: skip the installed-packages scan at import (cold start).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from chalice import Chalice, ConvertToMiddleware

from chalicelib.http import uniform_responses
from chalicelib.routes import analytics, catalogue, contract, runs, suggest, universes, watches
from quantdesk.observability import logger

app = Chalice(app_name="quantdesk-api")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))
app.register_middleware(uniform_responses, "http")
app.register_blueprint(suggest.routes)
app.register_blueprint(catalogue.routes)
app.register_blueprint(runs.routes)
app.register_blueprint(contract.routes)
app.register_blueprint(universes.routes)
app.register_blueprint(analytics.routes)
app.register_blueprint(watches.routes)
