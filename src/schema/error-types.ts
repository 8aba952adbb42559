import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { builder } from './builder.js';

/**
 * The errors a mutation can answer with as typed results (the errors plugin): the client selects
 * `... on Error { code message }` or a specific type. Refusals of authentication and rate limits happen
 * before any field runs and come as request errors (`UNAUTHENTICATED` 401, `RATE_LIMITED` 429) instead.
 */
export const ErrorInterface = builder.interfaceRef<Error & { code: string }>('Error').implement({
  description: 'A failure a client can act on: its code and a message naming the field and the reason.',
  fields: (t) => ({
    code: t.string({ resolve: (e) => e.code }),
    message: t.exposeString('message'),
  }),
});

const FieldIssue = builder.objectRef<{ path: string; message: string }>('FieldIssue').implement({
  fields: (t) => ({
    field: t.exposeString('path', { description: 'The input field at fault, e.g. `samples.12.value`.' }),
    reason: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input is not valid: each field at fault, with the reason.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({ issues: t.field({ type: [FieldIssue], resolve: (e) => [...e.issues] }) }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'What the input names does not exist.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
  fields: () => ({}),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  description:
    'The change conflicts with the current state (it exists already, or is not in a state that allows it).',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ConflictError,
  fields: () => ({}),
});

builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  description: "The caller's role may not do this.",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ForbiddenError,
  fields: () => ({}),
});

/** The typed errors every mutation lists. */
export const MUTATION_ERRORS = [ValidationError, NotFoundError, ConflictError, ForbiddenError];

/** A ValidationError for one field: a mutation answers it as a typed result. */
export const invalid = (field: string, reason: string): ValidationError =>
  new ValidationError(`${field}: ${reason}`, [{ path: field, message: reason }]);
