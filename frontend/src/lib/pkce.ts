/**
 * PKCE (RFC 7636) for the authorization-code sign-in: a random `code_verifier` kept in this tab,
 * its `S256` challenge sent with the authorize request, and a random `state` that the callback
 * must echo back unchanged (anything else is a forged or stale response).
 */

/** base64url without padding (RFC 4648 §5), as PKCE and JWTs use it. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** `bytes` of randomness from the platform's CSPRNG, base64url-encoded. */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A fresh code verifier: 32 random bytes → 43 characters of the unreserved set (RFC 7636 §4.1). */
export function createVerifier(): string {
  return randomToken(32);
}

/** The `S256` challenge of a verifier: base64url(SHA-256(ASCII(verifier))). */
export async function challengeFor(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** Whether the callback's `state` is the one this tab sent (constant-time over equal lengths). */
export function stateMatches(expected: string | null | undefined, received: string | null | undefined): boolean {
  if (!expected || !received || expected.length !== received.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i += 1) diff |= expected.charCodeAt(i) ^ received.charCodeAt(i);
  return diff === 0;
}
