import type { MessagePort } from 'node:worker_threads';
import { toWireError } from './errors.js';
import { type LearningJob, runJob } from './jobs.js';

/** What the pool sends a worker, and what the worker answers. */
export interface WorkerRequest {
  readonly id: number;
  readonly job: LearningJob;
}

export type WorkerReply =
  | { readonly ready: true }
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: ReturnType<typeof toWireError> };

/**
 * Serves jobs on a worker's port, one at a time as they come: each answered with its result (buffers
 * transferred) or its error; then says it is ready. `before` sees each request first (tests use it to
 * make a worker die on demand).
 */
export function serve(port: MessagePort, before?: (request: WorkerRequest) => void): void {
  port.on('message', (request: WorkerRequest) => {
    before?.(request);
    let reply: WorkerReply;
    let transfer: ArrayBuffer[] = [];
    try {
      const done = runJob(request.job);
      reply = { id: request.id, ok: true, result: done.result };
      transfer = done.transfer;
    } catch (error) {
      reply = { id: request.id, ok: false, error: toWireError(error) };
    }
    port.postMessage(reply, transfer);
  });
  port.postMessage({ ready: true } satisfies WorkerReply);
}
