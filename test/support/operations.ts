import {
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
} from 'graphql';

/** A value of the type that passes GraphQL's own validation (not necessarily the resolver's). */
function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [sample(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type))
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type))
        .map((f) => [f.name, sample(f.type)]),
    );
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
      case 'Float':
        return 1;
      case 'Boolean':
        return false;
      case 'DateTime':
        return '2099-01-01T00:00:00Z';
      case 'Position':
        return '1';
      case 'JSON':
      case 'JSONObject':
        return {};
      default:
        return 'x';
    }
  }
  return null;
}

const selectionOf = (type: GraphQLOutputType) =>
  isScalarType(getNamedType(type)) || isEnumType(getNamedType(type)) ? '' : '{ __typename }';

/**
 * The smallest operation that calls one root field: its required arguments as variables with values of
 * the right types, and `__typename` as the selection. Enough to reach the field's authorization check.
 */
export function minimalOperation(
  schema: GraphQLSchema,
  kind: 'query' | 'mutation' | 'subscription',
  name: string,
): { query: string; variables: Record<string, unknown> } {
  const root =
    kind === 'query'
      ? schema.getQueryType()
      : kind === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  const field = root!.getFields()[name]!;
  const required = field.args.filter((a) => isNonNullType(a.type));
  const declarations = required.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
  const args = required.map((a) => `${a.name}: $${a.name}`).join(', ');
  return {
    query: `${kind}${declarations ? ` (${declarations})` : ''} { ${name}${args ? `(${args})` : ''} ${selectionOf(field.type)} }`,
    variables: Object.fromEntries(required.map((a) => [a.name, sample(a.type)])),
  };
}
