import { describe, expect, it, vi } from 'vitest';
import { api } from '@/lib/api';
import { AuthError, PENDING_KEY, SWITCH_KEY, TOKENS_KEY } from '@/lib/auth';
import { challengeFor, createVerifier, stateMatches } from '@/lib/pkce';
import { COGNITO_CONFIG, fakeSite, idToken, LOCAL_CONFIG, makeSession, NOW, SITE } from './authFakes';

const HOUR_S = 3600;
const EXP = NOW / 1000 + HOUR_S;

function authorizeParams(url: string): URLSearchParams {
  expect(url.startsWith(`${SITE}/oauth2/authorize?`)).toBe(true);
  return new URL(url).searchParams;
}

/** Signs in as `user` through the whole flow; returns the session and its fakes. */
async function signedIn(user = 'analyst', more: Array<{ status?: number; body: unknown } | Error> = []) {
  const site = fakeSite(LOCAL_CONFIG, [
    { body: { id_token: idToken(user, EXP), access_token: 'a', refresh_token: 'r-1', expires_in: HOUR_S } },
    ...more,
  ]);
  const made = makeSession(site);
  await made.session.signIn('/history/');
  const state = authorizeParams(made.navigations[0]).get('state');
  await made.session.completeSignIn(`?code=c-1&state=${state}`);
  return { ...made, site };
}

describe('PKCE helper', () => {
  it('makes verifiers of 43 unreserved characters, fresh each time', () => {
    const verifier = createVerifier();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createVerifier()).not.toBe(verifier);
  });

  it('derives the S256 challenge of RFC 7636 appendix B', async () => {
    expect(await challengeFor('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('accepts only the exact state it sent', () => {
    expect(stateMatches('abc123', 'abc123')).toBe(true);
    for (const received of ['abc124', 'abc12', '', null, undefined]) {
      expect(stateMatches('abc123', received)).toBe(false);
    }
    expect(stateMatches(null, null)).toBe(false);
  });
});

describe('sign-in with authorization code + PKCE', () => {
  it('sends the S256 challenge of a verifier kept in this tab, and a state', async () => {
    const { session, navigations } = makeSession(fakeSite(LOCAL_CONFIG));
    await session.signIn('/history/');
    const params = authorizeParams(navigations[0]);
    const pending = JSON.parse(window.sessionStorage.getItem(PENDING_KEY) ?? '{}');
    expect(Object.fromEntries(params)).toEqual({
      response_type: 'code',
      client_id: 'client-1',
      redirect_uri: `${SITE}/auth/callback/`,
      scope: 'openid email profile',
      state: pending.state,
      code_challenge: await challengeFor(pending.verifier),
      code_challenge_method: 'S256',
    });
    expect(pending.returnTo).toBe('/history/');
  });

  it('redeems the code with the verifier, keeps the tokens in this tab and sends the ID token', async () => {
    const { session, site, timers } = await signedIn('analyst');
    const [call] = site.tokenCalls;
    expect(call.url).toBe(`${SITE}/oauth2/token`);
    expect(call.form.get('grant_type')).toBe('authorization_code');
    expect(call.form.get('code')).toBe('c-1');
    expect(call.form.get('redirect_uri')).toBe(`${SITE}/auth/callback/`);
    expect(call.form.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.getSnapshot()).toMatchObject({ user: 'analyst', signedIn: true });
    expect(session.authorization()).toEqual({ Authorization: `Bearer ${idToken('analyst', EXP)}` });
    expect(JSON.parse(window.sessionStorage.getItem(TOKENS_KEY) ?? '{}').refreshToken).toBe('r-1');
    expect(window.localStorage.length).toBe(0);
    expect(window.sessionStorage.getItem(PENDING_KEY)).toBeNull();
    // the refresh is due a minute before the ID token expires
    expect(timers.delays()).toEqual([HOUR_S * 1000 - 60_000]);
  });

  it('refuses a response whose state this tab did not send, without redeeming the code', async () => {
    const site = fakeSite(LOCAL_CONFIG);
    const { session } = makeSession(site);
    await session.signIn('/');
    await expect(session.completeSignIn('?code=c-1&state=forged')).rejects.toMatchObject({ code: 'invalid_state' });
    expect(site.tokenCalls).toHaveLength(0);
    expect(session.getSnapshot().signedIn).toBe(false);
  });

  it('reports an error the sign-in page sent back', async () => {
    const { session } = makeSession(fakeSite(LOCAL_CONFIG));
    const failure = session.completeSignIn('?error=invalid_scope&error_description=too+much');
    await expect(failure).rejects.toBeInstanceOf(AuthError);
    await expect(failure).rejects.toThrow('too much');
  });

  it('never returns to another site after sign-in', async () => {
    const site = fakeSite(LOCAL_CONFIG, [{ body: { id_token: idToken('a', EXP), refresh_token: 'r' } }]);
    const { session, navigations } = makeSession(site);
    await session.signIn('//evil.example/path');
    const state = authorizeParams(navigations[0]).get('state');
    expect(await session.completeSignIn(`?code=c&state=${state}`)).toBe('/');
  });
});

describe('token refresh', () => {
  it('refreshes with the refresh token when the timer fires, then schedules the next', async () => {
    const later = EXP + HOUR_S;
    const { session, site, timers } = await signedIn('analyst', [
      { body: { id_token: idToken('analyst', later), access_token: 'a2', expires_in: HOUR_S } },
    ]);
    timers.fire();
    await vi.waitFor(() => expect(site.tokenCalls).toHaveLength(2));
    const form = site.tokenCalls[1].form;
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'refresh_token',
      client_id: 'client-1',
      refresh_token: 'r-1',
    });
    await vi.waitFor(() => expect(session.authorization().Authorization).toBe(`Bearer ${idToken('analyst', later)}`));
    expect(timers.delays()).toEqual([2 * HOUR_S * 1000 - 60_000]);
  });

  it('refreshes at once a restored token that is about to expire', async () => {
    window.sessionStorage.setItem(
      TOKENS_KEY,
      JSON.stringify({
        idToken: idToken('analyst', NOW / 1000 + 30),
        refreshToken: 'r-9',
        expiresAt: NOW + 30_000,
        user: 'analyst',
      }),
    );
    const { session, timers } = makeSession(fakeSite(LOCAL_CONFIG));
    expect(session.authorization().Authorization).toContain('Bearer ');
    await session.start();
    expect(timers.delays()).toEqual([0]);
  });

  it('ends the session when the refresh token is refused: locally back to the default researcher', async () => {
    const { session, timers } = await signedIn('analyst', [
      { status: 400, body: { error: 'invalid_grant', error_description: 'revoked' } },
    ]);
    timers.fire();
    await vi.waitFor(() => expect(session.getSnapshot().signedIn).toBe(false));
    expect(session.getSnapshot()).toMatchObject({ user: 'researcher', signedIn: false });
    expect(session.getSnapshot().error).toContain('revoked');
    expect(session.authorization()).toEqual({});
    expect(window.sessionStorage.getItem(TOKENS_KEY)).toBeNull();
  });

  it('keeps the session and retries when the sign-in server is out of reach', async () => {
    const { session, timers } = await signedIn('analyst', [new TypeError('Failed to fetch')]);
    timers.fire();
    await vi.waitFor(() => expect(timers.delays()).toEqual([15_000]));
    expect(session.getSnapshot()).toMatchObject({ user: 'analyst', signedIn: true });
  });
});

describe('switching and signing out', () => {
  it('switch user ends the hosted session, then signs in again on return, back to the same page', async () => {
    const { session, navigations } = await signedIn('analyst');
    await session.switchUser();
    expect(navigations[1]).toBe(`${SITE}/logout?client_id=client-1&logout_uri=${encodeURIComponent(`${SITE}/`)}`);
    expect(session.authorization()).toEqual({});
    expect(window.sessionStorage.getItem(SWITCH_KEY)).toBe('/history/');
    // the browser comes back from /logout: a fresh page load starts a sign-in
    const back = makeSession(fakeSite(LOCAL_CONFIG), { url: `${SITE}/` });
    await back.session.start();
    expect(authorizeParams(back.navigations[0]).get('code_challenge_method')).toBe('S256');
    expect(JSON.parse(window.sessionStorage.getItem(PENDING_KEY) ?? '{}').returnTo).toBe('/history/');
    expect(window.sessionStorage.getItem(SWITCH_KEY)).toBeNull();
  });

  it('on AWS a tab without a session goes to the hosted UI; the callback page does not', async () => {
    const cognito = makeSession(fakeSite(COGNITO_CONFIG), { url: 'https://d1.cloudfront.net/' });
    await cognito.session.start();
    expect(cognito.navigations[0]).toMatch(/^https:\/\/qd\.auth\.us-east-1\.amazoncognito\.com\/oauth2\/authorize\?/);
    expect(cognito.session.getSnapshot().user).toBeNull();
    const callback = makeSession(fakeSite(COGNITO_CONFIG), { url: 'https://d1.cloudfront.net/auth/callback/?code=x' });
    await callback.session.start();
    expect(callback.navigations).toEqual([]);
  });

  it('locally a tab without a session acts as the default researcher, without a token', async () => {
    const { session, navigations } = makeSession(fakeSite(LOCAL_CONFIG));
    await session.start();
    expect(session.getSnapshot()).toMatchObject({ phase: 'ready', user: 'researcher', signedIn: false });
    expect(session.authorization()).toEqual({});
    expect(navigations).toEqual([]);
  });
});

describe('the API client', () => {
  it('sends the bearer token and, after a 401, retries once with a refreshed one', async () => {
    const stale = idToken('analyst', NOW / 1000 + 600);
    const fresh = idToken('analyst', NOW / 1000 + HOUR_S);
    window.sessionStorage.setItem(
      TOKENS_KEY,
      JSON.stringify({ idToken: stale, refreshToken: 'r-1', expiresAt: Date.now() + 600_000, user: 'analyst' }),
    );
    const { authSession } = await import('@/lib/auth');
    const seen: Array<string | null> = [];
    const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      if (url === '/auth-config.json') return new Response(JSON.stringify(LOCAL_CONFIG));
      if (url.endsWith('/oauth2/token')) return new Response(JSON.stringify({ id_token: fresh, expires_in: HOUR_S }));
      const auth = new Headers(init?.headers).get('Authorization');
      seen.push(auth);
      return auth === `Bearer ${fresh}`
        ? new Response(JSON.stringify({ runs: [], next_cursor: null }))
        : new Response(JSON.stringify({ code: 'unauthorized', message: 'token expired', field: null }), {
            status: 401,
          });
    });
    vi.stubGlobal('fetch', fetchMock);
    // the page's shared session restores the tab's tokens on first use
    expect(authSession().authorization()).toEqual({ Authorization: `Bearer ${stale}` });
    await expect(api.listRuns()).resolves.toEqual({ runs: [], next_cursor: null });
    expect(seen).toEqual([`Bearer ${stale}`, `Bearer ${fresh}`]);
    authSession().stop();
  });
});
