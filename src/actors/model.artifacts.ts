import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Artifact } from '../domain/model/events.js';
import type { SerializedModel } from '../learning/algorithm.js';
import type { FittedFeatures } from '../learning/features/pipeline.js';
import { writeDurably } from '../runtime/durable-file.js';
import { openFile, writeFor } from '../stores/encryption.js';

/**
 * Where fitted models are kept. The rule: an artifact (the serialised model and its fitted feature
 * pipeline, as JSON) of at most `INLINE_ARTIFACT_MAX_BYTES` goes into the `trainingSucceeded` fact
 * itself; a larger one is written to `<DATA_DIR>/models/<sha256>.json` (temp file, fsync, rename,
 * fsync of the directory) before the fact that names its hash is appended, so a fact never names a
 * file that is not durably there. Files are content-addressed and never rewritten or deleted. With a
 * key (the model-artifacts subkey of DATA_ENCRYPTION_KEY) each file is sealed (AES-256-GCM).
 */
export const INLINE_ARTIFACT_MAX_BYTES = 256 * 1024;

export interface StoredModel {
  readonly model: SerializedModel;
  readonly features: FittedFeatures;
}

export interface ArtifactStore {
  save(stored: StoredModel): Artifact;
  load(artifact: Artifact): StoredModel;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `dir` null: everything inline (tests, and kinds that only fold streams). */
export function createArtifactStore(
  dir: string | null,
  maxInline = INLINE_ARTIFACT_MAX_BYTES,
  key: Buffer | null = null,
): ArtifactStore {
  return {
    save(stored) {
      const json = JSON.stringify({ model: stored.model, features: stored.features });
      const hash = sha256(json);
      const bytes = Buffer.byteLength(json);
      if (dir === null || bytes <= maxInline)
        return {
          kind: 'inline',
          sha256: hash,
          bytes,
          model: stored.model as unknown as Record<string, unknown>,
          features: stored.features as unknown as Record<string, unknown>,
        };
      writeDurably(dir, `${hash}.json`, writeFor(key, Buffer.from(json, 'utf8'), 'model-artifacts'));
      return { kind: 'file', sha256: hash, bytes };
    },
    load(artifact) {
      if (artifact.kind === 'inline')
        return {
          model: artifact.model as unknown as SerializedModel,
          features: artifact.features as unknown as FittedFeatures,
        };
      if (dir === null)
        throw new Error(`model artifact ${artifact.sha256} is stored as a file; no models directory here`);
      const path = join(dir, `${artifact.sha256}.json`);
      const json = openFile(key, readFileSync(path), 'model-artifacts', path).toString('utf8');
      if (sha256(json) !== artifact.sha256)
        throw new Error(`model artifact ${artifact.sha256} does not match its hash`);
      return JSON.parse(json) as StoredModel;
    },
  };
}
