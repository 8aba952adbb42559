/**
 * Prints the GraphQL contract to `schema.graphql` (`npm run schema:print`). The test suite fails when
 * the checked-in file differs from the schema the code builds, so every change to the contract shows
 * in review as a change to this file.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printedSchema } from '../src/schema/print.js';

const target = fileURLToPath(new URL('../schema.graphql', import.meta.url));
writeFileSync(target, printedSchema());
process.stdout.write(`wrote ${target}\n`);
