import { describe, expect, it } from 'vitest';
import { decideRuleChange } from '../../../../src/domain/alerting/rule-changes.js';
import { AlertRule } from '../../../../src/domain/alerting/rules.js';
import {
  type AlertManagerState,
  evolveAlerts,
  initialAlertState,
} from '../../../../src/domain/alerting/state.js';

const rule = AlertRule.parse({
  id: 'cpu_high',
  match: { name: 'cpu', labels: { dc: 'eu' } },
  condition: { type: 'threshold', op: '>', value: 90 },
  severity: 'warning',
});
const stamp = { by: 'user:ann', at: 100, origin: 'api' as const, sourcePosition: '42' };

/** A manager with the rule and a firing alert on the series of host `host`. */
function withAlert(dc: string): AlertManagerState {
  let state = initialAlertState('main');
  for (const fact of decideRuleChange(state, rule.id, { type: 'create', definition: rule }, stamp))
    state = evolveAlerts(state, fact);
  return evolveAlerts(state, {
    type: 'alertFired',
    key: `cpu_high|${dc}`,
    rule: 'cpu_high',
    seriesId: dc === 'eu' ? '1' : '2',
    labels: { __name__: 'cpu', dc },
    severity: 'warning',
    value: 99,
    since: 50,
    at: 50,
    sourcePosition: '41',
  });
}

describe('alert rule changes', () => {
  it('records the change with who, when, where evaluation stood, and what changed', () => {
    const state = withAlert('eu');
    const [fact] = decideRuleChange(
      state,
      rule.id,
      { type: 'update', definition: { ...rule, severity: 'critical' } },
      stamp,
    );
    expect(fact).toEqual({
      type: 'alertRuleUpdated',
      rule: { ...rule, severity: 'critical' },
      changes: [{ path: 'severity', before: 'warning', after: 'critical' }],
      ...stamp,
    });
    expect(decideRuleChange(state, rule.id, { type: 'update', definition: rule }, stamp)).toEqual([]);
  });

  it('resolves the open alerts a paused or deleted rule leaves, and those an update no longer matches', () => {
    const state = withAlert('eu');
    for (const type of ['pause', 'delete'] as const)
      expect(
        decideRuleChange(state, rule.id, { type }, stamp).map((f) => [f.type, 'key' in f ? f.key : null]),
      ).toEqual([
        [type === 'pause' ? 'alertRulePaused' : 'alertRuleDeleted', null],
        ['alertResolved', 'cpu_high|eu'],
      ]);
    const moved = { ...rule, match: { name: 'cpu', labels: { dc: 'us' } } };
    expect(
      decideRuleChange(state, rule.id, { type: 'update', definition: moved }, stamp).map((f) => f.type),
    ).toEqual(['alertRuleUpdated', 'alertResolved']);
    expect(
      decideRuleChange(
        withAlert('eu'),
        rule.id,
        { type: 'update', definition: { ...rule, summary: 'x' } },
        stamp,
      ),
    ).toHaveLength(1);
  });

  it('refuses to create another rule under a taken id, or change one that does not exist; the same create again records nothing', () => {
    const state = withAlert('eu');
    const other = { ...rule, severity: 'critical' as const };
    expect(() => decideRuleChange(state, rule.id, { type: 'create', definition: other }, stamp)).toThrow(
      /alert rule 'cpu_high' exists already/,
    );
    expect(decideRuleChange(state, rule.id, { type: 'create', definition: rule }, stamp)).toEqual([]);
    expect(() => decideRuleChange(state, 'nope', { type: 'pause' }, stamp)).toThrow(/no alert rule 'nope'/);
  });
});
