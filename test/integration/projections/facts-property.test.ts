import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFact, FACTS, type FactType, factVersion } from '../../../src/domain/facts.js';
import { type BatchPayload, decodeBatch } from '../../../src/domain/metrics/batch.js';
import { alertsProjection } from '../../../src/projections/alerts/index.js';
import { auditIndexProjection } from '../../../src/projections/audit-index/index.js';
import { metricSeriesProjection } from '../../../src/projections/metric-series/index.js';
import { pipelineFindingsProjection } from '../../../src/projections/pipeline-findings/index.js';
import type { Projection } from '../../../src/projections/projection.js';
import { createProjectionRunner, type ProjectionRunner } from '../../../src/projections/runner.js';
import { type AnalyticsStore, openAnalyticsStore, queryRows } from '../../../src/stores/clickhouse/client.js';
import { migrate } from '../../../src/stores/clickhouse/migrations.js';
import type { EventStore, JsonValue } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { factArbitrary, NOW } from '../../support/fact-arbitraries.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

/**
 * Every fact type of the catalogue, with generated payloads (empty arrays and maps, extreme and tiny
 * numbers, -0, unicode labels, the edges of UInt64 and of ClickHouse's time range), written to the log
 * and run through every projection: each must write them all, never failing on a payload its schema
 * accepts. A fact type added to the catalogue is covered without touching this file.
 */

// FACTS_SEED and FACTS_PER_TYPE explore further. (Larger runs once found that one write spanning more
// than 100 day or month partitions was refused by ClickHouse's default and retried forever: the client
// now lifts that limit.)
const SEED = Number(process.env.FACTS_SEED ?? 20_240_611);
const PER_TYPE = Number(process.env.FACTS_PER_TYPE ?? 25);
const DAY = 86_400_000;
const TYPES = Object.keys(FACTS) as FactType[];

/** `PER_TYPE` payloads of each type, reproducibly (one seed per type, so types do not share values). */
function generate(): Map<FactType, unknown[]> {
  return new Map(
    TYPES.map((type, i) => {
      try {
        return [type, fc.sample(factArbitrary(type), { seed: SEED + i, numRuns: PER_TYPE })];
      } catch (error) {
        throw new Error(`no payloads for the fact type ${type}: ${(error as Error).message}`);
      }
    }),
  );
}

/** The edges the payloads reach, so that a generator losing them does not go unnoticed. */
function edgesOf(values: readonly unknown[]): Set<string> {
  const nonAscii = /[\u0080-\u{10ffff}]/u;
  const seen = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'number') {
      if (Object.is(v, -0)) seen.add('-0');
      if (Math.abs(v) >= 1e308) seen.add('huge number');
      if (v !== 0 && Math.abs(v) < 1e-300) seen.add('tiny number');
    } else if (typeof v === 'string') {
      if (v === '18446744073709551615') seen.add('2^64 - 1');
      if (nonAscii.test(v)) seen.add('unicode text');
    } else if (Array.isArray(v)) {
      if (!v.length) seen.add('empty array');
      v.forEach(visit);
    } else if (v && typeof v === 'object') {
      const entries = Object.entries(v);
      if (!entries.length) seen.add('empty object');
      for (const [key, value] of entries) {
        if (nonAscii.test(key)) seen.add('unicode key');
        visit(value);
      }
    }
  };
  values.forEach(visit);
  return seen;
}

/** Resolves once the runner has written everything it takes; rejects as soon as it fails, even once. */
async function settle(runner: ProjectionRunner): Promise<void> {
  let done = false;
  const watch = async () => {
    while (!done) {
      const status = runner.consumerStatus();
      if (status.state === 'halted' || status.state === 'retrying')
        throw new Error(`projection ${runner.name} is ${status.state}: ${status.lastError}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  try {
    await Promise.race([runner.waitFor(), watch()]);
  } finally {
    done = true;
  }
}

describe('every fact type through every projection, with generated payloads', () => {
  let dir: string;
  let events: EventStore;
  let analytics: AnalyticsStore;
  let payloads: Map<FactType, unknown[]>;
  const count = (type: FactType) => payloads.get(type)!.length;
  const samplesOf = (batches: readonly unknown[], kept: (ts: number) => boolean = () => true) =>
    batches.reduce<number>((n, batch) => n + [...decodeBatch(batch).timestamps].filter(kept).length, 0);

  beforeAll(async () => {
    payloads = generate();
    dir = tempDir();
    events = createSqliteEventStore({ path: join(dir, 'events.db') });
    analytics = await openAnalyticsStore({ database: 'facts_test', dataDir: join(dir, 'clickhouse') });
    await migrate(analytics, silentLogger);
  });
  afterAll(async () => {
    await analytics?.close();
    await events?.close();
  });

  it('has an arbitrary for every fact type, whose payloads pass checkFact', () => {
    expect([...payloads.keys()]).toEqual(TYPES);
    for (const [type, generated] of payloads) {
      expect(generated, type).toHaveLength(PER_TYPE);
      for (const payload of generated) {
        // What the log gives back is JSON: -0 becomes 0, undefined keys go.
        const stored = JSON.parse(JSON.stringify(payload));
        expect(() => checkFact(type, stored), `${type} ${JSON.stringify(payload)}`).not.toThrow();
      }
    }
    const all = [...payloads.values()].flat();
    expect([...edgesOf(all)].sort()).toEqual(
      [
        '-0',
        '2^64 - 1',
        'empty array',
        'empty object',
        'huge number',
        'tiny number',
        'unicode key',
        'unicode text',
      ].sort(),
    );
    // Batches: empty ones, 4-byte time offsets, and 8-byte times (spanning more than 24 days).
    const batches = [
      ...(payloads.get('batchFlushed') as BatchPayload[]),
      ...(payloads.get('lateSamplesRouted') as { batch: BatchPayload }[]).map((p) => p.batch),
    ];
    const kinds = new Set(batches.map((b) => `${b.count ? 'samples' : 'empty'}, ${b.tsWidth}-byte times`));
    expect([...kinds]).toEqual(
      expect.arrayContaining(['empty, 4-byte times', 'samples, 4-byte times', 'samples, 8-byte times']),
    );
  });

  it('writes them all: every projection reaches the head, with a row for each fact it takes', async () => {
    for (const type of TYPES) {
      const { category } = FACTS[type];
      await events.append(
        `${category}-prop`,
        payloads.get(type)!.map((data) => ({
          id: randomUUID(),
          type,
          data: data as JsonValue,
          metadata: { schemaVersion: factVersion(type) },
        })),
      );
    }
    const projections: Projection[] = [
      auditIndexProjection,
      metricSeriesProjection(),
      pipelineFindingsProjection,
      alertsProjection,
    ];
    const runners = projections.map((projection) =>
      createProjectionRunner({ projection, events, analytics, logger: silentLogger, batchSize: 100 }),
    );
    try {
      for (const runner of runners) await runner.start();
      await Promise.all(runners.map(settle));
      for (const runner of runners) {
        const status = await runner.status();
        expect(status, runner.name).toMatchObject({ lastError: null, lagMs: 0 });
        expect(['live', 'catchingUp'], runner.name).toContain(status.state);
      }
    } finally {
      for (const runner of runners) await runner.stop();
    }

    const rows = async (table: string, where = 'true', params: Record<string, unknown> = {}) => {
      const [row] = await queryRows<{ n: string }>(
        analytics,
        `SELECT count() AS n FROM ${analytics.table(table)} WHERE ${where}`,
        params,
      );
      return Number(row!.n);
    };
    // Raw samples live 30 days (TTL on toDateTime(ts), which covers 1970–2106): count those it keeps
    // for sure; older (or far future) ones may already be gone, by design.
    const retained = { from: NOW - 25 * DAY, to: Date.UTC(2100, 0, 1) };
    const kept = (ts: number) => ts >= retained.from && ts < retained.to;
    expect(samplesOf(payloads.get('batchFlushed')!, kept)).toBeGreaterThan(0);
    const transitions = [
      'alertPending',
      'alertFired',
      'alertEscalated',
      'alertResolved',
      'alertAcknowledged',
    ];
    const periodicity = [
      'seasonalityDetected',
      'seasonalityLost',
      'frequenciesChanged',
      'recurringAnomalyDetected',
    ];
    const sum = (types: readonly string[]) => types.reduce((n, t) => n + count(t as FactType), 0);
    const late = payloads.get('lateSamplesRouted')!.map((p) => (p as { batch: BatchPayload }).batch);

    expect({
      audit_index: await rows('audit_index'),
      samples: await rows(
        'samples',
        'ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64})',
        retained,
      ),
      anomalies: await rows('anomalies'),
      trends: await rows('trends'),
      patterns: await rows('patterns'),
      periodicity: await rows('periodicity'),
      quality_findings: await rows('quality_findings'),
      late_samples: await rows('late_samples'),
      alerts: await rows('alerts'),
    }).toEqual({
      // The actor host's caches (snapshots, the in-flight index) are not part of the audit trail.
      audit_index: TYPES.filter((t) => FACTS[t].category !== 'actorcache').length * PER_TYPE,
      samples: samplesOf(payloads.get('batchFlushed')!, kept),
      anomalies: count('anomalyDetected'),
      trends: count('trendChanged'),
      patterns: count('patternMatched'),
      periodicity: sum(periodicity),
      quality_findings: count('qualityIssuesFound'),
      late_samples: samplesOf(late),
      alerts: sum(transitions),
    });
  });
});
