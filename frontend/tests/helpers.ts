import { vi } from 'vitest';

type Handler = (url: string, init?: RequestInit) => { status?: number; body: unknown } | undefined;

/** Stubs global fetch with a router; unmatched requests answer 404 in the API's error shape. */
export function mockFetch(handler: Handler) {
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const answer = handler(url, init) ?? {
      status: 404,
      body: { code: 'not_found', message: `no mock for ${url}`, field: null },
    };
    return new Response(JSON.stringify(answer.body), {
      status: answer.status ?? 200,
      headers: { 'Content-Type': 'application/json' },
    });
  });
  vi.stubGlobal('fetch', fn);
  return fn;
}

export function jsonBody(init?: RequestInit): Record<string, unknown> {
  return JSON.parse(String(init?.body ?? '{}'));
}
