import { z } from 'zod';
import { Count32, TimeMs } from '../primitives.js';
import { Role } from './roles.js';

/** An API key's id: the part of the key before its secret, shown in lists and recorded as `apikey:<id>`. */
export const ApiKeyId = z.string().regex(/^[a-f0-9]{12}$/, 'must be 12 lower-case hex digits');
/** SHA-256 of the whole key, hex: all the log keeps of a key (the key itself is shown once). */
export const KeyHash = z.string().regex(/^[a-f0-9]{64}$/, 'must be a SHA-256 in hex');

/** The facts of the `apikeys-main` stream: the keys admins created and revoked. */
export const API_KEY_FACTS = {
  apiKeyCreated: z.object({
    keyId: ApiKeyId,
    name: z.string().min(1).max(100),
    role: Role,
    hash: KeyHash,
    /** Null: never expires. */
    expiresAt: TimeMs.nullable(),
  }),
  apiKeyRevoked: z.object({ keyId: ApiKeyId }),
};

/**
 * The facts of the `access-refusals` stream. An authenticated caller's refusals are recorded one by
 * one (`count` 1); an unauthenticated source's are aggregated per interval, so a flood of anonymous
 * requests writes one fact per source and interval, not one per request. Rate-limit hits are
 * aggregated the same way for everyone.
 */
export const ACCESS_FACTS = {
  accessRefused: z.object({
    /** `apikey:<id>`, `user:<sub>`, or `anonymous` for a caller without valid credentials. */
    principal: z.string().min(1).max(300),
    /** The remote address. */
    source: z.string().max(100),
    /** UNAUTHENTICATED, FORBIDDEN or RATE_LIMITED. */
    code: z.enum(['UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED']),
    /** The operations refused (GraphQL `Type.field`, or `METHOD /path`), at most 20 distinct. */
    operations: z.array(z.string().max(200)).max(20),
    /** Why, for the first of them. */
    reason: z.string().max(500),
    count: Count32.min(1),
    firstAt: TimeMs,
    lastAt: TimeMs,
  }),
};
