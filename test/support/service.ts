import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { createService, type Service } from '../../src/service.js';

import { TEST_ADMIN_KEY } from './auth.js';
import { tempDir } from './fixtures.js';

export type { Service };

/**
 * The real service, composed as `npm start` composes it, on a fresh data directory and a free port.
 * The default analytics (`DEFAULT_ANALYTICS`) are off unless a test asks for them, so each test sees
 * only the pipelines and rules it defines.
 */
export async function startService(env: Record<string, string> = {}): Promise<Service & { url: string }> {
  const config = loadConfig({
    DATA_DIR: tempDir('svc-'),
    PORT: '0',
    HOST: '127.0.0.1',
    SELF_MONITOR_INTERVAL_MS: '0',
    AGENT_BATCH_MAX_DELAY_MS: '50',
    AUTH_BOOTSTRAP_ADMIN_KEY: TEST_ADMIN_KEY,
    DEFAULT_ANALYTICS: 'off',
    ...env,
  });
  const service = await createService(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  const { port } = await service.start();
  return Object.assign(service, { url: `http://127.0.0.1:${port}` });
}

/** Flushes every agent and waits until every projection has written the whole log. */
export async function settle(service: Service): Promise<void> {
  for (const agent of service.agents.values()) await agent.flush();
  for (const projection of service.projections) await projection.waitFor();
}
