"""The SSE function's internals: settings, the SSE wire format, the per-run tail that fans one
table query out to every viewer of a run, and the disconnect-aware streaming response."""
