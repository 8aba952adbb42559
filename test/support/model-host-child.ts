/**
 * A host process that is killed by its test. It registers a model, asks for training with a trainer
 * that never finishes, prints TRAINING, and waits for SIGKILL.
 * Usage: node --import tsx test/support/model-host-child.ts <events.db> <model id>
 */
import { fromPromise } from 'xstate';
import { createActorHost } from '../../src/actors/host.js';
import { modelKind } from '../../src/actors/model.kind.js';
import { modelMachine, type TrainInput, type TrainOutput } from '../../src/actors/model.machine.js';
import { createSqliteEventStore } from '../../src/stores/event-store/sqlite.js';
import { modelRegistered, silentLogger, trainingRequested } from './fixtures.js';

const [dbPath, id] = process.argv.slice(2);
if (!dbPath || !id) throw new Error('usage: model-host-child <events.db> <model id>');
const store = createSqliteEventStore({ path: dbPath });
const stuck = modelMachine.provide({
  actors: { train: fromPromise<TrainOutput, TrainInput>(() => new Promise<TrainOutput>(() => {})) },
});
const host = createActorHost({ store, kinds: [modelKind(stuck)], logger: silentLogger });
await host.send({ kind: 'model', id }, modelRegistered, { principal: 'user:child' });
await host.send({ kind: 'model', id }, trainingRequested, { principal: 'user:child' });
process.stdout.write('TRAINING\n');
setInterval(() => {}, 1000);
