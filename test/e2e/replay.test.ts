import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../support/auth.js';
import { createKey, gql } from '../support/graphql.js';
import { type Service, startService } from '../support/service.js';

const RULE = {
  id: 'cpu_high',
  match: { name: 'cpu' },
  condition: { type: 'threshold', op: '>', value: 80 },
  severity: 'warning',
};
const UPDATE = `mutation ($input: AlertRuleInput!) {
  updateAlertRule(input: $input) { ... on AlertRule { version updatedBy } ... on Error { code message } } }`;

interface Point {
  revision: string | null;
  context: { rules?: Record<string, { definition: { severity: string; condition: { value: number } } }> };
}

describe('replay: what the alert manager was, between two changes of a rule, and who made them', () => {
  let service: Service & { url: string };

  beforeAll(async () => {
    service = await startService();
  });

  afterAll(async () => {
    await service?.stop();
  });

  it('answers its state as of a time between the changes, the diff between the two, and names each author', async () => {
    const ann = await createKey(service.url, 'ann', 'operator');
    const bob = await createKey(service.url, 'bob', 'operator');
    const created = await gql(
      service.url,
      'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { ... on AlertRule { version } ... on Error { code message } } }',
      { input: RULE },
      bearer(ann.key),
    );
    expect(created.data).toEqual({ createAlertRule: { version: 1 } });

    const first = await gql(
      service.url,
      UPDATE,
      { input: { ...RULE, condition: { ...RULE.condition, value: 90 } } },
      bearer(ann.key),
    );
    expect(first.data).toEqual({ updateAlertRule: { version: 2, updatedBy: ann.principal } });
    await new Promise((r) => setTimeout(r, 50));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 50));
    const second = await gql(
      service.url,
      UPDATE,
      { input: { ...RULE, severity: 'critical', condition: { ...RULE.condition, value: 95 } } },
      bearer(bob.key),
    );
    expect(second.data).toEqual({ updateAlertRule: { version: 3, updatedBy: bob.principal } });

    // As of the moment between the changes: the first update is in force, the second is not yet.
    const state = await gql<{ actorState: Point }>(
      service.url,
      'query ($at: DateTime!) { actorState(streamId: "alertmanager-main", asOf: { at: $at }) { revision context } }',
      { at: between },
    );
    expect(state.errors, JSON.stringify(state.errors)).toBeUndefined();
    const then = state.data!.actorState.context.rules!.cpu_high!.definition;
    expect([then.condition.value, then.severity]).toEqual([90, 'warning']);

    // The diff between that moment and now: exactly the second change's fields.
    const diff = await gql<{
      actorStateDiff: { changes: { op: string; pointer: string; before: unknown; after: unknown }[] };
    }>(
      service.url,
      `query ($at: DateTime!) { actorStateDiff(streamId: "alertmanager-main", from: { at: $at }, to: { at: "2099-01-01T00:00:00Z" }) {
         changes { op pointer before after } } }`,
      { at: between },
    );
    expect(diff.errors, JSON.stringify(diff.errors)).toBeUndefined();
    const changes = diff.data!.actorStateDiff.changes.filter((c) => c.pointer.includes('cpu_high'));
    const at = (suffix: string) => changes.find((c) => c.pointer === `/context/rules/cpu_high/${suffix}`);
    expect(at('definition/condition/value')).toMatchObject({ op: 'CHANGED', before: 90, after: 95 });
    expect(at('definition/severity')).toMatchObject({ op: 'CHANGED', before: 'warning', after: 'critical' });
    expect(at('updatedBy')).toMatchObject({ before: ann.principal, after: bob.principal });

    // The audit history names who made each change.
    const history = await gql<{ auditEvents: { edges: { node: { type: string; principal: string } }[] } }>(
      service.url,
      `{ auditEvents(filter: { streamId: "alertmanager-main", types: ["alertRuleDefined", "alertRuleUpdated"] }) {
         edges { node { type principal } } } }`,
    );
    expect(history.data!.auditEvents.edges.map((e) => e.node)).toEqual([
      { type: 'alertRuleDefined', principal: ann.principal },
      { type: 'alertRuleUpdated', principal: ann.principal },
      { type: 'alertRuleUpdated', principal: bob.principal },
    ]);
  });
});
