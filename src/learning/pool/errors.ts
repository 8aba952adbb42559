/**
 * What the pool answers besides a result: typed errors with a literal `code`, so the API can expose
 * them (see src/schema/learning.ts).
 */

/** Every worker is busy and the queue holds `queueMax` jobs: refused at once. Retry later. */
export class PoolFullError extends Error {
  readonly code = 'POOL_FULL' as const;
  constructor(
    readonly busy: number,
    readonly queued: number,
  ) {
    super(
      `the learning pool is full (${busy} jobs running, ${queued} queued, the most it holds): retry later`,
    );
    this.name = 'PoolFullError';
  }
}

/** The worker running the job exited or crashed before it answered; the pool has replaced it. */
export class WorkerCrashedError extends Error {
  readonly code = 'WORKER_CRASHED' as const;
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCrashedError';
  }
}

/**
 * The caller gave the job up (its signal aborted: a task's timeout, a pause, a cancel) before it
 * finished; a job that was running had its worker stopped and replaced, so it holds no worker.
 */
export class JobCancelledError extends Error {
  readonly code = 'JOB_CANCELLED' as const;
  constructor(reason: string) {
    super(`the learning job was given up: ${reason}`);
    this.name = 'JobCancelledError';
  }
}

/** The pool was closed (the service is stopping) before the job ran or finished. */
export class PoolClosedError extends Error {
  readonly code = 'POOL_CLOSED' as const;
  constructor() {
    super('the learning pool is closed (the service is stopping)');
    this.name = 'PoolClosedError';
  }
}

/** An error thrown inside a worker, as it crosses back to the main thread. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly issues?: readonly { path: string; message: string }[];
  readonly stack?: string;
}

export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { code, issues } = error as { code?: unknown; issues?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(Array.isArray(issues) ? { issues: issues as WireError['issues'] } : {}),
    ...(error.stack ? { stack: error.stack } : {}),
  };
}
