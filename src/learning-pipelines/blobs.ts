import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeDurably } from '../runtime/durable-file.js';

/**
 * Where a learning pipeline keeps what its tasks make (the window read, the rows built): JSON files
 * named by their sha256 under `<DATA_DIR>/learning`, written durably before the `taskSucceeded` that
 * names them is appended, so a resumed run finds every finished task's output. Never rewritten.
 */
export const BlobRef = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int() });
export type BlobRef = z.infer<typeof BlobRef>;

export interface BlobStore {
  save(value: unknown): BlobRef;
  load(ref: BlobRef): unknown;
}

export function createBlobStore(dir: string): BlobStore {
  return {
    save(value) {
      const json = JSON.stringify(value);
      const sha256 = createHash('sha256').update(json).digest('hex');
      writeDurably(dir, `${sha256}.json`, json);
      return { sha256, bytes: Buffer.byteLength(json) };
    },
    load(ref) {
      const json = readFileSync(join(dir, `${ref.sha256}.json`), 'utf8');
      if (createHash('sha256').update(json).digest('hex') !== ref.sha256)
        throw new Error(`learning pipeline output ${ref.sha256} does not match its hash`);
      return JSON.parse(json);
    },
  };
}
