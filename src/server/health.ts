import type { AgentHealth } from '../collection/agent.js';
import type { PoolStatus } from '../learning/pool/pool.js';
import { type ConsumerStatus, consumerProblem } from '../runtime/log-consumer.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import type { EventStore } from '../stores/event-store/port.js';

/** Anything that consumes the log: how it stands, in memory (no I/O). */
export interface HealthConsumer {
  readonly name: string;
  consumerStatus(): ConsumerStatus;
}

export interface HealthDeps {
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
  readonly consumers: () => readonly HealthConsumer[];
  readonly agents: () => readonly { health(): AgentHealth }[];
  readonly version: string;
  readonly migrations: readonly number[];
  /** How long a consumer may fail, or hold one batch, or an agent hold samples not yet durable, before the service is not ready. */
  readonly stallMs: number;
  /** How late the event loop runs, in ms (shown on /healthz). */
  readonly lag?: { readonly ms: number };
  /** The learning worker pool's counters (busy, queued, done, failed), shown on /healthz. */
  readonly learningPool?: () => PoolStatus;
  readonly now?: () => number;
}

export interface Problem {
  readonly component: string;
  readonly reason: string;
}

const STORE_CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Liveness and readiness. `/healthz` answers from memory only (the process is up and its event loop
 * turns), so it stays fast under any load. `/readyz` fails while a store cannot be reached, while any
 * consumer of the log has halted or has made no progress (failing, or stuck on one batch) for longer
 * than `stallMs`, or while an agent holds samples it could not make durable for that long; it says
 * which, and why.
 */
export function createHealth(deps: HealthDeps) {
  const now = deps.now ?? Date.now;
  const startedAt = new Date(now());

  /** The problems that make the service not ready, found without touching the stores. */
  function problems(): Problem[] {
    const at = now();
    const found: Problem[] = [];
    for (const consumer of deps.consumers()) {
      const reason = consumerProblem(consumer.consumerStatus(), at, deps.stallMs);
      if (reason) found.push({ component: consumer.name, reason });
    }
    for (const agent of deps.agents()) {
      const health = agent.health();
      if (health.waitingSince !== null && at - health.waitingSince > deps.stallMs)
        found.push({
          component: `agent:${health.agentId}`,
          reason: `samples not durable for ${Math.round((at - health.waitingSince) / 1000)} s: ${health.lastError ?? 'the log is slow'}`,
        });
      else if (health.spooledSince !== null && at - health.spooledSince > deps.stallMs)
        found.push({
          component: `agent:${health.agentId}`,
          reason: `${health.spooledBatches} batches wait in the spool for ${Math.round((at - health.spooledSince) / 1000)} s (durable, not yet in the log): ${health.lastError ?? 'replay has not succeeded yet'}`,
        });
    }
    return found;
  }

  return {
    problems,

    liveness() {
      return {
        status: 'ok' as const,
        version: deps.version,
        startedAt: startedAt.toISOString(),
        process: {
          eventLoopLagMs: Math.round((deps.lag?.ms ?? 0) * 10) / 10,
          ...(({ rss, heapUsed }) => ({ rssBytes: rss, heapUsedBytes: heapUsed }))(process.memoryUsage()),
        },
        eventStore: { kind: deps.events.kind },
        analytics: {
          kind: deps.analytics.kind,
          database: deps.analytics.database,
          migrationsApplied: deps.migrations,
        },
        consumers: deps.consumers().map((c) => c.consumerStatus()),
        agents: deps.agents().map((a) => a.health()),
        ...(deps.learningPool ? { learningPool: deps.learningPool() } : {}),
      };
    },

    async readiness() {
      const checks = await Promise.all(
        [
          ['eventStore', () => deps.events.headPosition()],
          [
            'analytics',
            () =>
              deps.analytics.client.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json()),
          ],
        ].map(async ([name, probe]) => {
          try {
            await withTimeout((probe as () => Promise<unknown>)(), STORE_CHECK_TIMEOUT_MS, name as string);
            return null;
          } catch (error) {
            return {
              component: name as string,
              reason: error instanceof Error ? error.message : String(error),
            };
          }
        }),
      );
      const found = [...checks.filter((c): c is Problem => c !== null), ...problems()];
      return {
        ready: found.length === 0,
        status: found.length ? ('not ready' as const) : ('ready' as const),
        problems: found,
      };
    },
  };
}

export type Health = ReturnType<typeof createHealth>;
