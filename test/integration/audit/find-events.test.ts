import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causalChain } from '../../../src/audit/causal-chain.js';
import {
  type AuditSources,
  type EventQuery,
  eventsAfter,
  eventsBefore,
  matchesQuery,
} from '../../../src/audit/find-events.js';
import { auditIndexProjection } from '../../../src/projections/audit-index/index.js';
import { indexCheckpoint, indexedPositions } from '../../../src/projections/audit-index/lookup.js';
import { createProjectionRunner } from '../../../src/projections/runner.js';
import { type AnalyticsStore, openAnalyticsStore } from '../../../src/stores/clickhouse/client.js';
import { migrate } from '../../../src/stores/clickhouse/migrations.js';
import type { EventStore, Position, RecordedEvent } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

let n = 0;
/** One event in its own append: alpha and beta streams take turns; two principals, three correlations. */
async function write(events: EventStore, stream: string, metadata: Record<string, string> = {}) {
  const i = n++;
  const id = crypto.randomUUID();
  const result = await events.append(stream, [
    {
      id,
      type: `t${i % 3}`,
      data: { i },
      metadata: { principal: `user:${stream[0]}`, correlationId: `c-${i % 3}`, ...metadata },
    },
  ]);
  return { id, position: result.position };
}

describe('audit reads: the index up to its checkpoint, the log past it', () => {
  let events: EventStore;
  let analytics: AnalyticsStore;
  let sources: AuditSources;
  let log: RecordedEvent[];
  let cause: { id: string; position: Position };
  let lateEffect: { id: string; position: Position };

  beforeAll(async () => {
    const dir = tempDir();
    events = createSqliteEventStore({ path: join(dir, 'events.db') });
    analytics = await openAnalyticsStore({ database: 'audit_find', dataDir: join(dir, 'clickhouse') });
    await migrate(analytics, silentLogger);
    sources = { events, analytics };
    for (let i = 0; i < 30; i++) await write(events, i % 2 ? 'beta-1' : 'alpha-1');
    cause = await write(events, 'gamma-1');
    await write(events, 'gamma-1', { causationId: cause.id }); // an effect the index has
    for (let i = 0; i < 3; i++) await write(events, 'gamma-1');
    const runner = createProjectionRunner({
      projection: auditIndexProjection,
      events,
      analytics,
      logger: silentLogger,
    });
    await runner.start();
    await runner.waitFor();
    await runner.stop();
    // From here on the index lags: these are only in the log.
    for (let i = 0; i < 12; i++) await write(events, i % 2 ? 'beta-1' : 'alpha-1');
    lateEffect = await write(events, 'delta-1', { causationId: cause.id });
    log = [];
    for await (const e of events.readAll()) log.push(e);
  });

  afterAll(async () => {
    await analytics.close();
    await events.close();
  });

  const positionsOf = (list: readonly RecordedEvent[]) => list.map((e) => e.position);
  const oracle = (q: EventQuery) => positionsOf(log.filter((e) => matchesQuery(e, q)));
  const middle = () => log[Math.floor(log.length / 2)]!.createdAt;
  const queries = (): EventQuery[] => [
    {},
    { category: 'alpha' },
    { streamId: 'beta-1' },
    { principal: 'user:a' },
    { correlationId: 'c-1' },
    { types: ['t2', 't0'] },
    { category: 'beta', types: ['t1'], principal: 'user:b' },
    { from: middle() },
    { to: middle() },
    { streamId: 'nobody-1' },
  ];

  it('knows how far the index goes', async () => {
    expect(await indexCheckpoint(analytics, events)).toBe(35n);
    expect(log.at(-1)!.position).toBe(48n);
  });

  it('pages forwards through every filter exactly as a read of the whole log would find', async () => {
    for (const q of queries()) {
      const found: Position[] = [];
      let after: Position | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const page = await eventsAfter(sources, q, after, 7);
        found.push(...positionsOf(page.events));
        if (!page.hasMore) break;
        after = page.events.at(-1)!.position;
      }
      expect(
        found,
        JSON.stringify(q, (_k, v) => (v instanceof Date ? v.toISOString() : v)),
      ).toEqual(oracle(q));
    }
  });

  it('pages backwards, newest first, just as well', async () => {
    for (const q of queries()) {
      const pages: Position[][] = [];
      let before: Position | undefined;
      for (let i = 0; i < 20; i++) {
        const page = await eventsBefore(sources, q, before, 7);
        pages.unshift(positionsOf(page.events));
        if (!page.hasMore) break;
        before = page.events[0]!.position;
      }
      expect(pages.flat()).toEqual(oracle(q));
    }
  });

  it('passes over index rows whose events are gone from the log', async () => {
    const gone = await write(events, 'epsilon-1');
    const runner = createProjectionRunner({
      projection: auditIndexProjection,
      events,
      analytics,
      logger: silentLogger,
    });
    await runner.start();
    await runner.waitFor();
    await runner.stop();
    await events.setStreamMaxAge('epsilon-1', 1);
    await new Promise((r) => setTimeout(r, 5));
    expect(await events.scavenge(gone.position)).toBe(1);
    expect(
      await indexedPositions(
        analytics,
        { category: 'epsilon' },
        { upTo: gone.position, order: 'asc', limit: 10 },
      ),
    ).toEqual([gone.position]);
    expect((await eventsAfter(sources, { category: 'epsilon' }, undefined, 10)).events).toEqual([]);
    expect((await eventsBefore(sources, { category: 'epsilon' }, undefined, 10)).events).toEqual([]);
  });

  it('follows causes and effects across the index checkpoint', async () => {
    const effect = await events.readAt(lateEffect.position);
    const back = await causalChain(sources, effect!, 100);
    expect(back.links.map((l) => [l.relation, l.event.id])).toEqual([
      ['cause', cause.id],
      ['subject', lateEffect.id],
    ]);
    const forward = await causalChain(sources, (await events.readAt(cause.position))!, 100);
    expect(forward.links.map((l) => [l.relation, l.event.streamId, l.causedBy])).toEqual([
      ['subject', 'gamma-1', null],
      ['effect', 'gamma-1', cause.position],
      ['effect', 'delta-1', cause.position],
    ]);
    expect(forward.truncated).toBe(false);
    const cut = await causalChain(sources, (await events.readAt(cause.position))!, 2);
    expect(cut.links).toHaveLength(2);
    expect(cut.truncated).toBe(true);
  });
});
