'use client';

import { type AuthSession, authSession } from '@/lib/auth';
import { useAuth } from '@/lib/useAuth';

/** Who the UI acts as, with "Switch user" and (with a session) "Sign out". */
export function AccountMenu({ session = authSession() }: { session?: AuthSession }) {
  const auth = useAuth(session);
  if (auth.phase === 'loading') return <div className="account" data-testid="account" aria-busy="true" />;
  const isDefault = !auth.signedIn && auth.user !== null;
  return (
    <div className="account" data-testid="account" data-user={auth.user ?? ''} data-signed-in={auth.signedIn}>
      <span className="account-user" data-testid="signed-in-user">
        {auth.user ? (
          <>
            <span className="account-label">Signed in as </span>
            <strong>{auth.user}</strong>
            {isDefault && <span className="account-note"> (default)</span>}
          </>
        ) : (
          'Not signed in'
        )}
      </span>
      {auth.config && (
        <button
          type="button"
          className="btn btn-ghost"
          data-testid="switch-user"
          onClick={() => void (auth.user ? session.switchUser() : session.signIn())}
        >
          {auth.user ? 'Switch user' : 'Sign in'}
        </button>
      )}
      {auth.config && auth.signedIn && (
        <button type="button" className="btn btn-ghost" data-testid="sign-out" onClick={() => void session.signOut()}>
          Sign out
        </button>
      )}
      {auth.error && (
        <span className="account-error" role="alert" data-testid="auth-error">
          {auth.error}
        </span>
      )}
    </div>
  );
}
