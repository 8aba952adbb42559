import { GraphQLError } from 'graphql';

/** A client error naming the field at fault and the reason; never masked. */
export function badInput(field: string, reason: string): GraphQLError {
  return new GraphQLError(`${field}: ${reason}`, {
    extensions: { code: 'BAD_USER_INPUT', field, reason },
  });
}

const EXPOSED = new Set([
  'VALIDATION_FAILED',
  'CONFLICT',
  'NOT_FOUND',
  'FORBIDDEN',
  'EVENT_REJECTED',
  // Not taken for now (the agent holds too much, or durability did not come in time): retry.
  'BACKPRESSURE',
  'NOT_DURABLE',
  // A fact in the log that does not match its schema: a feed names it rather than hide it.
  'POISONED_FACT',
]);

/**
 * What a client sees of an error. GraphQL errors (validation, `badInput`) and the domain's typed errors
 * pass with their code (and field issues); anything else is an internal error, logged and shown only
 * as "Unexpected error.".
 */
export function exposeError(error: unknown): GraphQLError | null {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  // A GraphQL error (or one wrapping another) is the client's: shown whole, with the wrapper's path and
  // message (a variable's coercion error names where in the variable the bad value is).
  if (original instanceof GraphQLError) return error instanceof GraphQLError ? error : original;
  const code = (original as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && EXPOSED.has(code) && original instanceof Error) {
    const issues = (original as { issues?: unknown }).issues;
    return new GraphQLError(original.message, {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code, ...(Array.isArray(issues) ? { issues } : {}) },
    });
  }
  return null;
}
