import { type ASTNode, type DocumentNode, GraphQLError, Kind, visit } from 'graphql';

/**
 * Where a literal sits inside the argument that holds it: `samples[4321].value`. GraphQL's own
 * validation of inline literals says what is wrong but not where in a long list (it does for
 * variables), so a client sending 10,000 samples inline would not know which one; this finds it.
 */
export function literalPath(document: DocumentNode, target: ASTNode): string | null {
  let found: string | null = null;
  visit(document, {
    Argument(argument) {
      if (found) return false;
      const path = search(argument.value, target, argument.name.value);
      if (path) found = path;
      return false;
    },
  });
  return found;
}

function search(node: ASTNode, target: ASTNode, path: string): string | null {
  if (node === target) return path;
  if (node.kind === Kind.LIST)
    for (const [i, item] of node.values.entries()) {
      const hit = search(item, target, `${path}[${i}]`);
      if (hit) return hit;
    }
  if (node.kind === Kind.OBJECT)
    for (const field of node.fields) {
      if (field === target) return `${path}.${field.name.value}`;
      const hit = search(field.value, target, `${path}.${field.name.value}`);
      if (hit) return hit;
    }
  return null;
}

/** An envelop plugin that prefixes validation errors about inline literals with their path. */
export const literalPathsPlugin = {
  onValidate({ params }: { params: { documentAST: DocumentNode } }) {
    return ({
      result,
      setResult,
    }: {
      result: readonly GraphQLError[];
      setResult(errors: GraphQLError[]): void;
    }) => {
      if (result.length === 0) return;
      setResult(
        result.map((error) => {
          const node = error.nodes?.[0];
          const path = node ? literalPath(params.documentAST, node) : null;
          if (!path || error.message.startsWith(path)) return error;
          return new GraphQLError(`${path}: ${error.message}`, {
            nodes: error.nodes,
            source: error.source,
            positions: error.positions,
            path: error.path,
            originalError: error.originalError,
            extensions: { ...error.extensions, field: path },
          });
        }),
      );
    };
  },
};
