// Starts a TypeScript worker module: registers tsx's loader in this worker thread, then imports the
// module named by `workerData.entry`. On Node 20 a worker thread gets no loader from its parent, and
// `--import tsx` in a worker's execArgv is not applied, so the thread registers it itself.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
