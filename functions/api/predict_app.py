"""The legacy ``/predict`` endpoint as a Lambda of its own (the template's predict function).

It is built from the API's code directory (same HTTP glue, same error shape, same authorizer)
but serves only the predict routes, so only this function carries the ``predict`` layer
(onnxruntime + numpy): the API's package and cold start stay as they were.
"""

from __future__ import annotations

import os

# No pydantic plugins are used: skip the installed-packages scan at import (cold start).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from chalice import Chalice, ConvertToMiddleware

from chalicelib.http import uniform_responses
from chalicelib.routes import predict
from quantdesk.observability import logger

app = Chalice(app_name="quantdesk-predict")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))
app.register_middleware(uniform_responses, "http")
app.register_blueprint(predict.routes)
