import type { Labels } from '../metrics/kinds.js';
import type { SeriesMatcher } from '../pipeline/definition.js';
import { matches } from '../pipeline/match.js';

/** Any fact the analytics raise (an anomaly, a trend change, an alert…), as complex-event rules see it. */
export interface AnalyticsEvent {
  readonly id: string;
  /** e.g. `anomalyDetected`, `trendChanged`. */
  readonly type: string;
  /** The series it concerns (name and labels), matched by the rules' matchers. */
  readonly name: string;
  readonly labels: Labels;
  readonly ts: number;
}

export interface EventMatcher extends SeriesMatcher {
  readonly type: string;
}

export type ComplexRule =
  | {
      readonly kind: 'sequence';
      readonly id: string;
      /** Each step must follow the previous one, all within `withinMs` of the first. */
      readonly steps: readonly EventMatcher[];
      readonly withinMs: number;
      /** Labels the steps must share (e.g. the same host); none: any. */
      readonly by: readonly string[];
    }
  | {
      readonly kind: 'count';
      readonly id: string;
      readonly match: EventMatcher;
      /** At least `n` matching events within `windowMs`. */
      readonly n: number;
      readonly windowMs: number;
      readonly by: readonly string[];
    };

export interface ComplexEvent {
  readonly rule: string;
  readonly ts: number;
  readonly group: Labels;
  /** The events that made it, oldest first. */
  readonly causes: readonly string[];
}

const fits = (m: EventMatcher, e: AnalyticsEvent) => m.type === e.type && matches(m, e.name, e.labels);
const groupOf = (labels: Labels, by: readonly string[]) =>
  Object.fromEntries(by.map((k) => [k, labels[k] ?? '']));
const keyOf = (group: Labels) => JSON.stringify(group);

/**
 * Complex event processing over analytics events in time order: sequences (A then B within T) and
 * counts (N matching events within a window), per group of labels. Pure and deterministic; each
 * complex event names the events that caused it. After firing, a rule's partial state for that group
 * starts over, so one situation raises one complex event.
 */
export function createComplexEventEngine(rules: readonly ComplexRule[]) {
  // Sequence: per rule and group, the partial matches in progress (step reached, first ts, causes).
  const partial = new Map<string, { step: number; first: number; causes: string[] }[]>();
  // Count: per rule and group, the recent matching events.
  const recent = new Map<string, { ts: number; id: string }[]>();

  return {
    push(event: AnalyticsEvent): ComplexEvent[] {
      const raised: ComplexEvent[] = [];
      for (const rule of rules) {
        const group = groupOf(event.labels, rule.by);
        const key = `${rule.id}|${keyOf(group)}`;
        if (rule.kind === 'count') {
          if (!fits(rule.match, event)) continue;
          const list = (recent.get(key) ?? []).filter((e) => e.ts > event.ts - rule.windowMs);
          list.push({ ts: event.ts, id: event.id });
          if (list.length >= rule.n) {
            raised.push({ rule: rule.id, ts: event.ts, group, causes: list.map((e) => e.id) });
            recent.delete(key);
          } else recent.set(key, list);
          continue;
        }
        const runs = (partial.get(key) ?? []).filter((r) => event.ts - r.first <= rule.withinMs);
        const next: typeof runs = [];
        let fired = false;
        for (const run of runs) {
          if (fits(rule.steps[run.step]!, event)) {
            const advanced = { step: run.step + 1, first: run.first, causes: [...run.causes, event.id] };
            if (advanced.step === rule.steps.length) {
              if (!fired) raised.push({ rule: rule.id, ts: event.ts, group, causes: advanced.causes });
              fired = true;
            } else next.push(advanced);
          } else next.push(run);
        }
        if (fired) {
          partial.delete(key);
          continue;
        }
        if (fits(rule.steps[0]!, event)) {
          if (rule.steps.length === 1)
            raised.push({ rule: rule.id, ts: event.ts, group, causes: [event.id] });
          else next.push({ step: 1, first: event.ts, causes: [event.id] });
        }
        partial.set(key, next);
      }
      return raised;
    },
  };
}
