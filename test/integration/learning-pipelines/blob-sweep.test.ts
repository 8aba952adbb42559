import { existsSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBlobStore } from '../../../src/learning-pipelines/blobs.js';
import { type LearningPipelineView, outputsInUse } from '../../../src/learning-pipelines/pipelines.js';
import { tempDir } from '../../support/fixtures.js';

const HOUR = 3_600_000;

/** A pipeline whose current run has this status and read task output. */
const view = (id: string, status: string, sha256: string): LearningPipelineView =>
  ({
    id,
    state: 'idle',
    revision: 1n,
    context: {
      current: {
        status,
        tasks: [
          { id: 'read', output: { blob: { sha256, bytes: 1 } } },
          { id: 'train', output: null },
        ],
      },
    },
  }) as unknown as LearningPipelineView;

describe('task outputs no run can read again', () => {
  it('are deleted once old enough; those an unfinished run names, and fresh ones, stay', () => {
    const dir = tempDir('blobs-');
    const blobs = createBlobStore(dir);
    const done = blobs.save({ rows: [1] });
    const paused = blobs.save({ rows: [2] });
    const failed = blobs.save({ rows: [3] });
    const fresh = blobs.save({ rows: [4] });
    const now = Date.now();
    const past = (now - 2 * HOUR) / 1000;
    for (const ref of [done, paused, failed]) utimesSync(join(dir, `${ref.sha256}.json`), past, past);
    const keep = outputsInUse([
      view('a', 'succeeded', done.sha256),
      view('b', 'paused', paused.sha256),
      view('c', 'failed', failed.sha256),
    ]);
    expect(keep).toEqual(new Set([paused.sha256, failed.sha256]));
    expect(blobs.sweep(keep, HOUR, now)).toBe(1);
    const present = (sha256: string) => existsSync(join(dir, `${sha256}.json`));
    expect([done, paused, failed, fresh].map((r) => present(r.sha256))).toEqual([false, true, true, true]);
    // The same output made again is written again.
    expect(blobs.save({ rows: [1] })).toEqual(done);
    expect(blobs.load(done)).toEqual({ rows: [1] });
    expect(createBlobStore(join(dir, 'nothing-yet')).sweep(new Set(), HOUR, now)).toBe(0);
  });
});
