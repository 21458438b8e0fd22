import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { AccountMenu } from '@/components/AccountMenu';
import { SWITCH_KEY, TOKENS_KEY } from '@/lib/auth';
import { COGNITO_CONFIG, fakeSite, idToken, LOCAL_CONFIG, makeSession, NOW, SITE } from './authFakes';

function storeSession(user: string) {
  window.sessionStorage.setItem(
    TOKENS_KEY,
    JSON.stringify({ idToken: idToken(user, NOW / 1000 + 3600), refreshToken: 'r', expiresAt: NOW + 3_600_000, user }),
  );
}

const LOGOUT = `${SITE}/logout?client_id=client-1&logout_uri=${encodeURIComponent(`${SITE}/`)}`;

describe('AccountMenu', () => {
  it('shows the local default researcher with Switch user and nothing to sign out of', async () => {
    const { session } = makeSession(fakeSite(LOCAL_CONFIG));
    render(<AccountMenu session={session} />);
    const who = await screen.findByTestId('signed-in-user');
    expect(who).toHaveTextContent('Signed in as researcher (default)');
    expect(screen.getByRole('button', { name: 'Switch user' })).toBeEnabled();
    expect(screen.queryByRole('button', { name: 'Sign out' })).not.toBeInTheDocument();
  });

  it('shows the signed-in user; Sign out ends the session and goes through /logout', async () => {
    storeSession('analyst');
    const { session, navigations } = makeSession(fakeSite(LOCAL_CONFIG));
    render(<AccountMenu session={session} />);
    expect(await screen.findByText('analyst')).toBeInTheDocument();
    expect(screen.queryByText('(default)', { exact: false })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(navigations).toEqual([LOGOUT]);
    expect(window.sessionStorage.getItem(TOKENS_KEY)).toBeNull();
    expect(screen.getByTestId('signed-in-user')).toHaveTextContent('Signed in as researcher (default)');
  });

  it('Switch user signs out first and remembers to sign in again on return', async () => {
    storeSession('analyst');
    const { session, navigations } = makeSession(fakeSite(LOCAL_CONFIG));
    render(<AccountMenu session={session} />);
    await userEvent.click(await screen.findByRole('button', { name: 'Switch user' }));
    expect(navigations).toEqual([LOGOUT]);
    expect(window.sessionStorage.getItem(SWITCH_KEY)).toBe('/history/');
  });

  it('on AWS without a session offers Sign in', async () => {
    const { session } = makeSession(fakeSite(COGNITO_CONFIG), { url: `${COGNITO_CONFIG.redirect_uri}?code=x` });
    render(<AccountMenu session={session} />);
    expect(await screen.findByText('Not signed in')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });

  it('says so when sign-in is unavailable', async () => {
    const { session } = makeSession(fakeSite(null));
    render(<AccountMenu session={session} />);
    expect(await screen.findByRole('alert')).toHaveTextContent('Sign-in is unavailable (HTTP 404)');
    expect(screen.queryByRole('button')).not.toBeInTheDocument();
  });
});
