import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertManagerKind } from '../../../src/actors/alertmanager.kind.js';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { createAlertManager } from '../../../src/alerting/manager.js';
import { createComplexEventRuntime } from '../../../src/complex-events/runtime.js';
import { AlertRule } from '../../../src/domain/alerting/rules.js';
import { ComplexRules } from '../../../src/domain/analytics/complex-events.js';
import type { EventStore, RecordedEvent } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

async function streamOf(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

const rules = ComplexRules.parse([
  {
    kind: 'sequence',
    id: 'cpu_then_latency',
    steps: [
      { type: 'anomalyDetected', name: 'cpu' },
      { type: 'trendChanged', name: 'latency_ms' },
    ],
    withinMs: 60_000,
    by: ['host'],
  },
  {
    kind: 'count',
    id: 'cpu_flapping',
    match: { type: 'anomalyDetected', name: 'cpu' },
    n: 3,
    windowMs: 120_000,
  },
]);

/** Findings as pipelines record them: anomalies on cpu and trend changes on latency, for two hosts. */
function findings(from: number, count: number) {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const host = i % 4 < 2 ? 'a' : 'b';
    const anomaly = i % 2 === 0;
    return {
      id: crypto.randomUUID(),
      type: anomaly ? 'anomalyDetected' : 'trendChanged',
      data: {
        sourcePosition: String(i),
        seriesId: String(1000 + i),
        name: anomaly ? 'cpu' : 'latency_ms',
        labels: { host },
        ts: 1_700_000_000_000 + i * 20_000,
        ...(anomaly
          ? { value: 99, score: 1, detector: 'zscore', expectedLow: 0, expectedHigh: 50 }
          : {
              direction: 'up',
              strength: 'strong',
              slope: 1,
              slopeLow: 0.5,
              slopeHigh: 1.5,
              pValue: 0.001,
              momentum: 0,
            }),
      },
    };
  });
}

/** The complex events, their causes named by the findings' series (log positions differ between logs). */
async function complexOf(store: EventStore) {
  const seriesAt = new Map<string, string>();
  for await (const e of store.readAll({ filter: { categories: ['findings'] } }))
    seriesAt.set(e.position.toString(), (e.data as { seriesId: string }).seriesId);
  return (await streamOf(store, 'complex-main')).map((e) => {
    const d = e.data as { causes: string[] };
    return { id: e.id, data: { ...d, causes: d.causes.map((p) => seriesAt.get(p)) } };
  });
}

describe('complex-event runtime on the log', () => {
  let events: EventStore;
  beforeEach(() => {
    events = createSqliteEventStore({ path: join(tempDir(), 'events.db') });
  });
  afterEach(async () => {
    await events.close();
  });

  it('raises each complex event exactly once across a crash, as an uninterrupted run does', async () => {
    const input = findings(0, 40);
    // Uninterrupted, on its own log.
    const reference = createSqliteEventStore({ path: join(tempDir(), 'reference.db') });
    await reference.append('findings-p1', input);
    const whole = createComplexEventRuntime({
      rules,
      events: reference,
      logger: silentLogger,
      checkpointEvery: 7,
    });
    await whole.start();
    await whole.waitFor();
    await whole.stop();
    const expected = await complexOf(reference);
    await reference.close();
    expect(expected.length).toBeGreaterThanOrEqual(10);
    expect(expected[0]!.data).toMatchObject({ rule: 'cpu_then_latency', group: { host: 'a' } });

    // Crashed after 25 findings (no final checkpoint), restarted, then the rest arrives.
    await events.append('findings-p1', input.slice(0, 25));
    const first = createComplexEventRuntime({ rules, events, logger: silentLogger, checkpointEvery: 7 });
    await first.start();
    await first.waitFor();
    await first.stop({ checkpoint: false });
    await events.append('findings-p1', input.slice(25));
    const second = createComplexEventRuntime({ rules, events, logger: silentLogger, checkpointEvery: 7 });
    await second.start();
    await second.waitFor();
    await second.stop();

    const got = await complexOf(events);
    expect(got.map((e) => e.data)).toEqual(expected.map((e) => e.data));
    expect(new Set(got.map((e) => e.id)).size).toBe(got.length);
  });

  it('goes on after a crash when the rules were changed in between, without judging old findings again', async () => {
    const input = findings(0, 40);
    await events.append('findings-p1', input.slice(0, 25));
    const first = createComplexEventRuntime({ rules, events, logger: silentLogger, checkpointEvery: 7 });
    await first.start();
    await first.waitFor();
    await first.stop({ checkpoint: false });
    const before = await streamOf(events, 'complex-main');
    const edited = ComplexRules.parse([
      {
        kind: 'count',
        id: 'cpu_twice',
        match: { type: 'anomalyDetected', name: 'cpu' },
        n: 2,
        windowMs: 120_000,
        by: ['host'],
      },
    ]);
    await events.append('findings-p1', input.slice(25));
    const second = createComplexEventRuntime({
      rules: edited,
      events,
      logger: silentLogger,
      checkpointEvery: 7,
    });
    await second.start();
    await second.waitFor();
    await second.stop();
    expect(second.status().lastError).toBeNull();
    const after = (await streamOf(events, 'complex-main')).slice(before.length);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((e) => (e.data as { rule: string }).rule === 'cpu_twice')).toBe(true);
    // Only findings after the last one that raised something under the old rules are judged anew.
    const lastCause = BigInt(String(before.at(-1)!.metadata.sourcePosition));
    expect(after.every((e) => BigInt(String(e.metadata.sourcePosition)) > lastCause)).toBe(true);
    const checkpoints = await streamOf(events, 'complexstate-main');
    expect(checkpoints).toHaveLength(1); // older checkpoints are truncated
  });

  it('lets an alert rule fire on a complex event', async () => {
    const host: ActorHost = createActorHost({
      store: events,
      kinds: [alertManagerKind()],
      logger: silentLogger,
    });
    const manager = createAlertManager({
      rules: [
        AlertRule.parse({
          id: 'host_degraded',
          match: { name: 'cpu_then_latency' },
          condition: { type: 'complexEvent', rule: 'cpu_then_latency' },
          severity: 'critical',
          groupBy: ['host'],
        }),
      ],
      events,
      host,
      logger: silentLogger,
      tickMs: 3_600_000,
    });
    const runtime = createComplexEventRuntime({ rules, events, logger: silentLogger });
    await runtime.start();
    await manager.start();
    await events.append('findings-p1', findings(0, 2)); // host a: cpu anomaly, then latency trend
    await runtime.waitFor();
    await manager.waitFor();
    const facts = (await streamOf(events, 'alertmanager-main')).map((e) => [
      e.type,
      (e.data as { rule?: string }).rule,
      (
        (e.data as { labels?: Record<string, string> }).labels ??
        (e.data as { group: Record<string, string> }).group
      ).host,
    ]);
    expect(facts).toEqual([
      ['notificationRaised', 'host_degraded', 'a'],
      ['alertPending', 'host_degraded', 'a'],
      ['alertFired', 'host_degraded', 'a'],
    ]);
    await manager.stop();
    await runtime.stop();
    await host.stop();
  });
});
