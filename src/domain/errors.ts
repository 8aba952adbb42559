import type { z } from 'zod';

/**
 * Small typed errors for broken invariants. Expected negative outcomes are events, not errors.
 * Each error carries a literal `code` so that edges (HTTP, GraphQL) can map it without `instanceof`
 * chains across module copies.
 */
export class ValidationError extends Error {
  readonly code = 'VALIDATION_FAILED' as const;
  constructor(
    message: string,
    /** The fields that failed, with the reason for each. */
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

/**
 * Parses `value` with a zod schema; on failure throws a ValidationError naming every field at fault,
 * under `path` (`input.condition.value`; the root is `(root)`), its message led by `what` if given.
 * The one place a schema's issues become a ValidationError.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  options: { readonly path?: string; readonly what?: string } = {},
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    path: [options.path, ...i.path.map(String)].filter(Boolean).join('.') || '(root)',
    message: i.message,
  }));
  const listed = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new ValidationError(options.what ? `${options.what}: ${listed}` : listed, issues);
}

export class ConflictError extends Error {
  readonly code = 'CONFLICT' as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

export class NotFoundError extends Error {
  readonly code = 'NOT_FOUND' as const;
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class ForbiddenError extends Error {
  readonly code = 'FORBIDDEN' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** An event that the actor's machine does not accept in its current state. Nothing was appended. */
export class EventRejectedError extends Error {
  readonly code = 'EVENT_REJECTED' as const;
  constructor(
    readonly streamId: string,
    readonly eventType: string,
    readonly state: unknown,
  ) {
    super(`${streamId} does not accept '${eventType}' in state ${JSON.stringify(state)}`);
    this.name = 'EventRejectedError';
  }
}

/** Refused for now: the agent holds as many samples as it may. Retry later (with the same idempotency key). */
export class BackpressureError extends Error {
  readonly code = 'BACKPRESSURE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'BackpressureError';
  }
}

/**
 * Samples that could be made durable neither in the log nor in the spool (the store is down and the
 * spool full or failing), or not within the wait the caller allows. They are still held in memory and
 * delivered when that becomes possible: a caller retrying must use the same idempotency key.
 */
export class NotDurableError extends Error {
  readonly code = 'NOT_DURABLE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'NotDurableError';
  }
}
