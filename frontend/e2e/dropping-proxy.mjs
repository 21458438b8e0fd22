// A pass-through HTTP proxy in front of the origin that cuts SSE streams after a number of
// events, so the e2e suite can check that the browser's EventSource resumes (Last-Event-ID)
// without the UI duplicating timeline entries. Everything else is forwarded unchanged.
import { createServer, request as httpRequest } from 'node:http';

// holdRunReads: answer GET /analysis/runs/{id} only once the browser has reconnected the stream
// (or after 5 s). Local runs finish in under a second; without this, the page's first read of the
// run may already hold the whole timeline, and the UI rightly has nothing left to resume.
export async function startDroppingProxy(
  target,
  { dropAfterEvents = 1, dropStreams = 1, refuseStreams = false, holdRunReads = false } = {},
) {
  const upstream = new URL(target);
  const streams = [];
  let drops = 0;
  const server = createServer(async (req, res) => {
    if (holdRunReads && /^\/analysis\/runs\/[^/?]+/.test(req.url ?? '')) {
      const until = Date.now() + 5000;
      while (streams.length < 2 && Date.now() < until) await new Promise((ok) => setTimeout(ok, 50));
    }
    const isStream = /^\/runs\/[^/]+\/stream/.test(req.url ?? '');
    if (isStream) streams.push({ url: req.url, lastEventId: req.headers['last-event-id'] ?? null });
    if (isStream && refuseStreams) {
      // as if the streaming endpoint were down: EventSource gives up on a non-200 answer
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 'unavailable', message: 'stream unavailable', field: null }));
      return;
    }
    const cut = isStream && drops < dropStreams;
    const proxied = httpRequest(
      {
        hostname: upstream.hostname,
        port: upstream.port || 80,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: upstream.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (!cut) {
          up.pipe(res);
          return;
        }
        let buffer = '';
        let events = 0;
        up.setEncoding('utf8');
        up.on('data', (chunk) => {
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end + 2);
            buffer = buffer.slice(end + 2);
            const isEvent = /^id:/m.test(block);
            if (isEvent) events += 1;
            if (isEvent && events >= dropAfterEvents) {
              drops += 1;
              up.destroy();
              // deliver the event, then the connection just dies (no clean end of the response)
              res.write(block, () => setTimeout(() => res.destroy(), 100));
              up.removeAllListeners('data');
              return;
            }
            res.write(block);
          }
        });
        up.on('end', () => res.end(buffer));
      },
    );
    proxied.on('error', () => res.destroy());
    req.pipe(proxied);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    streamRequests: () => [...streams],
    dropped: () => drops,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}
