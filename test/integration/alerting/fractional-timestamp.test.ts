import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent.kind.js';
import { alertManagerKind } from '../../../src/actors/alertmanager.kind.js';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { pipelineKind } from '../../../src/actors/pipeline.kind.js';
import { createAlertManager } from '../../../src/alerting/manager.js';
import { createCollectionAgent } from '../../../src/collection/agent.js';
import { AlertRule } from '../../../src/domain/alerting/rules.js';
import { ingestMetrics } from '../../../src/ingest/ingest-metrics.js';
import type { EventStore } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

describe('a sample with a fractional millisecond timestamp', () => {
  let events: EventStore;
  let host: ActorHost;
  afterEach(async () => {
    await host.stop();
    await events.close();
  });

  it('accepted by ingestMetrics, it does not wedge the alert manager', async () => {
    const dir = tempDir();
    events = createSqliteEventStore({ path: join(dir, 'events.db') });
    host = createActorHost({
      store: events,
      kinds: [pipelineKind(), agentKind(), alertManagerKind()],
      logger: silentLogger,
    });
    const agent = createCollectionAgent({
      id: 'otlp',
      events,
      host,
      logger: silentLogger,
      spoolDir: join(dir, 'spool'),
    });
    await agent.start();
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
    // A JSON client sending sub-millisecond precision (e.g. performance.timeOrigin + performance.now()).
    const result = await ingestMetrics(agent, {
      samples: [{ name: 'cpu', kind: 'gauge', value: 1, timestamp: Date.now() - 1000 + 0.25 }],
    });
    expect(result.accepted).toBe(1);
    await agent.stop();
    await new Promise((r) => setTimeout(r, 1500));
    const status = manager.status();
    await manager.stop();
    expect({ state: status.state, lastError: status.lastError }).toEqual({ state: 'live', lastError: null });
  });
});
