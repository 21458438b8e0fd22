/**
 * Who the UI acts as, and its tokens. Sign-in is OAuth's authorization code with PKCE against the
 * user pool's domain: Cognito's hosted UI on AWS, the local origin's emulation of it on the local
 * stack (same endpoints, same code path). `/auth-config.json`, served next to the UI, says which.
 *
 * Tokens live in memory and in this tab's sessionStorage: a reload keeps the session, closing the
 * tab ends it, and nothing outlives the tab in localStorage (a refresh token there would be
 * readable by any script on the origin for 30 days). The ID token is refreshed with the refresh
 * token `refreshLeadMs` before it expires, and once more after a 401.
 *
 * Locally, with no session, requests carry no Authorization header and the origin treats them as
 * the default researcher (`default_user`), so the first screen needs no sign-in. On AWS a tab
 * without a session goes to the hosted UI (which returns at once when its own session is alive).
 */
import { challengeFor, createVerifier, randomToken, stateMatches } from './pkce';

export interface AuthConfig {
  mode: 'cognito' | 'local';
  /** Base URL of `/oauth2/authorize`, `/oauth2/token` and `/logout`. */
  domain: string;
  client_id: string;
  redirect_uri: string;
  logout_uri: string;
  scopes: string[];
  region: string;
  /** Local stack only: who a request without a token acts as (null: sign-in required). */
  default_user: string | null;
}

export interface AuthState {
  phase: 'loading' | 'ready' | 'failed';
  config: AuthConfig | null;
  /** Who API calls act as: the signed-in user, the local default researcher, or nobody. */
  user: string | null;
  /** A token is held (false when acting as the local default researcher). */
  signedIn: boolean;
  error: string | null;
}

export interface Tokens {
  idToken: string;
  refreshToken: string;
  /** Epoch milliseconds at which the ID token expires. */
  expiresAt: number;
  user: string;
}

export interface AuthOptions {
  fetchImpl?: typeof fetch;
  storage?: Storage | null;
  navigate?: (url: string) => void;
  currentUrl?: () => string;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Refresh the ID token this long before it expires. */
  refreshLeadMs?: number;
  /** After a refresh that failed for want of a network, try again this much later. */
  retryMs?: number;
  configUrl?: string;
}

interface Pending {
  state: string;
  verifier: string;
  returnTo: string;
}

interface TokenResponse {
  id_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

export const TOKENS_KEY = 'qd.auth.tokens';
export const PENDING_KEY = 'qd.auth.pending';
/** Set before `/logout` when the user asked to sign in as someone else: sign in on return. */
export const SWITCH_KEY = 'qd.auth.switch';

/** A failed sign-in or refresh, with OAuth's error code when the server sent one. */
export class AuthError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'AuthError';
    this.code = code;
  }
}

/** The claims of a JWT, unverified: only for display and timing; the API verifies the token. */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  try {
    const binary = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const json = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const claims: unknown = JSON.parse(json);
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function safeReturnPath(path: string | null | undefined): string {
  return path?.startsWith('/') && !path.startsWith('//') ? path : '/';
}

function browserStorage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.sessionStorage;
  } catch {
    return null; // storage disabled: the session lives in memory only
  }
}

export class AuthSession {
  private state: AuthState;
  private tokens: Tokens | null;
  private readonly listeners = new Set<() => void>();
  private timer: unknown = null;
  private started: Promise<void> | null = null;
  private refreshing: Promise<boolean> | null = null;
  private completing: { search: string; result: Promise<string> } | null = null;
  private readonly opts: Required<Omit<AuthOptions, 'storage'>> & { storage: Storage | null };

  constructor(options: AuthOptions = {}) {
    this.opts = {
      fetchImpl: (input, init) => globalThis.fetch(input, init),
      storage: options.storage === undefined ? browserStorage() : options.storage,
      navigate: (url) => window.location.assign(url),
      currentUrl: () => window.location.href,
      now: () => Date.now(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      refreshLeadMs: 60_000,
      retryMs: 15_000,
      configUrl: '/auth-config.json',
      ...options,
    };
    this.tokens = this.restore();
    this.state = {
      phase: 'loading',
      config: null,
      user: this.tokens?.user ?? null,
      signedIn: this.tokens !== null,
      error: null,
    };
  }

  // -- what the UI reads --------------------------------------------------------------------

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): AuthState => this.state;

  /** The header for an API call: the ID token's bearer, or nothing (the local default user). */
  authorization(): Record<string, string> {
    return this.tokens ? { Authorization: `Bearer ${this.tokens.idToken}` } : {};
  }

  /** Loads the configuration, schedules the refresh and, where a session is required, signs in. */
  start(): Promise<void> {
    this.started ??= this.load();
    return this.started;
  }

  stop(): void {
    this.cancelTimer();
  }

  // -- sign-in ------------------------------------------------------------------------------

  /** Starts the authorization-code flow; the browser comes back to the callback page. */
  async signIn(returnTo?: string): Promise<void> {
    await this.authorize(await this.requireConfig(), returnTo);
  }

  private async authorize(config: AuthConfig, returnTo?: string): Promise<void> {
    const verifier = createVerifier();
    const pending: Pending = {
      state: randomToken(16),
      verifier,
      returnTo: safeReturnPath(returnTo ?? this.herePath()),
    };
    this.write(PENDING_KEY, JSON.stringify(pending));
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: config.client_id,
      redirect_uri: config.redirect_uri,
      scope: config.scopes.join(' '),
      state: pending.state,
      code_challenge: await challengeFor(verifier),
      code_challenge_method: 'S256',
    });
    this.opts.navigate(`${config.domain}/oauth2/authorize?${query.toString()}`);
  }

  /** Signs out, ending the hosted UI's session too, then signs in again (as anyone). */
  async switchUser(): Promise<void> {
    this.write(SWITCH_KEY, safeReturnPath(this.herePath()));
    await this.signOut();
  }

  /** Forgets the tokens and ends the hosted UI's session (`/logout` comes back to the site). */
  async signOut(): Promise<void> {
    const config = await this.requireConfig();
    this.setTokens(null);
    const query = new URLSearchParams({ client_id: config.client_id, logout_uri: config.logout_uri });
    this.opts.navigate(`${config.domain}/logout?${query.toString()}`);
  }

  /**
   * The callback: checks `state`, redeems the code with the verifier, keeps the tokens. Returns
   * the path to go back to. The pending request is used once, whatever the outcome.
   */
  completeSignIn(search: string): Promise<string> {
    // once per response, however many times the page asks (React may run an effect twice)
    if (this.completing?.search !== search) this.completing = { search, result: this.redeem(search) };
    return this.completing.result;
  }

  private async redeem(search: string): Promise<string> {
    const params = new URLSearchParams(search);
    const raw = this.read(PENDING_KEY);
    this.remove(PENDING_KEY);
    const pending = raw ? (JSON.parse(raw) as Pending) : null;
    const error = params.get('error');
    if (error) throw new AuthError(error, params.get('error_description') ?? `sign-in failed (${error})`);
    if (!pending || !stateMatches(pending.state, params.get('state'))) {
      throw new AuthError('invalid_state', 'This sign-in response does not match a sign-in started in this tab.');
    }
    const code = params.get('code');
    if (!code) throw new AuthError('invalid_request', 'The sign-in response has no code.');
    const config = await this.requireConfig();
    const answer = await this.tokenRequest(config, {
      grant_type: 'authorization_code',
      client_id: config.client_id,
      code,
      redirect_uri: config.redirect_uri,
      code_verifier: pending.verifier,
    });
    if (!answer.refresh_token) throw new AuthError('invalid_response', 'The sign-in answer has no refresh token.');
    this.setTokens(this.tokensFrom(answer, answer.refresh_token));
    return safeReturnPath(pending.returnTo);
  }

  // -- refresh ------------------------------------------------------------------------------

  /** New ID token from the refresh token; false (and signed out) when it is refused. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** After a 401: a refreshed token to retry with, if there is a session to refresh. */
  async recover(): Promise<boolean> {
    return this.tokens ? this.refresh() : false;
  }

  private async doRefresh(): Promise<boolean> {
    const held = this.tokens;
    if (!held) return false;
    const config = await this.requireConfig();
    try {
      const answer = await this.tokenRequest(config, {
        grant_type: 'refresh_token',
        client_id: config.client_id,
        refresh_token: held.refreshToken,
      });
      this.setTokens(this.tokensFrom(answer, answer.refresh_token ?? held.refreshToken));
      return true;
    } catch (exc) {
      if (exc instanceof AuthError && exc.code !== 'network_error') {
        this.setTokens(null); // refused (revoked, expired refresh token): the session is over
        this.emit({ error: `Your session ended (${exc.message}). Sign in again.` });
        if (config.mode === 'cognito' || !config.default_user) void this.signIn();
      } else {
        this.retryLater();
      }
      return false;
    }
  }

  /** Refresh `refreshLeadMs` before `expiresAt` (at once if that moment has passed). */
  private schedule(expiresAt: number): void {
    this.cancelTimer();
    const delay = Math.max(0, expiresAt - this.opts.refreshLeadMs - this.opts.now());
    this.timer = this.opts.setTimer(() => {
      this.timer = null;
      void this.refresh();
    }, delay);
  }

  /** The sign-in server was out of reach: try again soon (the token may still be valid). */
  private retryLater(): void {
    this.cancelTimer();
    this.timer = this.opts.setTimer(() => {
      this.timer = null;
      void this.refresh();
    }, this.opts.retryMs);
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.opts.clearTimer(this.timer);
    this.timer = null;
  }

  // -- internals ----------------------------------------------------------------------------

  private async load(): Promise<void> {
    let config: AuthConfig;
    try {
      const response = await this.opts.fetchImpl(this.opts.configUrl, { headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      config = (await response.json()) as AuthConfig;
    } catch (exc) {
      this.emit({ phase: 'failed', error: `Sign-in is unavailable (${(exc as Error).message}).` });
      return;
    }
    this.emit({ phase: 'ready', config, user: this.tokens?.user ?? config.default_user ?? null });
    if (this.tokens) this.schedule(this.tokens.expiresAt);
    const switching = this.read(SWITCH_KEY);
    if (switching !== null) {
      this.remove(SWITCH_KEY);
      await this.authorize(config, switching);
    } else if (!this.tokens && !config.default_user && !this.onCallbackPage(config)) {
      await this.authorize(config);
    }
  }

  private async requireConfig(): Promise<AuthConfig> {
    await this.start();
    if (!this.state.config) throw new AuthError('unavailable', this.state.error ?? 'Sign-in is unavailable.');
    return this.state.config;
  }

  private async tokenRequest(config: AuthConfig, form: Record<string, string>): Promise<TokenResponse> {
    let response: Response;
    try {
      response = await this.opts.fetchImpl(`${config.domain}/oauth2/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams(form).toString(),
      });
    } catch (exc) {
      throw new AuthError('network_error', `Could not reach the sign-in server (${(exc as Error).message})`);
    }
    const body = (await response.json().catch(() => ({}))) as TokenResponse;
    if (!response.ok || !body.id_token) {
      const code = body.error ?? `http_${response.status}`;
      throw new AuthError(code, body.error_description ?? `sign-in server answered ${code}`);
    }
    return body;
  }

  private tokensFrom(answer: TokenResponse, refreshToken: string): Tokens {
    const idToken = answer.id_token ?? '';
    const claims = jwtClaims(idToken);
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : null;
    const user = claims['cognito:username'] ?? claims.email ?? claims.sub;
    return {
      idToken,
      refreshToken,
      expiresAt: exp ?? this.opts.now() + (answer.expires_in ?? 3600) * 1000,
      user: typeof user === 'string' ? user : 'unknown user',
    };
  }

  private setTokens(tokens: Tokens | null): void {
    this.tokens = tokens;
    if (tokens) {
      this.write(TOKENS_KEY, JSON.stringify(tokens));
      this.schedule(tokens.expiresAt);
    } else {
      this.remove(TOKENS_KEY);
      this.cancelTimer();
    }
    this.emit({
      user: tokens?.user ?? this.state.config?.default_user ?? null,
      signedIn: tokens !== null,
      error: null,
    });
  }

  private restore(): Tokens | null {
    const raw = this.read(TOKENS_KEY);
    if (!raw) return null;
    try {
      const tokens = JSON.parse(raw) as Partial<Tokens>;
      if (tokens.idToken && tokens.refreshToken && typeof tokens.expiresAt === 'number' && tokens.user) {
        return tokens as Tokens;
      }
    } catch {
      /* unreadable: start without a session */
    }
    this.remove(TOKENS_KEY);
    return null;
  }

  private onCallbackPage(config: AuthConfig): boolean {
    const here = new URL(this.opts.currentUrl());
    return `${here.origin}${here.pathname}` === config.redirect_uri;
  }

  private herePath(): string {
    const here = new URL(this.opts.currentUrl());
    return `${here.pathname}${here.search}`;
  }

  private emit(patch: Partial<AuthState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  private read(key: string): string | null {
    try {
      return this.opts.storage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  }

  private write(key: string, value: string): void {
    try {
      this.opts.storage?.setItem(key, value);
    } catch {
      /* full or disabled: memory only */
    }
  }

  private remove(key: string): void {
    try {
      this.opts.storage?.removeItem(key);
    } catch {
      /* disabled */
    }
  }
}

let shared: AuthSession | null = null;

/** The page's one session (created on first use, in the browser). */
export function authSession(): AuthSession {
  shared ??= new AuthSession();
  return shared;
}
