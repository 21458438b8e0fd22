'use client';

import { useEffect, useState } from 'react';
import { type AuthSession, authSession } from '@/lib/auth';

const replaceLocation = (path: string) => window.location.replace(path);

/** Where the sign-in comes back to: redeems the code, then returns to the page it started from. */
export function SignInCallback({
  session = authSession(),
  leave = replaceLocation,
}: {
  session?: AuthSession;
  leave?: (path: string) => void;
}) {
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    session
      .completeSignIn(window.location.search)
      .then((path) => {
        if (!cancelled) leave(path);
      })
      .catch((exc: Error) => {
        if (!cancelled) setError(exc.message);
      });
    return () => {
      cancelled = true;
    };
  }, [session, leave]);

  return (
    <section className="page" aria-labelledby="callback-title">
      <h1 id="callback-title">{error ? 'Sign-in failed' : 'Signing you in…'}</h1>
      {error && (
        <>
          <p className="form-error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
          <p>
            <button type="button" className="btn" onClick={() => void session.signIn('/')}>
              Try again
            </button>
          </p>
        </>
      )}
    </section>
  );
}
