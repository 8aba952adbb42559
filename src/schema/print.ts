import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from './index.js';

/** The contract as SDL, sorted, as `schema.graphql` holds it. */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
