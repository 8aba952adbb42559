import SchemaBuilder from '@pothos/core';
import { GraphQLError, Kind } from 'graphql';
import type { GraphQLContext } from './context.js';

/**
 * The one schema builder. `DateTime` is an ISO-8601 string on the wire and a millisecond epoch
 * inside; `Position` is a log position (a decimal string: 64-bit integers do not fit a GraphQL Int).
 */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: {
    DateTime: { Input: number; Output: number };
    Position: { Input: bigint; Output: bigint | string };
  };
}>({});

/** A date, or a date and time with a time zone (`Z` or an offset): nothing left to the server's zone. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

function parseDateTime(value: unknown): number {
  const ms = typeof value === 'string' && ISO_8601.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new GraphQLError(`DateTime must be an ISO-8601 string, got ${JSON.stringify(value)}`);
  return ms;
}

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO-8601 string (e.g. 2026-11-27T14:02:00.000Z).',
  serialize: (ms) => new Date(ms).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

const MAX_POSITION = 2n ** 63n - 1n;

function parsePosition(value: unknown): bigint {
  if (typeof value === 'string' && /^\d{1,19}$/.test(value) && BigInt(value) <= MAX_POSITION)
    return BigInt(value);
  throw new GraphQLError(
    `Position must be a decimal string of digits up to ${MAX_POSITION}, got ${JSON.stringify(value)}`,
  );
}

builder.scalarType('Position', {
  description: 'A position in the event log, as a decimal string. Pass one back as `after` to resume.',
  serialize: (p) => p.toString(),
  parseValue: parsePosition,
  parseLiteral: (ast) => parsePosition(ast.kind === Kind.STRING ? ast.value : undefined),
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

/** A label as a name/value pair (GraphQL has no map type). */
export interface LabelShape {
  readonly name: string;
  readonly value: string;
}
export const Label = builder.objectRef<LabelShape>('Label').implement({
  fields: (t) => ({ name: t.exposeString('name'), value: t.exposeString('value') }),
});
export const labelList = (labels: Readonly<Record<string, string>>): LabelShape[] =>
  Object.entries(labels).map(([name, value]) => ({ name, value }));

export const LabelInput = builder.inputType('LabelInput', {
  fields: (t) => ({ name: t.string({ required: true }), value: t.string({ required: true }) }),
});
