import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent.kind.js';
import { alertManagerKind } from '../../../src/actors/alertmanager.kind.js';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { pipelineKind } from '../../../src/actors/pipeline.kind.js';
import { createAlertManager } from '../../../src/alerting/manager.js';
import { AlertRule } from '../../../src/domain/alerting/rules.js';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import type { EventStore } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { batchEvent, batchOf } from '../../support/batches.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

describe('alert manager with an absence rule', () => {
  let events: EventStore;
  let host: ActorHost;
  afterEach(async () => {
    await host.stop();
    await events.close();
  });

  it('does not record a fact in its own stream for every incoming sample batch', async () => {
    events = createSqliteEventStore({ path: join(tempDir(), 'events.db') });
    host = createActorHost({
      store: events,
      kinds: [pipelineKind(), agentKind(), alertManagerKind()],
      logger: silentLogger,
    });
    const rules = [
      AlertRule.parse({
        id: 'cpu_absent',
        match: { name: 'cpu' },
        condition: { type: 'absence' },
        forMs: 60_000,
        severity: 'warning',
      }),
    ];
    const manager = createAlertManager({ rules, events, host, logger: silentLogger, tickMs: 3_600_000 });
    await manager.start();
    const cpu = defineSeries({ name: 'cpu', labels: { host: 'a' }, kind: 'gauge' });
    const T0 = Date.now() - 600_000;
    const BATCHES = 200;
    for (let seq = 0; seq < BATCHES; seq++) {
      await events.append('samples-src', [batchEvent(batchOf('src', seq, [[cpu, T0 + seq * 1000, 40]]))], {
        expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1),
      });
    }
    await manager.waitFor();
    await manager.stop();
    let recorded = 0;
    for await (const _ of events.readStream('alertmanager-main')) recorded++;
    // No alert changed state: the stream (folded at every start, each command id kept in memory by
    // the host) should not grow with the sample traffic.
    expect(recorded).toBeLessThan(BATCHES / 10);
  });
});
