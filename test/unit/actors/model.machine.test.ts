import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { modelMachine } from '../../../src/actors/model.machine.js';
import type { ModelEvent } from '../../../src/domain/model/events.js';
import type { ModelContext } from '../../../src/domain/model/state.js';
import { modelRegistered, trainingRequestedV, trainingSucceededV } from '../../support/fixtures.js';

const registered: ModelEvent = modelRegistered;
const requested = trainingRequestedV;
const succeeded = trainingSucceededV;

/** Given these events, the machine is in this snapshot (actions discarded, as in a rehydration). */
function given(...events: ModelEvent[]) {
  let [snapshot] = initialTransition(modelMachine, { id: 'm1' });
  for (const event of events) {
    const [next] = transition(modelMachine, snapshot, event);
    if (next === snapshot)
      throw new Error(`given: ${event.type} was not accepted in ${String(snapshot.value)}`);
    snapshot = next;
  }
  return snapshot;
}

describe('model lifecycle machine', () => {
  it('walks registered → training → trained → deployed → retired', () => {
    const snapshot = given(
      registered,
      requested(1),
      succeeded(1),
      { type: 'modelDeployed', version: 1 },
      { type: 'modelRetired', reason: 'replaced' },
    );
    expect(snapshot.value).toBe('retired');
    expect(snapshot.status).toBe('done');
    const context = snapshot.context as ModelContext;
    expect(context.versions.map((v) => v.version)).toEqual([1]);
    expect(context.versions[0]!.spec).toEqual((requested(1) as { spec: unknown }).spec);
    expect(context.deployedVersion).toBeNull();
  });

  it('invokes training with the run recipe, and stops it when the model is retired', () => {
    const [training, started] = transition(modelMachine, given(registered), requested(1));
    expect(training.value).toBe('training');
    const spawn = started.find((a) => a.type === 'xstate.spawnChild');
    expect(spawn?.params).toMatchObject({
      src: 'train',
      input: { modelId: 'm1', version: 1, spec: { algorithm: 'linearRegression' } },
    });
    const [retired, stopped] = transition(modelMachine, training, { type: 'modelRetired' });
    expect(retired.value).toBe('retired');
    expect(stopped.some((a) => (a.type as string) === 'xstate.stopChild')).toBe(true);
  });

  it('records a failure and can train again under the next version number', () => {
    const failed = given(registered, requested(1), { type: 'trainingFailed', version: 1, reason: 'boom' });
    expect(failed.value).toBe('failed');
    expect((failed.context as ModelContext).lastFailure).toEqual({ version: 1, reason: 'boom' });
    const retrained = given(
      registered,
      requested(1),
      { type: 'trainingFailed', reason: 'boom' },
      requested(2),
      succeeded(2),
    );
    expect(retrained.value).toBe('trained');
    expect((retrained.context as ModelContext).lastFailure).toBeNull();
    expect((retrained.context as ModelContext).versions.map((v) => v.version)).toEqual([2]);
  });

  it('refuses events that do not fit the current state', () => {
    const fresh = given();
    expect(fresh.can(requested(1))).toBe(false);
    const reg = given(registered);
    expect(reg.can({ type: 'modelDeployed', version: 1 })).toBe(false);
    expect(reg.can(registered)).toBe(false);
    expect(reg.can(requested(2))).toBe(false); // run numbers are consecutive
    const training = given(registered, requested(1));
    expect(training.can(succeeded(2))).toBe(false); // not the run in progress
    expect(training.can(succeeded(1))).toBe(true);
    const trained = given(registered, requested(1), succeeded(1));
    expect(trained.can({ type: 'modelDeployed', version: 7 })).toBe(false);
    expect(trained.can({ type: 'modelRolledBack', version: 1, from: 1 })).toBe(false);
  });

  it('rolls back only to an earlier version, and keeps serving while retraining', () => {
    const deployed2 = given(
      registered,
      requested(1),
      succeeded(1),
      { type: 'modelDeployed', version: 1 },
      requested(2),
      succeeded(2),
    );
    expect(deployed2.value).toBe('deployed');
    expect((deployed2.context as ModelContext).deployedVersion).toBe(1);
    const promoted = given(
      registered,
      requested(1),
      succeeded(1),
      { type: 'modelDeployed', version: 1 },
      requested(2),
      succeeded(2),
      { type: 'modelDeployed', version: 2 },
    );
    expect(promoted.can({ type: 'modelRolledBack', version: 2, from: 2 })).toBe(false);
    expect(promoted.can({ type: 'modelRolledBack', version: 1, from: 1 })).toBe(false);
    const snapshot = given(
      registered,
      requested(1),
      succeeded(1),
      { type: 'modelDeployed', version: 1 },
      requested(2),
      succeeded(2),
      { type: 'modelDeployed', version: 2 },
      { type: 'modelRolledBack', version: 1, from: 2 },
      requested(3),
    );
    expect(snapshot.value).toBe('training');
    expect((snapshot.context as ModelContext).deployedVersion).toBe(1);
  });
});
