/**
 * The credentials tests use. `startService` sets `AUTH_BOOTSTRAP_ADMIN_KEY` to the admin key below,
 * and `gql` / `wsClient` send it unless a test passes other headers or connection parameters.
 */
export const TEST_ADMIN_KEY = 'aul_bootstrap_test-admin-key-0123456789abcdef';

/** The header a client sends to authenticate with a key or a bearer token. */
export const bearer = (token: string = TEST_ADMIN_KEY): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});
