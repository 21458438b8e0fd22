"""The HTTP server in front of the local endpoint's WSGI app (moto's dispatcher): cheroot, with
HTTP/1.1 persistent connections and a pool of worker threads.

moto's own server (werkzeug's development server) answers every request with
``Connection: close`` and starts a thread per connection: each of the hundreds of requests a
second the stack makes under load (every handler's, the Step Functions interpreter's, the
stream poller's and the SSE tails' calls) paid a TCP connect, a new thread and a close, in the
process whose interpreter lock every request shares. Here clients keep their connections (boto3
pools them) and requests run on a fixed pool of threads; a request waits in the pool's queue,
never for a thread to be created.
"""

from __future__ import annotations

import threading
from typing import Any, Final

#: worker threads: enough that requests which wait on others (a Lambda invocation waits for its
#: handler, which calls the endpoint back) never hold every thread
THREADS: Final = 128
#: idle persistent connections kept open (every client pool's connections, with room)
KEEP_ALIVE_CONNECTIONS: Final = 1024
#: seconds a request may take to arrive, and an idle persistent connection is kept
TIMEOUT_S: Final = 60


class EndpointServer:
    """Serves ``app`` on ``host:port``: :meth:`bind` (fails at once if the port is taken), then
    :meth:`serve` in a background thread; requests that arrive in between wait in the backlog."""

    def __init__(self, host: str, port: int, app: Any) -> None:
        from cheroot import wsgi  # noqa: PLC0415 - only the local cloud needs it

        self._server = wsgi.Server(
            (host, port),
            app,
            numthreads=THREADS,
            request_queue_size=1024,
            timeout=TIMEOUT_S,
            shutdown_timeout=1,
        )
        self._server.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS
        self._thread: threading.Thread | None = None

    def bind(self) -> EndpointServer:
        self._server.prepare()
        return self

    def serve(self) -> EndpointServer:
        self._thread = threading.Thread(
            target=self._server.serve, name="local-endpoint", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        if self._thread:
            self._thread.join(timeout=10)
