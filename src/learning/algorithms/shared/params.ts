import type { z } from 'zod';
import { ValidationError } from '../../../domain/errors.js';

type Issue = { path: string; message: string };

function toIssues(error: z.ZodError, prefix: string): Issue[] {
  return error.issues.flatMap((issue): Issue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [prefix, ...issue.path.map(String), key].join('.'),
        message: 'unknown parameter',
      }));
    }
    return [{ path: [prefix, ...issue.path.map(String)].join('.'), message: issue.message }];
  });
}

/** Parses hyper-parameters, or throws a ValidationError naming each offending parameter. */
export function parseParams<S extends z.ZodType>(schema: S, params: unknown, owner: string): z.output<S> {
  const result = schema.safeParse(params ?? {});
  if (result.success) return result.data;
  const issues = toIssues(result.error, 'params');
  throw new ValidationError(
    `${owner}: invalid ${issues.map((issue) => `${issue.path} (${issue.message})`).join(', ')}`,
    issues,
  );
}

/** Parses a serialised model's fitted state, or throws a ValidationError saying what is wrong with it. */
export function parseState<S extends z.ZodType>(schema: S, state: unknown, owner: string): z.output<S> {
  const result = schema.safeParse(state);
  if (result.success) return result.data;
  const issues = toIssues(result.error, 'state');
  throw new ValidationError(
    `${owner}: invalid serialised model: ${issues.map((issue) => `${issue.path} (${issue.message})`).join(', ')}`,
    issues,
  );
}

/** A ValidationError about one field. */
export function invalid(path: string, message: string): ValidationError {
  return new ValidationError(`${path}: ${message}`, [{ path, message }]);
}
