import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ActorHost } from '../actors/host.js';
import type { CollectionAgent } from '../collection/agent.js';
import type { ProjectionRunner } from '../projections/runner.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import type { EventStore } from '../stores/event-store/port.js';
import { GRAPHQL_PATH, type GraphQLServer } from './graphql.js';
import { createServiceMetrics } from './metrics.js';

export interface AppDeps {
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
  readonly host: ActorHost;
  readonly projections: readonly ProjectionRunner[];
  readonly logger: Logger;
  readonly migrations: readonly number[];
  readonly version: string;
  /** Collection agents: their health is part of /healthz; they are stopped (and flushed) first on stop. */
  readonly agents?: readonly CollectionAgent[];
  /** Anything else with a status to show on /healthz (the streaming pipelines). */
  readonly pipelines?: readonly { status(): unknown }[];
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
  /** Starts the projections and the HTTP server; resolves with the bound address. */
  start(options: { port: number; host: string }): Promise<{ port: number; host: string }>;
  /** Stops taking requests, then stops actors and projections, then closes the stores. */
  stop(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function check(
  name: string,
  probe: () => Promise<unknown>,
): Promise<{ name: string; ok: boolean; error?: string }> {
  try {
    await probe();
    return { name, ok: true };
  } catch (error) {
    return { name, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

export function buildApp(deps: AppDeps): App {
  const { logger } = deps;
  const metrics = createServiceMetrics(deps.projections);
  const startedAt = new Date();
  let server: Server | null = null;

  async function health(res: ServerResponse): Promise<void> {
    const checks = await Promise.all([
      check('eventStore', () => deps.events.headPosition()),
      check('analytics', () =>
        deps.analytics.client.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json()),
      ),
    ]);
    const projections = await Promise.all(
      deps.projections.map((p) =>
        p.status().catch((error: unknown) => ({
          name: p.name,
          error: error instanceof Error ? error.message : String(error),
        })),
      ),
    );
    const ok = checks.every((c) => c.ok);
    sendJson(res, ok ? 200 : 503, {
      status: ok ? 'ok' : 'degraded',
      version: deps.version,
      startedAt: startedAt.toISOString(),
      eventStore: { kind: deps.events.kind },
      analytics: {
        kind: deps.analytics.kind,
        database: deps.analytics.database,
        migrationsApplied: deps.migrations,
      },
      checks,
      projections,
      agents: (deps.agents ?? []).map((a) => a.health()),
      pipelines: (deps.pipelines ?? []).map((p) => p.status()),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/healthz') return health(res);
    if (req.method === 'GET' && url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.contentType });
      res.end(await metrics.metrics());
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
      for (const projection of deps.projections) await projection.start();
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
      if (closing) {
        await deps.graphql?.close();
        const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
        // Requests in flight get a moment to finish; long-lived ones (SSE subscriptions) are cut.
        closing.closeIdleConnections();
        const grace = setTimeout(() => closing.closeAllConnections(), 1000);
        await closed;
        clearTimeout(grace);
      }
      for (const agent of deps.agents ?? []) await agent.stop();
      await deps.host.stop();
      for (const projection of deps.projections) await projection.stop();
      await deps.analytics.close();
      await deps.events.close();
    },
  };
}
