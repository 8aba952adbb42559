import { parentPort } from 'node:worker_threads';
import { serve } from './serve.js';

/**
 * A learning worker thread: serves the pool's jobs (see `serve.ts`). An uncaught error ends the
 * thread; the pool fails the job it was running and starts another worker.
 */
if (!parentPort) throw new Error('the learning worker runs in a worker thread');
serve(parentPort);
