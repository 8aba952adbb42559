import { z } from 'zod';

/**
 * The roles, weakest first; each includes every right of the ones before it:
 * - viewer: queries and subscriptions (reading predictions and forecasts included);
 * - operator: ingest, agents, pipelines, alert rules, acknowledgements, silences, complex-event rules,
 *   scrape targets;
 * - admin: models, retraining, promotion, rollback, projection rebuilds, API keys.
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** Whether a caller with `role` (none: unauthenticated) has the rights of `needed`. */
export function grants(role: Role | null, needed: Role): boolean {
  return role !== null && ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Who is asking, as authentication established it (never as a client claims it). */
export interface Principal {
  /** Recorded on every fact the request causes: `apikey:<id>`, `user:<sub>`, `anonymous`. */
  readonly id: string;
  /** Null when the caller is not authenticated (and anonymous access is off). */
  readonly role: Role | null;
  /** How it was established. */
  readonly via: 'apiKey' | 'jwt' | 'anonymous' | 'none';
  /** Where the request came from (remote address), for refusals and rate limits. */
  readonly source: string;
}
