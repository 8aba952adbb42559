import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent.kind.js';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { pipelineKind } from '../../../src/actors/pipeline.kind.js';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import type { SeriesDef } from '../../../src/domain/metrics/kinds.js';
import { PipelineDefinition } from '../../../src/domain/pipeline/definition.js';
import { createPipelineRuntime } from '../../../src/pipelines/runtime.js';
import type { EventStore } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { batchEvent, batchOf } from '../../support/batches.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

const T0 = Date.now() - 600_000 - ((Date.now() - 600_000) % 10_000);
const cpu = defineSeries({ name: 'cpu', labels: { host: 'a' }, kind: 'gauge' });

describe('a multi-part checkpoint cut short at a different source position', () => {
  let events: EventStore;
  let host: ActorHost;
  afterEach(async () => {
    await host.stop();
    await events.close();
  });

  it('the pipeline still makes progress after the restart', async () => {
    events = createSqliteEventStore({ path: join(tempDir(), 'events.db') });
    host = createActorHost({ store: events, kinds: [pipelineKind(), agentKind()], logger: silentLogger });
    const def = PipelineDefinition.parse({
      id: 'cpu_stats',
      route: [{ name: 'cpu' }],
      quality: { allowedLatenessMs: 2000, expectedIntervalMs: 1000, requiredLabels: ['host'] },
      stages: [
        {
          type: 'aggregate',
          window: { type: 'tumbling', sizeMs: 10_000 },
          functions: ['avg', 'count'],
          by: ['host'],
        },
      ],
    });
    let seq = 0;
    const append = async (b: number) => {
      const samples = Array.from({ length: 10 }, (_, s): [SeriesDef, number, number] => [
        cpu,
        T0 + (b * 10 + s) * 1000,
        s,
      ]);
      await events.append('samples-src', [batchEvent(batchOf('src', seq, samples))], {
        expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1),
      });
      seq++;
    };
    let failPart: number | null = null;
    // SIGTERM, then SIGKILL while the final checkpoint is being written: only its first part lands.
    const dying: EventStore = {
      ...events,
      append: (streamId, batch, options) => {
        const part =
          batch[0]?.type === 'pipelineCheckpointPart' ? (batch[0].data as { index: number }).index : -1;
        if (part === failPart) return Promise.reject(new Error('process killed'));
        return events.append(streamId, batch, options);
      },
    };
    const first = createPipelineRuntime({
      definition: def,
      events: dying,
      host,
      logger: silentLogger,
      checkpointEvery: 2,
      checkpointPartChars: 300,
    });
    await first.start();
    for (let b = 0; b < 3; b++) await append(b);
    await first.waitFor(); // emissions 1..3; a complete checkpoint after emission 2
    failPart = 1;
    await first.stop(); // the final checkpoint (at batch 3's position) dies after its part 0

    for (let b = 3; b < 8; b++) await append(b);
    const second = createPipelineRuntime({
      definition: def,
      events,
      host,
      logger: silentLogger,
      checkpointEvery: 2,
      checkpointPartChars: 300,
    });
    await second.start();
    const done = await Promise.race([
      second.waitFor().then(() => 'caught up'),
      new Promise((r) => setTimeout(() => r('stuck'), 3000)),
    ]);
    const status = second.status();
    await second.stop({ checkpoint: false });
    expect({ done, lastError: status.lastError }).toEqual({ done: 'caught up', lastError: null });
  });
});
