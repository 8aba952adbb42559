import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError, Kind } from 'graphql';
import { grants } from '../domain/auth/roles.js';
import { ForbiddenError } from '../domain/errors.js';
import type { GraphQLContext } from './context.js';

/**
 * The one schema builder. `DateTime` is an ISO-8601 string on the wire and a millisecond epoch
 * inside; `Position` is a log position (a decimal string: 64-bit integers do not fit a GraphQL Int).
 *
 * Authorization is in the schema: every root field needs a role (queries and subscriptions a viewer,
 * mutations an operator, set on the root types; admin fields say so themselves), checked before the
 * resolver runs and, for subscriptions, before the subscription starts. A refusal is recorded (see
 * `refusals.ts`) and comes back as a FORBIDDEN error. The errors plugin wraps the scope checks, so a
 * mutation that lists `ForbiddenError` among its errors gets it as a typed result.
 */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: { viewer: boolean; operator: boolean; admin: boolean };
  Scalars: {
    DateTime: { Input: number; Output: number };
    Position: { Input: bigint; Output: bigint | string };
    /** Any JSON value (output only): payloads, envelopes, actor states. See json.ts. */
    JSON: { Input: never; Output: unknown };
    /** A JSON object: definitions too nested for input types, validated by the server. See json.ts. */
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
  };
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  plugins: [ErrorsPlugin, ScopeAuthPlugin, RelayPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      viewer: grants(ctx.caller.role, 'viewer'),
      operator: grants(ctx.caller.role, 'operator'),
      admin: grants(ctx.caller.role, 'admin'),
    }),
    unauthorizedError: (_parent, ctx, info, result) => {
      ctx.refusals.refused(ctx.caller, `${info.parentType.name}.${info.fieldName}`, result.message);
      if (ctx.caller.role === null)
        return new GraphQLError(`${info.fieldName}: authentication required (an API key or a bearer token)`, {
          extensions: { code: 'UNAUTHENTICATED' },
        });
      return new ForbiddenError(
        `${info.fieldName}: the ${ctx.caller.role} role may not do this (${result.message})`,
      );
    },
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // Entities are found by their own ids (series id, event position, alert key): no global `node` field.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
  },
  errors: { directResult: true },
});

/** A date, or a date and time with a time zone (`Z` or an offset): nothing left to the server's zone. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** Whether the date part names a day of the calendar (`Date.parse` rolls 2026-02-30 over to March 2). */
function isCalendarDate(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

function parseDateTime(value: unknown): number {
  const ms = typeof value === 'string' && ISO_8601.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new GraphQLError(`DateTime must be an ISO-8601 string, got ${JSON.stringify(value)}`);
  if (!isCalendarDate(value as string))
    throw new GraphQLError(`DateTime ${JSON.stringify(value)} is not a day of the calendar`);
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

builder.queryType({ authScopes: { viewer: true } });
builder.mutationType({ authScopes: { operator: true } });
builder.subscriptionType({ authScopes: { viewer: true } });

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
