import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { bearer, TEST_ADMIN_KEY } from './auth.js';

export interface GraphQLResponse<T> {
  readonly data?: T | null;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

/** A query or mutation over HTTP, as any client sends it (as the test admin unless `headers` say otherwise). */
export async function gql<T = Record<string, unknown>>(
  baseUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = bearer(),
): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

/** A graphql-ws client on the service's `/graphql` (as the test admin unless `connectionParams` say otherwise). */
export function wsClient(
  baseUrl: string,
  headers: Record<string, string> = {},
  connectionParams: Record<string, unknown> = { authorization: `Bearer ${TEST_ADMIN_KEY}` },
): Client {
  return createClient({
    connectionParams,
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: class extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers });
      }
    },
    retryAttempts: 0,
  });
}

/** Everything a subscription delivers, with a way to wait for what the test expects. */
export function collect<T>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const items: T[] = [];
  const errors: unknown[] = [];
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  const wake = () => {
    for (const w of [...waiters])
      if (w.check()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  const dispose = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        for (const value of Object.values(result.data ?? {})) items.push(value);
        wake();
      },
      error: (error) => {
        errors.push(error);
        wake();
      },
      complete: () => {},
    },
  );
  return {
    items,
    errors,
    dispose,
    /** Resolves once `check(items)` holds; rejects after `timeoutMs`. */
    until(check: (items: T[]) => boolean, timeoutMs = 20_000): Promise<T[]> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out; got ${JSON.stringify(items)} ${JSON.stringify(errors)}`)),
          timeoutMs,
        );
        const waiter = {
          check: () => check(items),
          resolve: () => {
            clearTimeout(timer);
            resolve(items);
          },
        };
        if (waiter.check()) waiter.resolve();
        else waiters.push(waiter);
      });
    },
  };
}

/** Creates an API key through the API (as the test admin): the key, and the principal it acts as. */
export async function createKey(
  baseUrl: string,
  name: string,
  role: 'viewer' | 'operator' | 'admin',
  expiresAt?: string,
): Promise<{ key: string; keyId: string; principal: string }> {
  const created = await gql<{ createApiKey: { key: string; apiKey: { keyId: string } } }>(
    baseUrl,
    `mutation ($name: String!, $role: Role!, $expiresAt: DateTime) {
       createApiKey(name: $name, role: $role, expiresAt: $expiresAt) { ... on CreatedApiKey { key apiKey { keyId } } ... on Error { code message } } }`,
    { name, role, expiresAt },
  );
  if (!created.data) throw new Error(`createApiKey failed: ${JSON.stringify(created.errors)}`);
  const { key, apiKey } = created.data.createApiKey;
  return { key, keyId: apiKey.keyId, principal: `apikey:${apiKey.keyId}` };
}
