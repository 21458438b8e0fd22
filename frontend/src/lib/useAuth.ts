'use client';

import { useEffect, useSyncExternalStore } from 'react';
import { type AuthSession, type AuthState, authSession } from './auth';

const SERVER_STATE: AuthState = { phase: 'loading', config: null, user: null, signedIn: false, error: null };

/** The session's state, re-rendering on every change; starts the session on first use. */
export function useAuth(session: AuthSession = authSession()): AuthState {
  const state = useSyncExternalStore(session.subscribe, session.getSnapshot, () => SERVER_STATE);
  useEffect(() => {
    void session.start();
  }, [session]);
  return state;
}
