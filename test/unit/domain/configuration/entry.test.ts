import { describe, expect, it } from 'vitest';
import {
  type ChangeStamp,
  type ConfigEntry,
  contentHash,
  decideEntry,
  diffDefinitions,
  type EntryCommand,
  evolveEntry,
  seedCommandId,
} from '../../../../src/domain/configuration/entry.js';

type Def = { id: string; threshold: number; labels?: Record<string, string> };
const v = (threshold: number, labels?: Record<string, string>): Def => ({
  id: 'cpu',
  threshold,
  ...(labels ? { labels } : {}),
});
const api = (at: number, by = 'user:ann'): ChangeStamp => ({ by, at, origin: 'api' });
const seed = (at: number): ChangeStamp => ({ by: 'system:config', at, origin: 'seed' });

/** Given the commands so far, the entry their facts fold to (the commands' decisions recorded in turn). */
function given(...steps: [EntryCommand<Def>, ChangeStamp][]): ConfigEntry<Def> | undefined {
  let entry: ConfigEntry<Def> | undefined;
  for (const [command, stamp] of steps) {
    const change = decideEntry('rule', 'cpu', entry, command);
    if (change) entry = evolveEntry(entry, 'cpu', change, stamp);
  }
  return entry;
}
const seeded = (def: Def, entry: ConfigEntry<Def> | undefined) =>
  decideEntry('rule', 'cpu', entry, { type: 'seed', definition: def });

describe('configuration entries', () => {
  it('folds create, update, pause, resume and delete into status, version and who changed it last', () => {
    const entry = given(
      [{ type: 'create', definition: v(90) }, api(1)],
      [{ type: 'update', definition: v(95) }, api(2, 'user:bob')],
      [{ type: 'pause' }, api(3)],
    );
    expect(entry).toMatchObject({
      id: 'cpu',
      status: 'paused',
      definition: v(95),
      version: 3,
      createdAt: 1,
      createdBy: 'user:ann',
      updatedAt: 3,
      updatedBy: 'user:ann',
      origin: 'api',
    });
    const resumed = given(
      [{ type: 'create', definition: v(90) }, api(1)],
      [{ type: 'pause' }, api(2)],
      [{ type: 'resume' }, api(3)],
      [{ type: 'delete' }, api(4, 'user:bob')],
    );
    expect(resumed).toMatchObject({
      status: 'deleted',
      definition: v(90),
      version: 4,
      updatedBy: 'user:bob',
    });
    // Created again after its deletion: a new creation, its history counted on.
    const again = evolveEntry(resumed, 'cpu', { kind: 'defined', definition: v(70) }, api(5, 'user:cy'));
    expect(again).toMatchObject({ status: 'active', version: 5, createdAt: 5, createdBy: 'user:cy' });
  });

  it('decides what a command changes, and refuses what does not fit the entry', () => {
    const entry = given([{ type: 'create', definition: v(90) }, api(1)]);
    expect(() => decideEntry('rule', 'cpu', entry, { type: 'create', definition: v(1) })).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    // The same create again (a retry): nothing to record, answered with the entry as it is.
    expect(decideEntry('rule', 'cpu', entry, { type: 'create', definition: v(90) })).toBeNull();
    expect(() => decideEntry('rule', 'x', undefined, { type: 'update', definition: v(1) })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND', message: "no rule 'x'" }),
    );
    // What is so already changes nothing: no fact.
    expect(decideEntry('rule', 'cpu', entry, { type: 'update', definition: v(90) })).toBeNull();
    expect(decideEntry('rule', 'cpu', entry, { type: 'resume' })).toBeNull();
    const deleted = given([{ type: 'create', definition: v(90) }, api(1)], [{ type: 'delete' }, api(2)]);
    for (const command of [{ type: 'pause' }, { type: 'delete' }] as const)
      expect(() => decideEntry('rule', 'cpu', deleted, command)).toThrow(/it was deleted/);
    expect(decideEntry('rule', 'cpu', deleted, { type: 'create', definition: v(1) })).toEqual({
      kind: 'defined',
      definition: v(1),
    });
  });

  it('names what an update changed, field by field', () => {
    expect(diffDefinitions(v(90, { host: 'a' }), v(95, { host: 'a', dc: 'eu' }))).toEqual([
      { path: 'labels.dc', after: 'eu' },
      { path: 'threshold', before: 90, after: 95 },
    ]);
    expect(diffDefinitions({ stages: [1, 2] }, { stages: [1] })).toEqual([{ path: 'stages.1', before: 2 }]);
    expect(contentHash({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(contentHash({ b: [1, { d: 3, c: 2 }], a: 1 }));
  });

  describe('seeding from a settings file', () => {
    it('defines what the log does not have, and records nothing when started again with the same file', () => {
      expect(seeded(v(90), undefined)).toEqual({ kind: 'defined', definition: v(90) });
      const entry = given([{ type: 'seed', definition: v(90) }, seed(1)]);
      expect(seeded(v(90), entry)).toBeNull();
      // Key order is not content.
      expect(seeded({ threshold: 90, id: 'cpu' }, entry)).toBeNull();
    });

    it('leaves a change made through the API (update, pause, deletion) until the file entry itself changes', () => {
      const updated = given(
        [{ type: 'seed', definition: v(90) }, seed(1)],
        [{ type: 'update', definition: v(99) }, api(2)],
      );
      expect(seeded(v(90), updated)).toBeNull();
      const paused = given([{ type: 'seed', definition: v(90) }, seed(1)], [{ type: 'pause' }, api(2)]);
      expect(seeded(v(90), paused)).toBeNull();
      const deleted = given([{ type: 'seed', definition: v(90) }, seed(1)], [{ type: 'delete' }, api(2)]);
      expect(seeded(v(90), deleted)).toBeNull();
      // The file changed: it applies (the deleted entry comes back, the paused one stays paused).
      expect(seeded(v(80), updated)).toMatchObject({
        kind: 'updated',
        changes: [{ path: 'threshold', before: 99, after: 80 }],
      });
      expect(seeded(v(80), deleted)).toEqual({ kind: 'defined', definition: v(80) });
      const pausedThenSeeded = evolveEntry(paused, 'cpu', seeded(v(80), paused)!, seed(3));
      expect(pausedThenSeeded).toMatchObject({ status: 'paused', definition: v(80), origin: 'seed' });
    });

    it('applies a file that goes back to an earlier version, but not one that says what the API already set', () => {
      const twice = given(
        [{ type: 'seed', definition: v(1) }, seed(1)],
        [{ type: 'seed', definition: v(2) }, seed(2)],
      );
      expect(seeded(v(1), twice)).toMatchObject({ kind: 'updated' });
      // Defined through the API first; a file saying the same thing records nothing, then or later.
      const viaApi = given([{ type: 'create', definition: v(5) }, api(1)]);
      expect(seeded(v(5), viaApi)).toBeNull();
      const changedAgain = given(
        [{ type: 'create', definition: v(5) }, api(1)],
        [{ type: 'update', definition: v(6) }, api(2)],
      );
      expect(seeded(v(5), changedAgain)).toBeNull();
    });

    it('names a seed by the file entry and the entry version, so two instances record it once', () => {
      const entry = given([{ type: 'seed', definition: v(1) }, seed(1)]);
      expect(seedCommandId('cpu', v(2), entry)).toBe(`seed:cpu:${contentHash(v(2))}:v1`);
      expect(seedCommandId('cpu', v(2), undefined)).toBe(`seed:cpu:${contentHash(v(2))}:v0`);
    });
  });
});
