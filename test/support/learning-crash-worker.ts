import { parentPort } from 'node:worker_threads';
import { serve } from '../../src/learning/pool/serve.js';

/**
 * The learning worker, but one that dies on demand: a predict job of 0 rows exits the thread (code
 * 3), one of 0 columns and 1 row throws out of the message handler (an uncaught error). Every other
 * job is served as the real worker serves it.
 */
serve(parentPort!, ({ job }) => {
  if (job.kind !== 'predict') return;
  if (job.rows.rows === 0) process.exit(3);
  if (job.rows.cols === 0) throw new Error('boom: an uncaught error in the worker');
});
