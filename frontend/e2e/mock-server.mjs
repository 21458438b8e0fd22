// A tiny stand-in for the local origin (:8080) used while developing the UI: serves frontend/out
// statically and fakes /analysis/* and the SSE stream with the same contracts. Not used by the
// pytest e2e suite, which runs against the real stack.
//   node e2e/mock-server.mjs [port]      (default 8090)
// POST /__mock/drop closes every open SSE connection (the browser then resumes with Last-Event-ID).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../out/', import.meta.url));
const PORT = Number(process.argv[2] ?? process.env.PORT ?? 8090);
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

const base = {
  universe: {
    default: 'us_large_cap',
    description: 'Universe of assets to analyse',
    enum: ['us_large_cap', 'us_mid_cap', 'us_small_cap', 'us_all'],
    title: 'Universe',
    type: 'string',
  },
  tickers: {
    anyOf: [{ items: { type: 'string' }, maxItems: 500, minItems: 1, type: 'array' }, { type: 'null' }],
    default: null,
    description: 'Explicit tickers; overrides universe when given',
    title: 'Tickers',
  },
  sector: {
    anyOf: [{ type: 'string' }, { type: 'null' }],
    default: null,
    description: 'Restrict to one sector (GICS name)',
    title: 'Sector',
  },
  as_of: {
    anyOf: [{ format: 'date', type: 'string' }, { type: 'null' }],
    default: null,
    description: 'Analysis date; defaults to latest data',
    title: 'As Of',
  },
};
const SCENARIOS = [
  {
    scenario_id: 'trend_strength',
    version: '1.0.0',
    title: 'Trend strength',
    description: 'Ranks assets by how strongly they trend: ADX, moving-average slope and 12-1 momentum.',
    keywords: ['trend', 'adx', 'momentum'],
    deliverables: ['Trend ladder', 'ADX by asset'],
    methodology: 'ADX(14), MA slope',
    datasets: ['prices'],
    history_days: 400,
    inputs: {
      additionalProperties: false,
      properties: {
        ...base,
        lookback_days: {
          default: 126,
          description: 'Lookback window',
          maximum: 756,
          minimum: 20,
          title: 'Lookback Days',
          type: 'integer',
        },
        top_n: { default: 10, exclusiveMinimum: 0, maximum: 100, title: 'Top N', type: 'integer' },
      },
      title: 'Params',
      type: 'object',
    },
  },
  {
    scenario_id: 'momentum_rank',
    version: '1.0.0',
    title: 'Momentum ranking',
    description: 'Cross-sectional 12-1 momentum with quantile returns.',
    keywords: ['momentum'],
    deliverables: ['Momentum ladder', 'Quantile bars'],
    methodology: '12-1',
    datasets: ['prices'],
    history_days: 400,
    inputs: {
      additionalProperties: false,
      properties: {
        ...base,
        horizons: {
          default: [1, 5, 21],
          items: { type: 'integer', minimum: 1 },
          minItems: 1,
          title: 'Horizons',
          type: 'array',
        },
      },
      title: 'Params',
      type: 'object',
    },
  },
];

const runs = new Map();
const listeners = new Set();
let counter = 0;

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

function result(params) {
  const syms = params.tickers ?? ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'XOM', 'JPM'];
  const rows = syms.map((symbol, i) => ({
    symbol,
    adx: 40 - i * 3.7,
    ma_slope: 0.002 - i * 0.0006,
    momentum: 0.35 - i * 0.09,
    sector: i % 2 ? 'Technology' : 'Energy',
  }));
  const dates = Array.from({ length: 120 }, (_, i) =>
    new Date(Date.UTC(2024, 6, 1) + i * 86400000).toISOString().slice(0, 10),
  );
  const price = dates.map((_, i) => 180 + 10 * Math.sin(i / 9) + i * 0.2);
  return {
    scenario_id: 'trend_strength',
    as_of: params.as_of ?? '2024-10-28',
    summary: `${rows[0].symbol} has the strongest trend of ${rows.length} assets (lookback ${params.lookback_days ?? 126} days).`,
    columns: [
      { name: 'symbol', label: 'Symbol', kind: 'text', description: '' },
      { name: 'sector', label: 'Sector', kind: 'text', description: '' },
      { name: 'adx', label: 'ADX', kind: 'number', description: 'Average directional index (14)' },
      { name: 'ma_slope', label: 'MA slope', kind: 'percent', description: 'Daily slope of the 50-day MA' },
      { name: 'momentum', label: '12-1 momentum', kind: 'percent', description: '' },
    ],
    rows,
    series: [
      {
        name: `${rows[0].symbol} price with 20-day MA`,
        kind: 'line',
        x: dates,
        y: {
          close: price,
          ma20: price.map((_, i) => (i < 19 ? null : price.slice(i - 19, i + 1).reduce((a, b) => a + b, 0) / 20)),
        },
      },
      { name: 'ADX by asset', kind: 'bar', x: rows.map((r) => r.symbol), y: { adx: rows.map((r) => r.adx) } },
      {
        name: 'Momentum by quantile and horizon',
        kind: 'bar',
        x: ['Q1', 'Q2', 'Q3', 'Q4', 'Q5'],
        y: { '5d': [-0.01, 0.0, 0.004, 0.008, 0.015], '21d': [-0.02, -0.004, 0.01, 0.02, 0.035] },
      },
    ],
    narrative: [
      { text: `${rows[0].symbol} trends hardest (ADX ${rows[0].adx.toFixed(1)}).`, row: rows[0].symbol, field: 'adx' },
      {
        text: `${rows[rows.length - 1].symbol} has the weakest momentum.`,
        row: rows[rows.length - 1].symbol,
        field: 'momentum',
      },
    ],
    data_quality: {
      assets_requested: rows.length + 1,
      assets_used: rows.length,
      rows_in: 3024,
      rows_dropped: 252,
      dropped: { BRK_B: 'no prices in window' },
      notes: ['1 asset dropped for missing prices'],
    },
  };
}

function push(run, event, status, extra = {}) {
  const seq = run.timeline.length + 1;
  const at = new Date().toISOString();
  run.timeline.push({ run_id: run.run_id, seq, event, status, at, ...extra });
  run.status = status;
  run.updated_at = at;
  if (extra.progress) run.progress = extra.progress;
  if (extra.error) run.error = extra.error;
  for (const l of listeners) if (l.runId === run.run_id) l.send();
}

function schedule(run) {
  const fail = run.manifest.params.as_of && run.manifest.params.as_of < '2015-01-01';
  const steps = fail
    ? [
        [400, () => push(run, 'status', 'running')],
        [
          900,
          () =>
            push(run, 'status', 'failed', {
              error: {
                type: 'ScenarioInputError',
                message: `as_of ${run.manifest.params.as_of} is outside the data (2015-01-02 … 2024-10-28)`,
              },
            }),
        ],
      ]
    : [
        [400, () => push(run, 'status', 'running')],
        [
          900,
          () =>
            push(run, 'progress', 'running', { progress: { step: 'load', percent: 25, message: 'Loading prices' } }),
        ],
        [
          1500,
          () =>
            push(run, 'progress', 'running', {
              progress: { step: 'compute', percent: 60, message: 'Computing indicators' },
            }),
        ],
        [
          2100,
          () =>
            push(run, 'progress', 'running', { progress: { step: 'rank', percent: 90, message: 'Ranking assets' } }),
        ],
        [
          2600,
          () => {
            run.result = result(run.manifest.params);
            push(run, 'result', 'running', {
              result_summary: { summary: run.result.summary, rows: run.result.rows.length },
            });
          },
        ],
        [2700, () => push(run, 'status', 'succeeded')],
      ];
  for (const [ms, fn] of steps)
    run.timers.push(
      setTimeout(() => {
        if (!['cancelled'].includes(run.status)) fn();
      }, ms),
    );
}

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out'];
const view = ({ timers, ...run }) => run;

function stream(req, res, run, url) {
  const after = Number(req.headers['last-event-id'] ?? url.searchParams.get('last_event_id') ?? 0);
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.write('retry: 500\n\n');
  let sent = after;
  const listener = {
    runId: run.run_id,
    res,
    send() {
      for (const e of run.timeline.filter((t) => t.seq > sent)) {
        res.write(`id: ${e.seq}\nevent: ${e.event}\ndata: ${JSON.stringify(e)}\n\n`);
        sent = e.seq;
        if (e.event === 'status' && TERMINAL.includes(e.status)) {
          listeners.delete(listener);
          res.end();
          return;
        }
      }
    },
  };
  listeners.add(listener);
  req.on('close', () => listeners.delete(listener));
  listener.send();
}

async function api(req, res, url) {
  const path = url.pathname;
  if (path === '/analysis/scenarios') return json(res, 200, { scenarios: SCENARIOS });
  let m = /^\/analysis\/scenarios\/([\w-]+)$/.exec(path);
  if (m) {
    const s = SCENARIOS.find((x) => x.scenario_id === m[1]);
    return s
      ? json(res, 200, s)
      : json(res, 404, { code: 'not_found', message: 'no such scenario', field: 'scenario_id' });
  }
  if (path === '/analysis/suggest' && req.method === 'POST') {
    const { prompt } = await readJson(req);
    if (!prompt?.trim())
      return json(res, 400, { code: 'invalid_request', message: 'prompt is required', field: 'prompt' });
    const tickers = (prompt.match(/\b[A-Z]{2,5}\b/g) ?? []).filter((t) => t !== 'ADX');
    const params = tickers.length ? { tickers } : {};
    return json(res, 200, {
      prompt,
      understood: {
        tickers: tickers.length ? tickers : null,
        universe: null,
        sector: null,
        horizon_days: null,
        risk: null,
      },
      no_confident_match: false,
      engine: {
        provider: 'mock',
        model: 'bm25',
        version: '1',
        prompt_hash: `h${prompt.length}`,
        latency_ms: 3.2,
        fallback: false,
        fallback_reason: null,
      },
      suggestions: SCENARIOS.map((s, i) => ({
        rank: i + 1,
        scenario_id: s.scenario_id,
        title: s.title,
        description: s.description,
        score: 0.92 - i * 0.31,
        raw_score: 7.1 - i * 2,
        matched_terms: [
          { term: 'trend', field: 'keywords', contribution: 2.1 },
          { term: 'strongest', field: 'description', contribution: 0.6 },
        ].slice(0, 2 - i),
        why: `Matched ${s.keywords.join(', ')} in the scenario's keywords.`,
        deliverables: s.deliverables,
        params: { ...params, lookback_days: 90 },
      })),
    });
  }
  if (path === '/analysis/run' && req.method === 'POST') {
    const body = await readJson(req);
    const lb = body.params?.lookback_days;
    if (lb !== undefined && (lb < 20 || lb > 756))
      return json(res, 400, {
        code: 'invalid_params',
        message: 'Input should be less than or equal to 756',
        field: 'params.lookback_days',
      });
    const run_id = `run-${Date.now().toString(36)}-${++counter}`;
    const now = new Date().toISOString();
    const run = {
      run_id,
      scenario_id: body.scenario_id,
      status: 'queued',
      watch_id: null,
      created_at: now,
      updated_at: now,
      manifest: {
        scenario_id: body.scenario_id,
        scenario_version: '1.0.0',
        params: body.params,
        data_snapshots: { prices: 'snap-2024-10-28' },
        code_version: 'dev',
        provenance: body.provenance ?? null,
      },
      progress: null,
      error: null,
      timeline: [],
      result: null,
      timers: [],
    };
    runs.set(run_id, run);
    push(run, 'status', 'queued');
    schedule(run);
    return json(res, 202, {
      run_id,
      status: 'queued',
      stream_url: `/runs/${run_id}/stream?token=mock.${run_id}`,
      status_url: `/analysis/runs/${run_id}`,
    });
  }
  if (path === '/analysis/runs') {
    const list = [...runs.values()].reverse().map((r) => ({
      run_id: r.run_id,
      scenario_id: r.scenario_id,
      status: r.status,
      watch_id: null,
      created_at: r.created_at,
      updated_at: r.updated_at,
      duration_ms: TERMINAL.includes(r.status) ? Date.parse(r.updated_at) - Date.parse(r.created_at) : null,
    }));
    return json(res, 200, { runs: list, next_cursor: null });
  }
  m = /^\/analysis\/runs\/([\w-]+)(\/cancel)?$/.exec(path);
  if (m) {
    const run = runs.get(m[1]);
    if (!run) return json(res, 404, { code: 'not_found', message: `no run '${m[1]}'`, field: 'run_id' });
    if (m[2] && req.method === 'POST') {
      if (!TERMINAL.includes(run.status)) {
        run.timers.forEach(clearTimeout);
        push(run, 'status', 'cancelled');
      }
      return json(res, 200, { run_id: run.run_id, status: run.status });
    }
    return json(res, 200, view(run));
  }
  return json(res, 404, { code: 'not_found', message: 'no route', field: null });
}

createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  try {
    if (url.pathname === '/__mock/drop') {
      const n = listeners.size;
      for (const l of [...listeners]) {
        listeners.delete(l);
        l.res.destroy();
      }
      return json(res, 200, { dropped: n });
    }
    if (url.pathname.startsWith('/analysis/')) return await api(req, res, url);
    const sm = /^\/runs\/([\w-]+)\/stream$/.exec(url.pathname);
    if (sm) {
      const run = runs.get(sm[1]);
      if (!run || url.searchParams.get('token') !== `mock.${sm[1]}`)
        return json(res, 404, { code: 'not_found', message: 'no run', field: 'run_id' });
      return stream(req, res, run, url);
    }
    let file = normalize(join(ROOT, decodeURIComponent(url.pathname)));
    if (!file.startsWith(ROOT)) return json(res, 403, {});
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) file = join(ROOT, '404.html');
    res.writeHead(file.endsWith('404.html') ? 404 : 200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    });
    createReadStream(file).pipe(res);
  } catch (exc) {
    json(res, 500, { code: 'internal', message: String(exc), field: null });
  }
}).listen(PORT, '127.0.0.1', () => console.log(`mock origin on http://127.0.0.1:${PORT}`));
