import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ValidationError } from '../../domain/errors.js';
import {
  JobCancelledError,
  PoolClosedError,
  PoolFullError,
  type WireError,
  WorkerCrashedError,
} from './errors.js';
import type { JobKind, JobOf, JobResult, LearningJob } from './jobs.js';
import type { WorkerReply, WorkerRequest } from './serve.js';

/**
 * A pool of worker threads for the learning core: fitting, evaluating and batch prediction run off the
 * service's event loop. At most `size` jobs run at once; up to `queueMax` more wait, in order; past
 * that a job is refused at once with `PoolFullError`. A worker that crashes or exits fails the job it
 * was running with `WorkerCrashedError` and is replaced.
 */
export interface LearningPoolOptions {
  /** Workers (default: the cores less one, at least one). */
  readonly size?: number;
  /** Jobs that may wait for a worker (default 16; 0: refused unless a worker is idle). */
  readonly queueMax?: number;
  /** The worker's module (default: ./worker.ts beside this file, or ./worker.js once built). */
  readonly workerUrl?: URL;
  readonly logger?: Logger;
}

export interface PoolStatus {
  readonly size: number;
  /** Jobs running now. */
  readonly busy: number;
  /** Jobs waiting for a worker. */
  readonly queued: number;
  readonly queueMax: number;
  /** Jobs answered with a result since start. */
  readonly done: number;
  /** Jobs answered with an error since start (a worker's crash, or the pool closing, included). */
  readonly failed: number;
  /** Workers that exited or crashed with a job, or before they were ready, and were replaced. */
  readonly crashed: number;
  /** Jobs refused because the queue was full. */
  readonly refused: number;
  /** Jobs given up by their callers (`signal`), waiting or running; a running one's worker was replaced. */
  readonly cancelled: number;
}

export interface LearningPool {
  /**
   * Runs a job on a worker (queued while all are busy); `transfer`: buffers of the job to move rather
   * than copy; `onStart`: called when a worker takes it; `signal`: gives the job up (JobCancelledError),
   * out of the queue, or, once running, by stopping its worker (replaced at once). Rejects at once with
   * PoolFullError when full.
   */
  run<K extends JobKind>(
    job: JobOf<K>,
    transfer?: readonly ArrayBuffer[],
    onStart?: () => void,
    signal?: AbortSignal,
  ): Promise<JobResult<K>>;
  status(): PoolStatus;
  /** Fails what is queued and running with PoolClosedError and stops the workers. */
  close(): Promise<void>;
}

export const defaultPoolSize = () => Math.max(1, availableParallelism() - 1);

const TSX_FLAG = /^--(import|loader|experimental-loader|require)$/;

/**
 * The worker's execArgv: the process's own less any tsx loader (a TypeScript worker registers tsx
 * itself, see `tsx-worker.mjs`; the service runs under `node --import tsx`, a test runner's forked
 * process without it).
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if ((TSX_FLAG.test(arg) || arg === '-r') && /tsx/.test(execArgv[i + 1] ?? '')) {
      i++;
      continue;
    }
    if (/^--(import|loader|experimental-loader|require)=.*tsx/.test(arg)) continue;
    out.push(arg);
  }
  return out;
}

/**
 * How to start a worker module: a `.ts` file through the tsx bootstrap beside this file (Node 20
 * applies neither the parent's loader nor `--import` in a worker's execArgv to worker threads).
 */
export function workerStart(url: URL): { file: URL; workerData?: { entry: string } } {
  if (!url.pathname.endsWith('.ts')) return { file: url };
  return { file: new URL('./tsx-worker.mjs', import.meta.url), workerData: { entry: url.href } };
}

const defaultWorkerUrl = () =>
  new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

interface Pending {
  readonly id: number;
  readonly job: LearningJob;
  readonly transfer: readonly ArrayBuffer[];
  readonly onStart: (() => void) | undefined;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job: Pending | null;
  ready: boolean;
  /** False from the worker's exit (or its stop for a job given up) until its replacement is spawned. */
  alive: boolean;
  /** Stopped on purpose (its job was given up): its exit is no crash. */
  retired: boolean;
  lastError: Error | null;
}

function fromWire(error: WireError): Error {
  if (error.code === 'VALIDATION_FAILED') return new ValidationError(error.message, error.issues ?? []);
  const copy = new Error(error.message);
  copy.name = error.name;
  if (error.stack) copy.stack = error.stack;
  if (error.code) Object.assign(copy, { code: error.code });
  return copy;
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
}

export function createLearningPool(options: LearningPoolOptions = {}): LearningPool {
  const size = options.size ?? defaultPoolSize();
  const queueMax = options.queueMax ?? 16;
  const url = options.workerUrl ?? defaultWorkerUrl();
  const execArgv = workerExecArgv();
  const start = workerStart(url);
  const queue: Pending[] = [];
  const slots: Slot[] = [];
  const counts = { done: 0, failed: 0, crashed: 0, refused: 0, cancelled: 0 };
  let nextId = 1;
  let closed = false;
  /** Workers that died before they were ready, in a row: respawns back off so a broken worker does not spin. */
  let startFailures = 0;

  function settle(slot: Slot, outcome: { result: unknown } | { error: Error }): void {
    const job = slot.job;
    if (!job) return;
    slot.job = null;
    slot.worker.unref();
    if ('error' in outcome) {
      counts.failed++;
      job.reject(outcome.error);
    } else {
      counts.done++;
      job.resolve(outcome.result);
    }
  }

  function spawn(index: number): void {
    const worker = new Worker(start.file, {
      execArgv,
      ...(start.workerData ? { workerData: start.workerData } : {}),
    });
    worker.unref();
    const slot: Slot = { worker, job: null, ready: false, alive: true, retired: false, lastError: null };
    slots[index] = slot;
    worker.on('message', (reply: WorkerReply) => {
      if ('ready' in reply) {
        slot.ready = true;
        startFailures = 0;
        return;
      }
      if (!slot.job || slot.job.id !== reply.id) return;
      settle(slot, reply.ok ? { result: reply.result } : { error: fromWire(reply.error) });
      pump();
    });
    worker.on('messageerror', (error) => {
      settle(slot, {
        error: new WorkerCrashedError(`the learning worker's answer could not be read: ${error.message}`),
      });
      pump();
    });
    worker.on('error', (error) => {
      slot.lastError = error;
    });
    worker.on('exit', (code) => {
      slot.alive = false;
      if (slots[index] !== slot || closed) return;
      if (slot.retired) {
        spawn(index);
        pump();
        return;
      }
      counts.crashed++;
      const why = slot.lastError ? `: ${slot.lastError.message}` : '';
      options.logger?.warn(
        { code, err: slot.lastError, job: slot.job?.job.kind },
        'learning worker exited; replacing it',
      );
      if (slot.job)
        settle(slot, {
          error: new WorkerCrashedError(
            `the learning worker running this ${slot.job.job.kind} job exited (code ${code})${why}; it has been replaced`,
          ),
        });
      if (!slot.ready) startFailures++;
      const delay = startFailures ? Math.min(30_000, 100 * 2 ** (startFailures - 1)) : 0;
      const respawn = () => {
        if (closed) return;
        spawn(index);
        pump();
      };
      if (delay) setTimeout(respawn, delay).unref();
      else respawn();
    });
  }

  function dispatch(slot: Slot, job: Pending): void {
    slot.job = job;
    slot.worker.ref();
    job.onStart?.();
    try {
      slot.worker.postMessage({ id: job.id, job: job.job } satisfies WorkerRequest, [...job.transfer]);
    } catch (error) {
      settle(slot, { error: error as Error });
    }
  }

  /** Gives a job up: out of the queue, or its worker stopped (and replaced) while it runs. */
  function cancel(pending: Pending, reason: string): void {
    const error = new JobCancelledError(reason);
    const queued = queue.indexOf(pending);
    if (queued >= 0) {
      queue.splice(queued, 1);
      counts.cancelled++;
      pending.reject(error);
      return;
    }
    const slot = slots.find((s) => s.job === pending);
    if (!slot) return; // already answered
    slot.job = null;
    slot.alive = false;
    slot.retired = true;
    counts.cancelled++;
    pending.reject(error);
    void slot.worker.terminate();
  }

  /** Hands queued jobs to idle workers, oldest first. */
  function pump(): void {
    for (const slot of slots) {
      if (!queue.length) return;
      if (slot.job === null && slot.alive) dispatch(slot, queue.shift()!);
    }
  }

  for (let i = 0; i < size; i++) spawn(i);

  return {
    run<K extends JobKind>(
      job: JobOf<K>,
      transfer: readonly ArrayBuffer[] = [],
      onStart?: () => void,
      signal?: AbortSignal,
    ): Promise<JobResult<K>> {
      if (closed) return Promise.reject(new PoolClosedError());
      if (signal?.aborted) {
        counts.cancelled++;
        return Promise.reject(new JobCancelledError(reasonOf(signal)));
      }
      const idle = slots.find((s) => s.job === null && s.alive);
      if (!idle && queue.length >= queueMax) {
        counts.refused++;
        return Promise.reject(new PoolFullError(slots.length, queue.length));
      }
      return new Promise<JobResult<K>>((resolve, reject) => {
        const pending: Pending = {
          id: nextId++,
          job,
          transfer,
          onStart,
          resolve: resolve as (result: unknown) => void,
          reject,
        };
        if (signal) {
          const onAbort = () => cancel(pending, reasonOf(signal));
          signal.addEventListener('abort', onAbort, { once: true });
          const settled = () => signal.removeEventListener('abort', onAbort);
          pending.resolve = (result) => {
            settled();
            resolve(result as JobResult<K>);
          };
          pending.reject = (error) => {
            settled();
            reject(error);
          };
        }
        if (idle) dispatch(idle, pending);
        else queue.push(pending);
      });
    },
    status: () => ({
      size,
      busy: slots.filter((s) => s.job !== null).length,
      queued: queue.length,
      queueMax,
      ...counts,
    }),
    async close() {
      if (closed) return;
      closed = true;
      for (const job of queue.splice(0)) job.reject(new PoolClosedError());
      await Promise.all(
        slots.map(async (slot) => {
          settle(slot, { error: new PoolClosedError() });
          await slot.worker.terminate();
        }),
      );
    },
  };
}
