import { GraphQLError, valueFromASTUntyped } from 'graphql';
import { builder } from './builder.js';

/** Any JSON value, as is (output only: nothing takes JSON as an argument). */
builder.scalarType('JSON', {
  description: 'Any JSON value: an event payload, its envelope, or an actor state.',
  serialize: (value) => value,
  parseValue: () => {
    throw new GraphQLError('JSON is not taken as an argument');
  },
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function objectOf(value: unknown): Record<string, unknown> {
  if (!isObject(value))
    throw new GraphQLError(`JSONObject must be a JSON object, got ${JSON.stringify(value)}`);
  return value;
}

/** A JSON object, as is: the definitions too nested for input types (pipelines), checked by the server. */
builder.scalarType('JSONObject', {
  description:
    'A JSON object: in arguments, a definition the server validates against its schema (errors name the field).',
  serialize: (value) => value,
  parseValue: objectOf,
  parseLiteral: (ast, variables) => objectOf(valueFromASTUntyped(ast, variables ?? undefined)),
});

/** The scalars' names, for `type:` in fields and arguments. */
export const JSONScalar = 'JSON' as const;
export const JSONObject = 'JSONObject' as const;
