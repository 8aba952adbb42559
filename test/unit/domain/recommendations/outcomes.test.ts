import { describe, expect, it } from 'vitest';
import { appliedAt, compareOutcomes, targetsOf } from '../../../../src/domain/recommendations/facts.js';

describe('scoring a recommendation', () => {
  const targets = targetsOf({
    best: null,
    front: [
      { settings: [1, 3], predicted: [72, 17] },
      { settings: [1, 4], predicted: [62, 22] },
    ],
  });

  it('finds when every parameter series first reached a recommended setting, within the tolerance', () => {
    const samples = [
      { seriesId: '2', ts: 30, value: 3.005 },
      { seriesId: '1', ts: 10, value: 4 },
      { seriesId: '2', ts: 20, value: 1 },
      { seriesId: '1', ts: 40, value: 1 },
    ];
    expect(appliedAt(samples, ['1', '2'], targets, 0.01)).toEqual({ at: 40, settings: [1, 3] });
    expect(appliedAt(samples, ['1', '2'], targets, 0.001)).toBeNull();
    expect(appliedAt(samples.slice(0, 3), ['1', '2'], targets, 0.01)).toBeNull();
  });

  it('compares each objective by its direction; one without samples leaves the verdict open', () => {
    const objectives = [
      { name: 'latency', seriesId: '3', direction: 'minimize' as const },
      { name: 'throughput', seriesId: '4', direction: 'maximize' as const },
    ];
    expect(compareOutcomes(objectives, [[100, 120], [5]], [[80], [7, 9]])).toEqual({
      outcomes: [
        { name: 'latency', seriesId: '3', before: 110, after: 80, improved: true },
        { name: 'throughput', seriesId: '4', before: 5, after: 8, improved: true },
      ],
      improved: true,
    });
    expect(compareOutcomes(objectives, [[100], []], [[120], [1]]).improved).toBeNull();
    expect(compareOutcomes(objectives, [[100], [1]], [[120], [2]]).improved).toBe(false);
  });
});
