import { describe, expect, it } from 'vitest';
import { cadenceOf, isRegular } from '../../../../src/domain/alerting/cadence.js';
import {
  cadenceCandidates,
  type Decision,
  decideObservations,
  decideTick,
} from '../../../../src/domain/alerting/decide.js';
import { AlertRule } from '../../../../src/domain/alerting/rules.js';
import {
  type AlertManagerState,
  evolveAlerts,
  initialAlertState,
} from '../../../../src/domain/alerting/state.js';
import { defineSeries } from '../../../../src/domain/metrics/identity.js';

const absent = AlertRule.parse({
  id: 'data_absent',
  match: { name: '*' },
  severity: 'warning',
  condition: { type: 'absence', missedIntervals: 5 },
  forMs: 20_000,
});
const scraped = defineSeries({ name: 'up', labels: { job: 'api' }, kind: 'gauge' });
const fold = (state: AlertManagerState, d: Decision) => {
  let s = state;
  for (const t of d.transitions) s = evolveAlerts(s, t);
  return d.observed ? evolveAlerts(s, d.observed) : s;
};

describe('cadence', () => {
  it('is the median interval of the last samples, regular when the intervals barely vary', () => {
    const every10 = Array.from({ length: 20 }, (_, i) => i * 10_000 + (i % 3) * 200);
    const c = cadenceOf(every10)!;
    expect(c.intervalMs).toBeCloseTo(10_000, -3);
    expect(isRegular(c)).toBe(true);
    const sporadic = [0, 1000, 1500, 9000, 30_000, 31_000, 60_000, 61_000, 90_000, 200_000];
    expect(isRegular(cadenceOf(sporadic))).toBe(false);
    expect(cadenceOf([0, 1000, 2000])).toBeNull();
  });
});

describe('absence after missed intervals', () => {
  /** The state after one sighting of the series at t = 0. */
  const seen = () =>
    fold(
      initialAlertState('t'),
      decideObservations(initialAlertState('t'), [absent], [{ def: scraped, ts: 0, value: 1 }], 0, '1'),
    );
  const regular = { intervalMs: 10_000, spread: 0.05, intervals: 32 };

  it('fires for a regular series after five of its intervals (at least forMs), with the evidence', () => {
    const state = seen();
    const cadence = () => regular;
    // forMs/4 of slack for the sighting's lag: silence counts from 5 s after the sighting.
    expect(decideTick(state, [absent], 40_000, { cadence }).transitions).toEqual([]);
    expect(cadenceCandidates(state, [absent], 40_000)).toEqual([scraped.id]);
    const fired = decideTick(state, [absent], 56_000, { cadence }).transitions;
    expect(fired.map((t) => t.type)).toEqual(['alertFired']);
    expect(fired[0]!.evidence).toEqual({
      intervalMs: 10_000,
      spread: 0.05,
      intervals: 32,
      missedIntervals: 5,
      silentMs: 56_000,
    });
  });

  it('never fires for an irregular or unknown cadence, nor when eviction would come first', () => {
    const state = seen();
    const at = 10 * 60_000;
    expect(
      decideTick(state, [absent], at, { cadence: () => ({ ...regular, spread: 0.9 }) }).transitions,
    ).toEqual([]);
    expect(decideTick(state, [absent], at, { cadence: () => null }).transitions).toEqual([]);
    expect(decideTick(state, [absent], at).transitions).toEqual([]);
    expect(
      decideTick(state, [absent], at, {
        cadence: () => ({ ...regular, intervalMs: 60_000 }),
        evictAfterMs: 300_000,
      }).transitions,
    ).toEqual([]);
    // Not silent for forMs yet: not even a candidate to look up.
    expect(cadenceCandidates(state, [absent], 10_000)).toEqual([]);
  });

  it('keeps a plain absence rule (no missedIntervals) as it was: silence of forMs, any series', () => {
    const plain = AlertRule.parse({ ...absent, condition: { type: 'absence' } });
    const state = fold(
      initialAlertState('t'),
      decideObservations(initialAlertState('t'), [plain], [{ def: scraped, ts: 0, value: 1 }], 0, '1'),
    );
    expect(decideTick(state, [plain], 25_000).transitions.map((t) => t.type)).toEqual(['alertFired']);
    expect(decideTick(state, [plain], 25_000).transitions[0]!.evidence).toBeUndefined();
  });
});
