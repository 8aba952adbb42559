import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeDurably } from '../runtime/durable-file.js';
import { openFile, writeFor } from '../stores/encryption.js';

/**
 * Where a learning pipeline keeps what its tasks make (the window read, the rows built): JSON files
 * named by their sha256 under `<DATA_DIR>/learning`, written durably before the `taskSucceeded` that
 * names them is appended, so a resumed run finds every finished task's output. Never rewritten; the
 * files of runs that cannot be resumed any more (finished, cancelled, or superseded) are swept.
 * With a key (the learning-blobs subkey of DATA_ENCRYPTION_KEY) each file is sealed (AES-256-GCM); the
 * name stays the sha256 of the JSON.
 */
export const BlobRef = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int() });
export type BlobRef = z.infer<typeof BlobRef>;

export interface BlobStore {
  save(value: unknown): BlobRef;
  load(ref: BlobRef): unknown;
  /**
   * Deletes the files no run can read again — none of `keep` (what unfinished runs name), and older
   * than `graceMs` (a task writes its file before the fact that names it) — and answers how many.
   */
  sweep(keep: ReadonlySet<string>, graceMs: number, now: number): number;
}

export function createBlobStore(dir: string, key: Buffer | null = null): BlobStore {
  return {
    save(value) {
      const json = JSON.stringify(value);
      const sha256 = createHash('sha256').update(json).digest('hex');
      writeDurably(dir, `${sha256}.json`, writeFor(key, Buffer.from(json, 'utf8'), 'learning-blobs'));
      return { sha256, bytes: Buffer.byteLength(json) };
    },
    load(ref) {
      const path = join(dir, `${ref.sha256}.json`);
      const json = openFile(key, readFileSync(path), 'learning-blobs', path).toString('utf8');
      if (createHash('sha256').update(json).digest('hex') !== ref.sha256)
        throw new Error(`learning pipeline output ${ref.sha256} does not match its hash`);
      return JSON.parse(json);
    },
    sweep(keep, graceMs, now) {
      let removed = 0;
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return 0; // nothing written yet
      }
      for (const name of names) {
        const sha256 = name.endsWith('.json') ? name.slice(0, -5) : null;
        if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256) || keep.has(sha256)) continue;
        const path = join(dir, name);
        if (now - statSync(path).mtimeMs < graceMs) continue;
        rmSync(path, { force: true });
        removed++;
      }
      return removed;
    },
  };
}
