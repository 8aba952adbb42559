import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  // One copy of graphql for the schema builder, the server and the tests (graphql's ESM and CJS
  // entry points would otherwise load as two realms: "Cannot use GraphQLObjectType from another module").
  resolve: { alias: { graphql: require.resolve('graphql/index.js') } },
  test: {
    include: ['test/**/*.test.ts'],
    // The threads pool crashes inside libchdb when a worker exits; forks are isolated processes.
    pool: 'forks',
    isolate: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/closing-line-reporter.ts'],
  },
});
