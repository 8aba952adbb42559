import type { IncomingMessage } from 'node:http';
import { grants, type Principal, type Role } from '../domain/auth/roles.js';
import type { Authenticate } from './authenticator.js';
import type { RateLimiter } from './rate-limit.js';
import type { RefusalRecorder } from './refusals.js';

/** Why a request is turned away before anything runs, as HTTP says it. */
export interface Refusal {
  readonly status: 401 | 403 | 429;
  readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'RATE_LIMITED';
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

export type Admission = { readonly caller: Principal } | { readonly refusal: Refusal };

/**
 * The one door every request passes: authentication (invalid credentials are refused, never treated
 * as anonymous), the rate limit per caller (per key or user; per source address when unauthenticated),
 * and, for HTTP routes, the role the route needs. GraphQL fields check their role in the schema.
 * Every refusal goes to the recorder.
 */
export class AccessGate {
  private readonly callers = new WeakMap<object, Principal>();

  constructor(
    private readonly authenticate: Authenticate,
    private readonly limiter: RateLimiter,
    readonly refusals: RefusalRecorder,
  ) {}

  /** Admits an HTTP request for `operation`, needing `role` (null: any caller, the schema decides). */
  async admitRequest(req: IncomingMessage, operation: string, role: Role | null): Promise<Admission> {
    const admission = await this.admit(req.headers.authorization, sourceOf(req), operation, role);
    if ('caller' in admission) this.callers.set(req, admission.caller);
    return admission;
  }

  /** The caller an admitted request was admitted as. */
  callerOf(req: object): Principal {
    const caller = this.callers.get(req);
    if (!caller) throw new Error('request was not admitted by the access gate');
    return caller;
  }

  /** Admits a WebSocket connection from its connection parameters (`authorization: "Bearer …"`). */
  admitConnection(params: unknown, req: IncomingMessage): Promise<Admission> {
    const authorization = (params as { authorization?: unknown } | null | undefined)?.authorization;
    return this.admit(authorization, sourceOf(req), 'WS /graphql', null);
  }

  /** Takes one unit of the caller's rate limit for one operation (a WebSocket subscription, say). */
  limit(caller: Principal, operation: string): Refusal | null {
    const wait = this.limiter.take(caller.role === null ? `source:${caller.source}` : caller.id);
    if (wait === 0) return null;
    this.refusals.refused(caller, operation, 'rate limit', 'RATE_LIMITED');
    return {
      status: 429,
      code: 'RATE_LIMITED',
      message: `rate limit reached: retry in ${wait} s`,
      retryAfterSeconds: wait,
    };
  }

  private async admit(
    authorization: unknown,
    source: string,
    operation: string,
    role: Role | null,
  ): Promise<Admission> {
    const auth = await this.authenticate(authorization, source);
    const limited = this.limit(auth.caller, operation);
    if (limited) return { refusal: limited };
    if (!auth.ok) {
      this.refusals.refused(auth.caller, operation, auth.problem);
      return { refusal: { status: 401, code: 'UNAUTHENTICATED', message: auth.problem } };
    }
    if (role && !grants(auth.caller.role, role)) {
      const message =
        auth.caller.role === null
          ? 'authentication required (an API key or a bearer token)'
          : `the ${auth.caller.role} role may not do this: ${operation} needs ${role}`;
      this.refusals.refused(auth.caller, operation, message);
      return {
        refusal: {
          status: auth.caller.role === null ? 401 : 403,
          code: auth.caller.role === null ? 'UNAUTHENTICATED' : 'FORBIDDEN',
          message,
        },
      };
    }
    return { caller: auth.caller };
  }
}

const sourceOf = (req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown';
