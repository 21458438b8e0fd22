/** Test doubles for sign-in: the pool's configuration, ID tokens, a token endpoint, timers. */
import { vi } from 'vitest';
import { type AuthConfig, type AuthOptions, AuthSession } from '@/lib/auth';
import { base64url } from '@/lib/pkce';

export const SITE = 'http://127.0.0.1:8080';
export const LOCAL_CONFIG: AuthConfig = {
  mode: 'local',
  domain: SITE,
  client_id: 'client-1',
  redirect_uri: `${SITE}/auth/callback/`,
  logout_uri: `${SITE}/`,
  scopes: ['openid', 'email', 'profile'],
  region: 'us-east-1',
  default_user: 'researcher',
};
export const COGNITO_CONFIG: AuthConfig = {
  ...LOCAL_CONFIG,
  mode: 'cognito',
  domain: 'https://qd.auth.us-east-1.amazoncognito.com',
  redirect_uri: 'https://d1.cloudfront.net/auth/callback/',
  logout_uri: 'https://d1.cloudfront.net/',
  default_user: null,
};

/** An unsigned JWT with these claims (the UI only reads claims; the API verifies signatures). */
export function idToken(username: string, expSeconds: number): string {
  const part = (value: object) => base64url(new TextEncoder().encode(JSON.stringify(value)));
  return `${part({ alg: 'RS256', kid: 'k1' })}.${part({ 'cognito:username': username, exp: expSeconds, token_use: 'id' })}.sig`;
}

/** Timers run by hand: `due()` lists what is scheduled, `fire()` runs the next one. */
export class ManualTimers {
  private next = 1;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();

  readonly set = (fn: () => void, ms: number): number => {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return id;
  };

  readonly clear = (id: unknown): void => {
    this.pending.delete(id as number);
  };

  delays(): number[] {
    return [...this.pending.values()].map((t) => t.ms);
  }

  fire(): void {
    const [id, timer] = [...this.pending.entries()][0] ?? [];
    if (id === undefined || !timer) throw new Error('no timer scheduled');
    this.pending.delete(id);
    timer.fn();
  }
}

export interface TokenCall {
  url: string;
  form: URLSearchParams;
}

/** A site serving `config` at /auth-config.json and a token endpoint answering `tokenAnswers` in turn. */
export function fakeSite(
  config: AuthConfig | null,
  tokenAnswers: Array<{ status?: number; body: unknown } | Error> = [],
) {
  const tokenCalls: TokenCall[] = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (url === '/auth-config.json') {
      return config
        ? new Response(JSON.stringify(config), { status: 200 })
        : new Response('{"code":"not_found"}', { status: 404 });
    }
    if (url.endsWith('/oauth2/token')) {
      tokenCalls.push({ url, form: new URLSearchParams(String(init?.body)) });
      const answer = tokenAnswers.shift();
      if (answer instanceof Error) throw answer;
      if (!answer) throw new Error('unexpected token request');
      return new Response(JSON.stringify(answer.body), { status: answer.status ?? 200 });
    }
    throw new Error(`unexpected request ${url}`);
  });
  return { fetchImpl: fetchImpl as unknown as typeof fetch, tokenCalls };
}

export const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);

/** A session over the fake site, with manual timers and a recorded navigation. */
export function makeSession(
  site: ReturnType<typeof fakeSite>,
  { url = `${SITE}/history/`, ...options }: Partial<AuthOptions> & { url?: string } = {},
) {
  const timers = new ManualTimers();
  const navigations: string[] = [];
  const session = new AuthSession({
    fetchImpl: site.fetchImpl,
    storage: window.sessionStorage,
    navigate: (to) => navigations.push(to),
    currentUrl: () => url,
    now: () => NOW,
    setTimer: timers.set,
    clearTimer: timers.clear,
    refreshLeadMs: 60_000,
    retryMs: 15_000,
    ...options,
  });
  return { session, timers, navigations };
}
