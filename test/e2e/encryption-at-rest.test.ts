import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bearer } from '../support/auth.js';
import { runToExit, startTsChild, waitForLine } from '../support/child-process.js';
import { freePort, tempDir } from '../support/fixtures.js';
import { gql } from '../support/graphql.js';

const PLANTED = 'planted-7f3a9c-secret';
const PLANTED_METRIC = 'planted_7f3a9c_gauge';
const KEY = 'a1'.repeat(32);
const OTHER_KEY = 'b2'.repeat(32);

function start(dataDir: string, port: number, key: string | undefined): ChildProcess {
  return startTsChild('src/main.ts', [], {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    SELF_MONITOR_INTERVAL_MS: '0',
    AGENT_BATCH_MAX_DELAY_MS: '20',
    DEFAULT_ANALYTICS: 'off',
    DATA_ENCRYPTION_KEY: key ?? '',
  });
}

/** Every file under `dir` holding `needle` byte for byte. */
function filesHolding(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8');
  const found: string[] = [];
  const walk = (path: string) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    else if (stat.isFile() && readFileSync(path).includes(bytes)) found.push(path);
  };
  walk(dir);
  return found;
}

/**
 * Starts the service, sends samples carrying the planted label value, waits until ClickHouse has them,
 * stops; answers the files that held the value while the service ran (its WAL not yet written back).
 */
async function plant(dataDir: string, key: string | undefined, send = true): Promise<string[]> {
  const port = await freePort();
  const child = start(dataDir, port, key);
  const exited = runToExit(child);
  await waitForLine(child, /is listening/);
  const url = `http://127.0.0.1:${port}`;
  if (send) await sendPlanted(url);
  // The value has reached ClickHouse (the projections): the search below is meaningful.
  for (let tries = 0; ; tries++) {
    const answer = await gql<{ labelValues: string[] }>(
      url,
      `{ labelValues(label: "customer", selector: { name: "${PLANTED_METRIC}" }) }`,
    );
    if (answer.data?.labelValues.includes(PLANTED)) break;
    if (tries > 200) throw new Error(`the planted value never reached ClickHouse: ${JSON.stringify(answer)}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  const whileRunning = filesHolding(dataDir, PLANTED);
  child.kill('SIGTERM');
  const { code, err } = await exited;
  expect(code, err).toBe(0);
  return whileRunning;
}

async function sendPlanted(url: string): Promise<void> {
  const now = Date.now();
  const points = Array.from({ length: 20 }, (_, i) => ({
    asDouble: i + 0.5,
    timeUnixNano: String(BigInt(now - 20_000 + i * 1000) * 1_000_000n),
    attributes: [{ key: 'customer', value: { stringValue: PLANTED } }],
  }));
  const res = await fetch(`${url}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer() },
    body: JSON.stringify({
      resourceMetrics: [
        { scopeMetrics: [{ metrics: [{ name: PLANTED_METRIC, gauge: { dataPoints: points } }] }] },
      ],
    }),
  });
  expect(res.status).toBe(200);
}

describe('encryption at rest (DATA_ENCRYPTION_KEY)', () => {
  it('with a key, no file under DATA_DIR holds a planted label value; a wrong key stops the start', async () => {
    const dataDir = tempDir('enc-');
    expect(await plant(dataDir, KEY)).toEqual([]);
    expect(filesHolding(dataDir, PLANTED)).toEqual([]);
    expect(filesHolding(dataDir, PLANTED_METRIC)).toEqual([]);
    // The files are there and were searched: the log, its WAL or the ClickHouse parts.
    expect(statSync(join(dataDir, 'events.db')).size).toBeGreaterThan(0);
    expect(readdirSync(join(dataDir, 'clickhouse', 'encrypted'))).not.toEqual([]);

    const wrong = await runToExit(start(dataDir, await freePort(), OTHER_KEY));
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toContain('DATA_ENCRYPTION_KEY does not open the event store file');
    expect(wrong.err).toContain(join(dataDir, 'events.db'));

    const missing = await runToExit(start(dataDir, await freePort(), undefined));
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/DATA_ENCRYPTION_KEY/);
  }, 60_000);

  it('without a key (the control) the planted value is found in plain text, and a key then refuses the plain store', async () => {
    const dataDir = tempDir('enc-plain-');
    // While it runs, the events are in the log's WAL; after a clean stop, in the log itself.
    expect(await plant(dataDir, undefined)).toContain(join(dataDir, 'events.db-wal'));
    expect(filesHolding(dataDir, PLANTED)).toContain(join(dataDir, 'events.db'));
    const keyed = await runToExit(start(dataDir, await freePort(), KEY));
    expect(keyed.code).not.toBe(0);
    expect(keyed.err).toContain('was written without DATA_ENCRYPTION_KEY');
    expect(keyed.err).toContain('npm run store:encrypt');

    // store:encrypt encrypts it in place; ClickHouse is rebuilt, encrypted, from the log at the next start.
    const encrypt = await runToExit(
      startTsChild('scripts/store-encrypt.ts', ['--rebuild-clickhouse'], {
        DATA_DIR: dataDir,
        DATA_ENCRYPTION_KEY: KEY,
      }),
    );
    expect(encrypt.code, encrypt.err).toBe(0);
    expect(encrypt.out).toContain('result: ENCRYPTED');
    expect(await plant(dataDir, KEY, false)).toEqual([]);
    expect(filesHolding(dataDir, PLANTED)).toEqual([]);
  }, 60_000);
});
