import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { modelMachine } from '../../../src/actors/model.machine.js';
import type { ModelEvent } from '../../../src/domain/model/events.js';
import type { ModelContext } from '../../../src/domain/model/state.js';

const registered: ModelEvent = {
  type: 'modelRegistered',
  name: 'latency',
  algorithm: 'linearRegression',
  features: ['cpu'],
  target: 'latency_ms',
};
const dataset = { rows: [[1], [2], [3]], target: [2, 4, 6] };
const succeeded = (version: number): ModelEvent => ({
  type: 'trainingSucceeded',
  version,
  metrics: { rmse: 0, r2: 1, samples: 3 },
  artifact: { weights: [2], intercept: 0 },
});

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
      { type: 'trainingRequested', dataset },
      succeeded(1),
      { type: 'modelDeployed', version: 1 },
      { type: 'modelRetired', reason: 'replaced' },
    );
    expect(snapshot.value).toBe('retired');
    expect(snapshot.status).toBe('done');
    const context = snapshot.context as ModelContext;
    expect(context.versions.map((v) => v.version)).toEqual([1]);
    expect(context.deployedVersion).toBeNull();
  });

  it('invokes training when training is requested, and stops it when the model is retired', () => {
    const [training, started] = transition(modelMachine, given(registered), {
      type: 'trainingRequested',
      dataset,
    });
    expect(training.value).toBe('training');
    const spawn = started.find((a) => a.type === 'xstate.spawnChild');
    expect(spawn?.params).toMatchObject({ src: 'train', input: { modelId: 'm1', dataset, version: 1 } });
    const [retired, stopped] = transition(modelMachine, training, { type: 'modelRetired' });
    expect(retired.value).toBe('retired');
    expect(stopped.some((a) => (a.type as string) === 'xstate.stopChild')).toBe(true);
  });

  it('records a failure and can train again', () => {
    const failed = given(
      registered,
      { type: 'trainingRequested', dataset },
      { type: 'trainingFailed', reason: 'boom' },
    );
    expect(failed.value).toBe('failed');
    expect((failed.context as ModelContext).lastFailure).toBe('boom');
    const retrained = given(
      registered,
      { type: 'trainingRequested', dataset },
      { type: 'trainingFailed', reason: 'boom' },
      { type: 'trainingRequested', dataset },
      succeeded(1),
    );
    expect(retrained.value).toBe('trained');
    expect((retrained.context as ModelContext).lastFailure).toBeNull();
  });

  it('refuses events that do not fit the current state', () => {
    const fresh = given();
    expect(fresh.can({ type: 'trainingRequested', dataset })).toBe(false);
    const reg = given(registered);
    expect(reg.can({ type: 'modelDeployed', version: 1 })).toBe(false);
    expect(reg.can(registered)).toBe(false);
    const training = given(registered, { type: 'trainingRequested', dataset });
    expect(training.can(succeeded(2))).toBe(false); // versions are consecutive
    expect(training.can(succeeded(1))).toBe(true);
    const trained = given(registered, { type: 'trainingRequested', dataset }, succeeded(1));
    expect(trained.can({ type: 'modelDeployed', version: 7 })).toBe(false);
  });

  it('rolls back to an earlier version while deployed, and keeps serving while retraining', () => {
    const snapshot = given(
      registered,
      { type: 'trainingRequested', dataset },
      succeeded(1),
      { type: 'modelDeployed', version: 1 },
      { type: 'trainingRequested', dataset },
      succeeded(2),
      { type: 'modelDeployed', version: 2 },
      { type: 'modelDeployed', version: 1 },
      { type: 'trainingRequested', dataset },
    );
    expect(snapshot.value).toBe('training');
    expect((snapshot.context as ModelContext).deployedVersion).toBe(1);
  });
});
