import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createActorHost } from '../../../src/actors/host.js';
import { modelKind } from '../../../src/actors/model.kind.js';
import type { ModelContext } from '../../../src/domain/model/state.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { killed, startTsChild, waitForLine } from '../../support/child-process.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

describe('actor host killed mid-work', () => {
  it('rehydrates after SIGKILL during training, resumes the interrupted run, and records its result once', async () => {
    const dbPath = join(tempDir(), 'events.db');
    const child = startTsChild('test/support/model-host-child.ts', [dbPath, 'crashy']);
    await waitForLine(child, /^TRAINING$/);
    await killed(child);

    const store = createSqliteEventStore({ path: dbPath });
    const host = createActorHost({ store, kinds: [modelKind()], logger: silentLogger });
    expect(await host.recover()).toBe(1);
    await host.settled();
    const view = await host.get({ kind: 'model', id: 'crashy' });
    expect(view.state).toBe('trained');
    expect((view.context as ModelContext).versions.map((v) => v.version)).toEqual([1]);

    // A second recovery finds nothing in flight, and a second host records nothing twice.
    const again = createActorHost({ store, kinds: [modelKind()], logger: silentLogger });
    expect(await again.recover()).toBe(0);
    const types: string[] = [];
    for await (const e of store.readStream('model-crashy')) types.push(e.type);
    expect(types).toEqual(['modelRegistered', 'trainingRequested', 'trainingSucceeded']);
    await again.stop();
    await host.stop();
    await store.close();
  });
});
