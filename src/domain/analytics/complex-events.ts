import { z } from 'zod';
import type { Labels } from '../metrics/kinds.js';
import { SeriesMatcher } from '../pipeline/definition.js';
import { matches } from '../pipeline/match.js';
import { LabelSet, TimeMs, UInt64Text } from '../primitives.js';

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

/** The analytics facts complex-event rules can match. */
export const COMPLEX_EVENT_INPUTS = ['anomalyDetected', 'trendChanged', 'patternMatched'] as const;

export const EventMatcher = SeriesMatcher.extend({ type: z.enum(COMPLEX_EVENT_INPUTS) });
export type EventMatcher = z.infer<typeof EventMatcher>;

const ruleId = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits and _');
const window = z
  .number()
  .int()
  .positive()
  .max(7 * 86_400_000);

export const ComplexRule = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('sequence'),
    id: ruleId,
    /** Each step must follow the previous one, all within `withinMs` of the first (data time). */
    steps: z.array(EventMatcher).min(1).max(16),
    withinMs: window,
    /** Labels the steps must share (e.g. the same host); none: any. */
    by: z.array(z.string()).default([]),
  }),
  z.object({
    kind: z.literal('count'),
    id: ruleId,
    match: EventMatcher,
    /** At least `n` matching events within `windowMs` (data time). */
    n: z.number().int().min(1).max(10_000),
    windowMs: window,
    by: z.array(z.string()).default([]),
  }),
]);
export type ComplexRule = z.infer<typeof ComplexRule>;

export const ComplexRules = z
  .array(ComplexRule)
  .refine((rules) => new Set(rules.map((r) => r.id)).size === rules.length, 'rule ids must be unique');

/** Everything the engine carries between events, as JSON. */
export interface ComplexEngineState {
  readonly partial: [string, { step: number; first: number; causes: string[] }[]][];
  readonly recent: [string, { ts: number; id: string }[]][];
}

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
    snapshot(): ComplexEngineState {
      return {
        partial: [...partial.entries()].filter(([, runs]) => runs.length > 0),
        recent: [...recent.entries()].filter(([, list]) => list.length > 0),
      };
    },
    restore(state: ComplexEngineState): void {
      partial.clear();
      recent.clear();
      for (const [key, runs] of state.partial) partial.set(key, runs);
      for (const [key, list] of state.recent) recent.set(key, list);
    },
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
        // At each step only the run that started last is kept: it has the most time left, so no
        // match is lost, and a group holds at most one run a step (constant work per event).
        const latest = new Map<number, (typeof next)[number]>();
        for (const run of next) {
          const kept = latest.get(run.step);
          if (!kept || run.first >= kept.first) latest.set(run.step, run);
        }
        if (latest.size) partial.set(key, [...latest.values()]);
        else partial.delete(key);
      }
      return raised;
    },
  };
}

/** A complex event, in `complex-<id>`: the rule, when, the group it matched in, and the facts (by log position) that caused it. */
export const ComplexEventDetected = z.object({
  rule: z.string(),
  ts: TimeMs,
  group: LabelSet,
  causes: z.array(UInt64Text),
});
export type ComplexEventDetected = z.infer<typeof ComplexEventDetected>;

/** A checkpoint of the rules' partial matches (a cache in `complexstate-<id>`, truncated as newer ones come). */
export const ComplexEventsCheckpointed = z.object({
  position: UInt64Text,
  /** A hash of the rules it was taken under. */
  rules: z.string(),
  state: z.object({
    partial: z.array(
      z.tuple([
        z.string(),
        z.array(z.object({ step: z.number(), first: z.number(), causes: z.array(z.string()) })),
      ]),
    ),
    recent: z.array(z.tuple([z.string(), z.array(z.object({ ts: z.number(), id: z.string() }))])),
  }),
});

export const COMPLEX_FACTS = { complexEventDetected: ComplexEventDetected } as const;
export const COMPLEX_STATE_FACTS = { complexEventsCheckpointed: ComplexEventsCheckpointed } as const;
