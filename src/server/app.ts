import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { GRAPHQL_PATH, type GraphQLServer } from './graphql.js';
import type { Health } from './health.js';

export interface AppDeps {
  readonly logger: Logger;
  readonly version: string;
  readonly health: Health;
  readonly metrics: Registry;
  /** Extra routes (ingest endpoints). */
  readonly routes?: readonly Route[];
  /** The GraphQL API on `/graphql` (HTTP, SSE and graphql-ws). */
  readonly graphql?: GraphQLServer;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export interface App {
  /** Starts taking requests; resolves with the bound address. */
  start(options: { port: number; host: string }): Promise<{ port: number; host: string }>;
  /** Stops taking requests: in-flight ones get a moment, long-lived ones (SSE, WebSocket) are cut. */
  stop(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** The HTTP front: health, readiness, metrics, GraphQL and the ingest routes. Owns nothing else. */
export function buildApp(deps: AppDeps): App {
  const { logger } = deps;
  let server: Server | null = null;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/healthz')
      return sendJson(res, 200, deps.health.liveness());
    if (req.method === 'GET' && url.pathname === '/readyz') {
      const readiness = await deps.health.readiness();
      return sendJson(res, readiness.ready ? 200 : 503, readiness);
    }
    if (req.method === 'GET' && url.pathname === '/metrics') {
      const body = await deps.metrics.metrics();
      res.writeHead(200, { 'content-type': deps.metrics.contentType });
      res.end(body);
      return;
    }
    if (deps.graphql && url.pathname === GRAPHQL_PATH) return deps.graphql.handle(req, res);
    const route = deps.routes?.find((r) => r.path === url.pathname);
    if (route) {
      if (req.method !== route.method) {
        req.resume();
        return sendJson(res, 405, {
          error: { code: 'METHOD_NOT_ALLOWED', message: `use ${route.method} ${route.path}` },
        });
      }
      return route.handle(req, res);
    }
    if (req.method === 'GET' && url.pathname === '/') {
      return sendJson(res, 200, {
        service: 'all-use-learning',
        version: deps.version,
        endpoints: [
          '/healthz',
          '/readyz',
          '/metrics',
          ...(deps.graphql ? [GRAPHQL_PATH] : []),
          ...(deps.routes ?? []).map((r) => `${r.method} ${r.path}`),
        ],
      });
    }
    sendJson(res, 404, {
      error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${url.pathname}` },
    });
  }

  return {
    async start({ port, host }) {
      server = createServer((req, res) => {
        handle(req, res).catch((error: unknown) => {
          // A client's mistake is the client's: logged below error level, answered with its status.
          const status = (error as { status?: unknown }).status;
          if (typeof status === 'number' && status >= 400 && status < 500) {
            logger.info({ url: req.url, status, reason: (error as Error).message }, 'request refused');
            if (!res.headersSent)
              sendJson(res, status, { error: { code: 'BAD_REQUEST', message: (error as Error).message } });
            else res.end();
            return;
          }
          logger.error({ err: error, url: req.url }, 'request failed');
          if (!res.headersSent)
            sendJson(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
          else res.end();
        });
      });
      const listening = server;
      deps.graphql?.attach(listening);
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, host, () => resolve());
      });
      const address = listening.address();
      const bound = typeof address === 'object' && address ? { port: address.port, host } : { port, host };
      logger.info(bound, 'ALL-USE Learning is listening');
      return bound;
    },

    async stop() {
      const closing = server;
      server = null;
      if (!closing) return;
      await deps.graphql?.close();
      const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
      // Requests in flight get a moment to finish; long-lived ones (SSE subscriptions) are cut.
      closing.closeIdleConnections();
      const grace = setTimeout(() => closing.closeAllConnections(), 1000);
      await closed;
      clearTimeout(grace);
    },
  };
}
