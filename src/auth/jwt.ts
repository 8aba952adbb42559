import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import { ROLES, type Role } from '../domain/auth/roles.js';

export interface JwtSettings {
  readonly issuer: string;
  readonly audience: string;
  /** Keys from a JWKS URL (asymmetric: RS256, ES256, EdDSA…), or a shared secret (HS256). */
  readonly key: { readonly jwksUrl: string } | { readonly secret: string };
  /** The claim holding the role: a role name, or an array of them (the strongest counts). */
  readonly roleClaim: string;
}

export type JwtResult = { sub: string; role: Role } | { problem: string };

/** Verifies bearer tokens with jose: signature, `iss`, `aud`, `exp`/`nbf`, then reads `sub` and the role. */
export function jwtVerifier(settings: JwtSettings): (token: string) => Promise<JwtResult> {
  const key =
    'jwksUrl' in settings.key
      ? createRemoteJWKSet(new URL(settings.key.jwksUrl))
      : new TextEncoder().encode(settings.key.secret);
  const algorithms = 'secret' in settings.key ? ['HS256', 'HS384', 'HS512'] : undefined;
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], {
        issuer: settings.issuer,
        audience: settings.audience,
        ...(algorithms ? { algorithms } : {}),
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { problem: 'token expired' };
      if (error instanceof errors.JWTClaimValidationFailed)
        return { problem: `token claim ${error.claim} is not accepted` };
      if (error instanceof errors.JOSEError) return { problem: 'token signature or format is not valid' };
      throw error;
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') return { problem: 'token has no subject' };
    const claim = payload[settings.roleClaim];
    const named = (Array.isArray(claim) ? claim : [claim]).filter((r): r is Role =>
      (ROLES as readonly unknown[]).includes(r),
    );
    if (named.length === 0) return { problem: `token has no role in claim '${settings.roleClaim}'` };
    const role = named.reduce((a, b) => (ROLES.indexOf(a) >= ROLES.indexOf(b) ? a : b), named[0]!);
    return { sub: payload.sub, role };
  };
}
