import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { ModelEvent } from '../../src/domain/model/events.js';

export const silentLogger = pino({ level: 'silent' });

export function tempDir(prefix = 'aul-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** y = 2·cpu + 0.5·rps + 1, exactly: a linear regression on inline rows, the last quarter held out. */
export const modelTrainingSpec = {
  algorithm: 'linearRegression',
  task: 'regression',
  params: {},
  seed: 0,
  features: {},
  dataset: {
    inline: {
      features: Array.from({ length: 12 }, (_, i) => [i, (i * 3) % 7]),
      target: Array.from({ length: 12 }, (_, i) => 2 * i + 0.5 * ((i * 3) % 7) + 1),
      featureNames: ['cpu', 'rps'],
    },
  },
  testFraction: 0.25,
} as const satisfies Extract<ModelEvent, { type: 'modelRegistered' }>['spec'];

export const modelRegistered: ModelEvent = {
  type: 'modelRegistered',
  name: 'latency_model',
  spec: modelTrainingSpec,
};

/** The model's `version`-th training run, with the registered recipe. */
export const trainingRequestedV = (version: number): ModelEvent => ({
  type: 'trainingRequested',
  version,
  spec: modelTrainingSpec,
});
export const trainingRequested: ModelEvent = trainingRequestedV(1);

/** A recorded result of run `version` (a fake fit: y = 2·x). */
export const trainingSucceededV = (version: number): ModelEvent => ({
  type: 'trainingSucceeded',
  version,
  algorithm: 'linearRegression',
  implementation: 'mljs',
  params: {},
  featureNames: ['x'],
  data: {
    source: 'inline',
    series: [],
    from: null,
    to: null,
    stepMs: null,
    rows: 4,
    trainRows: 3,
    testRows: 1,
    trainedUntil: null,
    hash: '0'.repeat(64),
  },
  evaluation: { method: 'holdout', testRows: 1, metrics: { r2: 1, rmse: 0, mae: 0 } },
  trainMs: 1,
  artifact: { kind: 'file', sha256: 'a'.repeat(64), bytes: 10 },
});

export const user = { principal: 'user:test' } as const;

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
