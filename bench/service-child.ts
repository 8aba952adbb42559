/**
 * The service as the benchmarks run it: a child process as `npm start` runs it (plus BENCH_NODE_ARGS,
 * e.g. a CPU profile), on a free loopback port, with an admin key of its own and the rate limit out of
 * the way (the benchmarks measure the service, not the limiter).
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

export const benchKey = () => `aul_bench_${randomBytes(16).toString('hex')}`;

export function spawnService(options: {
  readonly port: number;
  readonly dataDir: string;
  readonly key: string;
  /** Settings of this benchmark, over the common ones. */
  readonly env?: NodeJS.ProcessEnv;
  readonly stdio?: StdioOptions;
}): ChildProcess {
  return spawn(
    process.execPath,
    [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', 'src/main.ts'],
    {
      env: {
        ...process.env,
        PORT: String(options.port),
        HOST: '127.0.0.1',
        DATA_DIR: options.dataDir,
        LOG_LEVEL: 'warn',
        SELF_MONITOR_INTERVAL_MS: '0',
        AUTH_BOOTSTRAP_ADMIN_KEY: options.key,
        AUTH_RATE_LIMIT_PER_SECOND: '1000000',
        AUTH_RATE_LIMIT_BURST: '1000000',
        ...options.env,
      },
      stdio: options.stdio ?? ['ignore', 'ignore', 'inherit'],
    },
  );
}

/** Resolves once the service at `url` answers `/healthz`; throws if its process exits first. */
export async function untilAlive(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
