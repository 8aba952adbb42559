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

export const modelRegistered: ModelEvent = {
  type: 'modelRegistered',
  name: 'latency_model',
  algorithm: 'linearRegression',
  features: ['cpu', 'rps'],
  target: 'latency_ms',
};

/** y = 2·cpu + 0.5·rps + 1, exactly. */
export const trainingRequested: ModelEvent = {
  type: 'trainingRequested',
  dataset: {
    rows: Array.from({ length: 12 }, (_, i) => [i, (i * 3) % 7]),
    target: Array.from({ length: 12 }, (_, i) => 2 * i + 0.5 * ((i * 3) % 7) + 1),
  },
};

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
