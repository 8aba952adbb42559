import { createHash, timingSafeEqual } from 'node:crypto';
import type { Principal, Role } from '../domain/auth/roles.js';
import { type ApiKeys, isApiKeyShaped } from './api-keys.js';
import type { JwtResult } from './jwt.js';

export interface AuthenticatorOptions {
  readonly keys: ApiKeys;
  /** An admin key from the environment (AUTH_BOOTSTRAP_ADMIN_KEY), accepted as `apikey:bootstrap`. */
  readonly bootstrapKey?: string;
  /** The role of a caller with no credentials (AUTH_ANONYMOUS_ROLE), null: none. */
  readonly anonymousRole: Role | null;
  /** Null when JWTs are not accepted. */
  readonly verifyJwt: ((token: string) => Promise<JwtResult>) | null;
}

/** Who the credentials name, or why they name nobody (then the caller is unauthenticated). */
export type Authentication =
  | { readonly ok: true; readonly caller: Principal }
  | { readonly ok: false; readonly caller: Principal; readonly problem: string };

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Turns an `Authorization` value (`Bearer <API key or JWT>`) into a principal. No credentials: the
 * anonymous role, if the settings allow one. Credentials that are wrong, expired or revoked are never
 * downgraded to anonymous: the request is refused as unauthenticated.
 */
export function createAuthenticator(options: AuthenticatorOptions) {
  const bootstrap = options.bootstrapKey ? sha256(options.bootstrapKey) : null;
  return async function authenticate(authorization: unknown, source: string): Promise<Authentication> {
    const nobody = (problem: string): Authentication => ({
      ok: false,
      problem,
      caller: { id: 'anonymous', role: null, via: 'none', source },
    });
    if (authorization === undefined || authorization === null || authorization === '') {
      return options.anonymousRole
        ? { ok: true, caller: { id: 'anonymous', role: options.anonymousRole, via: 'anonymous', source } }
        : nobody('no credentials (send Authorization: Bearer <API key or token>)');
    }
    const match = typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!match) return nobody('Authorization must be "Bearer <API key or token>"');
    const token = match[1]!;
    if (bootstrap && timingSafeEqual(bootstrap, sha256(token)))
      return { ok: true, caller: { id: 'apikey:bootstrap', role: 'admin', via: 'apiKey', source } };
    if (isApiKeyShaped(token)) {
      const key = options.keys.verify(token);
      if ('problem' in key) return nobody(key.problem);
      return { ok: true, caller: { id: `apikey:${key.keyId}`, role: key.role, via: 'apiKey', source } };
    }
    if (!options.verifyJwt) return nobody('bearer tokens are not accepted here (no JWT settings)');
    const jwt = await options.verifyJwt(token);
    if ('problem' in jwt) return nobody(jwt.problem);
    return { ok: true, caller: { id: `user:${jwt.sub}`, role: jwt.role, via: 'jwt', source } };
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;
