import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, initialTransition, transition } from 'xstate';
import { alertManagerMachine } from '../../../src/actors/alertmanager.machine.js';
import { complexRulesMachine } from '../../../src/actors/complexrules.machine.js';
import { type PipelineContext, pipelineMachine } from '../../../src/actors/pipeline.machine.js';
import { scrapeConfigMachine } from '../../../src/actors/scrapeconfig.machine.js';
import type { AlertEvent } from '../../../src/domain/alerting/events.js';
import { AlertRule } from '../../../src/domain/alerting/rules.js';
import { type AlertManagerState, rulesInForce } from '../../../src/domain/alerting/state.js';
import { ComplexRule } from '../../../src/domain/analytics/complex-events.js';
import type { ComplexRulesState } from '../../../src/domain/configuration/complex-rules.js';
import type { ScrapeConfigState } from '../../../src/domain/configuration/scrape-targets.js';
import { PipelineDefinition } from '../../../src/domain/pipeline/definition.js';
import type { PipelineEvent } from '../../../src/domain/pipeline/events.js';

/** Folds events through a machine as a rehydration does (actions discarded); each must be accepted. */
function fold<E extends { type: string }>(machine: AnyStateMachine, id: string, events: readonly E[]) {
  let [snapshot] = initialTransition(machine, { id });
  const states = [snapshot];
  for (const event of events) {
    if (!snapshot.can(event))
      throw new Error(`${event.type} not accepted in ${JSON.stringify(snapshot.value)}`);
    [snapshot] = transition(machine, snapshot, event);
    states.push(snapshot);
  }
  return states;
}

const stamp = (at: number, by = 'user:ann', origin: 'api' | 'seed' = 'api') => ({ by, at, origin });

describe('a pipeline actor configured at run time', () => {
  const v1 = PipelineDefinition.parse({ id: 'cpu', route: [{ name: 'cpu' }] });
  const v2 = PipelineDefinition.parse({ id: 'cpu', route: [{ name: 'cpu*' }], mode: 'microbatch' });
  const events: PipelineEvent[] = [
    { type: 'pipelineDefined', definition: v1, ...stamp(1) },
    { type: 'pipelineStarted', resumedAfter: null, at: 2 },
    { type: 'pipelineUpdated', definition: v2, changes: [], ...stamp(3, 'user:bob') },
    { type: 'pipelineStopped', at: 4 },
    { type: 'pipelineStarted', resumedAfter: null, at: 5 },
    { type: 'pipelinePaused', ...stamp(6) },
    { type: 'pipelineResumed', ...stamp(7) },
    { type: 'pipelineStarted', resumedAfter: null, at: 8 },
    { type: 'pipelineDeleted', ...stamp(9) },
    { type: 'pipelineDefined', definition: v1, ...stamp(10, 'user:cy') },
  ];

  it('walks defined → running → (updated, restarted) → paused → resumed → deleted → defined again', () => {
    const states = fold(pipelineMachine, 'cpu', events);
    expect(states.map((s) => s.value)).toEqual([
      'undefined',
      'defined',
      'running',
      'running',
      'stopped',
      'running',
      'paused',
      'stopped',
      'running',
      'deleted',
      'defined',
    ]);
    const updated = states[3]!.context as PipelineContext;
    expect(updated).toMatchObject({ definition: v2, mode: 'microbatch' });
    expect(updated.config).toMatchObject({ status: 'active', version: 2, updatedBy: 'user:bob' });
    expect((states[6]!.context as PipelineContext).config?.status).toBe('paused');
    expect((states[9]!.context as PipelineContext).config?.status).toBe('deleted');
    expect((states[10]!.context as PipelineContext).config).toMatchObject({
      status: 'active',
      definition: v1,
      createdBy: 'user:cy',
      version: 6,
    });
  });

  it('does not start while paused or deleted', () => {
    const states = fold(pipelineMachine, 'cpu', events.slice(0, 6));
    expect(states.at(-1)!.can({ type: 'pipelineStarted', resumedAfter: null, at: 0 })).toBe(false);
    const deleted = fold(pipelineMachine, 'cpu', events.slice(0, 9));
    expect(deleted.at(-1)!.can({ type: 'pipelineUpdated', definition: v1, changes: [], ...stamp(0) })).toBe(
      false,
    );
  });

  it('reads a definition recorded before run-time configuration as seeded by the settings file', () => {
    const [, defined] = fold(pipelineMachine, 'cpu', [{ type: 'pipelineDefined', definition: v1 }]);
    expect((defined!.context as PipelineContext).config).toMatchObject({
      status: 'active',
      origin: 'seed',
      createdBy: 'system:config',
      version: 1,
    });
  });
});

describe("the alert manager's state holds the rules in force at every point of its stream", () => {
  const high = AlertRule.parse({
    id: 'cpu_high',
    match: { name: 'cpu' },
    condition: { type: 'threshold', op: '>', value: 90 },
    severity: 'warning',
  });
  const higher = AlertRule.parse({ ...high, condition: { type: 'threshold', op: '>', value: 95 } });
  const firing: AlertEvent = {
    type: 'alertFired',
    key: 'cpu_high|1',
    rule: 'cpu_high',
    seriesId: '1',
    labels: { __name__: 'cpu' },
    severity: 'warning',
    value: 99,
    since: 5,
    at: 5,
    sourcePosition: '40',
  };

  it('folds definitions, updates, pauses and deletions: the state between two changes, and what changed', () => {
    const states = fold(alertManagerMachine, 'main', [
      { type: 'alertRuleDefined', rule: high, ...stamp(1, 'system:config', 'seed'), sourcePosition: '10' },
      firing,
      {
        type: 'alertRuleUpdated',
        rule: higher,
        changes: [{ path: 'condition.value', before: 90, after: 95 }],
        ...stamp(10, 'user:bob'),
        sourcePosition: '50',
      },
      { type: 'alertRulePaused', id: 'cpu_high', ...stamp(20), sourcePosition: '60' },
      { type: 'alertRuleDeleted', id: 'cpu_high', ...stamp(30), sourcePosition: '70' },
    ]).map((s) => s.context as AlertManagerState);
    expect(rulesInForce(states[1]!)).toEqual([high]);
    expect(rulesInForce(states[3]!)).toEqual([higher]);
    expect(states[3]!.rules.cpu_high).toMatchObject({ version: 2, updatedBy: 'user:bob', origin: 'api' });
    expect(rulesInForce(states[4]!)).toEqual([]);
    expect(states[5]!.rules.cpu_high).toMatchObject({ status: 'deleted', definition: higher });
    // Evaluation resumes after the position the last change had reached.
    expect(states.map((s) => s.sourcePosition)).toEqual([null, '10', '40', '50', '60', '70']);
    // Fixed rules (embedders, tests) count unless a fact changed a rule of that id.
    expect(rulesInForce(states[5]!, [high]).map((r) => r.id)).toEqual([]);
    expect(rulesInForce(states[0]!, [high])).toEqual([high]);
  });
});

describe('complex-event rules and scrape targets as actors', () => {
  it('fold their entries', () => {
    const rule = ComplexRule.parse({
      kind: 'count',
      id: 'storm',
      match: { type: 'anomalyDetected' },
      n: 3,
      windowMs: 60_000,
    });
    const complex = fold(complexRulesMachine, 'main', [
      { type: 'complexRuleDefined', rule, ...stamp(1) },
      { type: 'complexRulePaused', id: 'storm', ...stamp(2) },
    ]).map((s) => s.context as ComplexRulesState);
    expect(complex[1]!.rules.storm).toMatchObject({ status: 'active', definition: rule });
    expect(complex[2]!.rules.storm).toMatchObject({ status: 'paused', version: 2 });

    const target = { name: 'shop', url: 'http://127.0.0.1:9/metrics' };
    const scrape = fold(scrapeConfigMachine, 'main', [
      { type: 'scrapeTargetDefined', target, ...stamp(1, 'system:config', 'seed') },
      {
        type: 'scrapeTargetUpdated',
        target: { ...target, intervalMs: 500 },
        changes: [{ path: 'intervalMs', after: 500 }],
        ...stamp(2),
      },
      { type: 'scrapeTargetDeleted', name: 'shop', ...stamp(3) },
    ]).map((s) => s.context as ScrapeConfigState);
    expect(scrape[2]!.targets.shop).toMatchObject({ definition: { intervalMs: 500 }, origin: 'api' });
    expect(scrape[3]!.targets.shop).toMatchObject({ status: 'deleted', version: 3 });
  });
});
