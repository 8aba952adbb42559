import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T> {
  readonly data?: T | null;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

/** A query or mutation over HTTP, as any client sends it. */
export async function gql<T = Record<string, unknown>>(
  baseUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

/** A graphql-ws client on the service's `/graphql`. */
export function wsClient(
  baseUrl: string,
  headers: Record<string, string> = {},
  connectionParams?: Record<string, unknown>,
): Client {
  return createClient({
    ...(connectionParams ? { connectionParams } : {}),
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
