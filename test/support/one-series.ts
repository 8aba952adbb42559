/**
 * One-series views of the analytics banks (a bank of one slot), for tests that follow a single
 * series through a trend or shape bank.
 */
import {
  createTemplateBank,
  type StreamingMatch,
  type TemplateBankSnapshot,
  type TemplateSpec,
} from '../../src/domain/analytics/patterns.js';
import {
  createTrendBank,
  type TrendBankSnapshot,
  type TrendState,
  type TrendTrackerOptions,
} from '../../src/domain/analytics/trend.js';

/** A streaming trend over one series. */
export function createTrendTracker(options: TrendTrackerOptions = { window: 60, every: 10, alpha: 0.01 }) {
  const bank = createTrendBank(options);
  return {
    /** Takes one sample; returns the new trend state when it changed, else null. */
    update: (x: number, y: number): TrendState | null => bank.update(0, x, y),
    get state(): TrendState | null {
      return bank.state(0);
    },
    snapshot: (): TrendBankSnapshot => bank.snapshot(),
    restore: (state: TrendBankSnapshot): void => bank.restore(state),
  };
}

/** Watches one series for stored shapes. */
export function createTemplateWatcher(templates: readonly TemplateSpec[]) {
  const bank = createTemplateBank(templates);
  return {
    update(value: number): StreamingMatch[] {
      const n = bank.update(0, value);
      const out: StreamingMatch[] = [];
      for (let i = 0; i < n; i++)
        out.push({ pattern: templates[bank.matchedTemplate[i]!]!.name, distance: bank.matchedDistance[i]! });
      return out;
    },
    snapshot: (): TemplateBankSnapshot => bank.snapshot(),
    restore: (state: TemplateBankSnapshot): void => bank.restore(state),
  };
}
