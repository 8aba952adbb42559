import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AccessGate, Refusal } from '../auth/gate.js';
import type { Principal, Role } from '../domain/auth/roles.js';
import { HttpError, readBody } from '../runtime/http-body.js';
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
  /** Authentication, rate limits and route roles; every request but health, readiness and metrics passes it. */
  readonly gate: AccessGate;
  /** The largest `/graphql` request body taken (GRAPHQL_MAX_BODY_BYTES). */
  readonly graphqlMaxBodyBytes: number;
  /** Serve HTTPS (and WSS) with this certificate and key (PEM files). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** The role a caller needs (checked, with the rate limit, before `handle` runs). */
  readonly role: Role;
  handle(req: IncomingMessage, res: ServerResponse, caller: Principal): Promise<void>;
}

export interface App {
  /** Starts taking requests; resolves with the bound address. */
  start(options: { port: number; host: string }): Promise<{ port: number; host: string }>;
  /** Stops taking requests: in-flight ones get a moment, long-lived ones (SSE, WebSocket) are cut. */
  stop(): Promise<void>;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/** A refusal as HTTP says it: the status, Retry-After when rate-limited, and the code and reason. */
function sendRefusal(res: ServerResponse, refusal: Refusal, graphql: boolean): void {
  const error = { code: refusal.code, message: refusal.message };
  sendJson(
    res,
    refusal.status,
    graphql ? { errors: [{ message: refusal.message, extensions: { code: refusal.code } }] } : { error },
    {
      ...(refusal.retryAfterSeconds ? { 'retry-after': String(refusal.retryAfterSeconds) } : {}),
      ...(refusal.status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
    },
  );
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
    if (deps.graphql && url.pathname === GRAPHQL_PATH) return serveGraphQL(deps.graphql, req, res, url);
    const route = deps.routes?.find((r) => r.path === url.pathname);
    if (route) {
      if (req.method !== route.method) {
        req.resume();
        return sendJson(res, 405, {
          error: { code: 'METHOD_NOT_ALLOWED', message: `use ${route.method} ${route.path}` },
        });
      }
      const admission = await deps.gate.admitRequest(req, `${route.method} ${route.path}`, route.role);
      if ('refusal' in admission) {
        req.resume();
        return sendRefusal(res, admission.refusal, false);
      }
      return route.handle(req, res, admission.caller);
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

  /**
   * `/graphql`: CORS preflights and the GraphiQL page pass as they are (yoga answers them); everything
   * else is admitted by the gate (the schema checks each field's role) and, when it has a body, read
   * here up to the limit first.
   */
  async function serveGraphQL(
    graphql: GraphQLServer,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<void> {
    const page =
      req.method === 'GET' && !url.searchParams.has('query') && /text\/html/.test(req.headers.accept ?? '');
    if (req.method === 'OPTIONS' || page) return graphql.handle(req, res);
    const admission = await deps.gate.admitRequest(req, `${req.method} ${GRAPHQL_PATH}`, null);
    if ('refusal' in admission) {
      req.resume();
      return sendRefusal(res, admission.refusal, true);
    }
    if (req.method === 'POST') {
      try {
        const body = await readBody(req, {
          maxBytes: deps.graphqlMaxBodyBytes,
          maxDecodedBytes: deps.graphqlMaxBodyBytes,
        });
        // The server adapter under yoga takes a body already read from `req.body`.
        if (body.length > 0) (req as IncomingMessage & { body?: Buffer }).body = body;
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        const code = error.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
        return sendJson(res, error.status, { errors: [{ message: error.message, extensions: { code } }] });
      }
    }
    return graphql.handle(req, res);
  }

  return {
    async start({ port, host }) {
      const listener = (req: IncomingMessage, res: ServerResponse) => {
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
      };
      server = deps.tls
        ? createTlsServer(
            { cert: readFileSync(deps.tls.certFile), key: readFileSync(deps.tls.keyFile) },
            listener,
          )
        : createServer(listener);
      const listening = server;
      deps.graphql?.attach(listening);
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, host, () => resolve());
      });
      const address = listening.address();
      const bound = typeof address === 'object' && address ? { port: address.port, host } : { port, host };
      logger.info({ ...bound, tls: Boolean(deps.tls) }, 'ALL-USE Learning is listening');
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
