import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyCheckpoint } from '../../../src/projections/checkpoint.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { tempDir } from '../../support/fixtures.js';

const event = () => ({ id: randomUUID(), type: 'a', data: {} });

describe('a checkpoint kept outside the log is trusted only if it belongs to this log', () => {
  it('accepts its own, refuses another store, a position ahead of the head, and a reused position; a removed event is fine', async () => {
    const store = createSqliteEventStore({ path: join(tempDir(), 'events.db') });
    const { epoch } = await store.identity();
    const first = await store.append('s-1', [event(), event(), event()]);
    const at = await store.readAt(first.position);
    const mine = { position: first.position, epoch, eventId: at!.id };
    await expect(verifyCheckpoint(store, 'p', mine)).resolves.toBeUndefined();
    await expect(verifyCheckpoint(store, 'p', null)).resolves.toBeUndefined();
    // Older checkpoints (no epoch, no event id) are taken as they are, if not ahead.
    await expect(
      verifyCheckpoint(store, 'p', { position: first.position, epoch: '', eventId: '' }),
    ).resolves.toBeUndefined();

    await expect(verifyCheckpoint(store, 'p', { ...mine, epoch: randomUUID() })).rejects.toThrow(
      /projection p: its checkpoint \(position 3\) was taken against another event store .*npm run projection:rebuild -- p/,
    );
    await expect(verifyCheckpoint(store, 'p', { ...mine, position: 10n })).rejects.toThrow(
      /position 10\) is ahead of the log, whose head is 3: the log lost events it had/,
    );
    await expect(verifyCheckpoint(store, 'p', { ...mine, eventId: randomUUID() })).rejects.toThrow(
      /but that position now holds .*: the log was rewound and its positions used again/,
    );
    // An event removed since (expired and scavenged, a truncated cache stream) is no reason to stop.
    await store.truncateStream('s-1', 3n);
    expect(await store.readAt(first.position)).toBeNull();
    await expect(verifyCheckpoint(store, 'p', mine)).resolves.toBeUndefined();
    await store.close();
  });
});
