#!/bin/sh
# Lambda Web Adapter entry point (the function's "handler"): the adapter layer's /opt/bootstrap
# runs this script, waits for the readiness check, then proxies each Function URL invocation to
# uvicorn and streams the response back (AWS_LWA_INVOKE_MODE=response_stream).
# PYTHONPATH: the code dir first, then the core layer (/opt/python).
export PYTHONPATH="${LAMBDA_TASK_ROOT:-.}:/opt/python${PYTHONPATH:+:$PYTHONPATH}"
exec python -m uvicorn app:app --host 127.0.0.1 --port "${PORT:-8000}" \
    --no-access-log --timeout-graceful-shutdown 1
